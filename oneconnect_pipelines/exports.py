"""Tables to files for analysts: Parquet as is, CSV with formula-injection-safe cells."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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
        text = values.astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        if risky.any():
            out[column] = text.where(~risky, "'" + text)
    return out


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int


def write_table(frame: pd.DataFrame, stem: Path) -> list[Written]:
    """``stem``.parquet and ``stem``.csv (written to a temporary name, then renamed, so a
    reader never sees half a file)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, write in ((".parquet", _parquet), (".csv", _csv)):
        target = stem.with_suffix(suffix)
        partial = target.with_name(target.name + ".partial")
        write(frame, partial)
        partial.replace(target)
        written.append(Written(target, len(frame)))
    return written


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    csv_safe(frame).to_csv(path, index=False)
