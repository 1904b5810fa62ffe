"""The big tables, contacts and messages: built from Arrow pages by Arrow compute alone
(no Python object per value) when every value has the contract's shape, else field by
field by the careful converters, which name what they cannot read."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TypeAlias

import pandas as pd
import pyarrow
import pyarrow.compute
from pyarrow import acero

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
    _refuse,
    _strings,
    _text_series,
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
# Each table's columns are Arrow expressions, computed from a page in one call of Acero
# (Arrow's engine), which holds no GIL: pages convert side by side on the decoder
# threads. The same work as separate compute calls (a dozen per page) held the GIL
# between calls, so it ran on one core whatever the threads (100 pages of contacts: 0.10 s
# on one thread, 0.12 s on two; as one expression 0.10 s and 0.05 s).
Expr: TypeAlias = pyarrow.compute.Expression
_F = pyarrow.compute.field
_UTC = pyarrow.timestamp("us", "UTC")
_NO_TEXT = pyarrow.scalar(None, pyarrow.string())
#: The column a projection adds to say which rows have the contract's shapes.
_SHAPED = "__shaped"


def _nulled(values: Expr) -> Expr:
    """Empty text as null: to a reader, the same thing."""
    return pyarrow.compute.if_else(pyarrow.compute.equal(values, ""), _NO_TEXT, values)


def _or(values: Expr, default: bool) -> Expr:
    return pyarrow.compute.coalesce(values, pyarrow.scalar(default))


def _within(values: Expr, allowed: tuple[str, ...]) -> Expr:
    """Null, or one of ``allowed``."""
    known = pyarrow.compute.is_in(values, value_set=pyarrow.array(allowed))
    return pyarrow.compute.or_kleene(pyarrow.compute.is_null(values), known)


def _stamp(name: str) -> tuple[Expr, Expr]:
    """Field ``name``'s timestamps in the contract's shape, and whether a value has that
    shape (present, 25 characters). Dropping the space before the offset makes them ISO
    8601, which Arrow's cast reads and checks (30 February, 24:00 fail it)."""
    values = _F(name)
    shaped = _or(pyarrow.compute.equal(pyarrow.compute.utf8_length(values), 25), False)
    iso = pyarrow.compute.utf8_replace_slice(values, 19, 20, "")
    return iso.cast(pyarrow.timestamp("s", "UTC")).cast(_UTC), shaped


def _birthday(name: str) -> tuple[Expr, Expr]:
    """``DD/MM/YYYY`` or ``DD.MM.YYYY`` (or empty, or null) as dates, and whether a value
    has one of those shapes."""
    values = _F(name)
    shaped = _or(pyarrow.compute.match_substring_regex(values, _BIRTHDAY_SHAPE_OR_EMPTY), True)
    part, given = pyarrow.compute.utf8_slice_codeunits, _nulled(values)
    iso = pyarrow.compute.binary_join_element_wise(
        part(given, 6, 10), part(given, 3, 5), part(given, 0, 2), "-"
    )
    return iso.cast(pyarrow.date32()), shaped


@dataclass(frozen=True)
class _Projection:
    """A table's columns as expressions of its wire fields, and ``shaped``: whether a row's
    values all have the contract's shapes."""

    columns: dict[str, Expr]
    shaped: Expr

    def __call__(self, wire: pyarrow.Table | pyarrow.RecordBatch) -> pyarrow.Table | None:
        """The table of ``wire``; None when a value is not in the contract's shape (or a
        cast refuses it), for the careful converters to read and name."""
        source = wire if isinstance(wire, pyarrow.Table) else pyarrow.Table.from_batches([wire])
        names = [*self.columns, _SHAPED]
        plan = acero.Declaration.from_sequence(
            [
                acero.Declaration("table_source", acero.TableSourceNodeOptions(source)),
                acero.Declaration(
                    "project",
                    acero.ProjectNodeOptions([*self.columns.values(), self.shaped], names),
                ),
            ]
        )
        try:
            table = plan.to_table(use_threads=False)
        except pyarrow.ArrowInvalid:
            return None
        if pyarrow.compute.all(table[_SHAPED]).as_py() is False:
            return None
        return table.drop_columns([_SHAPED])


def _all(*conditions: Expr) -> Expr:
    return functools.reduce(pyarrow.compute.and_kleene, conditions)


