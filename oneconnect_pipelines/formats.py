"""OneConnect's wire formats: the one place that reads and writes its dates, ids and intervals.

Shared by the client (which parses what the API answers) and the simulator (which
parses what clients send), so that both sides agree on every quirk of the contract.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from .masking import mask_text

#: ``created_at``/``updated_at``: local time of the account with its UTC offset.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S %z"
#: Datetimes sent in requests (``sms_date``, ``start_date``, campaign ``dates``).
REQUEST_DATETIME_FORMAT = "%d.%m.%Y %H:%M"
#: Campaign schedule dates as read back.
SCHEDULE_DATETIME_FORMAT = "%d/%m/%Y %H:%M"
#: Birthdays are written like this (the documented format).
BIRTHDAY_WRITE_FORMAT = "%d.%m.%Y"
#: Birthdays as the API's examples return them.
BIRTHDAY_READ_FORMAT = "%d/%m/%Y"

#: A contact's gender, when known.
GENDERS = ("Male", "Female")
#: A message's delivery status (``pending``: no delivery report yet).
MESSAGE_STATUSES = ("delivered", "undelivered", "pending")

#: The writable fields of a contact record, in the order the API shows them.
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
#: The free-text ones among them: stored as given, empty the same as missing.
CONTACT_TEXT_FIELDS = ("first_name", "last_name", "post_code", "city", "street")

_BIRTHDAY_FORMATS = (BIRTHDAY_WRITE_FORMAT, BIRTHDAY_READ_FORMAT)
_DATETIME_FORMATS = (REQUEST_DATETIME_FORMAT, SCHEDULE_DATETIME_FORMAT)
_REPEAT = re.compile(r"^\s*(\d+)\s+(day|week|month|year)s?\s*$", re.IGNORECASE)
_DATE_RANGE_SEPARATOR = " - "


class FormatError(ValueError):
    """A value does not follow one of OneConnect's documented formats.

    ``reason`` names the format without the value, for messages that must not quote it;
    ``value`` is the text as given, so that a reader can tell which field of a record
    holds it; ``field`` names that field where the reader of a whole record knows it. A
    personal value (a birthday) shows masked in the exception's own message.
    """

    def __init__(
        self,
        reason: str,
        value: object = None,
        *,
        personal: bool = False,
        field: str | None = None,
    ) -> None:
        shown = mask_text(str(value)) if personal else value
        super().__init__(reason if value is None else f"{reason}: {shown!r}")
        self.reason = reason
        self.value = value
        self.field = field


def parse_timestamp(text: str) -> datetime:
    """``"2019-06-17 11:16:55 +0400"`` -> timezone-aware UTC datetime.

    On the hot path of every listing: the wall time is read by ``fromisoformat`` (C speed)
    as if it were UTC, then the offset is taken off, which is exact and three times
    cheaper than ``astimezone``. Offsets are looked up by the timestamp's tail
    (``" +0400"``), learnt once each. Anything else falls back to strict parsing.
    """
    tail = text[19:]
    offset = _OFFSETS.get(tail)
    if offset is None:
        offset = _learn_offset(tail)
    if offset is not None and text[10] == " ":  # a known tail means 25 characters
        try:
            return datetime.fromisoformat(text[:19] + "+00:00") - offset
        except ValueError:
            pass
    try:
        return datetime.strptime(text.strip(), TIMESTAMP_FORMAT).astimezone(UTC)
    except ValueError as exc:
        raise FormatError("not a OneConnect timestamp", text) from exc


#: ``" +0400"`` -> 4 hours, for every offset met so far (at most 12,000 can exist).
_OFFSETS: dict[str, timedelta] = {}


def _learn_offset(tail: str) -> timedelta | None:
    """The offset a ``" ±HHMM"`` tail stands for (remembered), else None."""
    sign, digits = tail[1:2], tail[2:]
    shaped = len(tail) == 6 and tail[0] == " " and sign in ("+", "-")
    if not (shaped and digits.isascii() and digits.isdigit()):
        return None
    hours, minutes = int(digits[:2]), int(digits[2:])
    if minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    _OFFSETS[tail] = offset = -offset if sign == "-" else offset
    return offset


def timestamp_offset(text: str) -> tzinfo:
    """The fixed UTC offset a timestamp was written in (the account's, at that moment)."""
    try:
        offset = datetime.strptime(text.strip(), TIMESTAMP_FORMAT).tzinfo
    except ValueError as exc:
        raise FormatError("not a OneConnect timestamp", text) from exc
    assert offset is not None  # %z always yields one
    return offset


def format_timestamp(moment: datetime, tz: tzinfo) -> str:
    """An aware datetime as the account's local time with its offset."""
    return _require_aware(moment).astimezone(tz).strftime(TIMESTAMP_FORMAT)


def format_epoch(epoch: float, tz: tzinfo) -> str:
    """``format_timestamp`` for epoch seconds, cached per minute: the simulator renders
    millions of these, and a timezone's offset only ever changes on a minute boundary."""
    whole = math.floor(epoch)
    prefix, suffix = _minute_parts(whole // 60, tz)
    return f"{prefix}{whole % 60:02d}{suffix}"


@lru_cache(maxsize=1 << 17)
def _minute_parts(minute: int, tz: tzinfo) -> tuple[str, str]:
    local = datetime.fromtimestamp(minute * 60, UTC).astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:"), local.strftime(" %z")


def parse_datetime(text: str, tz: tzinfo) -> datetime:
    """``DD.MM.YYYY HH:MM`` (requests) or ``DD/MM/YYYY HH:MM`` (schedules), account-local."""
    cleaned = text.strip()
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise FormatError("not a DD.MM.YYYY HH:MM datetime", text)


def format_request_datetime(moment: datetime, tz: tzinfo) -> str:
    """An aware datetime as ``DD.MM.YYYY HH:MM`` in the account's local time."""
    return _require_aware(moment).astimezone(tz).strftime(REQUEST_DATETIME_FORMAT)


def format_schedule_datetime(moment: datetime, tz: tzinfo) -> str:
    """An aware datetime as ``DD/MM/YYYY HH:MM``, the way schedules read back."""
    return _require_aware(moment).astimezone(tz).strftime(SCHEDULE_DATETIME_FORMAT)


@lru_cache(maxsize=1 << 16)
def parse_birthday(text: str) -> date:
    """``DD.MM.YYYY`` (documented) or ``DD/MM/YYYY`` (what the examples return)."""
    cleaned = text.strip()
    for fmt in _BIRTHDAY_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise FormatError("not a DD.MM.YYYY birthday", text, personal=True)


def format_birthday(day: date) -> str:
    """Birthdays are always written ``DD.MM.YYYY``."""
    return day.strftime(BIRTHDAY_WRITE_FORMAT)


def split_ids(text: str) -> list[str]:
    """``"3, 7,9"`` -> ``["3", "7", "9"]``: spaces after commas are optional."""
    return [part.strip() for part in text.split(",") if part.strip()]


def join_ids(values: Iterable[object]) -> str:
    """Ids or phone numbers as the one comma-separated string the API expects."""
    return ",".join(str(value) for value in values)


@dataclass(frozen=True)
class Repeat:
    """A campaign's repeat interval: ``Repeat(2, "days")`` is ``"2 days"``."""

    count: int
    period: str  # "days", "weeks", "months" or "years"

    def __str__(self) -> str:
        return f"{self.count} {self.period if self.count != 1 else self.period[:-1]}"

    def after(self, moment: datetime, times: int = 1) -> datetime:
        """The occurrence ``times`` intervals after ``moment`` (calendar-aware)."""
        steps = self.count * times
        if self.period == "days":
            return moment + timedelta(days=steps)
        if self.period == "weeks":
            return moment + timedelta(weeks=steps)
        months = steps if self.period == "months" else 12 * steps
        return add_months(moment, months)


def parse_repeat(text: str) -> Repeat:
    """``"2 days"``, ``"1 week"``: a positive count and a period, singular accepted."""
    match = _REPEAT.match(text)
    if not match or int(match.group(1)) < 1:
        raise FormatError("not a repeat interval like '2 days'", text)
    return Repeat(int(match.group(1)), match.group(2).lower() + "s")


def split_date_range(text: str) -> list[str]:
    """``"start - end"`` (one space each side of the dash) -> its parts."""
    return [part.strip() for part in text.split(_DATE_RANGE_SEPARATOR)]


def join_date_range(parts: Iterable[str]) -> str:
    return _DATE_RANGE_SEPARATOR.join(parts)


def add_months(moment: datetime, months: int) -> datetime:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, _days_in_month(year, month)))


def birthday_in_year(birthday: date, year: int) -> date:
    """The day a birthday is celebrated in ``year``: 29 February falls on 28 February
    in non-leap years."""
    day = min(birthday.day, _days_in_month(year, birthday.month))
    return date(year, birthday.month, day)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise FormatError("datetime must be timezone-aware", moment)
    return moment
