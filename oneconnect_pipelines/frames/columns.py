"""Column converters shared by every table: API values -> typed columns, each bad value
named by table, field and record ids (``FrameError``); ``Fields`` reads a table's records
field by field, as Arrow columns when they have the contract's types."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

import pandas as pd
import pyarrow
import pyarrow.compute

from ..client._arrow import WirePage
from ..formats import (
    BIRTHDAY_READ_FORMAT,
    BIRTHDAY_WRITE_FORMAT,
    TIMESTAMP_FORMAT,
)
from ..schemas import TEXT

Record = Mapping[str, Any]
#: A field of every record: a list (any values), or an Arrow array of the contract's type.
Column: TypeAlias = Iterable[Any] | pyarrow.Array | pyarrow.ChunkedArray
#: What ``Fields`` gives: a list, or an Arrow column.
Values: TypeAlias = Sequence[Any] | pyarrow.Array | pyarrow.ChunkedArray
#: Records are handed to Arrow this many at a time (as they arrive, when they are lazy).
CHUNK = 1000
ARROW = (pyarrow.Array, pyarrow.ChunkedArray)
DATE32 = pd.ArrowDtype(pyarrow.date32())


class FrameError(ValueError):
    """A record breaks the API contract in a way no table can hold."""


# ----------------------------------------------------------------------------- columns
def text(values: Column) -> pd.Series:
    """Strings, with empty and missing both as <NA>."""
    values = values if isinstance(values, ARROW) else list(values)
    arrow = _strings(values)
    if arrow is None:  # not all text (numbers, say): pandas converts them
        series = pd.Series(list(values), dtype=TEXT)
        return series.mask(series == "")
    empty = pyarrow.compute.equal(arrow, "")
    return _text_series(pyarrow.compute.if_else(empty, pyarrow.scalar(None, arrow.type), arrow))


def ids(values: Column) -> pd.Series:
    if isinstance(values, ARROW):
        return pd.Series(values.to_numpy(zero_copy_only=False), dtype="Int64")
    return pd.Series(list(values), dtype="Int64")


def flags(values: Column) -> pd.Series:
    if isinstance(values, ARROW):
        return pd.Series(values.to_numpy(zero_copy_only=False), dtype="boolean")
    return pd.Series([None if v is None else bool(v) for v in values], dtype="boolean")


def category(values: Column | pd.Series, allowed: Sequence[str]) -> pd.Series:
    """Text limited to ``allowed``; anything else becomes <NA> (callers refuse it)."""
    series = values if isinstance(values, pd.Series) else text(values)
    return pd.Series(pd.Categorical(series, categories=list(allowed)), index=series.index)


def stamps(values: Iterable[Any], table: str, field: str, record_ids: Values) -> pd.Series:
    """``"2019-06-17 11:16:55 +0400"`` strings -> UTC timestamps, all at once.

    When every value has the contract's shape, dropping the space before the offset makes
    it ISO 8601, which Arrow's cast reads (and checks: 30 February fails) at C speed;
    otherwise the strict path below finds and names the records that are wrong."""
    raw = _strings(values)
    if raw is None:
        raise FrameError(f"{table}.{field} holds values that are not text")
    if _all_match(raw, _STAMP_SHAPE):
        try:
            iso = pyarrow.compute.utf8_replace_slice(raw, 19, 20, "")
            return _held(iso.cast(pyarrow.timestamp("s", "UTC")), table, field, record_ids)
        except pyarrow.ArrowInvalid:
            pass
    parsed = pyarrow.compute.strptime(raw, format=TIMESTAMP_FORMAT, unit="s", error_is_null=True)
    # Arrow's strptime rolls impossible dates over (30 February -> 2 March): the wall time
    # must read back exactly as written
    wall = pyarrow.compute.utf8_slice_codeunits(raw, 0, 19)
    local = pyarrow.compute.strptime(wall, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    rolled = pyarrow.compute.not_equal(
        pyarrow.compute.strftime(local, format="%Y-%m-%d %H:%M:%S"), wall
    )
    parsed = pyarrow.compute.if_else(rolled, pyarrow.scalar(None, type=parsed.type), parsed)
    bad = pd.Series(parsed.is_null().to_numpy(zero_copy_only=False)) & pd.Series(
        raw.is_valid().to_numpy(zero_copy_only=False)
    )
    _refuse(bad, table, field, record_ids, "is not a timestamp")
    return _held(parsed, table, field, record_ids)


def moments(
    values: Iterable[datetime | None], table: str, field: str, record_ids: Values
) -> pd.Series:
    """Aware datetimes (or None) -> the table's UTC timestamps, naming the records whose
    moment no table can hold."""
    return _held(pyarrow.array(in_utc(values), _MOMENT), table, field, record_ids)


def in_utc(values: Iterable[datetime | None]) -> list[datetime | None]:
    """Aware datetimes as UTC, as they must reach Arrow: importing pandera sets
    ``PYARROW_IGNORE_TIMEZONE=1`` (for pyspark) in every process, and with it Arrow reads
    an aware datetime's wall time as UTC (10:00+04:00 would land as 10:00Z)."""
    return [None if value is None else value.astimezone(UTC) for value in values]


