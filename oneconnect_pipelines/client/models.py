"""Typed records of every OneConnect resource, parsed from the API's JSON.

Datetimes are timezone-aware UTC, birthdays are dates, phone numbers stay strings.
Records are frozen ``msgspec`` structs made with ``gc=False``: cheap to build, and the
garbage collector never tracks them, so holding 100,000 contacts costs no collection
time (records hold only values and other records, so they cannot form cycles).

Each ``from_api`` is the single place that knows its resource's quirks (``title`` ``""``
meaning none, ``campaign_id`` 0 meaning an ad-hoc send, schedules in two shapes, ...).
The big collections (contacts, lists with their members, messages) also have a
``PageDecoder``: their pages are decoded straight from bytes into private wire structs
that mirror the JSON, with no dict per record, and built by the same code as
``from_api``, which converts a mapping into the same wire struct first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any, Generic, TypeVar

import msgspec
import pyarrow

from oneconnect_pipelines.formats import CONTACT_FIELDS as WRITABLE_CONTACT_FIELDS
from oneconnect_pipelines.formats import (
    FormatError,
    Repeat,
    parse_birthday,
    parse_datetime,
    parse_repeat,
    parse_timestamp,
    split_date_range,
    split_ids,
    timestamp_offset,
)
from oneconnect_pipelines.masking import mask_phone

GENDERS = ("Male", "Female")
STATUSES = ("delivered", "undelivered", "pending")

W = TypeVar("W", bound=msgspec.Struct)
T = TypeVar("T")


class _Wire(msgspec.Struct, gc=False):
    """A record exactly as the JSON has it: the decoding target of a page."""


class PageDecoder(Generic[T]):
    """A listing page (the response body) -> typed records, through a wire struct.

    Lax (``strict=False``) so that numbers sent as text are still read; anything else
    that breaks the shape raises ``msgspec.ValidationError`` naming the path
    (``$[12].id``), which the caller turns into its own error.
    """

    def __init__(self, wire: type[W], build_page: Callable[[list[W]], list[T]]) -> None:
        self._decoder = msgspec.json.Decoder(list[wire], strict=False)  # type: ignore[valid-type]
        self._wire = wire
        self._build_page = build_page

    def __call__(self, body: bytes) -> list[T]:
        return self._build_page(self._decoder.decode(body))

    def one(self, record: Mapping[str, Any], what: str) -> T:
        """One decoded JSON record, with a FormatError naming ``what`` if it breaks shape."""
        try:
            wire = msgspec.convert(record, self._wire, strict=False)
        except msgspec.ValidationError as exc:
            raise FormatError(f"not a OneConnect {what}: {exc}") from None
        return self._build_page([wire])[0]


def each(build: Callable[[W], T]) -> Callable[[list[W]], list[T]]:
    """A record's builder as a page's builder."""
    return lambda wires: list(map(build, wires))


def _text(value: Any) -> str | None:
    """Empty and missing text are the same thing to a reader: None."""
    return None if value is None or value == "" else str(value)


def _stamp(record: Mapping[str, Any], name: str) -> datetime:
    return parse_timestamp(record[name])


class _ContactWire(_Wire, kw_only=True):
    """A contact as the JSON has it."""

    id: int
    phone_number: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birthday: str | None = None
    post_code: str | None = None
    city: str | None = None
    street: str | None = None
    additional_numbers: tuple[str, ...] | None = None
    gender: str | None = None
    created_at: str
    updated_at: str


class Contact(msgspec.Struct, frozen=True, gc=False):
    id: int
    phone_number: str
    email: str | None
    first_name: str | None
    last_name: str | None
    birthday: date | None
    post_code: str | None
    city: str | None
    street: str | None
    additional_numbers: tuple[str, ...]
    gender: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> Contact:
        return CONTACT_PAGES.one(r, "contact")

    @classmethod
    def _from_wire(cls, w: _ContactWire) -> Contact:
        # The hot path of every contact listing: positional arguments, no helper calls;
        # updated_at is parsed only when it differs from created_at (it mostly does not).
        created = parse_timestamp(w.created_at)
        birthday = w.birthday
        return cls(
            w.id,
            w.phone_number,
            w.email or None,
            w.first_name or None,
            w.last_name or None,
            parse_birthday(birthday) if birthday else None,
            w.post_code or None,
            w.city or None,
            w.street or None,
            w.additional_numbers or (),
            w.gender or None,
            created,
            created if w.updated_at == w.created_at else parse_timestamp(w.updated_at),
        )

    def __repr__(self) -> str:  # no personal data in logs
        return f"Contact(id={self.id}, phone_number={mask_phone(self.phone_number)!r})"


_TEXT = pyarrow.string()
#: A contact record as the API sends it: text, but for the id and the list of additional numbers.
CONTACT_WIRE = pyarrow.schema(
    [
        ("id", pyarrow.int64()),
        *(
            (name, pyarrow.list_(_TEXT) if name == "additional_numbers" else _TEXT)
            for name in (*WRITABLE_CONTACT_FIELDS, "created_at", "updated_at")
        ),
    ]
)


build_contacts = each(Contact._from_wire)
CONTACT_PAGES = PageDecoder(_ContactWire, build_contacts)


class _ListWire(_Wire):
    id: int
    name: str
    created_at: str
    updated_at: str
    members: list[_ContactWire] | None = None
    noncontact_members: dict[str, list[str]] | None = None


class ContactList(msgspec.Struct, frozen=True, gc=False):
    id: int
    name: str
    members: tuple[Contact, ...]
    #: Members uploaded from CSV that are not contacts: column name -> values.
    noncontact_members: dict[str, list[str]] | None
    created_at: datetime
    updated_at: datetime

    @property
    def member_ids(self) -> list[int]:
        return [member.id for member in self.members]

    def __repr__(self) -> str:  # noncontact_members are raw phone numbers
        return f"ContactList(id={self.id}, name={self.name!r}, members={len(self.members)})"

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> ContactList:
        return LIST_PAGES.one(r, "list")

    @classmethod
    def _from_wire(cls, w: _ListWire) -> ContactList:
        return cls(
            w.id,
            w.name,
            tuple(build_contacts(w.members or [])),
            w.noncontact_members or None,
            parse_timestamp(w.created_at),
            parse_timestamp(w.updated_at),
        )


LIST_PAGES = PageDecoder(_ListWire, each(ContactList._from_wire))


class Schedule(msgspec.Struct, frozen=True, gc=False):
    """A campaign's schedule: recurring (``start``, ``repeat``, ``end`` if scheduled) or
    certain dates (``dates``). ``permanent`` campaigns never complete."""

    type: str
    start: datetime | None = None
    end: datetime | None = None
    repeat: Repeat | None = None
    dates: tuple[datetime, ...] = ()

    @property
    def permanent(self) -> bool:
        return self.type.startswith("permanent")

    @property
    def recurring(self) -> bool:
        return self.type.endswith("recurring")

    @classmethod
    def from_api(cls, s: Mapping[str, Any], tz: tzinfo) -> Schedule:
        kind = str(s["type"])
        if "dates" in s:
            dates = s["dates"]
            items = split_ids(dates) if isinstance(dates, str) else list(dates)
            return cls(kind, dates=tuple(parse_datetime(d, tz) for d in items))
        parts = split_date_range(str(s.get("date-range") or ""))
        repeat = parse_repeat(str(s["repeat"])) if s.get("repeat") else None
        start = parse_datetime(parts[0], tz) if parts and parts[0] else None
        end = parse_datetime(parts[1], tz) if len(parts) > 1 else None
        return cls(kind, start=start, end=end, repeat=repeat)


class Campaign(msgspec.Struct, frozen=True, gc=False):
    id: int
    name: str
    active: bool
    recipients: tuple[str, ...]
    recipients_list: tuple[int, ...]
    title: str | None
    content: str
    job_type: int
    schedule: Schedule
    completed: bool | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, r: Mapping[str, Any], tz: tzinfo | None = None) -> Campaign:
        """Schedule dates carry no offset: they are read in ``tz``, else in the offset of
        the record's own ``created_at``."""
        zone = tz or timestamp_offset(r["created_at"])
        recipients = r.get("recipients") or ""
        return cls(
            id=int(r["id"]),
            name=str(r["name"]),
            active=bool(r["active"]),
            recipients=tuple(split_ids(recipients) if isinstance(recipients, str) else recipients),
            recipients_list=tuple(int(i) for i in r.get("recipients_list") or ()),
            title=_text(r.get("title")),
            content=str(r.get("content") or ""),
            job_type=int(r.get("job_type") or 0),
            schedule=Schedule.from_api(r["schedule"], zone),
            completed=None if r.get("completed") is None else bool(r["completed"]),
            created_at=_stamp(r, "created_at"),
            updated_at=_stamp(r, "updated_at"),
        )

    def __repr__(self) -> str:  # recipients are phone numbers
        recipients = tuple(mask_phone(number) for number in self.recipients)
        return (
            f"Campaign(id={self.id}, name={self.name!r}, type={self.schedule.type!r}, "
            f"recipients={recipients!r}, recipients_list={self.recipients_list!r})"
        )


