"""The small tables (lists and members, campaigns, birthday campaigns, titles, templates,
balance, pricing): a few hundred records at most, built from decoded JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

import pandas as pd

from .. import schemas as s
from ..client.models import Schedule
from ..formats import FormatError, split_ids
from ..schemas import TEXT
from .columns import (
    ID_LIST,
    MONEY,
    STAMP_LIST,
    FrameError,
    Record,
    _column,
    category,
    flags,
    ids,
    stamps,
    text,
)


def lists_frames(records: Sequence[Record]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``GET /lists`` -> (one row per list, one row per list x member)."""
    record_ids = _column(records, "id")
    members: list[tuple[Any, str, Any, Any, Any, Any]] = []
    noncontact_counts = []
    for record in records:
        list_id = record["id"]
        for member in record.get("members") or ():
            members.append(
                (
                    list_id,
                    "contact",
                    member["id"],
                    member.get("phone_number"),
                    member.get("first_name"),
                    member.get("last_name"),
                )
            )
        numbers, firsts, lasts = _noncontacts(record)
        for i, number in enumerate(numbers):
            members.append(
                (
                    list_id,
                    "noncontact",
                    None,
                    number,
                    firsts[i] if i < len(firsts) else None,
                    lasts[i] if i < len(lasts) else None,
                )
            )
        noncontact_counts.append(len(numbers))
    lists = pd.DataFrame(
        {
            "id": ids(record_ids),
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "member_count": ids(len(r.get("members") or ()) for r in records),
            "noncontact_count": ids(noncontact_counts),
            **_times(records, "lists", record_ids),
        }
    )
    columns = list(zip(*members, strict=True)) or [()] * 6
    list_members = pd.DataFrame(
        {
            "list_id": ids(columns[0]),
            "member_type": category(columns[1], s.MEMBER_TYPES),
            "contact_id": ids(columns[2]),
            "phone_number": text(columns[3]),
            "first_name": text(columns[4]),
            "last_name": text(columns[5]),
        }
    )
    return lists, list_members


#: The columns of a list's ``noncontact_members`` the list_members table keeps.
NONCONTACT_COLUMNS = ("phone_number", "first_name", "last_name")


def _noncontacts(record: Record) -> list[list[Any]]:
    """A list's members that are not contacts as their ``NONCONTACT_COLUMNS`` (an object
    of arrays, or null): another shape is named, not read as the characters of a text."""
    extra = record.get("noncontact_members") or {}
    if isinstance(extra, Mapping):
        columns = [extra.get(name) for name in NONCONTACT_COLUMNS]
        if all(values is None or isinstance(values, list | tuple) for values in columns):
            return [list(values or ()) for values in columns]
    raise FrameError(
        f"lists.noncontact_members is not an object of arrays for list {record.get('id')}"
    )


def campaigns_frame(records: Sequence[Record], tz: tzinfo) -> pd.DataFrame:
    """Schedules flattened: type, start, end, repeat (count and period), certain dates.
    Schedule dates carry no offset; they are read in the account's timezone ``tz``."""
    record_ids = _column(records, "id")
    rows = [_schedule(record, tz) for record in records]
    recipients = [split_ids(r.get("recipients") or "") for r in records]
    return pd.DataFrame(
        {
            "id": ids(record_ids),
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "active": flags(bool(r.get("active")) for r in records),
            "recipients": text(",".join(numbers) for numbers in recipients),
            "recipient_count": ids(len(numbers) for numbers in recipients),
            "recipients_list": pd.Series(
                [[int(i) for i in r.get("recipients_list") or ()] for r in records], dtype=ID_LIST
            ),
            "title": text(_column(records, "title")),
            "content": pd.Series([r.get("content") or "" for r in records], dtype=TEXT),
            "job_type": ids(int(r.get("job_type") or 0) for r in records),
            "schedule_type": category((row[0] for row in rows), s.SCHEDULE_TYPES),
            "start_at": pd.Series([row[1] for row in rows], dtype="datetime64[ns, UTC]"),
            "end_at": pd.Series([row[2] for row in rows], dtype="datetime64[ns, UTC]"),
            "repeat_every": ids(row[3] for row in rows),
            "repeat_period": category((row[4] for row in rows), s.REPEAT_PERIODS),
            "dates": pd.Series([row[5] for row in rows], dtype=STAMP_LIST),
            "completed": flags(_column(records, "completed")),
            **_times(records, "campaigns", record_ids),
        }
    )


