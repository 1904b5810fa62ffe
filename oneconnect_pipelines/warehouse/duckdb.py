"""The embedded warehouse: one DuckDB file.

DuckDB lets one process at a time hold a file open for writing; a second one waits here
(``LOCK_WAIT_S``) for the first to let go, instead of failing at once. Reads open the
file read-only, so they go on beside an analyst's read-only session. In one process,
connections share the file as DuckDB allows (a notebook holding it open can still call
the library); one whose settings clash with an open one's waits like a second process.
Each call opens and closes its connection, so the lock is held only while a table is
written or read.

Rows added to an existing table (a partition's window, an appended log) fill up its last,
partly filled row group, which DuckDB rewrites whole at the commit: with its default
groups of 122,880 rows, every fourth messages partition run held ~60 MiB more than the
others (peak RSS 340-365 MiB against 290-315). Those writes (``ADDING``) attach the file
with groups of 8,192 rows, inserted whole, on one thread: peaks flat, 10 MiB lower again
than with 16,384 rows on all cores, and no slower. A whole table written anew
(``REPLACING``) keeps DuckDB's defaults, whose larger groups write 100,000 contacts ~8%
faster.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue

import duckdb
import pandas as pd
import pyarrow

from .arrow import Data, batches, to_arrow, to_pandas
from .base import Window, published, staging_name

#: How long a call waits for another process to release the file.
LOCK_WAIT_S = 120.0


@dataclass(frozen=True)
class WriteMode:
    """How a connection writes: the settings that trade speed for memory."""

    #: Rows gathered from the pieces before one insert (ten inserts of 10,000 rows take
    #: half the time of a hundred of 1,000).
    insert_rows: int
    #: Rows per row group of what the connection writes; None: DuckDB's default.
    row_group_rows: int | None = None
    #: DuckDB's threads; None: one per core.
    threads: int | None = None


#: A whole table written anew: DuckDB's own settings.
REPLACING = WriteMode(insert_rows=16_384)
#: Rows added to a table: each insert whole row groups, small ones, on one thread.
ADDING = WriteMode(insert_rows=8_192, row_group_rows=8_192, threads=1)


class DuckDBWarehouse:
    def __init__(self, path: str | Path, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        self._lock_wait_s = lock_wait_s

    def __repr__(self) -> str:
        return f"DuckDBWarehouse({self.url!r})"

    @contextmanager
    def connect(self, mode: WriteMode | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the file: read-only without ``mode``, else writing as ``mode``
        says; waiting while another connection holds it in a way this one cannot share."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self._lock_wait_s
        pause = 0.05
        while True:
            try:
                connection = _open(self.path, mode)
                break
            except _OPEN_IN_THIS_PROCESS:
                if time.monotonic() > deadline:
                    raise
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
        if window is None:
            return self._replace(table, batches(data))
        pieces = batches(data)
        first = next(pieces, None)
        with self.connect(ADDING) as connection:
            connection.execute("BEGIN")
            try:
                rows = 0
                if first is not None:
                    _ensure(connection, table, first, replace=False)
                connection.execute(
                    f"DELETE FROM {table} WHERE {window.column} >= ? AND {window.column} < ?",
                    [window.start, window.end],
                )
                held = [] if first is None else [first]
                for piece in _ahead(_gathered(itertools.chain(held, pieces), ADDING)):
                    rows += _insert(connection, table, piece)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return rows

    def _replace(self, table: str, pieces: Iterator[pyarrow.Table]) -> int:
        """A whole table, into a staging table as the pieces come (each insert committed
        then, so the disk writes happen while the source is still producing), swapped in
        for the old table in one transaction at the end: readers see the old table or
        the new one. A failing source leaves the old table as it was."""
        name = table.rpartition(".")[2]
        incoming = staging_name(table)
        first = next(pieces, None)
        if first is None:
            raise ValueError(f"nothing to write to {table}: no piece, not even an empty one")
        with self.connect(REPLACING) as connection:
            rows, swapping = 0, False
            try:
                _ensure(connection, incoming, first, replace=True)
                # checkpoint as the rows come, not all at the close
                connection.execute("SET wal_autocheckpoint = '4MB'")
                for piece in _ahead(_gathered(itertools.chain([first], pieces), REPLACING)):
                    rows += _insert(connection, incoming, piece)
                connection.execute("BEGIN")
                swapping = True
                connection.execute(f"DROP TABLE IF EXISTS {table}")
                connection.execute(f"ALTER TABLE {incoming} RENAME TO {name}")
                connection.execute("COMMIT")
            except BaseException:
                if swapping:
                    connection.execute("ROLLBACK")
                connection.execute(f"DROP TABLE IF EXISTS {incoming}")
                raise
        return rows

    def append(self, table: str, data: Data) -> int:
        piece = to_arrow(data)
        with self.connect(ADDING) as connection:
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

    def query(self, sql: str) -> pyarrow.Table:
        with self.connect() as connection:
            return connection.sql(sql).to_arrow_table()

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
        return published(found)


#: A connection of this process holds the file with other settings.
_OPEN_IN_THIS_PROCESS = (duckdb.ResourceInUseException, duckdb.ConnectionException)


def _open(path: Path, mode: WriteMode | None) -> duckdb.DuckDBPyConnection:
    """``path`` opened the way ``mode`` asks when this process allows it, else the way
    any connection of this process can share (DuckDB's one instance of the file,
    read-write, its default settings). A missing file is made, as by any connection."""
    try:
        if mode is None and path.exists():
            return duckdb.connect(str(path), read_only=True)
        if mode is not None and (mode.row_group_rows or mode.threads):
            return _attached(path, mode)
    except _OPEN_IN_THIS_PROCESS:
        pass
    return duckdb.connect(str(path))


def _attached(path: Path, mode: WriteMode) -> duckdb.DuckDBPyConnection:
    """A connection with ``path`` attached as its default database with ``mode``'s
    settings, under the name ``duckdb.connect(path)`` gives it (the file's stem), and
    spilling beside the file as that would (not into the working directory)."""
    threads = {} if mode.threads is None else {"threads": mode.threads}
    connection = duckdb.connect(config={"temp_directory": f"{path}.tmp", **threads})
    try:
        rows = mode.row_group_rows
        options = "" if rows is None else f" (ROW_GROUP_SIZE {int(rows)})"
        catalog = '"' + path.stem.replace('"', '""') + '"'
        connection.execute(f"ATTACH {_quoted(str(path))} AS {catalog}{options}")
        connection.execute(f"USE {catalog}")
    except BaseException:
        connection.close()
        raise
    return connection


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ahead(pieces: Iterator[pyarrow.Table], depth: int = 4) -> Iterator[pyarrow.Table]:
    """``pieces``, produced on a thread of their own: the source (a listing that converts
    its pages) goes on while the caller inserts (DuckDB releases the GIL meanwhile)."""
    queue: Queue[tuple[pyarrow.Table | None, BaseException | None]] = Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for piece in pieces:
                if stop.is_set():
                    return
                queue.put((piece, None))
            queue.put((None, None))
        except BaseException as exc:
            queue.put((None, exc))

    producer = threading.Thread(target=produce, name="warehouse-source", daemon=True)
    producer.start()
    try:
        while True:
            piece, error = queue.get()
            if error is not None:
                raise error
            if piece is None:
                return
            yield piece
    finally:
        stop.set()
        while producer.is_alive():  # let it see the stop, even when the queue is full
            with contextlib.suppress(Empty):
                queue.get(timeout=0.05)
        producer.join()


def _gathered(pieces: Iterator[pyarrow.Table], mode: WriteMode) -> Iterator[pyarrow.Table]:
    """The pieces joined into tables of about ``mode.insert_rows`` rows."""
    held: list[pyarrow.Table] = []
    count = 0
    for piece in pieces:
        held.append(piece)
        count += piece.num_rows
        if count >= mode.insert_rows:
            yield pyarrow.concat_tables(held, promote_options="permissive")
            held, count = [], 0
    if held:
        yield pyarrow.concat_tables(held, promote_options="permissive")


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