class BirthdayCampaign(msgspec.Struct, frozen=True, gc=False):
    id: int
    name: str
    active: bool
    content: str
    recipient_lists: tuple[int, ...]
    title: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> BirthdayCampaign:
        return cls(
            id=int(r["id"]),
            name=str(r["name"]),
            active=bool(r["active"]),
            content=str(r.get("content") or ""),
            recipient_lists=tuple(int(i) for i in r.get("recipient_lists") or ()),
            title=_text(r.get("title")),
            created_at=_stamp(r, "created_at"),
            updated_at=_stamp(r, "updated_at"),
        )


class _SmsWire(_Wire):
    destination: str | None = None
    content: str | None = None


class _ReportWire(_Wire):
    status: str | None = None
    reason: str | None = None


class _MessageWire(_Wire):
    id: int
    final_status: str
    created_at: str
    updated_at: str
    campaign_id: int | None = None
    birthday_campaign: bool | None = None
    sms: _SmsWire | None = None
    delivery_report: _ReportWire | None = None


_NO_SMS = _SmsWire()
_NO_REPORT = _ReportWire()


class Message(msgspec.Struct, frozen=True, gc=False):
    id: int
    final_status: str
    #: The campaign (or birthday campaign) that sent it; None for an ad-hoc send.
    campaign_id: int | None
    birthday_campaign: bool
    destination: str
    content: str
    delivery_status: str | None
    delivery_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> Message:
        return MESSAGE_PAGES.one(r, "message")

    @classmethod
    def _from_wire(cls, w: _MessageWire) -> Message:
        sms = w.sms or _NO_SMS
        report = w.delivery_report or _NO_REPORT
        created = parse_timestamp(w.created_at)
        return cls(
            w.id,
            w.final_status,
            w.campaign_id or None,
            bool(w.birthday_campaign),
            sms.destination or "",
            sms.content or "",
            report.status or None,
            report.reason or None,
            created,
            created if w.updated_at == w.created_at else parse_timestamp(w.updated_at),
        )

    def __repr__(self) -> str:
        return (
            f"Message(id={self.id}, final_status={self.final_status!r}, "
            f"destination={mask_phone(self.destination)!r})"
        )


