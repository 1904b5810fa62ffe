"""The compiled contact builder is built, and builds exactly what the Python reference
(``Contact._from_wire``) builds, or fails exactly as it does, for any wire values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.client import models
from oneconnect_pipelines.client.models import Contact, _ContactWire

#: Odd shapes next to the usual one, each of which the reference parses or rejects.
ODD_STAMPS = st.sampled_from(
    [
        "2026-02-29 10:00:00 +0400",  # no such day
        "2026-12-01 24:00:00 +0400",
        "2026-12-01 10:00:60 +0400",  # a leap second
        "2026-12-01 10:00:00 +0460",
        "0000-12-01 10:00:00 +0400",
        "0001-01-01 00:00:00 +0100",  # before year 1 in UTC
        "9999-12-31 23:59:59 -0100",  # after 9999 in UTC
        "2026-12-01T10:00:00 +0400",
        "2026-12-01 10:00:00+0400",
        " 2026-12-01 10:00:00 +0400 ",
        "2026-12-01 10:00:00 +04:00",
        "2026-12-01 10:00:00 \u22120400",  # a minus sign that is not ASCII
        "2026-12-01 10:00:00 +٠٤٠٠",  # Arabic-Indic digits
        "2026-1-01 10:00:00 +04000",
        "",
        "soon",
    ]
)
ODD_BIRTHDAYS = st.sampled_from(
    [
        *("29.02.2023", "31/04/1990", "17.05/1989", "17-05-1989", "00.05.1989", "17.05.0000"),
        *(" 17.05.1989", "7.5.1989", "17.05.١٩٨٩", "1989-05-17", "later", "x" * 10),
    ]
)


@st.composite
def usual_stamps(draw: st.DrawFn, max_hours: int = 99) -> str:
    """``YYYY-MM-DD HH:MM:SS ±HHMM`` for any moment and any offset up to ``max_hours``:59."""
    moment = draw(st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)))
    minutes = draw(st.integers(0, max_hours * 60 + 59))
    sign = draw(st.sampled_from("+-"))
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"  # %Y does not pad
    return f"{day} {moment:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d}"


STAMPS = st.one_of(usual_stamps(), ODD_STAMPS)
BIRTHDAYS = st.one_of(
    st.none(),
    st.just(""),
    st.builds(
        lambda day, sep: f"{day.day:02d}{sep}{day.month:02d}{sep}{day.year:04d}",
        st.dates(),
        st.sampled_from("./"),
    ),
    ODD_BIRTHDAYS,
)
TEXT = st.one_of(st.none(), st.just(""), st.text(max_size=8))


@st.composite
def wires(draw: st.DrawFn) -> _ContactWire:
    created = draw(STAMPS)
    return _ContactWire(
        id=draw(st.integers(1, 10**9)),
        phone_number=draw(st.from_regex(r"\A[0-9]{9,12}\Z")),
        email=draw(TEXT),
        first_name=draw(TEXT),
        last_name=draw(TEXT),
        birthday=draw(BIRTHDAYS),
        post_code=draw(TEXT),
        city=draw(TEXT),
        street=draw(TEXT),
        additional_numbers=draw(st.one_of(st.none(), st.tuples(), st.tuples(st.text()))),
        gender=draw(st.sampled_from(["Male", "Female", "", None])),
        created_at=created,
        updated_at=draw(st.one_of(st.just(created), STAMPS)),
    )


def outcome(build: Any, wire: _ContactWire) -> tuple[str, Any]:
    """What building one wire gives: the record's fields, or the error raised."""
    try:
        (contact,) = build([wire])
    except Exception as exc:
        return "error", (type(exc), str(exc))
    return "built", msgspec.structs.asdict(contact)


def reference(wires: list[_ContactWire]) -> list[Contact]:
    return list(map(Contact._from_wire, wires))


def test_the_compiled_builder_is_built_and_used() -> None:
    # pip install (the README's setup) compiles _contact_builder.pyx; without it, contact
    # listings fall back to the reference at several times the CPU.
    assert models.COMPILED_BUILDER
    assert models.CONTACT_PAGES._build_page is models.build_contacts


@settings(max_examples=600, deadline=None)
@given(wire=wires())
@example(wire=_ContactWire(id=1, phone_number="995", created_at="", updated_at=""))
def test_compiled_and_reference_agree_on_any_wire(wire: _ContactWire) -> None:
    assert outcome(models.build_contacts, wire) == outcome(reference, wire)


@settings(max_examples=300, deadline=None)
@given(stamp=usual_stamps(max_hours=23), data=st.data())
def test_usual_timestamps_are_the_moment_strptime_reads(stamp: str, data: st.DataObject) -> None:
    # strptime's %z reads offsets up to 23:59: within that, and a day away from the ends
    # of datetime's range, it is the independent oracle.
    assume(datetime(1, 1, 2) <= datetime.strptime(stamp[:10], "%Y-%m-%d") <= datetime(9999, 12, 30))
    updated = data.draw(st.sampled_from([stamp, "2026-12-01 10:00:00 +0400"]))
    wire = _ContactWire(id=1, phone_number="995", created_at=stamp, updated_at=updated)
    (contact,) = models.build_contacts([wire])
    assert contact.created_at == datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S %z")
    assert contact.created_at.tzinfo is UTC
    assert (contact.updated_at is contact.created_at) is (updated == stamp)  # read once


def test_without_the_compiled_builder_pages_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    body = msgspec.json.encode(
        [
            {
                "id": 1,
                "phone_number": "995555000001",
                "birthday": "17/05/1989",
                "city": "",
                "created_at": "2026-12-01 10:00:00 +0400",
                "updated_at": "2026-12-02 10:00:00 -0130",
            },
        ]
    )
    compiled = models.CONTACT_PAGES(body)
    monkeypatch.setattr(models, "_compiled_builder", None)  # as where it is not built
    assert models.CONTACT_PAGES(body) == compiled
    assert compiled[0].city is None and compiled[0].birthday == date(1989, 5, 17)
