"""The built-in families, each registering itself on import, from hard sharing to none.

A family module holds only the :class:`~layers.family.Family` (its description, formulas,
search space and hooks) and imports no Keras; its layer class lives in the layer module its
``layer_path`` names (``layers/<family>.py``), imported the first time a layer is built,
owned or loaded. So the registry answers ``wsbench families`` and ``--help`` at once.
"""

from layers.families import conv, locally_connected, sisws, lrlc, coordconv  # noqa: F401