def _schedule(
    record: Record, tz: tzinfo
) -> tuple[str, datetime | None, datetime | None, int | None, str | None, list[datetime]]:
    """A campaign's schedule as the frame's columns, read by the client's own ``Schedule``."""
    try:
        plan = Schedule.from_api(record.get("schedule") or {}, tz)
    except (KeyError, FormatError) as exc:
        raise FrameError(f"campaigns.schedule of campaign {record.get('id')}: {exc}") from exc
    repeat = plan.repeat
    return (
        plan.type,
        plan.start.astimezone(UTC) if plan.start else None,
        plan.end.astimezone(UTC) if plan.end else None,
        repeat.count if repeat else None,
        repeat.period if repeat else None,
        sorted(moment.astimezone(UTC) for moment in plan.dates),
    )


def birthday_campaigns_frame(records: Sequence[Record]) -> pd.DataFrame:
    record_ids = _column(records, "id")
    return pd.DataFrame(
        {
            "id": ids(record_ids),
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "active": flags(bool(r.get("active")) for r in records),
            "content": pd.Series([r.get("content") or "" for r in records], dtype=TEXT),
            "recipient_lists": pd.Series(
                [[int(i) for i in r.get("recipient_lists") or ()] for r in records], dtype=ID_LIST
            ),
            "title": text(_column(records, "title")),
            **_times(records, "birthday_campaigns", record_ids),
        }
    )


def titles_frame(records: Sequence[Record]) -> pd.DataFrame:
    record_ids = _column(records, "id")
    return pd.DataFrame(
        {
            "id": ids(record_ids),
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "active": flags(bool(r.get("active")) for r in records),
            **_times(records, "titles", record_ids),
        }
    )


def templates_frame(records: Sequence[Record]) -> pd.DataFrame:
    record_ids = _column(records, "id")
    return pd.DataFrame(
        {
            "id": ids(record_ids),
            "title": pd.Series([str(r.get("title") or "") for r in records], dtype=TEXT),
            "body": pd.Series([r.get("body") or "" for r in records], dtype=TEXT),
            **_times(records, "templates", record_ids),
        }
    )


def balance_frame(answer: Record, fetched_at: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sms_balance": ids([answer["sms_balance"]]),
            "fetched_at": pd.Series([fetched_at], dtype="datetime64[ns, UTC]"),
        }
    )


def pricing_frame(records: Sequence[Record]) -> pd.DataFrame:
    def money(name: str) -> pd.Series:
        return pd.Series([Decimal(str(r[name])) for r in records], dtype=MONEY)

    limits = (
        "messages_history_limit",
        "contacts_limit",
        "lists_limit",
        "titles_limit",
        "campaigns_limit",
    )
    flags_ = (
        "upload_contacts_from_csv",
        "upload_lists_from_csv",
        "integrations",
        "api_ip_restriction",
    )
    return pd.DataFrame(
        {
            "name": pd.Series(_column(records, "name"), dtype=TEXT),
            "price": money("price"),
            "price_yearly": money("price_yearly"),
            **{name: ids(_column(records, name)) for name in limits},
            **{name: flags(bool(r.get(name)) for r in records) for name in flags_},
        }
    )


def _times(records: Sequence[Record], table: str, record_ids: list[Any]) -> dict[str, pd.Series]:
    """The ``created_at`` and ``updated_at`` columns every resource has."""
    return {
        name: stamps(_column(records, name), table, name, record_ids)
        for name in ("created_at", "updated_at")
    }
