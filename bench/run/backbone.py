"""The benchmark's backbone network, with every spatial layer taken from one family.

``depth`` blocks of [family layer → BatchNorm → ReLU → MaxPool 2×2] with widths
w, 2w, 4w, … (the budget solver may move the last block's width, see
:mod:`bench.run.budget`), then global average pooling (or flatten), dropout and a Dense
classifier. Every block keeps its input's height and width, so every family sees the same
spatial sizes: with 'same' (zero) padding, or with 'circular' padding, which wraps the block's
input around (:class:`layers.circular.CircularPad2D`) before a 'valid' family layer.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Sequence, Tuple, Union

import keras

from layers.circular import CircularPad2D
from bench.run.config import PADDINGS
from layers import get_family

HEADS = ("gap", "flatten")


Widths = Union[float, Sequence[int]]


def block_widths(width: Widths, depth: int) -> Tuple[int, ...]:
    """Filters of each block.

    Args:
        width: the base width w (blocks w, 2w, 4w, … rounded half up; fractional w allowed),
            or the width of every block.
        depth: the number of blocks.
    """
    if isinstance(width, (tuple, list)):
        if len(width) != depth or not all(isinstance(v, int) and v >= 1 for v in width):
            raise ValueError(f"widths={tuple(width)!r} are not accepted: give {depth} positive ints, one per block.")
        return tuple(width)
    if not width >= 1:
        raise ValueError(f"width={width!r} is not accepted: give a number >= 1.")
    return tuple(max(1, math.floor(width * 2**i + 0.5)) for i in range(depth))


def block_input_shapes(input_shape: Sequence[int], width: Widths, depth: int,
                       kernel_size: int) -> Tuple[Tuple[int, int, int], ...]:
    """The (H, W, C) each block's family layer sees (after the previous blocks' pooling)."""
    h, w, c = (int(v) for v in input_shape)
    shapes = []
    for filters in block_widths(width, depth):
        shapes.append((h, w, c))
        h, w, c = max(h // 2, 1), max(w // 2, 1), filters
    return tuple(shapes)


def layer_input_shape(block_shape: Tuple[int, int, int], kernel_size: int, padding: str) -> Tuple[int, int, int]:
    """The (H, W, C) the family layer of a block with input ``block_shape`` sees, and pads as."""
    if padding == "circular":
        h, w, c = block_shape
        return (h + 2 * (kernel_size // 2), w + 2 * (kernel_size // 2), c)
    return tuple(block_shape)


def _layer_padding(padding: str) -> str:
    return "valid" if padding == "circular" else padding


def check_architecture(input_shape, depth: int, head: str, padding: str = "same", kernel_size: int = 3) -> None:
    """Raises ValueError when the blocks would pool the image below 1×1, the head or the
    padding is unknown, or circular padding would wrap a block's input more than once."""
    if head not in HEADS:
        raise ValueError(f"head={head!r} is not accepted: use one of {list(HEADS)}.")
    if padding not in PADDINGS:
        raise ValueError(f"padding={padding!r} is not accepted: use one of {list(PADDINGS)}.")
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth={depth!r} is not accepted: give a positive int.")
    smallest = min(int(input_shape[0]), int(input_shape[1]))
    if smallest < 2**depth:
        raise ValueError(
            f"depth={depth} pools a {input_shape[0]}×{input_shape[1]} image below 1×1: "
            f"use a depth of at most {max(smallest.bit_length() - 1, 1)}."
        )
    if padding == "circular" and isinstance(kernel_size, int) and kernel_size % 2 == 0:
        raise ValueError(f"kernel_size={kernel_size} is not accepted with circular padding: give an odd size, "
                         f"so the output stays centred.")
    if padding == "circular" and smallest // 2 ** (depth - 1) < kernel_size // 2:
        raise ValueError(f"kernel_size={kernel_size} wraps the last block's "
                         f"{smallest // 2 ** (depth - 1)}-pixel input around more than once with circular padding: "
                         f"use a kernel of at most {2 * (smallest // 2 ** (depth - 1)) + 1} or a smaller depth.")


def build_backbone(family: str, input_shape: Sequence[int], num_classes: int, width: Widths, *, depth: int = 2,
                   kernel_size: int = 3, dropout: float = 0.2, head: str = "gap", padding: str = "same",
                   family_hp: Dict[str, Any] | None = None, name: str | None = None) -> keras.Model:
    """Builds the backbone with ``family``'s layer in every block.

    Args:
        family: registered family name.
        input_shape: (H, W, C).
        num_classes: size of the softmax output.
        width: the base width, or every block's width (see :func:`block_widths`).
        depth: number of blocks.
        kernel_size: square kernel of every family layer.
        dropout: rate before the classifier.
        head: 'gap' (global average pooling) or 'flatten'.
        padding: 'same' (zeros) or 'circular' (wrap around), see the module docstring.
        family_hp: the family's own keyword arguments.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.
    """
    check_architecture(input_shape, depth, head, padding, kernel_size)
    fam = get_family(family)
    family_hp = dict(family_hp or {})
    inputs = keras.Input(shape=tuple(int(v) for v in input_shape))
    x = inputs
    for i, filters in enumerate(block_widths(width, depth)):
        if padding == "circular":
            x = CircularPad2D(kernel_size // 2, name=f"wrap_{i}")(x)
        x = fam.build(filters, kernel_size, 1, _layer_padding(padding), name=f"{family}_{i}", **family_hp)(x)
        # Small datasets give few steps per epoch; the default momentum (0.99) leaves the moving
        # statistics near their initial values and inference-mode accuracy near chance.
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}")(x)
        x = keras.layers.ReLU(name=f"relu_{i}")(x)
        if x.shape[1] >= 2 and x.shape[2] >= 2:
            x = keras.layers.MaxPooling2D(2, name=f"pool_{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x) if head == "gap" else keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name or f"{family}_backbone")


def backbone_param_count(family: str, input_shape: Sequence[int], num_classes: int, width: Widths, *, depth: int = 2,
                         kernel_size: int = 3, head: str = "gap", padding: str = "same",
                         family_hp: Dict[str, Any] | None = None) -> int:
    """Exact trainable parameter count of :func:`build_backbone`, from the families' formulas."""
    check_architecture(input_shape, depth, head, padding, kernel_size)
    fam = get_family(family)
    family_hp = dict(family_hp or {})
    total = 0
    shapes = block_input_shapes(input_shape, width, depth, kernel_size)
    for filters, shape in zip(block_widths(width, depth), shapes):
        total += fam.param_count(layer_input_shape(shape, kernel_size, padding), filters, kernel_size, 1,
                                 _layer_padding(padding), **family_hp)
        total += 2 * filters  # BatchNorm gamma and beta (moving stats are not trainable)
    last = block_widths(width, depth)[-1]
    h, w, _ = shapes[-1]
    if h >= 2 and w >= 2:
        h, w = h // 2, w // 2
    features = last if head == "gap" else h * w * last
    return total + features * num_classes + num_classes


def trainable_parameters(model: keras.Model) -> int:
    """The number of trainable parameters of a built model: what a budget counts."""
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))
