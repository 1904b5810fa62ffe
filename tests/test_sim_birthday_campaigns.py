"""``/birthday_campaigns``: CRUD, error 4020, and greetings sent on members' birthdays."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from oneconnect_pipelines.formats import birthday_in_year, format_birthday

from .conftest import TZ, Sim
from .sim_helpers import (
    BARE,
    advance_to,
    assert_coded,
    assert_errors,
    assert_not_found,
    create_contact,
    create_list,
    local_now,
    messages,
    set_clock,
    stamp_of,
)


def create(sim: Sim, **fields: Any) -> Any:
    data = {"name": "Greetings", "content": "Happy birthday!", **fields}
    return sim.api.post(
        "/birthday_campaigns", data={k: v for k, v in data.items() if v is not None}
    )


def created(sim: Sim, **fields: Any) -> dict[str, Any]:
    answer = create(sim, **fields)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


# ---------------------------------------------------------------- CRUD
def test_create_reads_back_every_field(sim: Sim) -> None:
    title = sim.api.get("/titles/1").json()
    record = created(
        sim, name="VIP", content="Cheers", recipient_lists="2, 1", title=title["id"], active="0"
    )
    assert {k: record[k] for k in ("name", "content", "recipient_lists", "title", "active")} == {
        "name": "VIP",
        "content": "Cheers",
        "recipient_lists": [2, 1],
        "title": title["name"],
        "active": False,
    }
    assert sim.api.get(f"/birthday_campaigns/{record['id']}").json() == record
    assert record in sim.api.get("/birthday_campaigns").json()


def test_defaults_active_no_lists_and_empty_title(sim: Sim) -> None:
    record = created(sim)
    assert record["active"] is True
    assert record["recipient_lists"] == []
    assert record["title"] == ""


@pytest.mark.parametrize("lists", ["999", "1, 999", "abc"])
def test_unknown_list_ids_are_4020(sim: Sim, lists: str) -> None:
    before = sim.api.get("/birthday_campaigns").json()
    assert_coded(create(sim, recipient_lists=lists), 4020)
    assert sim.api.get("/birthday_campaigns").json() == before
    record = before[0]
    answer = sim.api.patch(f"/birthday_campaigns/{record['id']}", data={"recipient_lists": lists})
    assert_coded(answer, 4020)
    assert sim.api.get(f"/birthday_campaigns/{record['id']}").json() == record


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, ["Name can't be blank"]),
        ({"content": None}, ["Content can't be blank"]),
        ({"name": None, "content": ""}, ["Name can't be blank", "Content can't be blank"]),
        ({"title": "99"}, ["Title not found"]),
    ],
)
def test_invalid_fields_answer_errors(
    sim: Sim, fields: dict[str, Any], expected: list[str]
) -> None:
    assert assert_errors(create(sim, **fields)) == expected


def test_active_filter(sim: Sim) -> None:
    created(sim, name="off", active="false")
    created(sim, name="on", active="true")
    whole = sim.api.get("/birthday_campaigns").json()
    for value, flag in (("true", True), ("false", False), ("1", True), ("0", False)):
        chosen = sim.api.get("/birthday_campaigns", params={"active": value}).json()
        assert chosen == [c for c in whole if c["active"] is flag]
        assert chosen
    assert_errors(sim.api.get("/birthday_campaigns", params={"active": "perhaps"}))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "Renamed"}, {"name": "Renamed"}),
        ({"content": "New greeting"}, {"content": "New greeting"}),
        ({"active": "false"}, {"active": False}),
        ({"recipient_lists": "3"}, {"recipient_lists": [3]}),
        ({"title": "1"}, {"title": "OneShop"}),
        ({"name": "Two", "recipient_lists": "1,2"}, {"name": "Two", "recipient_lists": [1, 2]}),
    ],
)
def test_patch_changes_only_the_fields_sent(
    sim: Sim, change: dict[str, str], expected: dict[str, Any]
) -> None:
    original = created(sim, recipient_lists="4")
    sim.advance(5)
    answer = sim.api.patch(f"/birthday_campaigns/{original['id']}", data=change)
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert {**original, **expected, "updated_at": record["updated_at"]} == record
    assert stamp_of(record, "updated_at") > stamp_of(original, "updated_at")
    assert sim.api.get(f"/birthday_campaigns/{original['id']}").json() == record


def test_patch_on_the_bare_path_and_404(sim: Sim) -> None:
    original = created(sim)
    answer = sim.api.patch("/birthday_campaigns", data={"id": original["id"], "content": "Bare"})
    assert answer.status_code == 200
    assert answer.json()["content"] == "Bare"
    assert_not_found(sim.api.patch("/birthday_campaigns/9999", data={"name": "x"}))
    assert_not_found(sim.api.get("/birthday_campaigns/9999"))


def test_delete_answers_the_envelope_then_404(sim: Sim) -> None:
    record = created(sim)
    answer = sim.api.delete(f"/birthday_campaigns/{record['id']}")
    assert answer.status_code == 200
    assert answer.json() == {
        "error_code": 0,
        "status": "OK",
        "message": "Birthday Campaign deleted.",
    }
    assert_not_found(sim.api.get(f"/birthday_campaigns/{record['id']}"))
    assert_not_found(sim.api.delete(f"/birthday_campaigns/{record['id']}"))


# ---------------------------------------------------------------- greetings
def birthday_on(day: date, year: int) -> str:
    """A birthday on ``day``'s date in ``year`` (29 February becomes 28 February)."""
    return format_birthday(birthday_in_year(day, year))


