"""What every warehouse backend does, and the one setting that picks one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow

from .arrow import Data


@dataclass(frozen=True)
class Window:
    """The rows of one partition: ``start <= column < end``."""

    column: str
    start: datetime | date
    end: datetime | date


class Warehouse(Protocol):
    """A warehouse: tables named ``schema.table``."""

    url: str

    def write(self, table: str, data: Data | Iterable[Data], window: Window | None = None) -> int:
        """Replace ``table`` (or the rows of ``window``) with ``data``, atomically, creating
        the table and its schema when missing and adding columns it lacks; returns the
        rows written. ``data`` may be an iterable that is still being produced."""
        ...

    def append(self, table: str, data: Data) -> int:
        """Add ``data``'s rows to ``table`` (created when missing), columns by name."""
        ...

    def read(self, table: str, window: Window | None = None) -> pyarrow.Table: ...

    def read_frame(self, table: str, window: Window | None = None) -> pd.DataFrame: ...

    def tables(self, schemas: Iterable[str]) -> list[tuple[str, str]]:
        """(schema, table) of every table in ``schemas``, in order."""
        ...


def open_warehouse(url: str | Path) -> Warehouse:
    """The path of a DuckDB file (``duckdb:///path`` also works)."""
    text = str(url)
    from .duckdb import DuckDBWarehouse

    return DuckDBWarehouse(text.removeprefix("duckdb://"))
