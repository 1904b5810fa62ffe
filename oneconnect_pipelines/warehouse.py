"""Writing frames into the DuckDB warehouse: one type mapping for every table."""

from __future__ import annotations

import functools
from typing import Any

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow


def append_frame(connection: Any, table: str, frame: pd.DataFrame) -> None:
    """Add ``frame``'s rows to ``table`` (``schema.name``), creating it (and its schema)
    from the frame's Arrow types if it does not exist yet, even when the frame is empty.
    Columns are matched by name; a column the table lacks is added to it (a table made
    by an older version keeps its rows, with NULL there)."""
    arrow = pyarrow.Table.from_pandas(frame, preserve_index=False)
    arrow = arrow.cast(pyarrow.schema([_plain(field) for field in arrow.schema]))
    schema = table.partition(".")[0]
    connection.register("_frame", arrow)
    try:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        connection.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _frame")
        if not connection.fetchall():  # the table existed: add the rows
            have = {row[0] for row in connection.execute(f"DESCRIBE {table}").fetchall()}
            for column, kind, *_ in connection.execute("DESCRIBE _frame").fetchall():
                if column not in have:
                    connection.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {kind}')
            connection.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
    finally:
        connection.unregister("_frame")


def _plain(field: pyarrow.Field) -> pyarrow.Field:
    """Dictionary (categorical) columns as plain text; nanosecond timestamps as DuckDB's
    native microseconds (the API has whole seconds)."""
    kind = field.type
    if pyarrow.types.is_dictionary(kind):
        return field.with_type(kind.value_type)
    if pyarrow.types.is_timestamp(kind) and kind.unit == "ns":
        return field.with_type(pyarrow.timestamp("us", kind.tz))
    if pyarrow.types.is_list(kind) and pyarrow.types.is_timestamp(kind.value_type):
        return field.with_type(pyarrow.list_(pyarrow.timestamp("us", kind.value_type.tz)))
    return field


@functools.cache
def duckdb_types(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """The DuckDB type of each column of ``model``'s table, as ``append_frame`` creates it
    (found by creating it: an empty frame of the model into an in-memory database)."""
    columns = model.to_schema().columns
    empty = pd.DataFrame({name: _empty(column.dtype.type) for name, column in columns.items()})
    with duckdb.connect() as connection:
        append_frame(connection, "main.t", empty)
        return {row[0]: row[1] for row in connection.execute("DESCRIBE main.t").fetchall()}


def _empty(dtype: Any) -> pd.Series:
    if isinstance(dtype, pd.CategoricalDtype):  # the models' categories are text
        return pd.Series(pd.Categorical([], categories=pd.Index([], dtype="string[pyarrow]")))
    return pd.Series([], dtype=dtype)
