"""``digits``: scikit-learn's bundled 8×8 handwritten digits."""

from __future__ import annotations

from bench.data.registry import DatasetSource, RawArrays, register_dataset


@register_dataset("digits")
class Digits(DatasetSource):
    description = "scikit-learn's bundled 8x8 handwritten digits, 10 classes (1797 images, offline)"
    pooled = True

    def load(self) -> RawArrays:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        # Digit pixels are counts 0..16 (4x4 blocks of a 32x32 bitmap), so 16 is the true maximum.
        return RawArrays(bunch.images / 16.0, bunch.target)
