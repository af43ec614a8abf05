"""``faces``: scikit-image's bundled LFW subset, face vs non-face."""

from __future__ import annotations

import numpy as np

from bench.data.registry import DatasetSource, RawArrays, register_dataset


@register_dataset("faces")
class Faces(DatasetSource):
    description = "scikit-image's bundled LFW subset, 25x25 grey, face vs non-face (200 images, offline)"
    pooled = True

    def load(self) -> RawArrays:
        from skimage.data import lfw_subset

        images = lfw_subset()
        # lfw_subset: the first 100 images are faces, the last 100 are background crops.
        labels = np.zeros(len(images), dtype=np.int64)
        labels[:100] = 1
        return RawArrays(images, labels)
