"""The API's JSON records, built from the simulator's rows, exactly as the contract shows them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any

import orjson

from .wire import CONTACT_FIELDS, write_birthday, write_timestamp

CONTACT_COLUMNS = ("id", *CONTACT_FIELDS, "created_at", "updated_at")
MESSAGE_COLUMNS = (
    "id",
    "final_status",
    "campaign_id",
    "birthday_campaign",
    "destination",
    "content",
    "dr_status",
    "dr_reason",
    "created_at",
    "updated_at",
)


def stamp(epoch: float, tz: tzinfo) -> str:
    return write_timestamp(epoch, tz)


def contact_record(row: Sequence[Any], tz: tzinfo) -> dict[str, Any]:
    """``row`` in CONTACT_COLUMNS order; birthday as ISO text, numbers as a JSON array."""
    record = dict(zip(CONTACT_COLUMNS, row, strict=True))
    birthday = record["birthday"]
    if birthday:
        record["birthday"] = write_birthday(date.fromisoformat(birthday))
    record["additional_numbers"] = orjson.loads(record["additional_numbers"] or "[]")
    record["created_at"] = stamp(record["created_at"], tz)
    record["updated_at"] = stamp(record["updated_at"], tz)
    return record


def contact_doc(row: Sequence[Any], tz: tzinfo) -> bytes:
    return orjson.dumps(contact_record(row, tz))


def message_doc(row: Sequence[Any], tz: tzinfo) -> bytes:
    """``row`` in MESSAGE_COLUMNS order."""
    (
        message_id,
        status,
        campaign_id,
        birthday,
        destination,
        content,
        dr_status,
        dr_reason,
        created_at,
        updated_at,
    ) = row
    return orjson.dumps(
        {
            "id": message_id,
            "final_status": status,
            "campaign_id": campaign_id,
            "birthday_campaign": bool(birthday),
            "sms": {"destination": destination, "content": content},
            "delivery_report": {"status": dr_status, "reason": dr_reason},
            "created_at": stamp(created_at, tz),
            "updated_at": stamp(updated_at, tz),
        }
    )


def join_docs(docs: Sequence[bytes]) -> bytes:
    """Pre-serialised records as one JSON array."""
    return b"[" + b",".join(docs) + b"]"
