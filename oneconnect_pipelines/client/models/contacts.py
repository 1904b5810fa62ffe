"""Contacts and lists (with their members): the big collections, decoded page by page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import msgspec

from oneconnect_pipelines.formats import parse_birthday, parse_timestamp
from oneconnect_pipelines.masking import mask_phone

from ._wire import Int64, PageDecoder, Wire, each


class _ContactWire(Wire, kw_only=True):
    """A contact as the JSON has it."""

    id: Int64
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str
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


build_contacts = each(Contact._from_wire)
CONTACT_PAGES = PageDecoder(_ContactWire, build_contacts)
#: A contact's page as the Arrow JSON reader reads it (``_ContactWire``'s fields).
CONTACT_WIRE = CONTACT_PAGES.arrow


class _ListWire(Wire):
    id: Int64
    name: str
    created_at: str
    updated_at: str
    members: list[_ContactWire] | None = None
    noncontact_members: dict[str, list[str | None]] | None = None


class ContactList(msgspec.Struct, frozen=True, gc=False):
    id: int
    name: str
    members: tuple[Contact, ...]
    #: Members uploaded from CSV that are not contacts: column name -> values.
    noncontact_members: dict[str, list[str | None]] | None
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


class _MemberIdWire(Wire):
    id: Int64


class _MembershipWire(Wire):
    id: Int64
    name: str
    members: list[_MemberIdWire] | None = None


class ListMembership(msgspec.Struct, frozen=True, gc=False):
    """A list's id, name and its contacts' ids, read from the ids alone: a member whose
    other fields cannot be read (a birthday in no known format) does not hide the list."""

    id: int
    name: str
    member_ids: tuple[int, ...]

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> ListMembership:
        return MEMBERSHIP_PAGES.one(r, "list")


MEMBERSHIP_PAGES = PageDecoder(
    _MembershipWire,
    each(lambda w: ListMembership(w.id, w.name, tuple(m.id for m in w.members or ()))),
)
