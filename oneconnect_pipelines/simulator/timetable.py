"""When campaigns and birthday greetings send: pure calendar arithmetic in the account's
timezone, on epochs (the simulator's clock)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .wire import Interval, celebrated

#: Birthday greetings go out at this local time on the day.
BIRTHDAY_SEND_TIME = time(10, 0)


def local(epoch: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).astimezone(tz)


def occurrence(plan: dict[str, Any], index: int, tz: ZoneInfo) -> float | None:
    """The ``index``-th send time of a stored schedule (epoch), or None when there is none.

    Recurring schedules step from their start in local wall-clock time; permanent
    certain-dates campaigns repeat their dates every year.
    """
    if "repeat" in plan:
        moment = Interval.read(plan["repeat"]).step(local(plan["start"], tz), index)
        if plan.get("end") is not None and moment.timestamp() > plan["end"]:
            return None
        return moment.timestamp()
    dates = plan["dates"]
    if plan["permanent"]:  # every date again each year, all in time order
        merged = heapq.merge(*(_yearly(date, tz) for date in dates))
        return next(itertools.islice(merged, index, None))
    return dates[index] if index < len(dates) else None


def _yearly(epoch: float, tz: ZoneInfo) -> Iterator[float]:
    """``epoch`` and its anniversaries (29 February on 28 February in other years)."""
    moment = local(epoch, tz)
    for years in itertools.count():
        day = celebrated(moment.date(), moment.year + years)
        yield moment.replace(year=day.year, month=day.month, day=day.day).timestamp()


def next_birthday_run(after: float, tz: ZoneInfo) -> float:
    """The first birthday send time (10:00 local) later than ``after``."""
    day = local(after, tz).date()
    candidate = datetime.combine(day, BIRTHDAY_SEND_TIME, tzinfo=tz)
    if candidate.timestamp() <= after:
        candidate = datetime.combine(day + timedelta(days=1), BIRTHDAY_SEND_TIME, tzinfo=tz)
    return candidate.timestamp()
