"""The embedded warehouse: one DuckDB file.

DuckDB lets one process at a time hold a file open for writing; a second one waits here
(``LOCK_WAIT_S``) for the first to let go, instead of failing at once. Each call opens
and closes its connection, so the lock is held only while a table is written or read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow

from .arrow import Data, batches, to_arrow, to_pandas
from .base import Window

#: How long a call waits for another process to release the file.
LOCK_WAIT_S = 120.0


class DuckDBWarehouse:
    def __init__(self, path: str | Path, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        self._lock_wait_s = lock_wait_s

    def __repr__(self) -> str:
        return f"DuckDBWarehouse({self.url!r})"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the file, waiting while another process holds its lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self._lock_wait_s
        pause = 0.05
        while True:
            try:
                connection = duckdb.connect(str(self.path))
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
        try:
            yield connection
        finally:
            connection.close()

    def write(self, table: str, data: Data | Iterable[Data], window: Window | None = None) -> int:
        pieces = batches(data)
        first = next(pieces, None)
        with self.connect() as connection:
            connection.execute("BEGIN")
            try:
                rows = 0
                if first is not None:
                    _ensure(connection, table, first, replace=window is None)
                if window is not None:
                    connection.execute(
                        f"DELETE FROM {table} WHERE {window.column} >= ? AND {window.column} < ?",
                        [window.start, window.end],
                    )
                for piece in _chain(first, pieces):
                    rows += _insert(connection, table, piece)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return rows

    def append(self, table: str, data: Data) -> int:
        piece = to_arrow(data)
        with self.connect() as connection:
            connection.execute("BEGIN")
            try:
                _ensure(connection, table, piece, replace=False)
                rows = _insert(connection, table, piece)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return rows

    def read(self, table: str, window: Window | None = None) -> pyarrow.Table:
        query, parameters = f"SELECT * FROM {table}", []
        if window is not None:
            query += f" WHERE {window.column} >= ? AND {window.column} < ?"
            parameters = [window.start, window.end]
        with self.connect() as connection:
            return connection.sql(query, params=parameters).to_arrow_table()

    def read_frame(self, table: str, window: Window | None = None) -> pd.DataFrame:
        return to_pandas(self.read(table, window))

    def tables(self, schemas: Iterable[str]) -> list[tuple[str, str]]:
        wanted = list(schemas)
        if not self.path.exists():
            return []
        marks = ", ".join("?" * len(wanted))
        with self.connect() as connection:
            found = connection.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                f"WHERE table_schema IN ({marks}) ORDER BY 1, 2",
                wanted,
            ).fetchall()
        return [(str(schema), str(name)) for schema, name in found]


def _chain(first: pyarrow.Table | None, rest: Iterator[pyarrow.Table]) -> Iterator[pyarrow.Table]:
    if first is not None:
        yield first
        yield from rest


def _ensure(
    connection: duckdb.DuckDBPyConnection, table: str, like: pyarrow.Table, replace: bool
) -> None:
    """The table exists with ``like``'s columns (all of them, created empty on ``replace``)."""
    schema = table.partition(".")[0]
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    connection.register("_empty", like.slice(0, 0))
    try:
        if replace:
            connection.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _empty")
            return
        connection.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _empty")
        have = {row[0] for row in connection.execute(f"DESCRIBE {table}").fetchall()}
        for name, kind, *_ in connection.execute("DESCRIBE SELECT * FROM _empty").fetchall():
            if name not in have:  # a table an older version made: the new column, NULL so far
                connection.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')
    finally:
        connection.unregister("_empty")


def _insert(connection: duckdb.DuckDBPyConnection, table: str, piece: pyarrow.Table) -> int:
    connection.register("_piece", piece)
    try:
        connection.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _piece")
    finally:
        connection.unregister("_piece")
    return int(piece.num_rows)


def duckdb_types(schema: pyarrow.Schema) -> dict[str, str]:
    """The DuckDB type of each column of a table made from ``schema``."""
    empty = schema.empty_table()
    with duckdb.connect() as connection:
        connection.register("_empty", to_arrow(empty))
        return {
            str(row[0]): str(row[1])
            for row in connection.execute("DESCRIBE SELECT * FROM _empty").fetchall()
        }