_MOMENT = pyarrow.timestamp("us", "UTC")


#: The moments a table's timestamps (pandas nanoseconds) can hold, in seconds.
STAMP_RANGE = (
    pyarrow.scalar(pd.Timestamp.min.ceil("s"), pyarrow.timestamp("s", "UTC")),
    pyarrow.scalar(pd.Timestamp.max.floor("s"), pyarrow.timestamp("s", "UTC")),
)


def beyond_stamp_range(parsed: pyarrow.Array) -> pyarrow.Array:
    """True where a timestamp is outside ``STAMP_RANGE`` (null stays null)."""
    earliest, latest = (bound.cast(parsed.type) for bound in STAMP_RANGE)
    return pyarrow.compute.or_(
        pyarrow.compute.less(parsed, earliest), pyarrow.compute.greater(parsed, latest)
    )


def _held(parsed: pyarrow.Array, table: str, field: str, record_ids: Values) -> pd.Series:
    """``parsed`` as the table's UTC timestamps, naming the records it cannot hold."""
    beyond = pyarrow.compute.fill_null(beyond_stamp_range(parsed), False)
    _refuse(
        pd.Series(beyond.to_numpy(zero_copy_only=False)),
        table,
        field,
        record_ids,
        "is outside the years 1677 to 2262 a table holds",
    )
    return _utc_series(parsed)


def birthdays(values: Iterable[Any], table: str, record_ids: Values) -> pd.Series:
    """``DD/MM/YYYY`` (what the API returns) or ``DD.MM.YYYY`` -> Arrow dates. The common
    case is rearranged to ISO and cast by Arrow (which refuses 30 February); anything
    else goes through pandas, which names what it cannot read."""
    values = values if isinstance(values, ARROW) else list(values)
    arrow = _strings(values)
    if arrow is not None and _all_match(arrow, _BIRTHDAY_SHAPE_OR_EMPTY):
        empty = pyarrow.compute.equal(arrow, "")
        arrow = pyarrow.compute.if_else(empty, pyarrow.scalar(None, pyarrow.string()), arrow)
        part = pyarrow.compute.utf8_slice_codeunits
        iso = pyarrow.compute.binary_join_element_wise(
            part(arrow, 6, 10), part(arrow, 3, 5), part(arrow, 0, 2), "-"
        )
        try:
            return pd.Series(iso.cast(pyarrow.date32()), dtype=DATE32)
        except pyarrow.ArrowInvalid:
            pass
    raw = text(values)
    parsed = pd.to_datetime(raw, format=BIRTHDAY_READ_FORMAT, errors="coerce")
    parsed = parsed.fillna(pd.to_datetime(raw, format=BIRTHDAY_WRITE_FORMAT, errors="coerce"))
    _refuse(raw.notna() & parsed.isna(), table, "birthday", record_ids, "is not a date")
    return parsed.astype(DATE32)


_STAMP_SHAPE = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d[0-5]\d$"
_BIRTHDAY_SHAPE_OR_EMPTY = r"^(\d\d/\d\d/\d{4}|\d\d\.\d\d\.\d{4}|)$"


