"""``shapes-aligned`` and ``shapes-anywhere``: the generated controlled pair (see
:mod:`bench.data.synthetic_shapes`): the class depends on *what is where*, or only on *what*."""

from __future__ import annotations

from bench.data import synthetic_shapes
from bench.data.checks import check_seed, is_int, is_number
from bench.data.registry import DatasetError, DatasetSource, RawArrays, register_dataset


def check_shape_options(size, count, noise, data_seed, num_classes: int) -> None:
    if not is_int(size) or size < 12:
        raise DatasetError(f"size={size!r} is not accepted; give an integer >= 12 (pixels)")
    if not is_int(count) or count < 10 * num_classes:
        raise DatasetError(f"count={count!r} is not accepted; give an integer >= "
                           f"{10 * num_classes} (10 images per class)")
    if not is_number(noise) or not 0 <= noise <= 1:
        raise DatasetError(f"noise={noise!r} is not accepted; give a number in [0, 1]")
    check_seed(data_seed, "data_seed")


SIZE, COUNT = synthetic_shapes.SIZE, synthetic_shapes.COUNT


@register_dataset("shapes-aligned")
class ShapesAligned(DatasetSource):
    description = "generated 16x16, 12,000 images: one shape in one of two fixed slots, class = which shape in which slot (6 classes, position-specific)"
    pooled = True
    known_answer = "what-is-where"

    def load(self, size: int = SIZE, count: int = COUNT, noise: float = 0.15, data_seed: int = 0) -> RawArrays:
        check_shape_options(size, count, noise, data_seed, 2 * len(synthetic_shapes.ALIGNED_KINDS))
        made = synthetic_shapes.make_shapes_aligned(count=count, size=size, noise=noise, seed=data_seed)
        return RawArrays(made.x, made.y)


@register_dataset("shapes-anywhere")
class ShapesAnywhere(DatasetSource):
    description = "generated 16x16, 12,000 images: one shape anywhere, class = which shape (4 classes, translation-invariant)"
    pooled = True
    known_answer = "what-only"

    def load(self, size: int = SIZE, count: int = COUNT, noise: float = 0.15, data_seed: int = 0) -> RawArrays:
        check_shape_options(size, count, noise, data_seed, len(synthetic_shapes.SHAPE_KINDS))
        made = synthetic_shapes.make_shapes_anywhere(count=count, size=size, noise=noise, seed=data_seed)
        return RawArrays(made.x, made.y)
