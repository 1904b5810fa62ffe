"""The account's small resources: sender titles, templates, plans, SMS codes, receipts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from oneconnect_pipelines.masking import mask_phone

from ._wire import stamp


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
            stamp(r, "created_at"),
            stamp(r, "updated_at"),
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
            stamp(r, "created_at"),
            stamp(r, "updated_at"),
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
