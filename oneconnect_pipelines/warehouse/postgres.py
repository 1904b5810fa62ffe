"""A warehouse more than one machine can write: PostgreSQL, loaded in bulk.

Rows go in through ADBC's PostgreSQL driver, which streams Arrow batches with binary
``COPY`` (no row-by-row inserts, no Python per value). Tables are declared by this module
from the Arrow schema, so money keeps its ``numeric(12,2)`` and reads back as the same
Arrow decimal. Every write is one transaction, and one writer of a table at a time: a
window replace deletes and refills its rows; a whole-table replace does the same to the
whole table when its columns stay as they were (the usual night: views on the table and
its grants stay), else fills a staging table and swaps it in. Readers see the old rows
or the new ones, and a failure leaves the old ones.

The password belongs in ``PGPASSWORD`` (or a ``.pgpass`` file), which libpq reads, not
in ``ONECONNECT_WAREHOUSE``; the URL is shown without it in any case.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

import pandas as pd
import pyarrow
import pyarrow.compute

from .arrow import Data, batches, conform, to_arrow, to_pandas
from .base import LOCK_WAIT_S, Window, fitted, identifier, published, staging_name

SCALARS = {
    pyarrow.bool_(): "boolean",
    pyarrow.int8(): "smallint",
    pyarrow.int16(): "smallint",
    pyarrow.int32(): "integer",
    pyarrow.int64(): "bigint",
    pyarrow.float32(): "real",
    pyarrow.float64(): "double precision",
    pyarrow.string(): "text",
    pyarrow.large_string(): "text",
    pyarrow.binary(): "bytea",
    pyarrow.date32(): "date",
}


def postgres_type(kind: pyarrow.DataType) -> str:
    """The column type a table gets for an Arrow type (the warehouse's Arrow form), as
    PostgreSQL's ``format_type`` spells it."""
    if kind in SCALARS:
        return SCALARS[kind]
    if pyarrow.types.is_timestamp(kind):
        return "timestamp with time zone" if kind.tz else "timestamp without time zone"
    if pyarrow.types.is_decimal(kind):
        return f"numeric({kind.precision},{kind.scale})"
    if pyarrow.types.is_list(kind) or pyarrow.types.is_large_list(kind):
        return postgres_type(kind.value_type) + "[]"
    if pyarrow.types.is_null(kind):
        return "text"  # a column with no value yet
    raise TypeError(f"no PostgreSQL column type for Arrow {kind}")


def ident(name: str) -> str:
    """``schema.table`` quoted for SQL."""
    return ".".join(identifier(part) for part in name.split("."))


def shown(url: str) -> str:
    """The URL without its password: neither ``user:PASSWORD@`` nor ``?password=PASSWORD``
    (libpq takes both); the rest as written."""
    scheme, slashes, rest = url.partition("://")
    cut = min((index for index in map(rest.find, "/?#") if index >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    user, at, hosts = authority.rpartition("@")  # hosts as given: [::1], h1:5432,h2:5433
    if ":" in user:
        authority = f"{user.partition(':')[0]}:***{at}{hosts}"
    before, pound, fragment = tail.partition("#")
    path, mark, query = before.partition("?")
    fields = [
        f"{key}=***" if unquote(key).strip().lower() == "password" else field
        for field in query.split("&")
        for key in [field.partition("=")[0]]
    ]
    return f"{scheme}{slashes}{authority}{path}{mark}{'&'.join(fields)}{pound}{fragment}"


class PostgresWarehouse:
    def __init__(self, url: str, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self._url = url
        self.url = shown(url)
        self._lock_wait_s = lock_wait_s

    def __repr__(self) -> str:
        return f"PostgresWarehouse({self.url!r})"

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection in a transaction: committed when the block ends, rolled back on
        an error."""
        import adbc_driver_postgresql.dbapi

        connection = adbc_driver_postgresql.dbapi.connect(self._url)
        try:
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    def write(self, table: str, data: Data | Iterable[Data], window: Window | None = None) -> int:
        pieces = batches(data)
        first = next(pieces, None)
        if first is None:
            raise ValueError(f"nothing to write to {table}: no piece, not even an empty one")
        self._ensure_schema(table)
        with self.connect() as connection, connection.cursor() as cursor:
            _hold(cursor, table, self._lock_wait_s)
            all_pieces = itertools.chain([first], pieces)
            if window is None and not _same_columns(cursor, table, first.schema):
                return _swap_in(cursor, table, first.schema, all_pieces)
            have = _ensure(cursor, table, first.schema)
            if window is None:
                cursor.execute(f"DELETE FROM {ident(table)}")
            elif window.key is None:
                cursor.execute(
                    f"DELETE FROM {ident(table)} WHERE {_window_sql(window)}",
                    (window.start, window.end),
                )

            def replace_from(lowest: Any) -> None:  # a keyed window's rows from there up
                assert window is not None
                cursor.execute(
                    f"DELETE FROM {ident(table)} WHERE {_window_sql(window)} "
                    f"AND {identifier(str(window.key))} >= $3",
                    (window.start, window.end, lowest),
                )

            written = fitted(all_pieces, have, table, window, replace_from)
            rows = sum(_copy(cursor, table, piece) for piece in written)
            if window is None or window.key is None:
                return rows
            cursor.execute(
                f"SELECT count(*) FROM {ident(table)} WHERE {_window_sql(window)}",
                (window.start, window.end),
            )
            return int(cursor.fetchone()[0])

    def append(self, table: str, data: Data) -> int:
        piece = to_arrow(data)
        self._ensure_schema(table)
        with self.connect() as connection, connection.cursor() as cursor:
            _hold(cursor, table, self._lock_wait_s)
            have = _ensure(cursor, table, piece.schema)
            return _copy(cursor, table, conform(piece, have, table))

    def _ensure_schema(self, table: str) -> None:
        """``table``'s schema exists: made in a short transaction of its own, one writer
        at a time (two ``CREATE SCHEMA IF NOT EXISTS`` at once: one fails on the catalog's
        unique index)."""
        namespace = table.rpartition(".")[0]
        with self.connect() as connection, connection.cursor() as cursor:
            _hold(cursor, "schema " + namespace, self._lock_wait_s)
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(namespace)}")

    def read(self, table: str, window: Window | None = None) -> pyarrow.Table:
        query, parameters = f"SELECT * FROM {ident(table)}", tuple[Any, ...]()
        if window is not None:
            query += f" WHERE {_window_sql(window)}"
            parameters = (window.start, window.end)
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(query, parameters)
            return _plain(cursor.fetch_arrow_table())

    def read_frame(self, table: str, window: Window | None = None) -> pd.DataFrame:
        return to_pandas(self.read(table, window))

    def query(self, sql: str) -> pyarrow.Table:
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            return _plain(cursor.fetch_arrow_table())

    def check(self) -> None:
        with self.connect():
            pass

    def tables(self, schemas: Iterable[str]) -> list[tuple[str, str]]:
        wanted = list(schemas)
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema = ANY($1) ORDER BY 1, 2",
                (wanted,),
            )
            return published(cursor.fetchall())


def _window_sql(window: Window) -> str:
    column = identifier(window.column)
    return f"{column} >= $1 AND {column} < $2"


def _columns(schema: pyarrow.Schema) -> str:
    return ", ".join(f"{identifier(f.name)} {postgres_type(f.type)}" for f in schema)


def _hold(cursor: Any, name: str, wait_s: float) -> None:
    """Until the transaction ends, be the only writer of ``name``: two runs writing one
    table (a backfill over the hourly refresh) take turns, as DuckDB's file lock makes
    them. Without it, READ COMMITTED lets the second's ``DELETE`` miss the first's
    uncommitted rows, and a window would hold both runs' rows. A turn is waited for up
    to ``wait_s`` (a writer stuck behind a hung one fails, naming it, rather than wait
    with it for ever)."""
    cursor.execute(f"SET LOCAL lock_timeout = {max(1, round(wait_s * 1000))}")
    try:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext($1))", ("oneconnect " + name,))
    except Exception as exc:
        if getattr(exc, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise TimeoutError(
            f"{name}: another writer has held it for {wait_s:g} s (a run still writing "
            "it); nothing was written"
        ) from None
    cursor.execute("SET LOCAL lock_timeout TO DEFAULT")  # the database's, for the rest


#: PostgreSQL's SQLSTATE for a lock not had within ``lock_timeout``.
LOCK_NOT_AVAILABLE = "55P03"


def _same_columns(cursor: Any, table: str, schema: pyarrow.Schema) -> bool:
    """``table`` exists with exactly ``schema``'s columns and types, in order."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (ident(table),),
    )
    have = [(str(name), str(kind)) for name, kind in cursor.fetchall()]
    return have == [(field.name, postgres_type(field.type)) for field in schema]


def _swap_in(
    cursor: Any, table: str, schema: pyarrow.Schema, pieces: Iterable[pyarrow.Table]
) -> int:
    """A table whose columns change (or a new one): filled as a staging table, then put in
    the old one's place. Views on the old table stop this with PostgreSQL's own error
    (they name columns that may be gone); its grants do not carry over."""
    name = table.rpartition(".")[2]
    incoming = staging_name(table) + "_" + secrets.token_hex(4)
    cursor.execute(f"CREATE TABLE {ident(incoming)} ({_columns(schema)})")
    rows = sum(_copy(cursor, incoming, piece) for piece in pieces)
    cursor.execute(f"DROP TABLE IF EXISTS {ident(table)}")
    cursor.execute(f"ALTER TABLE {ident(incoming)} RENAME TO {ident(name)}")
    return rows


def _ensure(cursor: Any, table: str, schema: pyarrow.Schema) -> pyarrow.Schema:
    """The table exists with every column of ``schema`` (added, NULL so far, to a table
    an older version made); its columns as a read gives them back."""
    namespace, _, name = table.rpartition(".")
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {ident(table)} ({_columns(schema)})")
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2",
        (namespace, name),
    )
    have = {row[0] for row in cursor.fetchall()}
    for field in schema:
        if field.name not in have:
            cursor.execute(
                f"ALTER TABLE {ident(table)} ADD COLUMN {identifier(field.name)} "
                + postgres_type(field.type)
            )
    cursor.execute(f"SELECT * FROM {ident(table)} LIMIT 0")
    return _plain(cursor.fetch_arrow_table()).schema


def _copy(cursor: Any, table: str, piece: pyarrow.Table) -> int:
    """``piece``'s rows by binary COPY, columns by name (the table may have more)."""
    if piece.num_rows:
        namespace, _, name = table.rpartition(".")
        cursor.adbc_ingest(name, piece, mode="append", db_schema_name=namespace)
    return int(piece.num_rows)


def _plain(table: pyarrow.Table) -> pyarrow.Table:
    """A read in the warehouse's Arrow form: numerics as the decimals they were declared
    (the driver hands them over as text), and no driver metadata on the fields."""
    columns, fields = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        metadata = field.metadata or {}
        kind = field.type
        if metadata.get(b"POSTGRESQL:type") == b"numeric":
            modifier = int(metadata.get(b"POSTGRESQL:typmod", b"-1")) - 4
            kind = (
                pyarrow.decimal128(modifier >> 16, modifier & 0xFFFF)
                if modifier >= 0
                else pyarrow.float64()
            )
            storage = pyarrow.chunked_array(
                [chunk.storage for chunk in column.chunks], column.type.storage_type
            )
            column = pyarrow.compute.cast(storage, kind)
        columns.append(column)
        fields.append(pyarrow.field(field.name, _without_metadata(kind), field.nullable))
    return pyarrow.Table.from_arrays(columns, schema=pyarrow.schema(fields))


def _without_metadata(kind: pyarrow.DataType) -> pyarrow.DataType:
    if pyarrow.types.is_list(kind):
        return pyarrow.list_(_without_metadata(kind.value_type))
    return kind
