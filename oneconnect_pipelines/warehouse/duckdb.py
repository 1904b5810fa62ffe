"""The embedded warehouse: one DuckDB file.

DuckDB lets one process at a time hold a file open for writing; a second one waits here
(``LOCK_WAIT_S``) for the first to let go, instead of failing at once. Reads open the
file read-only, so they go on beside an analyst's read-only session. In one process,
connections share the file as DuckDB allows (a notebook holding it open can still call
the library); one whose settings clash with an open one's waits like a second process.
Each call opens and closes its connection, so the lock is held only while a table is
written or read.

Every write is one transaction on one DuckDB thread: one INSERT that reads the pieces as
they come, into row groups of ``ROW_GROUP_ROWS`` rows. DuckDB writes each full group to
the file at once (the commit has little left to do), and a failed source rolls
everything back, the old table or window as it was. Measured on 100,000 contacts: 0.13 s
of CPU (0.17 s with an INSERT per piece, 0.33 s committing each insert into a staging
table with DuckDB's default groups and threads; a second DuckDB thread alone doubled the
CPU); a million contacts 1.4 s against 6.1 s for the staging table, at a lower peak RSS.
Small groups also keep memory flat when rows are added to a table: DuckDB rewrites a
partly filled last group whole at the commit, and with its default of 122,880 rows every
fourth messages partition run held ~60 MiB more than the others (peak RSS 340-365 MiB
against 290-315).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Full, Queue
from typing import Any

import duckdb
import pandas as pd
import pyarrow

from .arrow import Data, batches, conform, to_arrow, to_pandas
from .base import LOCK_WAIT_S, Window, fitted, identifier, published, staging_name

#: Rows per row group of what a write adds: only a write's last group is partly filled.
ROW_GROUP_ROWS = 8_192


class DuckDBWarehouse:
    def __init__(self, path: str | Path, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        self._lock_wait_s = lock_wait_s

    def __repr__(self) -> str:
        return f"DuckDBWarehouse({self.url!r})"

    @contextmanager
    def connect(self, writing: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the file, read-only unless ``writing``; waiting while another
        connection holds it in a way this one cannot share. Reading a file that is not
        there is a ``FileNotFoundError`` (not a new, empty warehouse left behind)."""
        if not writing and not self.path.exists():
            raise FileNotFoundError(f"no warehouse at {self.path}: nothing was written there yet")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self._lock_wait_s
        pause = 0.05
        while True:
            try:
                connection = _open(self.path, writing)
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
        # the source starts before the connection opens (~35 ms), not after
        with _ahead(batches(data)) as pieces, self._transaction() as connection:
            first = next(pieces, None)
            if first is None and window is None:
                raise ValueError(f"nothing to write to {table}: no piece, not even an empty one")
            have = None if first is None else _ensure(connection, table, first, window is None)
            if window is None:  # what a killed write of an older version may have left
                connection.execute(f"DROP TABLE IF EXISTS {staging_name(table)}")
            elif window.key is None:
                connection.execute(
                    f"DELETE FROM {table} WHERE {_in_window(window)}", [window.start, window.end]
                )
            if have is None:  # nothing to add: a window emptied, or a keyed one kept
                return _held(connection, table, window) if window and window.key else 0

            def replace_from(lowest: Any) -> None:  # a keyed window's rows from there up
                assert window is not None
                connection.execute(
                    f"DELETE FROM {table} WHERE {_in_window(window)} "
                    f"AND {identifier(str(window.key))} >= ?",
                    [window.start, window.end, lowest],
                )

            written = fitted(itertools.chain([first], pieces), have, table, window, replace_from)
            rows = _insert(connection, table, have, written)
            return _held(connection, table, window) if window and window.key else rows

    def append(self, table: str, data: Data) -> int:
        piece = to_arrow(data)
        with self._transaction() as connection:
            have = _ensure(connection, table, piece, replace=False)
            return _insert(connection, table, have, [conform(piece, have, table)])

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection in a transaction, committed unless the block raises."""
        with self.connect(writing=True) as connection:
            connection.execute("BEGIN")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def read(self, table: str, window: Window | None = None) -> pyarrow.Table:
        query, parameters = f"SELECT * FROM {table}", []
        if window is not None:
            query += f" WHERE {_in_window(window)}"
            parameters = [window.start, window.end]
        with self.connect() as connection:
            return connection.sql(query, params=parameters).to_arrow_table()

    def read_frame(self, table: str, window: Window | None = None) -> pd.DataFrame:
        return to_pandas(self.read(table, window))

    def query(self, sql: str) -> pyarrow.Table:
        with self.connect() as connection:
            return connection.sql(sql).to_arrow_table()

    def check(self) -> None:
        with self.connect(writing=True):
            pass

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


def _open(path: Path, writing: bool) -> duckdb.DuckDBPyConnection:
    """``path`` opened read-only, or for writing with the settings of ``_writer``, when
    this process allows it; else the way any connection of this process can share
    (DuckDB's one instance of the file, read-write, its default settings). A missing
    file is made, as by any connection."""
    try:
        if not writing and path.exists():
            return duckdb.connect(str(path), read_only=True)
        if writing:
            return _writer(path)
    except _OPEN_IN_THIS_PROCESS:
        pass
    return duckdb.connect(str(path))


def _writer(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection on one thread with ``path`` attached as its default database, row
    groups of ``ROW_GROUP_ROWS``, under the name ``duckdb.connect(path)`` gives it (the
    file's stem), and spilling beside the file as that would (not into the working
    directory)."""
    connection = duckdb.connect(config={"temp_directory": f"{path}.tmp", "threads": 1})
    try:
        catalog = identifier(path.stem + "_db" if path.stem in _RESERVED else path.stem)
        connection.execute(
            f"ATTACH {_quoted(str(path))} AS {catalog} (ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )
        connection.execute(f"USE {catalog}")
    except BaseException:
        connection.close()
        raise
    return connection


#: Catalog names DuckDB keeps for itself (``memory``: the writer's own in-memory one);
#: ``duckdb.connect("main.duckdb")`` names its file ``main_db`` so, and so does this.
_RESERVED = {"main", "temp", "system", "memory"}


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_window(window: Window) -> str:
    return f"{identifier(window.column)} >= ? AND {identifier(window.column)} < ?"


@contextmanager
def _ahead(pieces: Iterator[pyarrow.Table], depth: int = 4) -> Iterator[Iterator[pyarrow.Table]]:
    """``pieces``, produced on a thread of their own from the start: the source (a
    listing that converts its pages) goes on while the caller connects and inserts
    (DuckDB releases the GIL meanwhile). Stopped on exit, whether read to the end or
    not; an exit does not wait more than ``STOP_WAIT_S`` for a source busy elsewhere (a
    page in its retry waits: a terminated run held the file minutes), whose thread then
    ends once its source gives up (its client closes) or yields again."""
    queue: Queue[tuple[pyarrow.Table | None, BaseException | None]] = Queue(depth)
    stop = threading.Event()

    def put(item: tuple[pyarrow.Table | None, BaseException | None]) -> bool:
        while not stop.is_set():
            with contextlib.suppress(Full):
                queue.put(item, timeout=0.05)
                return True
        return False

    def produce() -> None:
        try:
            for piece in pieces:
                if not put((piece, None)):
                    return
            put((None, None))
        except BaseException as exc:
            put((None, exc))

    def taken() -> Iterator[pyarrow.Table]:
        while True:
            piece, error = queue.get()
            if error is not None:
                raise error
            if piece is None:
                return
            yield piece

    producer = threading.Thread(target=produce, name="warehouse-source", daemon=True)
    producer.start()
    try:
        yield taken()
    finally:
        stop.set()
        producer.join(STOP_WAIT_S)


#: How long leaving a write waits for its source's thread to stop.
STOP_WAIT_S = 2.0


def _ensure(
    connection: duckdb.DuckDBPyConnection, table: str, like: pyarrow.Table, replace: bool
) -> pyarrow.Schema:
    """The table exists with ``like``'s columns (all of them, created empty on
    ``replace``); its columns as Arrow reads them back."""
    schema = table.partition(".")[0]
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    connection.register("_empty", like.slice(0, 0))  # unregistered on success, as in _insert
    if replace:
        connection.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _empty")
    else:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _empty")
        have = {row[0] for row in connection.execute(f"DESCRIBE {table}").fetchall()}
        for name, kind, *_ in connection.execute("DESCRIBE SELECT * FROM _empty").fetchall():
            if name not in have:  # a table an older version made: the new column, NULL so far
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {identifier(name)} {kind}")
    connection.unregister("_empty")
    return connection.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema


def _held(connection: duckdb.DuckDBPyConnection, table: str, window: Window) -> int:
    """The rows ``window`` holds (none while ``table`` does not exist)."""
    try:
        [(held,)] = connection.execute(  # fetched whole: DuckDB takes no other work till then
            f"SELECT count(*) FROM {table} WHERE {_in_window(window)}", [window.start, window.end]
        ).fetchall()
    except duckdb.CatalogException:
        return 0
    return int(held)


def _insert(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    have: pyarrow.Schema,
    pieces: Iterable[pyarrow.Table],
) -> int:
    """``pieces`` added to ``table`` (whose columns are ``have``) by one INSERT that DuckDB
    reads as they come (one statement, not one per piece: 0.13 s of CPU per 100,000
    contacts against 0.17 s); the rows added. Pieces are taken until the first with rows
    before the statement starts (a keyed window's delete runs then, on this connection).
    An error of the source is raised as itself once DuckDB has stopped reading (in
    DuckDB's words it would lose its type), and the caller's transaction is rolled back."""
    pieces = iter(pieces)
    first = next((piece for piece in pieces if piece.num_rows), None)
    if first is None:
        return 0
    # one shape for the stream: the table's columns, in the first piece's types where it
    # has them (a piece without a column leaves it null, as an INSERT BY NAME would)
    schema = pyarrow.schema(
        [
            first.schema.field(name) if name in first.column_names else have.field(name)
            for name in have.names
        ]
    )
    rows, failure = 0, []

    def stream() -> Iterator[pyarrow.RecordBatch]:
        nonlocal rows
        try:
            for piece in itertools.chain([first], pieces):
                piece = piece if piece.schema == schema else _aligned(piece, schema, table)
                rows += piece.num_rows
                yield from piece.to_batches()
        except GeneratorExit:
            raise
        except BaseException as exc:
            failure.append(exc)

    connection.register("_pieces", pyarrow.RecordBatchReader.from_batches(schema, stream()))
    connection.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _pieces")
    if failure:
        raise failure[0]
    # only after a success: in a failed transaction DuckDB refuses even this, and its
    # error would hide the insert's (the connection, and the view with it, closes soon)
    connection.unregister("_pieces")
    return rows


def _aligned(piece: pyarrow.Table, schema: pyarrow.Schema, table: str) -> pyarrow.Table:
    """A piece in the stream's columns and types: a column it lacks is null; one the
    table does not have is a ``ValueError``."""
    extra = set(piece.column_names) - set(schema.names)
    if extra:
        raise ValueError(f"{table} has no column {', '.join(sorted(extra))}")
    columns = [
        piece[field.name].cast(field.type)
        if field.name in piece.column_names
        else pyarrow.nulls(piece.num_rows, field.type)
        for field in schema
    ]
    return pyarrow.table(columns, schema=schema)


#: DuckDB's names of the Arrow types the warehouse writes (``arrow.plain_field``).
SCALARS = {
    pyarrow.bool_(): "BOOLEAN",
    pyarrow.int8(): "TINYINT",
    pyarrow.int16(): "SMALLINT",
    pyarrow.int32(): "INTEGER",
    pyarrow.int64(): "BIGINT",
    pyarrow.float32(): "FLOAT",
    pyarrow.float64(): "DOUBLE",
    pyarrow.string(): "VARCHAR",
    pyarrow.binary(): "BLOB",
    pyarrow.date32(): "DATE",
}


def duckdb_type(kind: pyarrow.DataType) -> str:
    """The column type DuckDB gives a table made from Arrow's ``kind`` (the warehouse's
    Arrow form), as ``DESCRIBE`` spells it. Said here rather than asked of an in-memory
    DuckDB: its first database costs every process that loads the code location 0.2 s
    and ~9 MiB more than the writer alone (tests/test_warehouse.py asks DuckDB)."""
    if kind in SCALARS:
        return SCALARS[kind]
    if pyarrow.types.is_timestamp(kind):
        return "TIMESTAMP WITH TIME ZONE" if kind.tz else _NAIVE_STAMPS[kind.unit]
    if pyarrow.types.is_decimal(kind):
        return f"DECIMAL({kind.precision},{kind.scale})"
    if pyarrow.types.is_list(kind) or pyarrow.types.is_large_list(kind):
        return duckdb_type(kind.value_type) + "[]"
    raise TypeError(f"no DuckDB column type for Arrow {kind}")


_NAIVE_STAMPS = {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}
