"""One Arrow form for every table: what frames and batches become before any backend
writes them, and what a read gives back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeAlias

import pandas as pd
import pyarrow

Data: TypeAlias = pd.DataFrame | pyarrow.Table | pyarrow.RecordBatch
#: Text in frames read back: Arrow-backed, as the frames are built.
TEXT = pd.StringDtype("pyarrow")


def plain_field(field: pyarrow.Field) -> pyarrow.Field:
    """Dictionary (categorical) columns as plain text, large strings as strings, a column
    with no value yet as text (DuckDB would make it of type NULL, which can never hold a
    value; PostgreSQL's is text), and nanosecond timestamps as microseconds (what both
    backends store; the API has whole seconds)."""
    kind = field.type
    if pyarrow.types.is_dictionary(kind):
        return plain_field(field.with_type(kind.value_type))
    if pyarrow.types.is_large_string(kind) or pyarrow.types.is_null(kind):
        return field.with_type(pyarrow.string())
    if pyarrow.types.is_timestamp(kind) and kind.unit == "ns":
        return field.with_type(pyarrow.timestamp("us", kind.tz))
    if pyarrow.types.is_list(kind) or pyarrow.types.is_large_list(kind):
        inner = plain_field(kind.value_field)
        return field.with_type(pyarrow.list_(inner.type))
    return field


def plain_schema(schema: pyarrow.Schema) -> pyarrow.Schema:
    return pyarrow.schema([plain_field(field) for field in schema])


def to_arrow(data: Data) -> pyarrow.Table:
    """A frame, table or batch in the warehouse's Arrow form."""
    if isinstance(data, pd.DataFrame):
        table = pyarrow.Table.from_pandas(data, preserve_index=False)
    elif isinstance(data, pyarrow.RecordBatch):
        table = pyarrow.Table.from_batches([data])
    else:
        table = data
    plain = plain_schema(table.schema)
    return table if plain.equals(table.schema) else table.cast(plain)


def conform(piece: pyarrow.Table, have: pyarrow.Schema, table: str) -> pyarrow.Table:
    """``piece`` in the types ``table`` already has (``have``: its columns as read back),
    so a column whose type changed between versions (an int32 count into a bigint
    column) goes in converted, not as raw bytes (PostgreSQL's binary COPY) or rounded
    (DuckDB's implicit cast); a value that does not convert without loss (1.6 into an
    integer column) is a ``TypeError`` naming table, column and both types."""
    for name in piece.column_names:
        if name not in have.names:
            continue
        want = have.field(name).type
        column = piece[name]
        if _same_values(column.type, want):
            continue
        try:
            converted = column.cast(want, safe=True)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowNotImplementedError):
            # Arrow's words quote the value (a phone number, a birthday): not repeated
            raise TypeError(
                f"{table}.{name} holds {want}; this write brings {column.type}, which does "
                "not convert to it without loss"
            ) from None
        piece = piece.set_column(piece.column_names.index(name), name, converted)
    return piece


def _same_values(kind: pyarrow.DataType, want: pyarrow.DataType) -> bool:
    """Whether values of ``kind`` are those of ``want`` as they are: the same type, or
    timestamps of one unit both with a zone (an instant is the same in any zone's label:
    DuckDB reads its columns back in its session's, ``Etc/UTC`` or the machine's)."""
    if kind == want:
        return True
    timestamps = pyarrow.types.is_timestamp(kind) and pyarrow.types.is_timestamp(want)
    return bool(timestamps and kind.unit == want.unit and bool(kind.tz) == bool(want.tz))


def batches(data: Data | Iterable[Data]) -> Iterator[pyarrow.Table]:
    """One piece of data, or many (consumed lazily), each in the warehouse's form."""
    if isinstance(data, pd.DataFrame | pyarrow.Table | pyarrow.RecordBatch):
        yield to_arrow(data)
        return
    for piece in data:
        yield to_arrow(piece)


def to_pandas(table: pyarrow.Table) -> pd.DataFrame:
    """A table read back, as the frames are typed: text Arrow-backed, timestamps in
    nanoseconds, dates as Arrow dates, lists as Arrow lists."""

    def mapping(kind: pyarrow.DataType) -> object:
        if pyarrow.types.is_string(kind) or pyarrow.types.is_large_string(kind):
            return TEXT
        if pyarrow.types.is_integer(kind):
            return pd.Int64Dtype()
        if pyarrow.types.is_boolean(kind):
            return pd.BooleanDtype()
        if pyarrow.types.is_date(kind) or pyarrow.types.is_list(kind):
            return pd.ArrowDtype(kind)
        if pyarrow.types.is_decimal(kind):
            return pd.ArrowDtype(kind)
        return None

    # lists with Arrow's usual child name ("item"; DuckDB says "l"): a frame's Parquet
    # file must read back in pandas
    plain = pyarrow.schema(  # dictionaries are kept: they become pandas categories
        [f if pyarrow.types.is_dictionary(f.type) else plain_field(f) for f in table.schema]
    )
    frame = table.cast(plain).to_pandas(types_mapper=mapping, coerce_temporal_nanoseconds=True)
    for name in frame.columns:  # DuckDB says Etc/UTC, the frames say UTC
        kind = frame[name].dtype
        if isinstance(kind, pd.DatetimeTZDtype) and str(kind.tz) != "UTC":
            frame[name] = frame[name].dt.tz_convert("UTC")
    return frame
