"""Column converters: the fast Arrow paths read exactly what the strict parsers read,
anything off the contract's shape still gets through the strict path or is named, and
pages the client had to read record by record convert as the pages Arrow read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneconnect_pipelines import frames
from oneconnect_pipelines.client import Listing
from oneconnect_pipelines.client.models import (
    CONTACT_PAGES,
    CONTACT_WIRE,
    MESSAGE_PAGES,
    MESSAGE_WIRE,
    Campaign,
    PageDecoder,
)
from oneconnect_pipelines.formats import format_timestamp, parse_birthday, parse_timestamp

from .frame_records import CREATED, message

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
    assert column.to_pylist() == [None if text is None else parse_timestamp(text) for text in texts]
    assert column.type == pyarrow.timestamp("us", "UTC")


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
    assert column.to_pylist() == [parse_birthday(text) if text else None for text in texts]


def test_a_timestamp_off_the_usual_shape_still_parses_strictly() -> None:
    # a colon in the offset is not what the API writes, but strptime's %z reads it
    column = frames.stamps(
        ["2019-06-17 11:16:55 +04:00", "2019-06-17 11:16:55 +0400"], "t", "created_at", [1, 2]
    )
    assert column.to_pylist() == [datetime(2019, 6, 17, 7, 16, 55, tzinfo=UTC)] * 2


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


@pytest.mark.parametrize(
    "text", ["3000-01-01 00:00:00 +0000", "1600-06-17 11:16:55 +04:00"], ids=["3000", "1600"]
)
def test_a_timestamp_no_table_can_hold_names_its_record(text: str) -> None:
    """pandas' nanoseconds hold 1677 to 2262; the fast shape and the strict path alike."""
    with pytest.raises(frames.FrameError, match=r"t\.created_at is outside the years .*\[8\]"):
        frames.stamps(["2019-06-17 11:16:55 +0400", text], "t", "created_at", [7, 8])


def test_a_contact_page_with_a_timestamp_no_table_can_hold_names_it() -> None:
    """Arrow's cast reads the year 2999; the table's nanoseconds cannot hold it."""
    stamp = "2019-06-17 11:16:55 +0400"
    records = [
        {"id": n, "phone_number": "995555", "created_at": stamp, "updated_at": stamp}
        for n in (1, 2)
    ]
    records[1]["updated_at"] = "2999-12-31 23:59:59 +0000"
    page = pyarrow.RecordBatch.from_pylist(records, schema=CONTACT_WIRE)
    with pytest.raises(
        frames.FrameError, match=r"contacts\.updated_at is outside the years .*ids \[2\]"
    ):
        frames.contact_chunk(page)


def test_an_impossible_birthday_names_its_record() -> None:
    with pytest.raises(frames.FrameError, match=r"contacts\.birthday is not a date .*\[8\]"):
        frames.birthdays(["17/05/1989", "30/02/1990"], "contacts", [7, 8])


TEXTS = st.one_of(st.none(), st.just(""), st.text(max_size=8))


@st.composite
def api_contacts(draw: st.DrawFn, id: int) -> dict[str, Any]:
    stamp = format_timestamp(draw(MOMENTS), draw(ZONES))
    days = st.dates(date(1900, 1, 1), date(2030, 12, 31)).map(lambda d: d.strftime("%d/%m/%Y"))
    day = draw(st.one_of(st.none(), st.just(""), days))
    return {
        "id": id,
        "phone_number": draw(st.from_regex(r"\A[0-9]{9,12}\Z")),
        **{name: draw(TEXTS) for name in ("email", "first_name", "last_name", "city")},
        **{name: draw(TEXTS) for name in ("post_code", "street")},
        "birthday": day,
        "additional_numbers": draw(st.one_of(st.none(), st.lists(st.just("995555000001")))),
        "gender": draw(st.sampled_from([None, "", "Male", "Female"])),
        "created_at": stamp,
        "updated_at": stamp,
    }


@st.composite
def api_messages(draw: st.DrawFn, id: int) -> dict[str, Any]:
    """A message as the API writes it: sent at the account's offset (Asia/Tbilisi), and
    changed at any."""
    created = format_timestamp(draw(MOMENTS), ACCOUNT)
    pair = st.fixed_dictionaries({"a": TEXTS, "b": TEXTS})
    sms, report = draw(st.one_of(st.none(), pair)), draw(st.one_of(st.none(), pair))
    return {
        "id": id,
        "final_status": draw(st.sampled_from(["delivered", "undelivered", "pending"])),
        "campaign_id": draw(st.one_of(st.none(), st.integers(0, 9))),
        "birthday_campaign": draw(st.one_of(st.none(), st.booleans())),
        "sms": sms and {"destination": sms["a"], "content": sms["b"]},
        "delivery_report": report and {"status": report["a"], "reason": report["b"]},
        "created_at": created,
        "updated_at": format_timestamp(draw(MOMENTS), draw(ZONES)),
    }