def greetings(sim: Sim, campaign_id: int) -> list[dict[str, Any]]:
    return messages(sim, campaign_id=campaign_id, birthday_campaign="true")


def test_members_are_greeted_at_ten_on_their_birthday(sim: Sim) -> None:
    sim.reset(BARE)
    today = local_now(sim).date()
    tomorrow = today + timedelta(days=1)
    if (tomorrow.month, tomorrow.day) == (2, 29):  # keep the test about ordinary days
        tomorrow += timedelta(days=1)
    later = tomorrow + timedelta(days=3)
    ann = create_contact(sim, "995566000001", birthday=birthday_on(tomorrow, 1990))
    bob = create_contact(sim, "995566000002", birthday=birthday_on(tomorrow, 1975))
    cat = create_contact(sim, "995566000003", birthday=birthday_on(later, 1990))
    dan = create_contact(sim, "995566000004")  # no birthday
    eve = create_contact(sim, "995566000005", birthday=birthday_on(tomorrow, 1991))  # not a member
    members = create_list(sim, "Members", [ann["id"], bob["id"], cat["id"], dan["id"]])
    other = create_list(sim, "Others", [eve["id"]])
    campaign = created(sim, content="Happy birthday, friend!", recipient_lists=str(members["id"]))
    quiet = created(sim, name="Off", active="false", recipient_lists=str(members["id"]))
    created(sim, name="Elsewhere", recipient_lists=str(other["id"]), active="false")
    ten = datetime.combine(tomorrow, time(10, 0), tzinfo=TZ)
    advance_to(sim, ten - timedelta(minutes=1))
    assert greetings(sim, campaign["id"]) == []
    advance_to(sim, ten + timedelta(minutes=1))
    sent = greetings(sim, campaign["id"])
    assert sorted(r["sms"]["destination"] for r in sent) == ["995566000001", "995566000002"]
    for record in sent:
        assert record["campaign_id"] == campaign["id"]
        assert record["birthday_campaign"] is True
        assert record["sms"]["content"] == "Happy birthday, friend!"
        assert stamp_of(record) == ten
    assert messages(sim) == sent  # nobody else, and nothing from the inactive campaigns
    assert greetings(sim, quiet["id"]) == []
    advance_to(sim, datetime.combine(later, time(10, 5), tzinfo=TZ))
    assert sorted(r["sms"]["destination"] for r in greetings(sim, campaign["id"])) == [
        "995566000001",
        "995566000002",
        "995566000003",
    ]


