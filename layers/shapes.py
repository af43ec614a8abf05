"""Output-shape arithmetic and argument validation shared by every family.

TensorFlow's rules: SAME gives ceil(n / stride); VALID gives ceil((n - k + 1) / stride).
"""

from __future__ import annotations

import math
from typing import Sequence, Tuple

PADDINGS = ("valid", "same")


def pair(value, name: str) -> Tuple[int, int]:
    """Returns ``value`` as a pair of positive ints; an int is used for both axes.

    Raises:
        ValueError: if the value is not a positive int or a pair of them.
    """
    if isinstance(value, (int,)) and not isinstance(value, bool):
        out = (value, value)
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        out = tuple(value)
    else:
        raise ValueError(f"{name}={value!r} is not accepted: give a positive int or a pair of positive ints.")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in out):
        raise ValueError(f"{name}={value!r} is not accepted: every entry must be a positive int.")
    return out  # type: ignore[return-value]


def check_padding(padding: str) -> str:
    """Returns the lower-cased padding or raises naming the accepted ones."""
    p = str(padding).lower()
    if p not in PADDINGS:
        raise ValueError(f"padding={padding!r} is not accepted: use one of {list(PADDINGS)}.")
    return p


def check_filters(filters) -> int:
    """Returns ``filters`` if it is a positive int, else raises ValueError naming it."""
    if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
        raise ValueError(f"filters={filters!r} is not accepted: give a positive int.")
    return filters


def conv_output_size(n: int, k: int, stride: int, padding: str) -> int:
    """Spatial output length of a convolution along one axis (TensorFlow's rule).

    Raises:
        ValueError: if a VALID kernel is larger than the input.
    """
    padding = check_padding(padding)
    if padding == "same":
        return math.ceil(n / stride)
    if k > n:
        raise ValueError(
            f"kernel size {k} is larger than the input size {n} with padding='valid': "
            f"use a kernel of at most {n}, or padding='same'."
        )
    return math.ceil((n - k + 1) / stride)


def conv_output_shape(input_shape, kernel_size, strides, padding) -> Tuple[int, int]:
    """(out_h, out_w) for an (H, W, ...) input."""
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = pair(strides, "strides")
    return (
        conv_output_size(int(input_shape[0]), kh, sh, padding),
        conv_output_size(int(input_shape[1]), kw, sw, padding),
    )


def same_padding_amounts(n: int, k: int, stride: int) -> Tuple[int, int]:
    """(before, after) zero padding TensorFlow applies for SAME along one axis."""
    out = math.ceil(n / stride)
    total = max((out - 1) * stride + k - n, 0)
    return total // 2, total - total // 2
