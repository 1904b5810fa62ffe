"""Hand-written API records, shaped exactly as the contract shows them, for frame and
analytics tests that need no server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oneconnect_pipelines.client.models import BirthdayCampaign, Campaign, ContactList, Title
from oneconnect_pipelines.formats import format_schedule_datetime, format_timestamp

from .conftest import TZ

CREATED = "2026-01-10 09:30:00 +0400"


def stamp(moment: datetime) -> str:
    """An aware datetime as the API writes ``created_at``."""
    return format_timestamp(moment, TZ)


def when(moment: datetime) -> str:
    """An aware datetime as a campaign schedule reads back (``DD/MM/YYYY HH:MM``)."""
    return format_schedule_datetime(moment, TZ)


def contact(id: int, phone: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": id,
        "email": None,
        "first_name": None,
        "last_name": None,
        "phone_number": phone,
        "birthday": None,
        "post_code": None,
        "city": None,
        "street": None,
        "additional_numbers": [],
        "gender": None,
        "created_at": CREATED,
        "updated_at": CREATED,
    }
    record.update(fields)
    return record


def member(record: dict[str, Any]) -> dict[str, Any]:
    """A contact as it appears among a list's ``members``."""
    return dict(record)


def a_list(
    id: int,
    members: list[dict[str, Any]],
    noncontact: dict[str, list[str]] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    return {
        "id": id,
        "name": name or f"List {id}",
        "members": [member(m) for m in members],
        "noncontact_members": noncontact,
        "created_at": CREATED,
        "updated_at": CREATED,
    }


def campaign(
    id: int,
    schedule: dict[str, Any],
    recipients: str = "",
    lists: list[int] | None = None,
    active: bool = True,
    title: str | None = "OneShop",
    completed: bool | None = False,
) -> dict[str, Any]:
    return {
        "id": id,
        "name": f"Campaign {id}",
        "active": active,
        "recipients": recipients,
        "recipients_list": lists or [],
        "title": title,
        "content": "Sale!",
        "job_type": 1 if str(schedule["type"]).startswith("permanent") else 0,
        "schedule": schedule,
        "completed": completed,
        "created_at": CREATED,
        "updated_at": CREATED,
    }


def birthday_campaign(
    id: int, lists: list[int], active: bool = True, title: str = ""
) -> dict[str, Any]:
    return {
        "id": id,
        "name": f"Birthday {id}",
        "active": active,
        "content": "Happy birthday!",
        "recipient_lists": lists,
        "title": title,
        "created_at": CREATED,
        "updated_at": CREATED,
    }


def message(
    id: int,
    created_at: str,
    status: str = "delivered",
    campaign_id: int = 0,
    birthday: bool = False,
    destination: str = "995551000001",
) -> dict[str, Any]:
    report = {
        "delivered": ("Delivered", "0"),
        "undelivered": ("Undelivered", "Rejected by network"),
        "pending": ("Pending", ""),
    }.get(status, ("?", ""))
    return {
        "id": id,
        "final_status": status,
        "campaign_id": campaign_id,
        "birthday_campaign": birthday,
        "sms": {"destination": destination, "content": "Hello"},
        "delivery_report": {"status": report[0], "reason": report[1]},
        "created_at": created_at,
        "updated_at": created_at,
    }


# The small tables are laid out from the client's typed records: these read the records
# above as the client does.
def lists_of(records: list[dict[str, Any]]) -> list[ContactList]:
    return [ContactList.from_api(record) for record in records]


def campaigns_of(records: list[dict[str, Any]]) -> list[Campaign]:
    return [Campaign.from_api(record, TZ) for record in records]


def birthday_campaigns_of(records: list[dict[str, Any]]) -> list[BirthdayCampaign]:
    return [BirthdayCampaign.from_api(record) for record in records]


def title(id: int, name: str, active: bool = True) -> Title:
    return Title.from_api(
        {"id": id, "name": name, "active": active, "created_at": CREATED, "updated_at": CREATED}
    )
