"""Reading a run's CSV tables: checked whole, with key columns in one normal form.

Key columns (and the id columns of :data:`KEY_CONVERTERS` wherever they appear) come back
the same way whatever pandas would have guessed: ``budget`` as an int, ``trial_id``,
``trial`` and ``seed`` as strings ('' where a row has none, e.g. an infeasible cell's final
row). So a key read back from disk equals the key of the row that wrote it.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Dict, Iterable, Tuple

import pandas as pd

from bench.store.schema import Table

#: How each key column is read: the raw CSV text, converted.
KEY_CONVERTERS = {"budget": int, "trial_id": str, "trial": str, "seed": str, "step": int}


class ResultsError(ValueError):
    """A results directory or file that cannot be used: missing, unwritable, corrupted, or another run's."""


def corrupted(path: Path, what: str) -> ResultsError:
    return ResultsError(f"{path} is corrupted ({what}); move it away or use a new run name.")


def read_table(path: Path, table: Table) -> pd.DataFrame:
    """The table at ``path`` (an empty one with the schema's columns if there is no file).

    Raises:
        ResultsError: the file is not a complete CSV with every schema column.
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(table.columns))
    try:
        text = path.read_text()
        _check_complete_rows(path, text)
        # Also where they are not the key (final.csv's trial): a cell without a model leaves them
        # empty, and pandas would turn trial '0' into 0.0 for the whole column.
        converters = {c: KEY_CONVERTERS[c] for c in table.columns if c in KEY_CONVERTERS}
        frame = pd.read_csv(io.StringIO(text), converters=converters) if text else pd.DataFrame()
    except ResultsError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure means a corrupted file
        raise corrupted(path, f"{type(exc).__name__}: {exc}") from None
    missing = [c for c in table.columns if c not in frame.columns and c not in table.added]
    if missing:
        raise corrupted(path, f"columns {missing} are missing")
    for column, convert in converters.items():
        if convert is str:
            # pandas leaves an empty field NaN (the converter never sees it): a column holding only
            # such rows would be float, and the next rows appended to it would be written as '0.0'.
            frame[column] = frame[column].astype(str).where(frame[column].notna(), "")
    for column in table.added:  # a table written before the column existed
        if column not in frame.columns:
            frame[column] = float("nan")
    return frame


def _check_complete_rows(path: Path, text: str) -> None:
    """Raises ResultsError if a row of the CSV ``text`` is cut short or has extra fields.

    Tables are only ever written whole and end with a newline, so a missing final newline
    or a row whose field count differs from the header's means the file was damaged;
    pandas would silently pad such a row with NaN.
    """
    if text and not text.endswith("\n"):
        raise corrupted(path, "its last row is cut short: no final newline")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    for row in reader:
        if len(row) != len(header):
            raise corrupted(path, f"line {reader.line_num} has {len(row)} fields, the header {len(header)}")


def row_key(row: Dict[str, Any], table: Table) -> Tuple:
    """The key of a row about to be written, in the form :func:`read_table` gives back."""
    return tuple(_normal(column, row[column]) for column in table.key)


def frame_keys(frame: pd.DataFrame, table: Table) -> set:
    """The keys of every row of a table read with :func:`read_table`."""
    return {tuple(_normal(c, v) for c, v in zip(table.key, values))
            for values in frame[list(table.key)].itertuples(index=False)}


def _normal(column: str, value) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = ""  # a row without a seed or trial (an infeasible cell) is written, and read back, as ''
    return KEY_CONVERTERS.get(column, str)(value)


def rows_frame(rows: Iterable[Dict[str, Any]], table: Table) -> pd.DataFrame:
    """Rows as a frame with exactly the table's columns, in order."""
    return pd.DataFrame([{c: row.get(c) for c in table.columns} for row in rows], columns=list(table.columns))
