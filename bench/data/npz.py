"""A user's own arrays: any path ending in ``.npz`` holding x_train, y_train, x_test, y_test."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from bench.data.registry import DatasetError, DatasetSource, RawArrays

#: Keys a user ``.npz`` file must hold.
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class NpzFile(DatasetSource):
    """The arrays of one ``.npz`` file, with their own train/test split."""

    description = "user arrays"

    def __init__(self, path: str):
        self.name = self.path = path

    def load(self) -> RawArrays:
        file = Path(self.path).expanduser()
        if not file.is_file():
            raise DatasetError(f"dataset file {self.path!r} does not exist; give an existing .npz "
                               f"holding {', '.join(NPZ_KEYS)}")
        try:
            with np.load(file, allow_pickle=False) as archive:
                missing = [key for key in NPZ_KEYS if key not in archive.files]
                if missing:
                    raise DatasetError(
                        f"{self.path!r} lacks key(s) {', '.join(missing)}; a dataset .npz must hold "
                        f"{', '.join(NPZ_KEYS)} (found: {', '.join(archive.files) or 'nothing'})")
                arrays = {key: archive[key] for key in NPZ_KEYS}
        except DatasetError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile) as err:
            raise DatasetError(f"cannot read {self.path!r} as a numpy .npz file with numeric arrays "
                               f"{', '.join(NPZ_KEYS)}: {err}") from err
        return RawArrays(**arrays)
