"""Campaigns with their schedules, and birthday campaigns."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any

import msgspec

from oneconnect_pipelines.formats import (
    FormatError,
    Repeat,
    parse_datetime,
    parse_repeat,
    parse_timestamp,
    split_date_range,
    split_ids,
    timestamp_offset,
)
from oneconnect_pipelines.masking import mask_phone

from ._wire import Int64, PageDecoder, Wire, each


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
    def _from_wire(cls, w: _ScheduleWire, tz: tzinfo) -> Schedule:
        if isinstance(w.dates, str):
            with _naming("schedule.dates"):
                return cls(w.type, dates=tuple(parse_datetime(d, tz) for d in split_ids(w.dates)))
        if w.dates is not None:  # an array: the reader finds the item by its value
            return cls(w.type, dates=tuple(parse_datetime(d, tz) for d in w.dates))
        with _naming("schedule.date-range"):
            parts = split_date_range(w.date_range or "")
            start = parse_datetime(parts[0], tz) if parts and parts[0] else None
            end = parse_datetime(parts[1], tz) if len(parts) > 1 else None
        repeat = parse_repeat(w.repeat) if w.repeat else None
        return cls(w.type, start=start, end=end, repeat=repeat)


@contextmanager
def _naming(field: str) -> Iterator[None]:
    """A ``FormatError`` raised inside names ``field``: its value is a piece of that
    field's text, which the record's reader cannot find by itself."""
    try:
        yield
    except FormatError as exc:
        exc.field = exc.field or field
        raise


class _ScheduleWire(Wire, rename={"date_range": "date-range"}):
    """A schedule as the JSON has it: certain ``dates`` (an array, or text joined by
    commas), or a ``date-range`` with a ``repeat``."""

    type: str
    dates: str | tuple[str, ...] | None = None
    date_range: str | None = None
    repeat: str | None = None


class _CampaignWire(Wire, kw_only=True):
    id: Int64
    name: str
    active: bool
    recipients: str | tuple[str, ...] | None = None
    recipients_list: tuple[Int64, ...] | None = None
    title: str | None = None
    content: str | None = None
    job_type: Int64 | None = None
    schedule: _ScheduleWire
    completed: bool | None = None
    created_at: str
    updated_at: str


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
        return campaign_pages(tz).one(r, "campaign")

    @classmethod
    def _from_wire(cls, w: _CampaignWire, tz: tzinfo | None) -> Campaign:
        recipients = w.recipients or ()
        return cls(
            id=w.id,
            name=w.name,
            active=w.active,
            recipients=tuple(split_ids(recipients) if isinstance(recipients, str) else recipients),
            recipients_list=w.recipients_list or (),
            title=w.title or None,
            content=w.content or "",
            job_type=w.job_type or 0,
            schedule=Schedule._from_wire(w.schedule, tz or timestamp_offset(w.created_at)),
            completed=w.completed,
            created_at=parse_timestamp(w.created_at),
            updated_at=parse_timestamp(w.updated_at),
        )

    def __repr__(self) -> str:  # recipients are phone numbers
        recipients = tuple(mask_phone(number) for number in self.recipients)
        return (
            f"Campaign(id={self.id}, name={self.name!r}, type={self.schedule.type!r}, "
            f"recipients={recipients!r}, recipients_list={self.recipients_list!r})"
        )


class _BirthdayCampaignWire(Wire, kw_only=True):
    id: Int64
    name: str
    active: bool
    content: str | None = None
    recipient_lists: tuple[Int64, ...] | None = None
    #: ``""`` when none
    title: str | None = None
    created_at: str
    updated_at: str


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
        return BIRTHDAY_CAMPAIGN_PAGES.one(r, "birthday campaign")

    @classmethod
    def _from_wire(cls, w: _BirthdayCampaignWire) -> BirthdayCampaign:
        return cls(
            id=w.id,
            name=w.name,
            active=w.active,
            content=w.content or "",
            recipient_lists=w.recipient_lists or (),
            title=w.title or None,
            created_at=parse_timestamp(w.created_at),
            updated_at=parse_timestamp(w.updated_at),
        )


def campaign_pages(tz: tzinfo | None) -> PageDecoder[Campaign]:
    """Campaigns read with their schedules in ``tz`` (None: each record's own offset)."""
    return PageDecoder(_CampaignWire, each(lambda w: Campaign._from_wire(w, tz)))


BIRTHDAY_CAMPAIGN_PAGES = PageDecoder(_BirthdayCampaignWire, each(BirthdayCampaign._from_wire))
