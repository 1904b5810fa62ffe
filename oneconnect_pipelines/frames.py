"""API records (decoded JSON pages) -> typed DataFrames shaped as ``schemas`` declares.

Columns are converted whole (``pd.to_datetime`` with the contract's formats, nullable
dtypes); the few per-record steps are plain extraction of nested fields. Values the
contract does not allow raise ``FrameError`` naming the table, field and record ids.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any, TypeAlias

import pandas as pd
import pyarrow
import pyarrow.compute

from . import schemas as s
from .formats import (
    BIRTHDAY_READ_FORMAT,
    BIRTHDAY_WRITE_FORMAT,
    CONTACT_FIELDS,
    TIMESTAMP_FORMAT,
    FormatError,
    parse_datetime,
    parse_repeat,
    split_date_range,
    split_ids,
)
from .schemas import TEXT

Record = Mapping[str, Any]
#: A field of every record: a list (any values), or an Arrow array of the contract's type.
Column: TypeAlias = Iterable[Any] | pyarrow.Array | pyarrow.ChunkedArray
#: What ``Fields`` gives: a list, or an Arrow column.
Values: TypeAlias = Sequence[Any] | pyarrow.Array | pyarrow.ChunkedArray
#: Records are handed to Arrow this many at a time (as they arrive, when they are lazy).
CHUNK = 1000
ARROW = (pyarrow.Array, pyarrow.ChunkedArray)
DATE32 = pd.ArrowDtype(pyarrow.date32())
ID_LIST = pd.ArrowDtype(pyarrow.list_(pyarrow.int64()))
STAMP_LIST = pd.ArrowDtype(pyarrow.list_(pyarrow.timestamp("ns", "UTC")))
MONEY = pd.ArrowDtype(pyarrow.decimal128(12, 2))


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
            return _utc_series(iso.cast(pyarrow.timestamp("s", "UTC")))
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
    gives it, Arrow converts the records in C++, a chunk at a time as they arrive (a lazy
    iterable over pages is converted while the next pages download), and each field is
    an Arrow column; otherwise each field is a plain list, for the converters to find and
    name the records that are wrong.

    Records converted are not kept: 100,000 live dicts would make every full collection
    of the garbage collector walk them all while the listing runs. If a later chunk does
    not fit, the records converted so far are read back from Arrow."""

    def __init__(self, records: Iterable[Record], schema: pyarrow.Schema) -> None:
        self.table: pyarrow.Table | None = None
        self.records: list[Record] = []
        batches: list[pyarrow.RecordBatch] = []
        source = iter(records)
        while chunk := list(itertools.islice(source, CHUNK)):
            try:
                batches.append(self._batch(chunk, schema))
            except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
                converted = pyarrow.Table.from_batches(batches, schema).to_pylist()
                self.records = [*converted, *chunk, *source]
                return
        self.table = pyarrow.Table.from_batches(batches, schema)

    @staticmethod
    def _batch(chunk: list[Record], schema: pyarrow.Schema) -> pyarrow.RecordBatch:
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


# ----------------------------------------------------------------------------- tables
_TEXT = pyarrow.string()
#: A contact record as the API sends it: text, but for the id and the list of additional numbers.
CONTACT_WIRE = pyarrow.schema(
    [
        ("id", pyarrow.int64()),
        *(
            (name, pyarrow.list_(_TEXT) if name == "additional_numbers" else _TEXT)
            for name in (*CONTACT_FIELDS, "created_at", "updated_at")
        ),
    ]
)


def contacts_frame(records: Iterable[Record]) -> pd.DataFrame:
    """``GET /contacts`` records (a lazy iterable is converted as it is consumed)."""
    field = Fields(records, CONTACT_WIRE)
    record_ids = field("id")
    genders = text(field("gender"))
    frame = pd.DataFrame(
        {
            "id": ids(record_ids),
            "phone_number": _all_text(field("phone_number")),
            "email": text(field("email")),
            "first_name": text(field("first_name")),
            "last_name": text(field("last_name")),
            "birthday": birthdays(field("birthday"), "contacts", record_ids),
            "post_code": text(field("post_code")),
            "city": text(field("city")),
            "street": text(field("street")),
            "additional_numbers": text(_joined(field("additional_numbers"))),
            "gender": category(genders, s.GENDERS),
            "created_at": stamps(field("created_at"), "contacts", "created_at", record_ids),
            "updated_at": stamps(field("updated_at"), "contacts", "updated_at", record_ids),
        }
    )
    _refuse(
        genders.notna() & frame["gender"].isna(),
        "contacts",
        "gender",
        record_ids,
        "is not Male/Female",
    )
    return frame


def _all_text(values: Column, missing: str | None = None) -> pd.Series:
    """Strings as they are (``""`` stays), a missing one as ``missing``."""
    arrow = _strings(values)
    if arrow is None:
        return pd.Series([missing if v is None else v for v in values], dtype=TEXT)
    if missing is not None:
        arrow = pyarrow.compute.fill_null(arrow, missing)
    return _text_series(arrow)