ACCOUNT = ZoneInfo("Asia/Tbilisi")


def wired(records: list[dict[str, Any]], decoder: PageDecoder[Any]) -> pyarrow.RecordBatch:
    """A page as the client makes it of a body Arrow's reader could not take: each record
    read by its wire struct."""
    return pyarrow.RecordBatch.from_pylist(
        [decoder.wire_record(record) for record in records], schema=decoder.arrow
    )


@settings(max_examples=25, deadline=None)
@given(data=st.data(), size=st.integers(0, 30))
def test_contact_pages_read_record_by_record_convert_as_arrow_read_them(
    data: st.DataObject, size: int
) -> None:
    records = [data.draw(api_contacts(i + 1)) for i in range(size)]
    arrow = frames.contact_chunk(pyarrow.RecordBatch.from_pylist(records, schema=CONTACT_WIRE))
    assert frames.contact_chunk(wired(records, CONTACT_PAGES)).equals(arrow)
    assert arrow["phone_number"].to_pylist() == [r["phone_number"] for r in records]
    assert arrow["gender"].to_pylist() == [r["gender"] or None for r in records]


@settings(max_examples=25, deadline=None)
@given(data=st.data(), size=st.integers(0, 20))
def test_message_pages_read_record_by_record_convert_as_arrow_read_them(
    data: st.DataObject, size: int
) -> None:
    records = [data.draw(api_messages(i + 1)) for i in range(size)]
    convert = frames.message_chunk(ACCOUNT)
    arrow = convert(pyarrow.RecordBatch.from_pylist(records, schema=MESSAGE_WIRE))
    assert convert(wired(records, MESSAGE_PAGES)).equals(arrow)
    assert arrow["sender_type"].to_pylist() == [
        "birthday" if r["birthday_campaign"] else "campaign" if r["campaign_id"] else "adhoc"
        for r in records
    ]


@pytest.mark.parametrize(
    ("fixed", "named"),
    [(4, "Asia/Tbilisi"), (-5, "America/Bogota"), (5.75, "Asia/Kathmandu")],
)
def test_sent_local_is_the_same_on_a_fixed_offset_as_on_the_zone_that_keeps_it(
    fixed: float, named: str
) -> None:
    """An account whose zone was inferred has a fixed UTC offset, not a zone's name."""
    offset = timezone(timedelta(hours=fixed))
    moments = [datetime(2026, 3, 10, 23, 30, tzinfo=UTC), parse_timestamp(CREATED)]
    records = [message(i, format_timestamp(m, offset)) for i, m in enumerate(moments, 1)]
    by_offset = frames.messages_frame(records, offset)
    pd.testing.assert_frame_equal(by_offset, frames.messages_frame(records, ZoneInfo(named)))


@pytest.mark.parametrize(
    ("configured", "shown"),
    [(ZoneInfo("Asia/Tokyo"), "Asia/Tokyo"), (timezone(timedelta(hours=-5)), "-05:00")],
)
def test_messages_written_at_another_offset_than_the_configured_zone_are_refused(
    configured: ZoneInfo | timezone, shown: str
) -> None:
    """The account keeps Tbilisi's time (+04:00) and the client was given another zone:
    a day asked in that zone is not the account's day (its first hours never read, or
    rows outside it), so the messages say so, naming the offset they are written at."""
    records = [message(7, CREATED), message(8, "2026-06-01 12:00:00 +0400")]
    with pytest.raises(frames.FrameError) as refused:
        frames.messages_frame(records, configured)
    assert str(refused.value) == (
        f"messages.created_at is written at UTC+04:00, not at the offset {shown} has then "
        "(the account keeps another timezone than the one configured) for 2 record(s), "
        "ids [7, 8]"
    )
    frames.messages_frame(records, ZoneInfo("Asia/Tbilisi"))  # the account's own: read


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    sizes=st.lists(st.integers(0, 7), min_size=1, max_size=8),
    most=st.integers(0, 12),
)
def test_pages_convert_joined_in_order_as_each_would_alone(
    data: st.DataObject, sizes: list[int], most: int
) -> None:
    """``frames.tables``: pages that are all there (a list's) joined until they hold
    ``most`` rows, and the rows those tables hold are the rows of each page converted
    alone, in the listing's order."""
    pages: list[pyarrow.RecordBatch] = []
    first = 1
    for size in sizes:
        records = [data.draw(api_contacts(first + i)) for i in range(size)]
        first += size
        pages.append(pyarrow.RecordBatch.from_pylist(records, schema=CONTACT_WIRE))
    seen: list[pyarrow.Table] = []

    def convert(wire: pyarrow.Table) -> pyarrow.Table:
        seen.append(wire)
        return frames.contact_chunk(wire)

    converted = list(frames.tables(iter(pages), convert, rows=0, most=most))
    alone = [frames.contact_chunk(page) for page in pages]
    assert pyarrow.concat_tables(converted).equals(pyarrow.concat_tables(alone))
    for wire in seen:  # joined only until `most`: the last page joined (of 7 at most) reaches it
        assert wire.num_rows < max(most, 1) + 7


