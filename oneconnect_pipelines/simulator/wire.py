"""How the simulator reads and writes the contract's formats, written from
``shared/oneconnect-api.md`` on its own.

The client has its own reading (``oneconnect_pipelines.formats``). The simulator does
not share it on purpose: it is the oracle the client is tested against, and a misreading
of the contract shared by both sides would pass every test.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

#: A contact's writable fields, in the order the API shows them.
CONTACT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone_number",
    "birthday",
    "post_code",
    "city",
    "street",
    "additional_numbers",
    "gender",
)

#: ``25.08.2019 22:21``: the only form requests carry. ``22/05/2019 17:57`` is how
#: schedules read back, never a request's. ASCII digits only (``\d`` takes any script's).
_REQUEST_DATETIME = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})", re.ASCII)
#: ``05.05.1997`` (documented) or ``05/05/1997`` (the docs' examples).
_BIRTHDAY = re.compile(r"(\d{2})([./])(\d{2})\2(\d{4})", re.ASCII)
#: An integer field: ASCII digits, an optional sign (``int`` would also take ``1_000``
#: and other scripts' digits).
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
#: SQLite's INTEGER: every id and number the platform stores or looks up fits it.
INTEGER_RANGE = range(-(2**63), 2**63)
_REPEAT = re.compile(r"(\d+)\s+(day|week|month|year)s?", re.IGNORECASE | re.ASCII)
#: Start and end of a scheduled recurring campaign: one space each side of the dash.
RANGE_SEPARATOR = " - "


class WireError(ValueError):
    """A value a client sent does not follow the contract's format."""


def split_list(text: str) -> list[str]:
    """``"3, 7,9"`` -> ``["3", "7", "9"]`` (a space after a comma is optional)."""
    return [item for item in (part.strip() for part in text.split(",")) if item]


def read_integer(text: str) -> int:
    """An integer field or id. One beyond SQLite's 64-bit range is malformed too: it can
    name no record, and looking it up would make SQLite raise OverflowError."""
    stripped = text.strip()
    if _INTEGER.fullmatch(stripped) is None or int(stripped) not in INTEGER_RANGE:
        raise WireError(f"not a 64-bit integer: {text!r}")
    return int(stripped)


def read_datetime(text: str, tz: tzinfo) -> datetime:
    """A request datetime (``DD.MM.YYYY HH:MM``), on the account's wall clock."""
    match = _REQUEST_DATETIME.fullmatch(text.strip())
    if match is None:
        raise WireError(f"not DD.MM.YYYY HH:MM: {text!r}")
    day, month, year, hour, minute = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=tz)
    except ValueError:
        raise WireError(f"no such moment: {text!r}") from None


def write_schedule_datetime(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.day:02d}/{local.month:02d}/{local.year:04d} {local.hour:02d}:{local.minute:02d}"


def read_birthday(text: str) -> date:
    match = _BIRTHDAY.fullmatch(text.strip())
    if match is None:
        raise WireError(f"not DD.MM.YYYY: {text!r}")
    day, _, month, year = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise WireError(f"no such day: {text!r}") from None


def write_birthday(day: date) -> str:
    """As the docs' examples return birthdays: ``DD/MM/YYYY``."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def write_timestamp(epoch: float, tz: tzinfo) -> str:
    """``2019-06-17 11:16:55 +0400``: the account's wall time and its UTC offset then.
    Cached per minute, since an offset only ever changes on a minute boundary."""
    whole = int(epoch // 1)
    head, offset = _minute(whole // 60, tz)
    return f"{head}{whole % 60:02d} {offset}"


@lru_cache(maxsize=1 << 17)
def _minute(minute: int, tz: tzinfo) -> tuple[str, str]:
    local = datetime.fromtimestamp(minute * 60, UTC).astimezone(tz)
    shift = local.utcoffset() or timedelta(0)
    minutes = int(shift.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    head = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}:"
    )
    return head, f"{sign}{hours:02d}{rest:02d}"


@dataclass(frozen=True)
class Interval:
    """A campaign's repeat: ``"2 days"``, ``"1 week"`` (singular accepted)."""

    count: int
    unit: str  # day, week, month or year

    @classmethod
    def read(cls, text: str) -> Interval:
        match = _REPEAT.fullmatch(text.strip())
        if match is None or int(match.group(1)) < 1:
            raise WireError(f"not N days/weeks/months/years: {text!r}")
        return cls(int(match.group(1)), match.group(2).lower())

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'s' if self.count != 1 else ''}"

    def step(self, start: datetime, times: int) -> datetime:
        """``times`` intervals after ``start``, on the wall clock; a month from the 31st
        lands on the last day of a shorter month."""
        steps = self.count * times
        if self.unit in ("day", "week"):
            return start + timedelta(days=steps * (7 if self.unit == "week" else 1))
        months = start.month - 1 + steps * (12 if self.unit == "year" else 1)
        year, month = start.year + months // 12, months % 12 + 1
        return start.replace(year=year, month=month, day=min(start.day, days_in(year, month)))


def celebrated(birthday: date, year: int) -> date:
    """When a birthday falls in ``year``: 29 February on 28 February in common years."""
    return date(year, birthday.month, min(birthday.day, days_in(year, birthday.month)))


def days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]
