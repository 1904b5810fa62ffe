"""Campaigns with their schedules, and birthday campaigns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

import msgspec

from oneconnect_pipelines.formats import (
    Repeat,
    parse_datetime,
    parse_repeat,
    split_date_range,
    split_ids,
    timestamp_offset,
)
from oneconnect_pipelines.masking import mask_phone

from ._wire import none_if_empty, stamp


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
        dates = s.get("dates")
        if dates is not None:
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
            title=none_if_empty(r.get("title")),
            content=str(r.get("content") or ""),
            job_type=int(r.get("job_type") or 0),
            schedule=Schedule.from_api(r["schedule"], zone),
            completed=None if r.get("completed") is None else bool(r["completed"]),
            created_at=stamp(r, "created_at"),
            updated_at=stamp(r, "updated_at"),
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
            title=none_if_empty(r.get("title")),
            created_at=stamp(r, "created_at"),
            updated_at=stamp(r, "updated_at"),
        )
