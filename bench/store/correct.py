"""correct.csv: which test images each final and baseline model got right, compactly.

One row per model (stage, family, budget, seed); ``correct`` holds the model's row of the
models × images boolean matrix, packed eight images to a byte (``numpy.packbits``, big-endian)
and written as hex, in the order of the run's test split; ``images`` says how many bits count.
A digits model is 90 characters; a 1,000-image split 250.
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import pandas as pd


def pack(correct: np.ndarray) -> str:
    """A boolean vector as hex text."""
    return np.packbits(np.asarray(correct, dtype=bool)).tobytes().hex()


def unpack(text: str, images: int) -> np.ndarray:
    """The boolean vector :func:`pack` wrote for ``images`` images."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(str(text)), dtype=np.uint8))[:int(images)].astype(bool)


def bits_by_cell(table: pd.DataFrame, stage: str) -> Dict[Tuple[str, int], Dict[int, np.ndarray]]:
    """(family, budget) → seed → which test images that model got right, for one stage."""
    out: Dict[Tuple[str, int], Dict[int, np.ndarray]] = {}
    for r in table[table["stage"] == stage].itertuples(index=False):
        out.setdefault((str(r.family), int(r.budget)), {})[int(float(r.seed))] = unpack(r.correct, r.images)
    return out