def test_inactive_campaign_sends_nothing_and_resumes_when_activated(sim: Sim) -> None:
    sim.reset(BARE)
    start = local_now(sim).date() + timedelta(days=1)
    days = [start + timedelta(days=n) for n in range(3)]
    people = [
        create_contact(sim, f"99556700000{n}", birthday=birthday_on(day, 1980 + n))
        for n, day in enumerate(days)
        if (day.month, day.day) != (2, 29)
    ]
    members = create_list(sim, "All", [p["id"] for p in people])
    campaign = created(sim, active="false", recipient_lists=str(members["id"]))
    advance_to(sim, datetime.combine(days[1], time(12, 0), tzinfo=TZ))
    assert messages(sim) == []
    sim.api.patch(f"/birthday_campaigns/{campaign['id']}", data={"active": "1"}).raise_for_status()
    advance_to(sim, datetime.combine(days[2], time(12, 0), tzinfo=TZ))
    sent = greetings(sim, campaign["id"])
    assert [r["sms"]["destination"] for r in sent] == [people[-1]["phone_number"]]


def next_non_leap_february(sim: Sim) -> int:
    """The first year whose 27 February noon is still ahead and that is not a leap year."""
    now = local_now(sim)
    year = now.year
    while calendar.isleap(year) or datetime(year, 2, 27, 12, 0, tzinfo=TZ) <= now:
        year += 1
    return year


def test_29_february_birthdays_are_greeted_on_28_february_in_non_leap_years(sim: Sim) -> None:
    sim.reset(BARE)
    year = next_non_leap_february(sim)
    set_clock(sim, datetime(year, 2, 27, 12, 0, tzinfo=TZ))
    leapling = create_contact(sim, "995568000001", birthday="29.02.2000")
    feb28 = create_contact(sim, "995568000002", birthday="28.02.1990")
    march1 = create_contact(sim, "995568000003", birthday="01.03.1990")
    members = create_list(sim, "Feb", [leapling["id"], feb28["id"], march1["id"]])
    campaign = created(sim, recipient_lists=str(members["id"]))
    advance_to(sim, datetime(year, 2, 28, 10, 1, tzinfo=TZ))
    sent = greetings(sim, campaign["id"])
    assert sorted(r["sms"]["destination"] for r in sent) == ["995568000001", "995568000002"]
    assert {stamp_of(r) for r in sent} == {datetime(year, 2, 28, 10, 0, tzinfo=TZ)}
    advance_to(sim, datetime(year, 3, 1, 10, 1, tzinfo=TZ))
    later = [r for r in greetings(sim, campaign["id"]) if r not in sent]
    assert [r["sms"]["destination"] for r in later] == ["995568000003"]  # not the leapling again


def test_a_new_timezone_moves_the_greetings_to_ten_there_once(sim: Sim) -> None:
    """The account moves from Tbilisi to New York the day before a member's birthday: one
    greeting, at 10:00 New York time (the old 10:00 Tbilisi was kept as well: two)."""
    sim.reset(BARE)
    today = local_now(sim).date() + timedelta(days=1)
    if (today.month, today.day) in ((2, 28), (2, 29)):
        today += timedelta(days=2)
    set_clock(sim, datetime.combine(today, time(12, 0), tzinfo=TZ))  # night in New York
    tomorrow = today + timedelta(days=1)  # 10:00 in Tbilisi is night in New York
    ann = create_contact(sim, "995566000001", birthday=birthday_on(tomorrow, 1990))
    members = create_list(sim, "Members", [ann["id"]])
    campaign = created(sim, recipient_lists=str(members["id"]))
    sim.admin.put("/account", json={"timezone": "America/New_York"}).raise_for_status()
    new_york = ZoneInfo("America/New_York")
    advance_to(sim, datetime.combine(tomorrow + timedelta(days=2), time(12, 0), tzinfo=new_york))
    sent = greetings(sim, campaign["id"])
    assert len(sent) == 1
    assert stamp_of(sent[0]) == datetime.combine(tomorrow, time(10, 0), tzinfo=new_york)
