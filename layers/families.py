"""Imports every built-in family so each registers itself, in a stable order."""

from layers import conv, locally_connected, sisws, lrlc, coordconv  # noqa: F401
