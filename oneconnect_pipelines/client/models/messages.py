"""Messages with their delivery status, decoded page by page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from oneconnect_pipelines.formats import parse_timestamp
from oneconnect_pipelines.masking import mask_phone

from ._wire import Int64, PageDecoder, Wire, each


class _SmsWire(Wire):
    destination: str | None = None
    content: str | None = None


class _ReportWire(Wire):
    status: str | None = None
    reason: str | None = None


class _MessageWire(Wire, kw_only=True):
    id: Int64
    final_status: str
    campaign_id: Int64 | None = None
    birthday_campaign: bool | None = None
    sms: _SmsWire | None = None
    delivery_report: _ReportWire | None = None
    created_at: str
    updated_at: str


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
#: A message's page as the Arrow JSON reader reads it (``_MessageWire``'s fields).
MESSAGE_WIRE = MESSAGE_PAGES.arrow
