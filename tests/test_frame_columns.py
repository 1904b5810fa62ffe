"""Column converters: the fast Arrow paths read exactly what the strict paths read, and
anything off the contract's shape still gets through the strict path or is named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneconnect_pipelines import frames
from oneconnect_pipelines.formats import format_timestamp, parse_birthday, parse_timestamp

ZONES = st.sampled_from(
    [ZoneInfo(name) for name in ("Asia/Tbilisi", "America/St_Johns", "Asia/Kathmandu", "UTC")]
)
MOMENTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))


@settings(max_examples=60, deadline=None)
@given(moments=st.lists(st.tuples(MOMENTS, ZONES), max_size=30), gaps=st.booleans())
def test_timestamps_read_as_the_strict_parser_reads_them(
    moments: list[tuple[datetime, ZoneInfo]], gaps: bool
) -> None:
    texts: list[str | None] = [format_timestamp(moment, zone) for moment, zone in moments]
    if gaps:
        texts.append(None)
    column = frames.stamps(texts, "t", "created_at", list(range(len(texts))))
    expected = [None if text is None else parse_timestamp(text) for text in texts]
    assert [None if pd.isna(value) else value.to_pydatetime() for value in column] == expected
    assert str(column.dtype) == "datetime64[ns, UTC]"


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(
        st.tuples(st.dates(date(1900, 1, 1), date(2030, 12, 31)), st.sampled_from("./-")),
        max_size=30,
    )
)
def test_birthdays_read_as_the_strict_parser_reads_them(days: list[tuple[date, str]]) -> None:
    texts: list[str | None] = [
        None if mark == "-" else day.strftime(f"%d{mark}%m{mark}%Y") for day, mark in days
    ]
    texts.append("")
    column = frames.birthdays(texts, "contacts", list(range(len(texts))))
    expected = [parse_birthday(text) if text else None for text in texts]
    assert [None if pd.isna(value) else value for value in column] == expected


def test_a_timestamp_off_the_usual_shape_still_parses_strictly() -> None:
    # a colon in the offset is not what the API writes, but strptime's %z reads it
    column = frames.stamps(
        ["2019-06-17 11:16:55 +04:00", "2019-06-17 11:16:55 +0400"], "t", "created_at", [1, 2]
    )
    assert list(column) == [pd.Timestamp("2019-06-17 07:16:55", tz="UTC")] * 2


@pytest.mark.parametrize(
    ("texts", "named"),
    [
        (["2019-06-17 11:16:55 +0400", "2019-02-30 11:16:55 +0400"], r"\[8\]"),
        (["2019-06-17 11:16:55 +0400", "soon"], r"\[8\]"),
    ],
)
def test_impossible_timestamps_name_their_records(texts: list[str], named: str) -> None:
    with pytest.raises(frames.FrameError, match=rf"t\.created_at is not a timestamp .*{named}"):
        frames.stamps(texts, "t", "created_at", [7, 8])


def test_an_impossible_birthday_names_its_record() -> None:
    with pytest.raises(frames.FrameError, match=r"contacts\.birthday is not a date .*\[8\]"):
        frames.birthdays(["17/05/1989", "30/02/1990"], "contacts", [7, 8])