MESSAGE_PAGES = PageDecoder(_MessageWire, each(Message._from_wire))
MESSAGE_WIRE = pyarrow.schema(
    [
        ("id", pyarrow.int64()),
        ("final_status", pyarrow.string()),
        ("campaign_id", pyarrow.int64()),
        ("birthday_campaign", pyarrow.bool_()),
        ("sms", pyarrow.struct([("destination", pyarrow.string()), ("content", pyarrow.string())])),
        (
            "delivery_report",
            pyarrow.struct([("status", pyarrow.string()), ("reason", pyarrow.string())]),
        ),
        ("created_at", pyarrow.string()),
        ("updated_at", pyarrow.string()),
    ]
)


class Title(msgspec.Struct, frozen=True, gc=False):
    id: int
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> Title:
        return cls(
            int(r["id"]),
            str(r["name"]),
            bool(r["active"]),
            _stamp(r, "created_at"),
            _stamp(r, "updated_at"),
        )


class Template(msgspec.Struct, frozen=True, gc=False):
    id: int
    #: The template's name (the docs call it ``title`` and type it boolean; it is text).
    title: str
    body: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> Template:
        return cls(
            int(r["id"]),
            str(r.get("title") or ""),
            str(r.get("body") or ""),
            _stamp(r, "created_at"),
            _stamp(r, "updated_at"),
        )


class Plan(msgspec.Struct, frozen=True, gc=False):
    name: str
    price: Decimal
    price_yearly: Decimal
    messages_history_limit: int | None
    contacts_limit: int | None
    lists_limit: int | None
    titles_limit: int | None
    campaigns_limit: int | None
    upload_contacts_from_csv: bool
    upload_lists_from_csv: bool
    integrations: bool
    api_ip_restriction: bool

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> Plan:
        def limit(name: str) -> int | None:
            return None if r.get(name) is None else int(r[name])

        return cls(
            name=str(r["name"]),
            price=Decimal(str(r["price"])),
            price_yearly=Decimal(str(r["price_yearly"])),
            messages_history_limit=limit("messages_history_limit"),
            contacts_limit=limit("contacts_limit"),
            lists_limit=limit("lists_limit"),
            titles_limit=limit("titles_limit"),
            campaigns_limit=limit("campaigns_limit"),
            upload_contacts_from_csv=bool(r.get("upload_contacts_from_csv")),
            upload_lists_from_csv=bool(r.get("upload_lists_from_csv")),
            integrations=bool(r.get("integrations")),
            api_ip_restriction=bool(r.get("api_ip_restriction")),
        )


class SmsCode(msgspec.Struct, frozen=True, gc=False):
    """What the SMS authenticator sent: compare ``code`` with what the user types."""

    code: str
    phone_number: str

    def __repr__(self) -> str:
        return f"SmsCode(code='***', phone_number={mask_phone(self.phone_number)!r})"


class SendReceipt(msgspec.Struct, frozen=True, gc=False):
    """An accepted send: ``reference`` comes back in its delivery reports."""

    reference: str
    message: str
