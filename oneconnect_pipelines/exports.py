"""Tables to files for analysts: Parquet as is, CSV with formula-injection-safe cells."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet

from .schemas import TEXT
from .warehouse.arrow import to_arrow

#: A cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ``'``
    (OWASP's advice); numbers, dates and other cells untouched."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        text = values.astype(TEXT)
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        if risky.any():
            out[column] = text.where(~risky, "'" + text)
    return out


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int


def write_table(frame: pd.DataFrame, stem: Path) -> list[Written]:
    """``stem``.parquet and ``stem``.csv."""
    return [
        Written(
            _atomic(stem.with_suffix(".parquet"), lambda p: write_parquet(frame, p)), len(frame)
        ),
        Written(write_csv(frame, stem.with_suffix(".csv")), len(frame)),
    ]


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Arrow's own types, without pandas' dtype names in the file's metadata: any reader
    (pandas included; it cannot parse back the names of nested Arrow dtypes) gets lists,
    dates and decimals as Parquet has them, in the warehouse's types."""
    pyarrow.parquet.write_table(to_arrow(frame).replace_schema_metadata(None), path)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """One formula-safe CSV."""
    return _atomic(path, lambda p: csv_safe(frame).to_csv(p, index=False))


def _atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Write under a temporary name, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    write(partial)
    partial.replace(path)
    return path
