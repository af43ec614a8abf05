"""``mnist``, ``fashion_mnist``, ``cifar10``: through ``keras.datasets`` (downloaded once, then cached)."""

from __future__ import annotations

import os

from bench.data.registry import DatasetError, DatasetSource, RawArrays, register_dataset


class KerasDataset(DatasetSource):
    """A dataset of ``keras.datasets``, with its official train/test split."""

    def __init__(self, module: str, description: str):
        self.module, self.description = module, description

    def load(self) -> RawArrays:
        import keras  # here, so the offline datasets do not pay TensorFlow's import time

        try:
            (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, self.module).load_data()
        except Exception as err:  # keras raises bare Exception on a failed download
            home = os.environ.get("KERAS_HOME", "~/.keras")
            raise DatasetError(
                f"could not load {self.module!r} through keras.datasets.{self.module}.load_data(); it downloads once "
                f"into {home}/datasets and then reads the cached copy (no network here? copy the files there "
                f"first): {err}") from err
        return RawArrays(x_train, y_train, x_test, y_test)


for _name, _description in (
        ("mnist", "keras.datasets MNIST digits, 28x28 grey, 10 classes (downloads once, then cached)"),
        ("fashion_mnist", "keras.datasets Fashion-MNIST, 28x28 grey, 10 classes (downloads once, then cached)"),
        ("cifar10", "keras.datasets CIFAR-10, 32x32 colour, 10 classes (downloads once, then cached)")):
    register_dataset(_name)(KerasDataset(_name, _description))