def wire_contact(id: int) -> dict[str, Any]:
    return {"id": id, "phone_number": "995555000001", "created_at": CREATED, "updated_at": CREATED}


class Arrivals:
    """A listing's window as a test sets it: which pages have arrived."""

    def __init__(self, there: set[int]) -> None:
        self.there = there

    def arrived(self, number: int) -> bool:
        return number in self.there


def test_pages_join_past_rows_only_while_the_next_has_arrived() -> None:
    """From a ``Listing``: at least ``rows`` rows per conversion, more while the next page
    is already there (a fast network), never more than ``most``."""
    pages = [
        pyarrow.RecordBatch.from_pylist(
            [wire_contact(10 * number + i + 1) for i in range(10)], schema=CONTACT_WIRE
        )
        for number in range(10)
    ]
    there = {1, 2, 3, 4, 5, 6, 9, 10}  # pages 7, 8 and 11 were still on their way
    listing = Listing(cast(Any, Arrivals(there)), (page for page in pages))
    joined = [t.num_rows for t in frames.tables(listing, frames.contact_chunk, rows=20, most=50)]
    # 1-5: 50 rows, the most; 6-7: 20 rows, page 8 not there; 8-10: page 11 not there
    assert joined == [50, 20, 30]


def test_a_value_of_the_wrong_type_is_read_field_by_field() -> None:
    stamp = "2026-01-10 09:30:00 +0400"
    record = {"id": "7", "phone_number": "995555000007", "created_at": stamp, "updated_at": stamp}
    frame = frames.contacts_frame([record])  # "7": not the contract's int, still readable
    assert frame["id"].tolist() == [7]


def test_text_from_a_generator_of_non_text_values_is_converted_once() -> None:
    column = frames.text(value for value in [7, "", None, "x"])  # e.g. a numeric title
    assert column.tolist() == ["7", pd.NA, pd.NA, "x"]
    assert str(column.dtype) == "string"


def test_one_value_sent_as_text_among_many_still_reads_every_record() -> None:
    stamp = "2026-01-10 09:30:00 +0400"
    records = [
        {
            "id": i,
            "phone_number": f"9955550{i:05d}",
            "additional_numbers": ["995555000001"] if i % 2 else [],
            "gender": "Female",
            "created_at": stamp,
            "updated_at": stamp,
        }
        for i in range(1, 1501)
    ]
    expected = frames.contacts_frame(records)
    records[1200] = {**records[1200], "id": "1201"}
    pd.testing.assert_frame_equal(frames.contacts_frame(iter(records)), expected)


def test_moments_land_as_their_instant_even_where_arrow_is_told_to_ignore_zones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Importing pandera sets PYARROW_IGNORE_TIMEZONE=1, with which Arrow reads an aware
    datetime's wall time as UTC: 10:00 in Tbilisi must still land as 06:00Z."""
    monkeypatch.setenv("PYARROW_IGNORE_TIMEZONE", "1")
    tbilisi = datetime(2026, 2, 1, 10, tzinfo=ZoneInfo("Asia/Tbilisi"))
    landed = frames.columns.moments([tbilisi, None], "campaigns", "start_at", [1, 2])
    assert landed[0] == pd.Timestamp("2026-02-01 06:00", tz="UTC")
    assert pd.isna(landed[1])


def test_certain_dates_are_in_time_order_and_utc() -> None:
    record = {
        "id": 1,
        "name": "c",
        "active": True,
        "schedule": {
            "type": "scheduled-certain-dates",
            "dates": "05/03/2026 10:00,01/03/2026 09:30",
        },
        "created_at": "2026-02-01 10:00:00 +0400",
        "updated_at": "2026-02-01 10:00:00 +0400",
    }
    frame = frames.campaigns_frame([Campaign.from_api(record, ZoneInfo("Asia/Tbilisi"))])
    assert list(frame["dates"][0]) == [
        datetime(2026, 3, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 3, 5, 6, 0, tzinfo=UTC),
    ]
