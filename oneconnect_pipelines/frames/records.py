"""The big tables, contacts and messages: built from Arrow pages by Arrow compute alone
(no Python object per value) when every value has the contract's shape, else field by
field by the careful converters, which name what they cannot read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import tzinfo
from typing import TypeAlias

import pandas as pd
import pyarrow
import pyarrow.compute

from .. import schemas as s
from ..client._arrow import WirePage
from ..client.models import CONTACT_WIRE, MESSAGE_WIRE
from ..formats import CONTACT_TEXT_FIELDS, GENDERS, MESSAGE_STATUSES
from ..schemas import TEXT
from ..warehouse.arrow import to_arrow, to_pandas
from .columns import (
    _BIRTHDAY_SHAPE_OR_EMPTY,
    ARROW,
    Column,
    Fields,
    Record,
    _all_match,
    _refuse,
    _strings,
    _text_series,
    beyond_stamp_range,
    birthdays,
    category,
    flags,
    ids,
    stamps,
    text,
)


def contacts_frame(records: Iterable[Record]) -> pd.DataFrame:
    """``GET /contacts`` records (a lazy iterable is converted as it is consumed)."""
    return contacts_of(Fields(records, CONTACT_WIRE))


def contacts_of(field: Fields) -> pd.DataFrame:
    """The contacts table of the records ``field`` reads."""
    if field.table is not None and (fast := contacts_arrow(field.table)) is not None:
        return to_frame(fast, s.categories(s.ContactsSchema))
    record_ids = field("id")
    genders = text(field("gender"))
    frame = pd.DataFrame(
        {
            "id": ids(record_ids),
            "phone_number": _all_text(field("phone_number")),
            **{name: text(field(name)) for name in ("email", *CONTACT_TEXT_FIELDS)},
            "birthday": birthdays(field("birthday"), "contacts", record_ids),
            "additional_numbers": text(_joined(field("additional_numbers"))),
            "gender": category(genders, GENDERS),
            "created_at": stamps(field("created_at"), "contacts", "created_at", record_ids),
            "updated_at": stamps(field("updated_at"), "contacts", "updated_at", record_ids),
        },
        columns=s.arrow_schema(s.ContactsSchema).names,
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


def messages_frame(records: Iterable[Record], tz: tzinfo) -> pd.DataFrame:
    """``GET /messages`` records (a lazy iterable is converted as it is consumed)."""
    return messages_of(Fields(records, MESSAGE_WIRE), tz)


def messages_of(field: Fields, tz: tzinfo) -> pd.DataFrame:
    """The messages table of the records ``field`` reads, ``sent_local`` in ``tz``."""
    if field.table is not None and (fast := messages_arrow(field.table, tz)) is not None:
        return to_frame(fast, s.categories(s.MessagesSchema))
    record_ids = field("id")
    campaign = ids(field("campaign_id")).fillna(0)
    birthday = flags(field("birthday_campaign")).fillna(False)
    sender = pd.Series("adhoc", index=campaign.index).mask(campaign != 0, "campaign")
    created = stamps(field("created_at"), "messages", "created_at", record_ids)
    statuses = text(field("final_status"))
    frame = pd.DataFrame(
        {
            "id": ids(record_ids),
            "final_status": category(statuses, MESSAGE_STATUSES),
            "sender_type": category(sender.mask(birthday, "birthday"), s.SENDER_TYPES),
            "campaign_id": campaign.mask(campaign == 0),
            "destination": _all_text(field("sms.destination"), missing=""),
            "content": _all_text(field("sms.content"), missing=""),
            "delivery_status": text(field("delivery_report.status")),
            "delivery_reason": text(field("delivery_report.reason")),
            "created_at": created,
            "updated_at": stamps(field("updated_at"), "messages", "updated_at", record_ids),
            "sent_local": created.dt.tz_convert(tz).dt.tz_localize(None),
        },
        columns=s.arrow_schema(s.MessagesSchema).names,
    )
    _refuse(
        statuses.notna() & frame["final_status"].isna(),
        "messages",
        "final_status",
        record_ids,
        "is not delivered/undelivered/pending",
    )
    return frame


# ----------------------------------------------------------------------------- Arrow alone
_TEXT = pyarrow.string()
_UTC = pyarrow.timestamp("us", "UTC")


def contacts_arrow(wire: pyarrow.Table | pyarrow.RecordBatch) -> pyarrow.Table | None:
    """The contacts table (in the warehouse's Arrow types) of records in ``CONTACT_WIRE``,
    by Arrow compute alone; None when a value is not in the contract's shape, for the
    careful converters (``contacts_of``) to read and name."""
    created, updated = _stamps(wire["created_at"]), _stamps(wire["updated_at"])
    birthday, gender = _birthdays(wire["birthday"]), _nulled(wire["gender"])
    if created is None or updated is None or birthday is None or not _within(gender, GENDERS):
        return None
    joined = pyarrow.compute.binary_join(wire["additional_numbers"], ", ")
    columns = {
        "id": wire["id"],
        "phone_number": wire["phone_number"],
        **{name: _nulled(wire[name]) for name in ("email", *CONTACT_TEXT_FIELDS)},
        "birthday": birthday,
        "additional_numbers": _nulled(joined),
        "gender": gender,
        "created_at": created,
        "updated_at": updated,
    }
    return pyarrow.table(columns).select(s.arrow_schema(s.ContactsSchema).names)


def messages_arrow(wire: pyarrow.Table | pyarrow.RecordBatch, tz: tzinfo) -> pyarrow.Table | None:
    """The messages table of records in ``MESSAGE_WIRE`` by Arrow compute alone (see
    ``contacts_arrow``); ``sent_local`` on ``tz``'s wall clock (a named zone)."""
    zone = getattr(tz, "key", None)
    created, updated = _stamps(wire["created_at"]), _stamps(wire["updated_at"])
    status = wire["final_status"]
    if zone is None or created is None or updated is None:
        return None
    if not _within(status, MESSAGE_STATUSES) or status.null_count:
        return None
    field = pyarrow.compute.struct_field
    campaign = pyarrow.compute.fill_null(wire["campaign_id"], 0)
    birthday = pyarrow.compute.fill_null(wire["birthday_campaign"], False)
    is_campaign = pyarrow.compute.not_equal(campaign, 0)
    sender = pyarrow.compute.if_else(
        birthday, "birthday", pyarrow.compute.if_else(is_campaign, "campaign", "adhoc")
    )
    local = pyarrow.compute.local_timestamp(created.cast(pyarrow.timestamp("us", zone)))
    columns = {
        "id": wire["id"],
        "final_status": status,
        "sender_type": sender,
        "campaign_id": pyarrow.compute.if_else(
            is_campaign, campaign, pyarrow.scalar(None, campaign.type)
        ),
        "destination": pyarrow.compute.fill_null(field(wire["sms"], "destination"), ""),
        "content": pyarrow.compute.fill_null(field(wire["sms"], "content"), ""),
        "delivery_status": _nulled(field(wire["delivery_report"], "status")),
        "delivery_reason": _nulled(field(wire["delivery_report"], "reason")),
        "created_at": created,
        "updated_at": updated,
        "sent_local": local,
    }
    return pyarrow.table(columns).select(s.arrow_schema(s.MessagesSchema).names)


def to_frame(table: pyarrow.Table, categories: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A table built by Arrow as the DataFrame the careful converters build."""
    for name in categories:  # Arrow's dictionaries become pandas categories, fast
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pyarrow.compute.dictionary_encode(table[name]))
    frame = to_pandas(table)
    for name, allowed in categories.items():
        frame[name] = frame[name].cat.set_categories(list(allowed))
    return frame


def _nulled(values: pyarrow.Array) -> pyarrow.Array:
    """Empty text as null: to a reader, the same thing."""
    return pyarrow.compute.if_else(
        pyarrow.compute.equal(values, ""), pyarrow.scalar(None, _TEXT), values
    )


def _within(values: pyarrow.Array, allowed: tuple[str, ...]) -> bool:
    known = pyarrow.compute.is_in(values, value_set=pyarrow.array(allowed), skip_nulls=True)
    return bool(pyarrow.compute.all(pyarrow.compute.or_(known, values.is_null())).as_py())


def _stamps(values: pyarrow.Array) -> pyarrow.Array | None:
    """Timestamps in the contract's shape (dropping the space before the offset makes them
    ISO 8601, which Arrow's cast reads and checks: a value of 25 characters that is not
    one fails it); None for any other shape."""
    if values.null_count or len(values) == 0:
        return None if values.null_count else values.cast(_UTC)
    lengths = pyarrow.compute.min_max(pyarrow.compute.utf8_length(values)).as_py()
    if lengths != {"min": 25, "max": 25}:
        return None
    try:
        parsed = pyarrow.compute.utf8_replace_slice(values, 19, 20, "").cast(
            pyarrow.timestamp("s", "UTC")
        )
    except pyarrow.ArrowInvalid:  # 30 February, 24:00: the careful path names them
        return None
    if pyarrow.compute.any(beyond_stamp_range(parsed)).as_py():  # so does the year 3000
        return None
    return parsed.cast(_UTC)


def _birthdays(values: pyarrow.Array) -> pyarrow.Array | None:
    """``DD/MM/YYYY`` or ``DD.MM.YYYY`` (or empty) as dates; None for any other shape."""
    if not _all_match(values, _BIRTHDAY_SHAPE_OR_EMPTY):
        return None
    part = pyarrow.compute.utf8_slice_codeunits
    given = _nulled(values)
    iso = pyarrow.compute.binary_join_element_wise(
        part(given, 6, 10), part(given, 3, 5), part(given, 0, 2), "-"
    )
    try:
        return iso.cast(pyarrow.date32())
    except pyarrow.ArrowInvalid:
        return None


#: Wire rows converted at once. Each of the dozen Arrow calls per conversion costs some
#: microseconds of Python, holding the GIL, whatever its size: 100,000 contacts took
#: 0.08 s converted a page (1,000) at a time, on one core whatever the threads, and
#: 0.047 s eight pages at a time, most of it without the GIL.
CONVERT_ROWS = 8_192


#: Records in the contract's wire types: a listing's page, or pages joined.
Wire: TypeAlias = WirePage | pyarrow.Table


def tables(
    pages: Iterable[WirePage], convert: Callable[[Wire], pyarrow.Table], rows: int = CONVERT_ROWS
) -> Iterator[pyarrow.Table]:
    """Listing pages (``arrow_pages()``) as tables, by ``convert`` (``contact_chunk``,
    ``message_chunk(tz)``), in order: Arrow pages joined (not copied) until they hold
    ``rows`` rows or more (0: each page on its own, the least memory), pages of records
    (pages Arrow could not read) on their own."""
    held: list[pyarrow.RecordBatch] = []
    count = 0
    for page in pages:
        if isinstance(page, pyarrow.RecordBatch):
            held.append(page)
            count += page.num_rows
            if count < rows:
                continue
        if held:
            yield convert(pyarrow.Table.from_batches(held))  # not copied: chunks
            held, count = [], 0
        if not isinstance(page, pyarrow.RecordBatch):
            yield convert(page)
    if held:
        yield convert(pyarrow.Table.from_batches(held))


def contact_chunk(page: Wire) -> pyarrow.Table:
    """Contacts in the warehouse's Arrow types: by Arrow alone, or (rows breaking the
    contract's shapes) by the careful converters, which name what is wrong."""
    fast = contacts_arrow(page) if not isinstance(page, list) else None
    if fast is not None:
        return fast
    return to_arrow(contacts_of(Fields.of_pages(_pages(page), CONTACT_WIRE)))


def message_chunk(tz: tzinfo) -> Callable[[Wire], pyarrow.Table]:
    """``contact_chunk`` for messages, ``sent_local`` on ``tz``'s wall clock."""

    def convert(page: Wire) -> pyarrow.Table:
        fast = messages_arrow(page, tz) if not isinstance(page, list) else None
        if fast is not None:
            return fast
        return to_arrow(messages_of(Fields.of_pages(_pages(page), MESSAGE_WIRE), tz))

    return convert


def _pages(wire: Wire) -> list[WirePage]:
    return wire.to_batches() if isinstance(wire, pyarrow.Table) else [wire]