def _strings(values: Column) -> pyarrow.Array | None:
    """Text values as one Arrow string array; None when some value is not text. An
    iterator is consumed: callers that fall back to the values pass a list."""
    if isinstance(values, pyarrow.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pyarrow.Array):
        return values
    try:
        return pyarrow.array(values if isinstance(values, list) else list(values), pyarrow.string())
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
        return None


def _text_series(values: pyarrow.Array) -> pd.Series:
    """Arrow strings as pandas ``string[pyarrow]``, without copying."""
    return pd.Series(pd.arrays.ArrowStringArray(values.cast(pyarrow.large_string())))


def _all_match(values: pyarrow.Array, pattern: str) -> bool:
    """Every non-null value matches ``pattern`` (RE2, vectorized)."""
    matched = pyarrow.compute.match_substring_regex(values, pattern)
    return bool(pyarrow.compute.all(matched).as_py() is not False)


def _utc_series(parsed: pyarrow.Array) -> pd.Series:
    return pd.Series(
        parsed.cast(pyarrow.timestamp("ns", "UTC")).to_pandas(), dtype="datetime64[ns, UTC]"
    )


def _refuse(bad: pd.Series, table: str, field: str, record_ids: Values, why: str) -> None:
    if bad.any():
        where = bad.to_numpy().nonzero()[0][:10]
        if isinstance(record_ids, ARROW):
            offenders = record_ids.take(where).to_pylist()
        else:
            offenders = [record_ids[i] for i in where]
        raise FrameError(f"{table}.{field} {why} for {int(bad.sum())} record(s), ids {offenders}")


def _column(records: Sequence[Record], name: str) -> list[Any]:
    return [record.get(name) for record in records]


class Fields:
    """A table's records, field by field. When every value has the type the contract
    gives it, each field is an Arrow column (of pages decoded into Arrow by the client,
    or of records converted by Arrow a chunk at a time); otherwise each field is a
    plain list, for the converters to find and name the records that are wrong.

    Records are converted as they arrive (a lazy iterable over pages is converted while
    the next pages download) and not kept: 100,000 live dicts would make every full
    collection of the garbage collector walk them all. If a later chunk does not fit,
    the records converted so far are read back from Arrow."""

    def __init__(self, records: Iterable[Record], schema: pyarrow.Schema) -> None:
        source = iter(records)
        chunks: Iterator[list[Record]] = iter(lambda: list(itertools.islice(source, CHUNK)), [])
        self._read(chunks, schema)

    @classmethod
    def of_pages(cls, pages: Iterable[WirePage], schema: pyarrow.Schema) -> Fields:
        """Pages as the client's ``arrow_pages`` gives them: Arrow batches, or (pages
        Arrow could not read) records in the wire types."""
        fields = cls.__new__(cls)
        fields._read(pages, schema)
        return fields

    def _read(self, pages: Iterable[WirePage], schema: pyarrow.Schema) -> None:
        self.table: pyarrow.Table | None = None
        self.records: list[Record] = []
        batches: list[pyarrow.RecordBatch] = []
        source = iter(pages)
        for page in source:
            if isinstance(page, pyarrow.RecordBatch):
                batches.append(page)
                continue
            try:
                batches.append(self._batch(page, schema))
            except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
                converted = pyarrow.Table.from_batches(batches, schema).to_pylist()
                rest = [r for p in source for r in (p if isinstance(p, list) else p.to_pylist())]
                self.records = [*converted, *page, *rest]
                return
        self.table = pyarrow.Table.from_batches(batches, schema)

    @staticmethod
    def _batch(chunk: Sequence[Record], schema: pyarrow.Schema) -> pyarrow.RecordBatch:
        return pyarrow.RecordBatch.from_pylist(chunk, schema=schema)

    def __call__(self, name: str) -> Values:
        """Field ``name`` (``outer.inner`` for a nested one; a missing outer is null)."""
        outer, _, inner = name.partition(".")
        if self.table is not None:
            column = self.table[outer]
            return pyarrow.compute.struct_field(column, inner) if inner else column
        if inner:
            return [(record.get(outer) or {}).get(inner) for record in self.records]
        return _column(self.records, outer)
