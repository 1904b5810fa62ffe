"""OneConnect's wire formats: every date shape round-trips, intervals step like a calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.formats import (
    FormatError,
    Repeat,
    add_months,
    birthday_in_year,
    format_birthday,
    format_epoch,
    format_request_datetime,
    format_schedule_datetime,
    format_timestamp,
    parse_birthday,
    parse_datetime,
    parse_repeat,
    parse_timestamp,
    split_ids,
    timestamp_offset,
)
from oneconnect_pipelines.masking import mask_digits, mask_phone, mask_text

ZONES = st.sampled_from(
    [
        ZoneInfo(name)
        for name in (
            "Asia/Tbilisi",
            "Europe/Berlin",
            "America/New_York",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "UTC",
        )
    ]
)
MOMENTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=300)
@given(moment=MOMENTS, tz=ZONES)
def test_timestamps_round_trip_in_any_account_timezone(moment: datetime, tz: ZoneInfo) -> None:
    text = format_timestamp(moment, tz)
    assert parse_timestamp(text) == moment
    assert parse_timestamp(text).tzinfo == UTC
    assert format_epoch(moment.timestamp(), tz) == text  # the cached renderer agrees
    assert timestamp_offset(text).utcoffset(None) == moment.astimezone(tz).utcoffset()


def test_the_documented_example_parses() -> None:
    assert parse_timestamp("2019-06-17 11:16:55 +0400") == datetime(
        2019, 6, 17, 7, 16, 55, tzinfo=UTC
    )


@given(
    wall=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2090, 12, 31)),
    sign=st.sampled_from("+-"),
    hours=st.integers(0, 23),
    minutes=st.integers(0, 59),
)
def test_the_fast_path_agrees_with_strict_parsing_for_any_offset(
    wall: datetime, sign: str, hours: int, minutes: int
) -> None:
    text = f"{wall:%Y-%m-%d %H:%M:%S} {sign}{hours:02d}{minutes:02d}"
    assert parse_timestamp(text) == datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")


@pytest.mark.parametrize(
    "text",
    [
        "2019-06-17",
        "17.06.2019 11:16",
        "yesterday",
        "",
        "2019-02-30 11:16:55 +0400",
        "2019-06-17 11:16:55 +0460",
        "2019-06-17 11:16:55 x0400",
        "2019-06-17 11:16:55 +04a0",
    ],
)
def test_malformed_timestamps_are_refused(text: str) -> None:
    with pytest.raises(FormatError):
        parse_timestamp(text)


@given(moment=MOMENTS, tz=ZONES)
def test_request_and_schedule_datetimes_round_trip_to_the_minute(
    moment: datetime, tz: ZoneInfo
) -> None:
    for render in (format_request_datetime, format_schedule_datetime):
        parsed = parse_datetime(render(moment, tz), tz)
        local = moment.astimezone(tz)
        assert parsed.replace(tzinfo=None) == local.replace(second=0, tzinfo=None)
    assert (
        format_request_datetime(datetime(2019, 8, 25, 18, 21, tzinfo=UTC), ZoneInfo("Asia/Tbilisi"))
        == "25.08.2019 22:21"
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(FormatError):
        format_request_datetime(datetime(2026, 1, 1, 10, 0), UTC)


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_birthdays_read_both_documented_formats_and_write_one(day: date) -> None:
    written = format_birthday(day)
    assert written == day.strftime("%d.%m.%Y")
    assert parse_birthday(written) == day
    assert parse_birthday(day.strftime("%d/%m/%Y")) == day


@pytest.mark.parametrize("text", ["31.02.1990", "1990-05-05", "05-05-1997", "29.02.2001"])
def test_impossible_or_foreign_birthdays_are_refused(text: str) -> None:
    with pytest.raises(FormatError) as refused:
        parse_birthday(text)
    # A birthday is personal data: the message shows it masked, and ``reason`` not at all;
    # ``value`` lets a reader of a record tell which field holds it.
    assert text not in str(refused.value) and text not in repr(refused.value)
    assert str(refused.value) == f"not a DD.MM.YYYY birthday: {_starred(text)!r}"
    assert (refused.value.reason, refused.value.value) == ("not a DD.MM.YYYY birthday", text)


def _starred(text: str) -> str:
    return "".join("*" if character.isdigit() else character for character in text)


def test_other_format_errors_quote_the_value_they_refuse() -> None:
    with pytest.raises(FormatError, match=r"^not a repeat interval like '2 days': 'often'$"):
        parse_repeat("often")


def test_29_february_is_celebrated_on_28_february_in_other_years() -> None:
    assert birthday_in_year(date(2000, 2, 29), 2027) == date(2027, 2, 28)
    assert birthday_in_year(date(2000, 2, 29), 2028) == date(2028, 2, 29)
    assert birthday_in_year(date(1990, 7, 14), 2027) == date(2027, 7, 14)


@pytest.mark.parametrize(
    ("text", "repeat"),
    [
        ("2 days", Repeat(2, "days")),
        ("1 week", Repeat(1, "weeks")),
        ("3 Months", Repeat(3, "months")),
        (" 1 year ", Repeat(1, "years")),
    ],
)
def test_repeat_intervals_parse_singular_and_plural(text: str, repeat: Repeat) -> None:
    assert parse_repeat(text) == repeat
    assert parse_repeat(str(repeat)) == repeat


@pytest.mark.parametrize("text", ["0 days", "2 fortnights", "days", "-1 day", "1.5 weeks"])
def test_bad_repeat_intervals_are_refused(text: str) -> None:
    with pytest.raises(FormatError):
        parse_repeat(text)


def test_months_step_from_the_start_clamped_to_the_month_end() -> None:
    start = datetime(2027, 1, 31, 9, 30, tzinfo=UTC)
    monthly = Repeat(1, "months")
    assert [monthly.after(start, n).date() for n in range(4)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert add_months(datetime(2028, 2, 29, tzinfo=UTC), 12).date() == date(2029, 2, 28)
    assert Repeat(2, "weeks").after(start, 1) == start + timedelta(weeks=2)


def test_id_lists_tolerate_spaces_after_commas() -> None:
    assert split_ids("3, 7,9") == ["3", "7", "9"]
    assert split_ids("") == []


@given(number=st.text(alphabet="0123456789", min_size=5, max_size=15))
def test_masked_numbers_never_show_the_middle_digits(number: str) -> None:
    masked = mask_phone(number)
    assert len(masked) == len(number)
    assert masked != number
    assert masked.endswith(number[-2:])
    if len(number) <= 8:  # a short number (a typo): its last two digits only
        assert sum(char.isdigit() for char in masked) == 2
    assert mask_digits(f"call {number} now") == (
        f"call {masked} now" if len(number) >= 6 else f"call {number} now"
    )


@given(
    groups=st.lists(st.text(alphabet="0123456789", min_size=2, max_size=4), min_size=3, max_size=5),
    separator=st.sampled_from([" ", "-", ".", " - ", "\u00a0", "\u2009", "\u2013", "/", "_"]),
    plus=st.booleans(),
)
def test_a_number_written_in_groups_is_masked_as_one(
    groups: list[str], separator: str, plus: bool
) -> None:
    """``+995 555 12 34 56`` in a server's error: no digit run is six long, yet together
    the groups are a phone number."""
    digits = "".join(groups)
    written = ("+" if plus else "") + separator.join(groups)
    masked = mask_text(f"number {written} is taken")
    shown = sum(char.isdigit() for char in masked)
    if len(digits) >= 7:  # at most mask_phone's first four and last two
        assert shown <= 6, masked
    else:  # too short for a phone number: left as written (or masked whole as a date)
        assert masked == f"number {written} is taken" or shown == 0


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("born 1997/05/05", "born ****/**/**"),
        ("born 1997.05.05", "born ****.**.**"),
        ("born 05.05.97 or 5/5/97", "born **.**.** or */*/**"),
        ("write to anna@localhost", "write to a***@localhost"),
        ("(0555) 12-34-56", "(0555****56"),
        # a server's words quoting a contact (no-break spaces, a time of day, a month)
        ("number 995\u00a0599\u00a0123\u00a0456 is blocked", "number 9955******56 is blocked"),
        ("born 05/06/1987 00:00", "born **/**/**** **:**"),
        ("born 1987-06-05 00:00:00 (5 June 1987)", "born ****-**-** **:**:** (* June ****)"),
        ("born June 5, 1987 or 5th Jun. 1987", "born June *, **** or *th Jun. ****"),
        # a form body a server echoed back: its values URL-encoded
        (
            "refused: phone_number=995551234567&email=anna.k%40example.com",
            "refused: phone_number=9955******67&email=a*****@example.com",
        ),
        ("sent to=x&destination=%2B995+555+12+34+56", "sent to=x&destination=9955******56"),
        ("birthday=05%2F06%2F1987 and first_name=Anna", "birthday=**/**/**** and first_name=Anna"),
        # a number or a date after "name=" in ordinary text is one value, not a form's
        ("phone=0555 12 34 56", "phone=0555****56"),
        ("contact: number=(0555) 12-34-56", "contact: number=(0555****56"),
        ("date=5 June 1987", "date=* June ****"),
        # what is not personal stays readable
        ("127.0.0.1:8000 at 21:37:45, rows 1, 10 (id 2, 11)", None),
        ("retry with per_page=1000&page=2 (x=1+2)", None),
        ("GET /api/v1/contacts?page=2 HTTP/1.1 200, 12.5 s", None),
        ("look for reference oc-7889-1234-5678-4d74-be0e-3f93-c942-4092", None),
    ],
)
def test_free_text_masks_dates_and_addresses_in_their_other_forms(
    text: str, masked: str | None
) -> None:
    assert mask_text(text) == (masked or text)
