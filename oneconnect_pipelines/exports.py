"""Tables to files for analysts: Parquet as is, CSV with formula-injection-safe cells."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .schemas import TEXT
from .storage import Location, write_whole
from .warehouse.arrow import to_arrow

#: A cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ``'``
    (OWASP's advice): those starting with one of ``FORMULA_STARTS``, after any leading
    whitespace too (LibreOffice and Sheets drop spaces, line breaks and no-break spaces
    before they read a cell); numbers, dates and other cells untouched."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        text = values.astype(TEXT)
        stripped = text.str.lstrip()  # tab and carriage return are risky where they start
        starts = text.str.startswith(FORMULA_STARTS) | stripped.str.startswith(FORMULA_STARTS)
        risky = starts.fillna(False).astype(bool)
        if risky.any():
            out[column] = text.where(~risky, "'" + text)
    return out


@dataclass(frozen=True)
class Written:
    path: Location
    rows: int


def write_table(frame: pd.DataFrame, stem: Location) -> list[Written]:
    """``stem``.parquet and ``stem``.csv, each written whole (no reader sees half a file)."""
    return [
        Written(write_parquet(frame, stem.with_suffix(".parquet")), len(frame)),
        Written(write_csv(frame, stem.with_suffix(".csv")), len(frame)),
    ]


def write_parquet(frame: pd.DataFrame, path: Location) -> Location:
    """Arrow's own types, without pandas' dtype names in the file's metadata: any reader
    (pandas included; it cannot parse back the names of nested Arrow dtypes) gets lists,
    dates and decimals as Parquet has them, in the warehouse's types."""
    # imported here: pyarrow.parquet loads Arrow's S3, GCS and Azure file systems, 7 MiB
    # in every step process that loads the code location, and most steps write no file
    import pyarrow.parquet

    table = to_arrow(frame).replace_schema_metadata(None)
    return write_whole(path, lambda handle: pyarrow.parquet.write_table(table, handle))


def write_csv(frame: pd.DataFrame, path: Location) -> Location:
    """One formula-safe CSV."""
    return write_whole(path, lambda handle: csv_safe(frame).to_csv(handle, index=False))