def _joined(values: Column) -> Column:
    """Lists of numbers as one ``"a, b"`` text each (an empty or missing list: ``""``)."""
    if isinstance(values, ARROW):
        return pyarrow.compute.fill_null(pyarrow.compute.binary_join(values, ", "), "")
    return [", ".join(numbers or ()) for numbers in values]


def lists_frames(records: Sequence[Record]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``GET /lists`` -> (one row per list, one row per list x member)."""
    record_ids = _column(records, "id")
    members: list[tuple[Any, str, Any, Any, Any, Any]] = []
    noncontact_counts = []
    for record in records:
        list_id = record["id"]
        for member in record.get("members") or ():
            members.append(
                (
                    list_id,
                    "contact",
                    member["id"],
                    member.get("phone_number"),
                    member.get("first_name"),
                    member.get("last_name"),
                )
            )
        extra = record.get("noncontact_members") or {}
        numbers = list(extra.get("phone_number") or ())
        firsts, lasts = list(extra.get("first_name") or ()), list(extra.get("last_name") or ())
        for i, number in enumerate(numbers):
            members.append(
                (
                    list_id,
                    "noncontact",
                    None,
                    number,
                    firsts[i] if i < len(firsts) else None,
                    lasts[i] if i < len(lasts) else None,
                )
            )
        noncontact_counts.append(len(numbers))
    lists = pd.DataFrame(
        {
            "id": ids(record_ids),
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "member_count": ids(len(r.get("members") or ()) for r in records),
            "noncontact_count": ids(noncontact_counts),
            "created_at": stamps(_column(records, "created_at"), "lists", "created_at", record_ids),
            "updated_at": stamps(_column(records, "updated_at"), "lists", "updated_at", record_ids),
        }
    )
    columns = list(zip(*members, strict=True)) or [()] * 6
    list_members = pd.DataFrame(
        {
            "list_id": ids(columns[0]),
            "member_type": category(columns[1], s.MEMBER_TYPES),
            "contact_id": ids(columns[2]),
            "phone_number": text(columns[3]),
            "first_name": text(columns[4]),
            "last_name": text(columns[5]),
        }
    )
    return lists, list_members


def campaigns_frame(records: Sequence[Record], tz: tzinfo) -> pd.DataFrame:
    """Schedules flattened: type, start, end, repeat (count and period), certain dates.
    Schedule dates carry no offset; they are read in the account's timezone ``tz``."""
    record_ids = _column(records, "id")
    rows = [_schedule(record, tz) for record in records]
    recipients = [split_ids(r.get("recipients") or "") for r in records]
    return pd.DataFrame(
        {
            "id": ids(record_ids),
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "active": flags(bool(r.get("active")) for r in records),
            "recipients": text(",".join(numbers) for numbers in recipients),
            "recipient_count": ids(len(numbers) for numbers in recipients),
            "recipients_list": pd.Series(
                [[int(i) for i in r.get("recipients_list") or ()] for r in records], dtype=ID_LIST
            ),
            "title": text(_column(records, "title")),
            "content": pd.Series([r.get("content") or "" for r in records], dtype=TEXT),
            "job_type": ids(int(r.get("job_type") or 0) for r in records),
            "schedule_type": category((row[0] for row in rows), s.SCHEDULE_TYPES),
            "start_at": pd.Series([row[1] for row in rows], dtype="datetime64[ns, UTC]"),
            "end_at": pd.Series([row[2] for row in rows], dtype="datetime64[ns, UTC]"),
            "repeat_every": ids(row[3] for row in rows),
            "repeat_period": category((row[4] for row in rows), s.REPEAT_PERIODS),
            "dates": pd.Series([row[5] for row in rows], dtype=STAMP_LIST),
            "completed": flags(_column(records, "completed")),
            "created_at": stamps(
                _column(records, "created_at"), "campaigns", "created_at", record_ids
            ),
            "updated_at": stamps(
                _column(records, "updated_at"), "campaigns", "updated_at", record_ids
            ),
        }
    )


def _schedule(
    record: Record, tz: tzinfo
) -> tuple[str, datetime | None, datetime | None, int | None, str | None, list[datetime]]:
    schedule = record.get("schedule") or {}
    try:
        kind = str(schedule["type"])
        dates = schedule.get("dates")
        if dates is not None:
            items = split_ids(dates) if isinstance(dates, str) else list(dates)
            moments = sorted(parse_datetime(d, tz).astimezone(UTC) for d in items)
            return kind, None, None, None, None, moments
        parts = split_date_range(str(schedule.get("date-range") or ""))
        repeat = parse_repeat(str(schedule["repeat"])) if schedule.get("repeat") else None
        start = parse_datetime(parts[0], tz).astimezone(UTC) if parts[0] else None
        end = parse_datetime(parts[1], tz).astimezone(UTC) if len(parts) > 1 else None
    except (KeyError, FormatError) as exc:
        raise FrameError(f"campaigns.schedule of campaign {record.get('id')}: {exc}") from exc
    return (
        kind,
        start,
        end,
        repeat.count if repeat else None,
        repeat.period if repeat else None,
        [],
    )


def birthday_campaigns_frame(records: Sequence[Record]) -> pd.DataFrame:
    record_ids = _column(records, "id")
    return pd.DataFrame(
        {
            "id": ids(record_ids),
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "active": flags(bool(r.get("active")) for r in records),
            "content": pd.Series([r.get("content") or "" for r in records], dtype=TEXT),
            "recipient_lists": pd.Series(
                [[int(i) for i in r.get("recipient_lists") or ()] for r in records], dtype=ID_LIST
            ),
            "title": text(_column(records, "title")),
            "created_at": stamps(
                _column(records, "created_at"), "birthday_campaigns", "created_at", record_ids
            ),
            "updated_at": stamps(
                _column(records, "updated_at"), "birthday_campaigns", "updated_at", record_ids
            ),
        }
    )


MESSAGE_WIRE = pyarrow.schema(
    [
        ("id", pyarrow.int64()),
        ("final_status", _TEXT),
        ("campaign_id", pyarrow.int64()),
        ("birthday_campaign", pyarrow.bool_()),
        ("sms", pyarrow.struct([("destination", _TEXT), ("content", _TEXT)])),
        ("delivery_report", pyarrow.struct([("status", _TEXT), ("reason", _TEXT)])),
        ("created_at", _TEXT),
        ("updated_at", _TEXT),
    ]
)


def messages_frame(records: Iterable[Record], tz: tzinfo) -> pd.DataFrame:
    """``GET /messages`` records (a lazy iterable is converted as it is consumed)."""
    field = Fields(records, MESSAGE_WIRE)
    record_ids = field("id")
    campaign = ids(field("campaign_id")).fillna(0)
    birthday = flags(field("birthday_campaign")).fillna(False)
    sender = pd.Series("adhoc", index=campaign.index).mask(campaign != 0, "campaign")
    created = stamps(field("created_at"), "messages", "created_at", record_ids)
    statuses = text(field("final_status"))
    frame = pd.DataFrame(
        {
            "id": ids(record_ids),
            "final_status": category(statuses, s.FINAL_STATUSES),
            "sender_type": category(sender.mask(birthday, "birthday"), s.SENDER_TYPES),
            "campaign_id": campaign.mask(campaign == 0),
            "destination": _all_text(field("sms.destination"), missing=""),
            "content": _all_text(field("sms.content"), missing=""),
            "delivery_status": text(field("delivery_report.status")),
            "delivery_reason": text(field("delivery_report.reason")),
            "created_at": created,
            "updated_at": stamps(field("updated_at"), "messages", "updated_at", record_ids),
            "sent_local": created.dt.tz_convert(tz).dt.tz_localize(None),
        }
    )
    _refuse(
        statuses.notna() & frame["final_status"].isna(),
        "messages",
        "final_status",
        record_ids,
        "is not delivered/undelivered/pending",
    )
    return frame


def titles_frame(records: Sequence[Record]) -> pd.DataFrame:
    record_ids = _column(records, "id")
    return pd.DataFrame(
        {
            "id": ids(record_ids),
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "active": flags(bool(r.get("active")) for r in records),
            "created_at": stamps(
                _column(records, "created_at"), "titles", "created_at", record_ids
            ),
            "updated_at": stamps(
                _column(records, "updated_at"), "titles", "updated_at", record_ids
            ),
        }
    )


def templates_frame(records: Sequence[Record]) -> pd.DataFrame:
    record_ids = _column(records, "id")
    return pd.DataFrame(
        {
            "id": ids(record_ids),
            "title": pd.Series([str(r.get("title") or "") for r in records], dtype=TEXT),
            "body": pd.Series([r.get("body") or "" for r in records], dtype=TEXT),
            "created_at": stamps(
                _column(records, "created_at"), "templates", "created_at", record_ids
            ),
            "updated_at": stamps(
                _column(records, "updated_at"), "templates", "updated_at", record_ids
            ),
        }
    )


def balance_frame(answer: Record, fetched_at: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sms_balance": ids([answer["sms_balance"]]),
            "fetched_at": pd.Series([fetched_at], dtype="datetime64[ns, UTC]"),
        }
    )


def pricing_frame(records: Sequence[Record]) -> pd.DataFrame:
    def money(name: str) -> pd.Series:
        return pd.Series([Decimal(str(r[name])) for r in records], dtype=MONEY)

    limits = (
        "messages_history_limit",
        "contacts_limit",
        "lists_limit",
        "titles_limit",
        "campaigns_limit",
    )
    flags_ = (
        "upload_contacts_from_csv",
        "upload_lists_from_csv",
        "integrations",
        "api_ip_restriction",
    )
    return pd.DataFrame(
        {
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "price": money("price"),
            "price_yearly": money("price_yearly"),
            **{name: ids(_column(records, name)) for name in limits},
            **{name: flags(bool(r.get(name)) for r in records) for name in flags_},
        }
    )
