"""Releasing the TensorFlow graphs of finished models, so memory stays flat across trials.

Keras 3's TensorFlow optimizer sums gradients across replicas through
``tf.distribute``'s ``all_reduce``, which is a ``tf.custom_gradient``. Traced in graph mode
(inside every model's train function), a custom gradient registers its gradient function
in TensorFlow's process-global gradient registry under a fresh name, and that function's
closure holds the whole traced train graph. Nothing ever unregisters it, so each trained
model leaked its train graph, and with it the functions its variable initialisers added to
the eager context: about 10 MiB per trial on digits. ``keras.backend.clear_session()``
does not reach that registry.
"""

from __future__ import annotations

import gc

# Names tf.custom_gradient gives its registrations ("CustomGradient-<uid>").
CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


def release_graphs() -> int:
    """Forgets the custom-gradient registrations of earlier traces and collects garbage.

    Call it between models (before a trial or a final-evaluation seed), never while a model
    is being traced: a registration is only looked up while its own graph's gradients are
    being built. Returns the number of registrations dropped.
    """
    from tensorflow.python.framework import ops  # TensorFlow keeps the registry private

    registry = getattr(getattr(ops, "gradient_registry", None), "_registry", None)
    dropped = 0
    if isinstance(registry, dict):
        for name in [n for n in registry if isinstance(n, str) and n.startswith(CUSTOM_GRADIENT_PREFIX)]:
            del registry[name]
            dropped += 1
    gc.collect()
    return dropped
