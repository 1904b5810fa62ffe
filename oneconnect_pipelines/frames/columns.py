"""Column converters shared by every table: API values -> typed columns, each value the
contract does not allow named by table, field and record ids (``FrameError``), never
quoted. The big tables' converters take and give Arrow arrays: the common case is a
few Arrow compute calls, and only a column with a value off the usual shape takes the
strict path, which reads what it can and names the rest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

import pandas as pd
import pyarrow
import pyarrow.compute

from ..formats import BIRTHDAY_READ_FORMAT, BIRTHDAY_WRITE_FORMAT, TIMESTAMP_FORMAT
from ..schemas import DATE32, STAMP_LIST, TEXT

#: A column as the converters take it: an Arrow array (of pages), or a list (of values).
Column: TypeAlias = Sequence[Any] | pyarrow.Array | pyarrow.ChunkedArray
ARROW = (pyarrow.Array, pyarrow.ChunkedArray)
_UTC = pyarrow.timestamp("us", "UTC")


class FrameError(ValueError):
    """A record breaks the API contract in a way no table can hold."""


# ----------------------------------------------------------------------------- Arrow
def nulled(values: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array:
    """Empty text as null: to a reader, the same thing."""
    empty = pyarrow.compute.equal(values, "")
    return pyarrow.compute.if_else(empty, pyarrow.scalar(None, values.type), values)


def within(
    values: pyarrow.Array, allowed: Sequence[str], table: str, field: str, record_ids: Column
) -> pyarrow.Array:
    """Text limited to ``allowed`` (null stays null); any other value is named."""
    known = pyarrow.compute.is_in(values, value_set=pyarrow.array(allowed), skip_nulls=True)
    unknown = pyarrow.compute.invert(pyarrow.compute.or_(known, values.is_null()))
    _refuse(unknown, table, field, record_ids, f"is not {'/'.join(allowed)}")
    return values


def stamps(values: Column, table: str, field: str, record_ids: Column) -> pyarrow.Array:
    """``"2019-06-17 11:16:55 +0400"`` texts -> UTC timestamps (null stays null).

    In the contract's shape (25 characters), dropping the space before the offset makes
    it ISO 8601, which Arrow's cast reads (and checks: 30 February fails) at C speed;
    otherwise the strict path reads the column with ``TIMESTAMP_FORMAT`` and names the
    records it cannot read, or whose moment no table can hold."""
    raw = _texts(values, table, field)
    lengths = pyarrow.compute.min_max(pyarrow.compute.utf8_length(raw)).as_py()
    if lengths["min"] in (25, None) and lengths["max"] in (25, None):
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
    unread = pyarrow.compute.and_(parsed.is_null(), raw.is_valid())
    _refuse(unread, table, field, record_ids, "is not a timestamp")
    return _held(parsed, table, field, record_ids)


def in_zone(
    raw: pyarrow.Array | pyarrow.ChunkedArray,
    moments: pyarrow.Array,
    zone: pyarrow.TimestampType,
    table: str,
    field: str,
    record_ids: Column,
) -> None:
    """A ``FrameError`` when a timestamp (``raw``, read as ``moments``) is written at
    another UTC offset than ``zone`` has at that moment: the account keeps another
    timezone than the client was given, and a day's window asked in that one is not the
    account's day (hours of it never read, or rows outside it)."""
    wall = pyarrow.compute.strptime(
        pyarrow.compute.utf8_slice_codeunits(raw, 0, 19), "%Y-%m-%d %H:%M:%S", "s"
    )
    utc = moments.cast(_SECONDS).cast(pyarrow.int64())
    written = pyarrow.compute.subtract(wall.cast(pyarrow.int64()), utc)
    local = pyarrow.compute.local_timestamp(moments.cast(zone)).cast(_NAIVE_SECONDS)
    expected = pyarrow.compute.subtract(local.cast(pyarrow.int64()), utc)
    off = pyarrow.compute.not_equal(written, expected)
    if pyarrow.compute.any(off).as_py():
        first = written.filter(off)[0].as_py()
        sign, minutes = ("-" if first < 0 else "+"), abs(first) // 60
        why = (
            f"is written at UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}, not at the "
            f"offset {zone.tz} has then (the account keeps another timezone than the one "
            "configured)"
        )
        _refuse(off, table, field, record_ids, why)


_SECONDS = pyarrow.timestamp("s", "UTC")
_NAIVE_SECONDS = pyarrow.timestamp("s")


def birthdays(values: Column, table: str, record_ids: Column) -> pyarrow.Array:
    """``DD/MM/YYYY`` (what the API returns) or ``DD.MM.YYYY`` -> Arrow dates (empty and
    missing: null). The common case is rearranged to ISO and cast by Arrow (which refuses
    30 February); anything else goes through pandas, which names what it cannot read."""
    raw = nulled(_texts(values, table, "birthday"))
    if _all_match(raw, _BIRTHDAY_SHAPE):
        part = pyarrow.compute.utf8_slice_codeunits
        iso = pyarrow.compute.binary_join_element_wise(
            part(raw, 6, 10), part(raw, 3, 5), part(raw, 0, 2), "-"
        )
        try:
            return iso.cast(pyarrow.date32())
        except pyarrow.ArrowInvalid:
            pass
    given = pd.Series(raw.to_pylist(), dtype=TEXT)
    parsed = pd.to_datetime(given, format=BIRTHDAY_READ_FORMAT, errors="coerce")
    parsed = parsed.fillna(pd.to_datetime(given, format=BIRTHDAY_WRITE_FORMAT, errors="coerce"))
    unread = given.notna() & parsed.isna()
    _refuse(pyarrow.array(unread), table, "birthday", record_ids, "is not a date")
    return pyarrow.array(parsed.astype(DATE32))


