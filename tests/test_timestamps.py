"""OneConnect's timestamps read into aware UTC datetimes: the fast path agrees with
``strptime``, the independent oracle, for any moment and offset it can read, and odd
shapes are read or refused the strict way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.formats import FormatError, parse_timestamp


@st.composite
def usual_stamps(draw: st.DrawFn, max_hours: int = 23) -> str:
    """``YYYY-MM-DD HH:MM:SS ±HHMM`` for any moment and any offset up to ``max_hours``:59."""
    moment = draw(st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30, 23, 59, 59)))
    minutes = draw(st.integers(0, max_hours * 60 + 59))
    sign = draw(st.sampled_from("+-"))
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"  # %Y does not pad
    return f"{day} {moment:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d}"


@settings(max_examples=500, deadline=None)
@given(stamp=usual_stamps())
def test_usual_timestamps_are_the_moment_strptime_reads(stamp: str) -> None:
    expected = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S %z")
    assume(datetime(1, 1, 1, tzinfo=UTC) < expected < datetime(9999, 12, 31, tzinfo=UTC))
    parsed = parse_timestamp(stamp)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-02-29 10:00:00 +0400",  # no such day
        "2026-12-01 24:00:00 +0400",
        "2026-12-01 10:00:60 +0400",  # a leap second
        "2026-12-01 10:00:00 +0460",
        "0000-12-01 10:00:00 +0400",
        "2026-12-01T10:00:00 +0400",
        "2026-12-01 10:00:00+0400",
        "2026-12-01 10:00:00 \u22120400",  # a minus sign that is not ASCII
        "2026-12-01 10:00:00 +٠٤٠٠",  # Arabic-Indic digits
        "",
        "soon",
    ],
)
def test_odd_shapes_are_refused_naming_the_value(stamp: str) -> None:
    with pytest.raises(FormatError, match="not a OneConnect timestamp"):
        parse_timestamp(stamp)


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        (" 2026-12-01 10:00:00 +0400 ", datetime(2026, 12, 1, 6, tzinfo=UTC)),
        ("2026-12-01 10:00:00 +04:00", datetime(2026, 12, 1, 6, tzinfo=UTC)),
    ],
)
def test_near_shapes_strptime_accepts_are_read_the_strict_way(stamp: str, utc: datetime) -> None:
    assert parse_timestamp(stamp) == utc
