"""Typed records of every OneConnect resource, parsed from the API's JSON.

Datetimes are timezone-aware UTC, birthdays are dates, phone numbers stay strings.
Records are immutable named tuples: cheap to build, and once built the garbage collector
stops tracking them, which keeps listing 100,000 contacts from spending its time in GC.
Each ``from_api`` is the single place that knows its resource's quirks (``title`` ``""``
meaning none, ``campaign_id`` 0 meaning an ad-hoc send, schedules in two shapes, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any, NamedTuple

from oneconnect_pipelines.formats import (
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


def _text(value: Any) -> str | None:
    """Empty and missing text are the same thing to a reader: None."""
    return None if value is None or value == "" else str(value)


def _stamp(record: Mapping[str, Any], name: str) -> datetime:
    return parse_timestamp(record[name])


def _stamps(record: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """``created_at`` and ``updated_at``, parsed once when they are the same text."""
    created, updated = record["created_at"], record["updated_at"]
    first = parse_timestamp(created)
    return first, first if updated == created else parse_timestamp(updated)


class Contact(NamedTuple):
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
        # The hot path of every contact listing: positional arguments, no helper calls.
        birthday = r.get("birthday")
        created, updated = _stamps(r)
        return cls(
            int(r["id"]),
            str(r["phone_number"]),
            r.get("email") or None,
            r.get("first_name") or None,
            r.get("last_name") or None,
            parse_birthday(birthday) if birthday else None,
            r.get("post_code") or None,
            r.get("city") or None,
            r.get("street") or None,
            tuple(r.get("additional_numbers") or ()),
            r.get("gender") or None,
            created,
            updated,
        )

    def __repr__(self) -> str:  # no personal data in logs
        return f"Contact(id={self.id}, phone_number={mask_phone(self.phone_number)!r})"


class ContactList(NamedTuple):
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
        extra = r.get("noncontact_members")
        return cls(
            id=int(r["id"]),
            name=str(r["name"]),
            members=tuple(Contact.from_api(m) for m in r.get("members") or ()),
            noncontact_members={str(k): [str(v) for v in vs] for k, vs in extra.items()}
            if extra
            else None,
            created_at=_stamp(r, "created_at"),
            updated_at=_stamp(r, "updated_at"),
        )


class Schedule(NamedTuple):
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


class Campaign(NamedTuple):
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


class BirthdayCampaign(NamedTuple):
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


class Message(NamedTuple):
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
        sms = r.get("sms") or {}
        report = r.get("delivery_report") or {}
        created, updated = _stamps(r)
        return cls(
            int(r["id"]),
            str(r["final_status"]),
            int(r.get("campaign_id") or 0) or None,
            bool(r.get("birthday_campaign")),
            str(sms.get("destination") or ""),
            str(sms.get("content") or ""),
            report.get("status") or None,
            report.get("reason") or None,
            created,
            updated,
        )

    def __repr__(self) -> str:
        return (
            f"Message(id={self.id}, final_status={self.final_status!r}, "
            f"destination={mask_phone(self.destination)!r})"
        )


class Title(NamedTuple):
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


class Template(NamedTuple):
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


class Plan(NamedTuple):
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


class SmsCode(NamedTuple):
    """What the SMS authenticator sent: compare ``code`` with what the user types."""

    code: str
    phone_number: str

    def __repr__(self) -> str:
        return f"SmsCode(code='***', phone_number={mask_phone(self.phone_number)!r})"


class SendReceipt(NamedTuple):
    """An accepted send: ``reference`` comes back in its delivery reports."""

    reference: str
    message: str
