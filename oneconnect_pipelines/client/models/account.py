"""The account's small resources: sender titles, templates, plans, SMS codes, receipts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from oneconnect_pipelines.formats import parse_timestamp
from oneconnect_pipelines.masking import mask_phone

from ._wire import Int64, PageDecoder, Wire, each


class _TitleWire(Wire):
    id: Int64
    name: str
    active: bool
    created_at: str
    updated_at: str


class Title(msgspec.Struct, frozen=True, gc=False):
    id: int
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> Title:
        return TITLE_PAGES.one(r, "title")

    @classmethod
    def _from_wire(cls, w: _TitleWire) -> Title:
        return cls(
            w.id, w.name, w.active, parse_timestamp(w.created_at), parse_timestamp(w.updated_at)
        )


TITLE_PAGES = PageDecoder(_TitleWire, each(Title._from_wire))


class _TemplateWire(Wire):
    id: Int64
    created_at: str
    updated_at: str
    title: str | None = None
    body: str | None = None


class Template(msgspec.Struct, frozen=True, gc=False):
    id: int
    #: The template's name (the docs call it ``title`` and type it boolean; it is text).
    title: str
    body: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> Template:
        return TEMPLATE_PAGES.one(r, "template")

    @classmethod
    def _from_wire(cls, w: _TemplateWire) -> Template:
        return cls(
            w.id,
            w.title or "",
            w.body or "",
            parse_timestamp(w.created_at),
            parse_timestamp(w.updated_at),
        )


TEMPLATE_PAGES = PageDecoder(_TemplateWire, each(Template._from_wire))


class Plan(msgspec.Struct, frozen=True, gc=False):
    """A published plan: limits are null when unlimited, a missing flag is false. The
    JSON has exactly these fields, so a plan is decoded as it is (no wire struct)."""

    name: str
    price: Decimal
    price_yearly: Decimal
    messages_history_limit: Int64 | None = None
    contacts_limit: Int64 | None = None
    lists_limit: Int64 | None = None
    titles_limit: Int64 | None = None
    campaigns_limit: Int64 | None = None
    upload_contacts_from_csv: bool = False
    upload_lists_from_csv: bool = False
    integrations: bool = False
    api_ip_restriction: bool = False

    @classmethod
    def from_api(cls, r: Mapping[str, Any]) -> Plan:
        return PLAN_PAGES.one(r, "plan")


PLAN_PAGES: PageDecoder[Plan] = PageDecoder(Plan, list)


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