def moments(
    values: Iterable[datetime | None], table: str, field: str, record_ids: Column
) -> pd.Series:
    """Aware datetimes (or None) -> the table's UTC timestamps, naming the records whose
    moment no table can hold."""
    held = _held(pyarrow.array(in_utc(values), _UTC), table, field, record_ids)
    return pd.Series(held.cast(pyarrow.timestamp("ns", "UTC")).to_pandas(), dtype=_STAMP)


_STAMP = pd.DatetimeTZDtype("ns", "UTC")


def in_utc(values: Iterable[datetime | None]) -> list[datetime | None]:
    """Aware datetimes as UTC, as they must reach Arrow: importing pandera sets
    ``PYARROW_IGNORE_TIMEZONE=1`` (for pyspark) in every process, and with it Arrow reads
    an aware datetime's wall time as UTC (10:00+04:00 would land as 10:00Z)."""
    return [None if value is None else value.astimezone(UTC) for value in values]


#: The moments a table's timestamps (pandas nanoseconds) can hold, in seconds.
STAMP_RANGE = (
    pyarrow.scalar(pd.Timestamp.min.ceil("s"), pyarrow.timestamp("s", "UTC")),
    pyarrow.scalar(pd.Timestamp.max.floor("s"), pyarrow.timestamp("s", "UTC")),
)


def moment_lists(
    values: Iterable[Sequence[datetime]], table: str, field: str, record_ids: Column
) -> pd.Series:
    """Each record's aware datetimes -> its list of the table's UTC timestamps, naming
    the records with a moment no table can hold."""
    lists = pyarrow.array([in_utc(moments) for moments in values], pyarrow.list_(_UTC))
    owners = pyarrow.compute.list_parent_indices(lists).filter(_beyond(lists.flatten()))
    bad = pyarrow.compute.is_in(pyarrow.array(range(len(lists))), value_set=owners)
    _refuse(bad, table, field, record_ids, _BEYOND)
    return pd.Series(lists.cast(STAMP_LIST.pyarrow_dtype), dtype=STAMP_LIST)


def _held(parsed: pyarrow.Array, table: str, field: str, record_ids: Column) -> pyarrow.Array:
    """``parsed`` as the table's UTC timestamps, naming the records it cannot hold."""
    _refuse(_beyond(parsed), table, field, record_ids, _BEYOND)
    return parsed.cast(_UTC)


_BEYOND = "is outside the years 1677 to 2262 a table holds"


def _beyond(parsed: pyarrow.Array) -> pyarrow.Array:
    """Which of ``parsed`` (timestamps) a table's nanoseconds cannot hold."""
    earliest, latest = (bound.cast(parsed.type) for bound in STAMP_RANGE)
    return pyarrow.compute.or_(
        pyarrow.compute.less(parsed, earliest), pyarrow.compute.greater(parsed, latest)
    )


_BIRTHDAY_SHAPE = r"^(\d\d/\d\d/\d{4}|\d\d\.\d\d\.\d{4})$"


def _texts(values: Column, table: str, field: str) -> pyarrow.Array | pyarrow.ChunkedArray:
    """A column of text as Arrow (the chunks of a table are not combined)."""
    if isinstance(values, ARROW):
        return values
    arrow = _strings(values)
    if arrow is None:
        raise FrameError(f"{table}.{field} holds values that are not text")
    return arrow


def _strings(values: Column) -> pyarrow.Array | None:
    """Text values as one Arrow string array; None when some value is not text."""
    if isinstance(values, pyarrow.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pyarrow.Array):
        return values
    try:
        return pyarrow.array(list(values), pyarrow.string())
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
        return None


def _all_match(values: pyarrow.Array, pattern: str) -> bool:
    """Every non-null value matches ``pattern`` (RE2, vectorized)."""
    matched = pyarrow.compute.match_substring_regex(values, pattern)
    return bool(pyarrow.compute.all(matched).as_py() is not False)


def _refuse(bad: pyarrow.Array, table: str, field: str, record_ids: Column, why: str) -> None:
    """A FrameError naming (up to ten of) the records where ``bad`` is true."""
    where = pyarrow.compute.indices_nonzero(pyarrow.compute.fill_null(bad, False))
    if len(where):
        offenders = pyarrow.compute.take(_values(record_ids), where[:10]).to_pylist()
        raise FrameError(f"{table}.{field} {why} for {len(where)} record(s), ids {offenders}")


def _values(column: Column) -> pyarrow.Array | pyarrow.ChunkedArray:
    return column if isinstance(column, ARROW) else pyarrow.array(list(column))


# ----------------------------------------------------------------------------- pandas
def text(values: Column) -> pd.Series:
    """Strings, with empty and missing both as <NA>."""
    values = values if isinstance(values, ARROW) else list(values)
    arrow = _strings(values)
    if arrow is None:  # not all text (numbers, say): pandas converts them
        series = pd.Series(list(values), dtype=TEXT)
        return series.mask(series == "")
    return text_series(nulled(arrow))


def text_series(values: pyarrow.Array) -> pd.Series:
    """Arrow strings as pandas ``string[pyarrow]``, without copying."""
    return pd.Series(pd.arrays.ArrowStringArray(values.cast(pyarrow.large_string())))


def ids(values: Column) -> pd.Series:
    if isinstance(values, ARROW):
        return pd.Series(values.to_numpy(zero_copy_only=False), dtype="Int64")
    return pd.Series(list(values), dtype="Int64")


def category(values: Column | pd.Series, allowed: Sequence[str]) -> pd.Series:
    """Text limited to ``allowed``; anything else becomes <NA> (callers refuse it)."""
    series = values if isinstance(values, pd.Series) else text(values)
    return pd.Series(pd.Categorical(series, categories=list(allowed)), index=series.index)
