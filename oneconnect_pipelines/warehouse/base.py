"""What every warehouse backend does, and the one setting that picks one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow
import pyarrow.compute

from .arrow import Data, conform


@dataclass(frozen=True)
class Window:
    """The rows of one partition: ``start <= column < end``. With a ``key``, a write
    brings its rows in ascending key order and replaces the window's rows from its
    lowest key up, keeping those below: a source that forgets its oldest rows
    (OneConnect keeps a plan's last 100 or 1,000 messages, listed by id) does not empty
    the days it no longer holds whole when they are read again. (Not each key: deleting
    by a join on the keys mapped ~2 MiB more of DuckDB's code into every partition run,
    which has next to nothing to spare.)"""

    column: str
    start: datetime | date
    end: datetime | date
    key: str | None = None

    def check(self, table: str, piece: pyarrow.Table) -> None:
        """A ``ValueError`` when ``piece`` holds a row outside the window (or without its
        column's value): the write deletes only the window's rows, so such a row would
        be added again by every rerun of the partition, never replaced."""
        column = piece[self.column]
        start, end = (pyarrow.scalar(bound, column.type) for bound in (self.start, self.end))
        outside = pyarrow.compute.or_kleene(
            pyarrow.compute.less(column, start), pyarrow.compute.greater_equal(column, end)
        )
        count = int(pyarrow.compute.sum(pyarrow.compute.fill_null(outside, True)).as_py() or 0)
        if count:
            raise ValueError(
                f"{table}: {count} row(s) of this write are outside its window "
                f"({self.column} from {self.start} to before {self.end}, or null); "
                "a rerun would add them again instead of replacing them"
            )

    def lowest(self, piece: pyarrow.Table) -> Any:
        """``piece``'s lowest key (None when it has no row)."""
        return pyarrow.compute.min(piece[self.key]).as_py()

    def check_order(self, table: str, piece: pyarrow.Table, after: Any) -> Any:
        """A ``ValueError`` unless ``piece``'s keys ascend, all above ``after`` (the
        highest key written before): a row below the write's lowest key would be kept
        beside its new copy. Returns the highest key written now."""
        if not piece.num_rows:  # a listing's last page may be empty, or filtered empty
            return after
        keys = piece[self.key].combine_chunks()
        ascending = (
            len(keys) < 2
            or pyarrow.compute.all(pyarrow.compute.greater(keys[1:], keys[:-1])).as_py()
        )
        first = self.lowest(piece)
        if keys.null_count or not ascending or (after is not None and first <= after):
            raise ValueError(
                f"{table}: a write keyed by {self.key} brings its rows in ascending "
                f"{self.key} order, each once"
            )
        return pyarrow.compute.max(keys).as_py()


#: How long a write waits for another writer to let go of its table (DuckDB: of the
#: file) before it fails.
LOCK_WAIT_S = 120.0


def identifier(name: str) -> str:
    """A name quoted as one SQL identifier (a column's, a catalog's: a dot or a ``"`` in
    it is part of the name)."""
    return '"' + name.replace('"', '""') + '"'


def fitted(
    pieces: Iterable[pyarrow.Table],
    have: pyarrow.Schema,
    table: str,
    window: Window | None,
    replace_from: Callable[[Any], None] | None = None,
) -> Iterator[pyarrow.Table]:
    """Each piece of a write into ``table`` (which has the columns ``have``): checked to
    lie in ``window`` (and in key order) and converted to the table's types (``conform``).
    In a keyed window, ``replace_from(lowest key)`` deletes the window's rows from there
    up before the first rows are handed on."""
    highest = None
    for piece in pieces:
        if window is not None:
            window.check(table, piece)
            if window.key is not None:
                if highest is None and piece.num_rows and replace_from is not None:
                    replace_from(window.lowest(piece))
                highest = window.check_order(table, piece, highest)
        yield conform(piece, have, table)


class Warehouse(Protocol):
    """A warehouse: tables named ``schema.table``."""

    url: str

    def write(self, table: str, data: Data | Iterable[Data], window: Window | None = None) -> int:
        """Replace ``table`` (or the rows of ``window``, by its key if it has one) with
        ``data``, atomically, creating the table and its schema when missing and adding
        columns it lacks; returns the rows the table (or the window) holds then. ``data``
        may be an iterable that is still being produced."""
        ...

    def append(self, table: str, data: Data) -> int:
        """Add ``data``'s rows to ``table`` (created when missing), columns by name."""
        ...

    def read(self, table: str, window: Window | None = None) -> pyarrow.Table: ...

    def read_frame(self, table: str, window: Window | None = None) -> pd.DataFrame: ...

    def query(self, sql: str) -> pyarrow.Table:
        """The result of one read-only SQL statement, in the backend's dialect."""
        ...

    def tables(self, schemas: Iterable[str]) -> list[tuple[str, str]]:
        """(schema, table) of every table in ``schemas``, in order (no staging table)."""
        ...

    def check(self) -> None:
        """Open the warehouse as a write would, and close it: raises what that write would
        (no server there, a folder where the file should be, no permission)."""
        ...


#: What a staging table's name adds to its table's: a whole-table write fills one and
#: swaps it in. A write killed before the swap (SIGKILL, the OOM killer) can leave one,
#: holding rows never validated: it is no table of the warehouse (``tables`` skips it)
#: and the next write of its table replaces it.
STAGING = "__incoming"


def staging_name(table: str) -> str:
    return table + STAGING


def published(found: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(schema, table) pairs without the staging tables."""
    return [(str(schema), str(name)) for schema, name in found if STAGING not in name]


def is_postgres(url: str | Path) -> bool:
    return str(url).lower().startswith(("postgresql://", "postgres://"))


def column_types(url: str | Path, schema: pyarrow.Schema) -> dict[str, str]:
    """The type each column of ``schema`` gets in the warehouse at ``url``, spelled as that
    backend spells it (what the catalog shows)."""
    from .arrow import plain_field

    if is_postgres(url):
        from .postgres import postgres_type as spelled
    else:
        from .duckdb import duckdb_type as spelled
    return {field.name: spelled(plain_field(field).type) for field in schema}


def open_warehouse(url: str | Path) -> Warehouse:
    """``postgresql://...`` (or ``postgres://``, the scheme in any case) is PostgreSQL;
    ``duckdb://PATH`` or a path without a scheme is a DuckDB file. Any other URL
    (``postgresql+psycopg2://``, ``mysql://``) is a ``ValueError``, not a file of that name."""
    text = str(url)
    scheme, separator, rest = text.partition("://")
    if is_postgres(text):
        from .postgres import PostgresWarehouse

        return PostgresWarehouse(f"{scheme.lower()}://{rest}")  # libpq's scheme is lower-case
    from .duckdb import DuckDBWarehouse

    if separator and scheme.lower() == "duckdb" and rest.strip():
        return DuckDBWarehouse(rest)
    if separator and "/" not in scheme:
        from .postgres import shown

        raise ValueError(
            f"{shown(text)} is not a warehouse: postgresql://... (or postgres://...), "
            "duckdb://PATH, or the path of a DuckDB file"
        )
    return DuckDBWarehouse(text)
