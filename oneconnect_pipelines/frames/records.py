"""The big tables, contacts and messages: built from pages in the contract's wire types
(``CONTACT_WIRE``, ``MESSAGE_WIRE``) by Arrow compute, with no Python object per value.
One path: a value off its format is named by the column converter that meets it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta, timezone, tzinfo
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from .. import schemas as s
from ..client import Listing
from ..client._arrow import WirePage
from ..client.models import CONTACT_PAGES, MESSAGE_PAGES, PageDecoder
from ..formats import CONTACT_TEXT_FIELDS, GENDERS, MESSAGE_STATUSES
from ..warehouse.arrow import to_pandas
from .columns import birthdays, in_zone, nulled, stamps, within


def contact_chunk(wire: WirePage | pyarrow.Table) -> pyarrow.Table:
    """Contacts in the warehouse's Arrow types."""
    ids = wire["id"]
    return _table(
        s.ContactsSchema,
        id=ids,
        phone_number=wire["phone_number"],
        **{name: nulled(wire[name]) for name in ("email", *CONTACT_TEXT_FIELDS)},
        birthday=birthdays(wire["birthday"], "contacts", ids),
        additional_numbers=nulled(pc.binary_join(wire["additional_numbers"], ", ")),
        gender=within(nulled(wire["gender"]), GENDERS, "contacts", "gender", ids),
        created_at=stamps(wire["created_at"], "contacts", "created_at", ids),
        updated_at=stamps(wire["updated_at"], "contacts", "updated_at", ids),
    )


def message_chunk(tz: tzinfo) -> Callable[[WirePage | pyarrow.Table], pyarrow.Table]:
    """``contact_chunk`` for messages, ``sent_local`` on ``tz``'s wall clock."""
    zone = pyarrow.timestamp("us", _zone_name(tz))

    def convert(wire: WirePage | pyarrow.Table) -> pyarrow.Table:
        ids = wire["id"]
        created = stamps(wire["created_at"], "messages", "created_at", ids)
        in_zone(wire["created_at"], created, zone, "messages", "created_at", ids)
        campaign = pc.fill_null(wire["campaign_id"], 0)
        is_campaign = pc.not_equal(campaign, 0)
        sender = pc.if_else(
            pc.fill_null(wire["birthday_campaign"], False),
            "birthday",
            pc.if_else(is_campaign, "campaign", "adhoc"),
        )
        sms, report = wire["sms"], wire["delivery_report"]
        return _table(
            s.MessagesSchema,
            id=ids,
            final_status=within(
                wire["final_status"], MESSAGE_STATUSES, "messages", "final_status", ids
            ),
            sender_type=sender,
            campaign_id=pc.if_else(is_campaign, campaign, pyarrow.scalar(None, campaign.type)),
            destination=pc.fill_null(pc.struct_field(sms, "destination"), ""),
            content=pc.fill_null(pc.struct_field(sms, "content"), ""),
            delivery_status=nulled(pc.struct_field(report, "status")),
            delivery_reason=nulled(pc.struct_field(report, "reason")),
            created_at=created,
            updated_at=stamps(wire["updated_at"], "messages", "updated_at", ids),
            sent_local=pc.local_timestamp(created.cast(zone)),
        )

    return convert


def _table(model: type[pa.DataFrameModel], **columns: Any) -> pyarrow.Table:
    return pyarrow.table(columns).select(s.arrow_schema(model).names)


def _zone_name(tz: tzinfo) -> str:
    """What Arrow calls ``tz``: its IANA name, or a fixed offset as ``+04:00``."""
    name = getattr(tz, "key", None)
    if name is not None:
        return str(name)
    offset = tz.utcoffset(None) if isinstance(tz, timezone) else None
    if offset is None:
        raise ValueError(f"not a named zone or a fixed offset: {tz!r}")
    sign, offset = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


#: Wire rows converted at once: at least ``CONVERT_ROWS`` while the listing has more,
#: and on while its next pages have already arrived, up to ``CONVERT_MOST_ROWS``. Each of
#: the dozens of Arrow calls of a conversion costs some microseconds of Python and a turn
#: of the GIL whatever its size, and every turn taken here is one the downloads wait for:
#: on a fast network (pages arrive faster than they convert) big conversions let the
#: listing go faster; on a slow one pages are converted as they come, so little is left
#: to convert after the last one (bench: docs/benchmarks.md).
CONVERT_ROWS = 8_192
CONVERT_MOST_ROWS = 65_536


def tables(
    pages: Iterable[WirePage],
    convert: Callable[[pyarrow.Table], pyarrow.Table],
    rows: int = CONVERT_ROWS,
    most: int = CONVERT_MOST_ROWS,
) -> Iterator[pyarrow.Table]:
    """Listing pages (``arrow_pages()``) as tables, by ``convert`` (``contact_chunk``,
    ``message_chunk(tz)``), in order: pages joined (not copied) until they hold ``rows``
    rows, and on while the next page has already arrived (a ``Listing`` tells; any
    other iterable is taken as arriving at once), until they hold ``most``. ``most=0``:
    each page on its own, the least memory."""
    arrived = pages.arrived if isinstance(pages, Listing) else lambda: True
    held: list[pyarrow.RecordBatch] = []
    count = 0
    for page in pages:
        held.append(page)
        count += page.num_rows
        if count >= most or (count >= rows and not arrived()):
            yield convert(pyarrow.Table.from_batches(held))  # not copied: chunks
            held, count = [], 0
    if held:
        yield convert(pyarrow.Table.from_batches(held))


def to_frame(table: pyarrow.Table, categories: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A converted table as the DataFrame its model validates."""
    for name in categories:  # Arrow's dictionaries become pandas categories, fast
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table[name]))
    frame = to_pandas(table)
    for name, allowed in categories.items():
        frame[name] = frame[name].cat.set_categories(list(allowed))
    return frame


def contacts_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``GET /contacts`` records (decoded JSON) as the contacts table."""
    table = contact_chunk(wire_batch(records, CONTACT_PAGES))
    return to_frame(table, s.categories(s.ContactsSchema))


def messages_frame(records: Iterable[Mapping[str, Any]], tz: tzinfo) -> pd.DataFrame:
    """``GET /messages`` records (decoded JSON) as the messages table, ``sent_local`` in
    ``tz``."""
    table = message_chunk(tz)(wire_batch(records, MESSAGE_PAGES))
    return to_frame(table, s.categories(s.MessagesSchema))


def wire_batch(records: Iterable[Mapping[str, Any]], decoder: PageDecoder[Any]) -> pyarrow.Table:
    """Decoded JSON records in the wire types of ``decoder``, read as the client reads a
    page (``wire_record``: numbers sent as text are read) when Arrow cannot take them
    as they are; ``msgspec.ValidationError`` names a value of the wrong JSON type."""
    listed = list(records)
    try:
        return pyarrow.Table.from_pylist(listed, schema=decoder.arrow)
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
        wired = [decoder.wire_record(record) for record in listed]
        return pyarrow.Table.from_pylist(wired, schema=decoder.arrow)