def _contacts() -> _Projection:
    created, created_shaped = _stamp("created_at")
    updated, updated_shaped = _stamp("updated_at")
    birthday, birthday_shaped = _birthday("birthday")
    gender = _nulled(_F("gender"))
    columns = {
        "id": _F("id"),
        "phone_number": _F("phone_number"),
        **{name: _nulled(_F(name)) for name in ("email", *CONTACT_TEXT_FIELDS)},
        "birthday": birthday,
        "additional_numbers": _nulled(pyarrow.compute.binary_join(_F("additional_numbers"), ", ")),
        "gender": gender,
        "created_at": created,
        "updated_at": updated,
    }
    order = s.arrow_schema(s.ContactsSchema).names
    shaped = _all(created_shaped, updated_shaped, birthday_shaped, _within(gender, GENDERS))
    return _Projection({name: columns[name] for name in order}, shaped)


@functools.cache
def _messages(zone: str) -> _Projection:
    created, created_shaped = _stamp("created_at")
    updated, updated_shaped = _stamp("updated_at")
    status = _F("final_status")
    campaign = pyarrow.compute.coalesce(_F("campaign_id"), pyarrow.scalar(0, pyarrow.int64()))
    is_campaign = pyarrow.compute.not_equal(campaign, 0)
    birthday = _or(_F("birthday_campaign"), False)
    no_text = pyarrow.scalar("")
    columns = {
        "id": _F("id"),
        "final_status": status,
        "sender_type": pyarrow.compute.if_else(
            birthday, "birthday", pyarrow.compute.if_else(is_campaign, "campaign", "adhoc")
        ),
        "campaign_id": pyarrow.compute.if_else(
            is_campaign, campaign, pyarrow.scalar(None, pyarrow.int64())
        ),
        "destination": pyarrow.compute.coalesce(_F("sms", "destination"), no_text),
        "content": pyarrow.compute.coalesce(_F("sms", "content"), no_text),
        "delivery_status": _nulled(_F("delivery_report", "status")),
        "delivery_reason": _nulled(_F("delivery_report", "reason")),
        "created_at": created,
        "updated_at": updated,
        "sent_local": pyarrow.compute.local_timestamp(created.cast(pyarrow.timestamp("us", zone))),
    }
    order = s.arrow_schema(s.MessagesSchema).names
    known = _or(pyarrow.compute.is_in(status, value_set=pyarrow.array(MESSAGE_STATUSES)), False)
    shaped = _all(created_shaped, updated_shaped, known)
    return _Projection({name: columns[name] for name in order}, shaped)


contacts_arrow = _contacts()


def messages_arrow(wire: pyarrow.Table | pyarrow.RecordBatch, tz: tzinfo) -> pyarrow.Table | None:
    """The messages table of records in ``MESSAGE_WIRE`` (see ``_Projection``);
    ``sent_local`` on ``tz``'s wall clock (a named zone, else the careful converters)."""
    zone = getattr(tz, "key", None)
    return None if zone is None else _messages(zone)(wire)


def to_frame(table: pyarrow.Table, categories: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A table built by Arrow as the DataFrame the careful converters build."""
    for name in categories:  # Arrow's dictionaries become pandas categories, fast
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pyarrow.compute.dictionary_encode(table[name]))
    frame = to_pandas(table)
    for name, allowed in categories.items():
        frame[name] = frame[name].cat.set_categories(list(allowed))
    return frame


def contact_chunk(page: WirePage) -> pyarrow.Table:
    """One page's contacts in the warehouse's Arrow types: by Arrow alone, or (a page
    breaking the contract's shapes) by the careful converters, which name what is wrong.
    Native code throughout the usual case: the client runs it on its download threads
    (``contacts.arrow_pages(convert=contact_chunk)``)."""
    fast = contacts_arrow(page) if isinstance(page, pyarrow.RecordBatch) else None
    if fast is not None:
        return fast
    return to_arrow(contacts_of(Fields.of_pages([page], CONTACT_WIRE)))


def message_chunk(tz: tzinfo) -> Callable[[WirePage], pyarrow.Table]:
    """``contact_chunk`` for messages, ``sent_local`` on ``tz``'s wall clock."""

    def convert(page: WirePage) -> pyarrow.Table:
        fast = messages_arrow(page, tz) if isinstance(page, pyarrow.RecordBatch) else None
        if fast is not None:
            return fast
        return to_arrow(messages_of(Fields.of_pages([page], MESSAGE_WIRE), tz))

    return convert
