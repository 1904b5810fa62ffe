"""``client.campaigns``: the four schedule types built from Python datetimes and intervals."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from oneconnect_pipelines.formats import (
    Repeat,
    format_request_datetime,
    join_date_range,
    parse_repeat,
)

from ._pagination import Page
from ._section import Record, Section, form, ids_of
from .models import Campaign, campaign_pages


@dataclass(frozen=True)
class Recurring:
    """Every ``every`` from ``start``; until ``end`` (scheduled) or forever (permanent)."""

    start: datetime
    every: Repeat | timedelta | str
    end: datetime | None = None

    def fields(self, tz: tzinfo) -> dict[str, str]:
        dates = [format_request_datetime(self.start, tz)]
        if self.end is not None:
            if self.end <= self.start:
                raise ValueError("a recurring campaign must end after it starts")
            dates.append(format_request_datetime(self.end, tz))
        return {
            "job_type": "0" if self.end is not None else "1",
            "campaign_type": "0",
            "dates": join_date_range(dates),
            "repeat": str(as_repeat(self.every)),
        }


@dataclass(frozen=True)
class CertainDates:
    """On each of ``dates``; ``permanent`` campaigns repeat them (the simulator: yearly)."""

    dates: Sequence[datetime]
    permanent: bool = False

    def fields(self, tz: tzinfo) -> dict[str, str]:
        if not self.dates:
            raise ValueError("a certain-dates campaign needs at least one date")
        return {
            "job_type": "1" if self.permanent else "0",
            "campaign_type": "1",
            "dates": ", ".join(format_request_datetime(d, tz) for d in sorted(self.dates)),
        }


def as_repeat(every: Repeat | timedelta | str) -> Repeat:
    """An interval the API can express: N days, weeks, months or years."""
    if isinstance(every, Repeat):
        return every
    if isinstance(every, str):
        return parse_repeat(every)
    if every <= timedelta(0) or every % timedelta(days=1):
        raise ValueError(f"campaigns repeat in whole days, weeks, months or years, not {every}")
    days = every.days
    return Repeat(days // 7, "weeks") if days % 7 == 0 else Repeat(days, "days")


class Campaigns(Section):
    resource = "campaign"

    def list(
        self,
        *,
        name: str | None = None,
        job_type: int | None = None,
        title: str | None = None,
        content: str | None = None,
    ) -> Iterator[Campaign]:
        params = {"name": name, "job_type": job_type, "title": title, "content": content}
        return self._iter("/campaigns", params, campaign_pages(self._requester.timezone_if_known))

    def pages(self, **filters: Any) -> Iterator[Page]:
        return self._pages("/campaigns", filters)

    def get(self, campaign_id: int) -> Campaign:
        return self._one(self._build, "GET", f"/campaigns/{int(campaign_id)}")

    def create(
        self,
        name: str,
        content: str,
        schedule: Recurring | CertainDates,
        *,
        recipients: Iterable[str] = (),
        lists: Iterable[int] = (),
        title: int | None = None,
        active: bool = True,
    ) -> Campaign:
        """A new campaign; a lost answer is reconciled by name and content."""
        fields: dict[str, Any] = {
            "name": name,
            "content": content,
            "active": active,
            "recipients": list(recipients),
            "recipients_list": ids_of(lists),
        }
        if title is not None:
            fields["title"] = title
        data = {**form(fields), **schedule.fields(self._requester.timezone)}

        def find() -> list[Record]:
            return [
                r
                for r in self._requester.call("GET", "/campaigns", params={"name": data["name"]})
                if r.get("content") == data["content"]
            ]

        return self._create("/campaigns", data, find, self._build, unique=False)

    def update(
        self,
        campaign_id: int,
        *,
        name: str | None = None,
        recipients: Iterable[str] | None = None,
        content: str | None = None,
        active: bool | None = None,
        title: int | None = None,
        lists: Iterable[int] | None = None,
    ) -> Campaign:
        """Change only the fields given (type and schedule cannot change). Safe to replay."""
        fields = {
            "name": name,
            "content": content,
            "active": active,
            "title": title,
            "recipients": None if recipients is None else list(recipients),
            "recipients_list": None if lists is None else ids_of(lists),
        }
        return self._one(
            self._build,
            "PATCH",
            f"/campaigns/{int(campaign_id)}",
            data=form({k: v for k, v in fields.items() if v is not None}),
            replay_safe=True,
        )

    def delete(self, campaign_id: int) -> None:
        self._delete(f"/campaigns/{int(campaign_id)}")

    def _build(self, record: Record) -> Campaign:
        return Campaign.from_api(record, self._requester.timezone_if_known)
