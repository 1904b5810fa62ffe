"""Seeded accounts: deterministic per seed, and full of the awkward data real accounts hold."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from itertools import combinations
from typing import Any

import pytest

from oneconnect_pipelines.simulator import SeedSizes

from .conftest import SMALL, Sim

#: A realistic account: a few hundred contacts and months of messages.
REALISTIC = SeedSizes(
    contacts=300, lists=8, campaigns=8, birthday_campaigns=3, messages=1500, titles=3, templates=5
)
COLLECTIONS = (
    "/contacts",
    "/lists",
    "/campaigns",
    "/birthday_campaigns",
    "/messages",
    "/titles",
    "/templates",
)
TEXT_FIELDS = ("email", "first_name", "last_name", "post_code", "city", "street", "gender")
SCHEDULE_TYPES = {
    "scheduled-recurring",
    "scheduled-certain-dates",
    "permanent-recurring",
    "permanent-certain-dates",
}


def snapshot(sim: Sim) -> dict[str, Any]:
    """Everything a client can read from the account."""
    state: dict[str, Any] = {}
    for path in COLLECTIONS:
        answer = sim.api.get(path)
        assert answer.status_code == 200, answer.text
        state[path] = answer.json()
    for path in ("/contacts_csv", "/lists_csv", "/titles_csv"):
        state[path] = sim.api.get(path).text
    state["/balance"] = sim.api.get("/balance").json()
    return state


@pytest.fixture(scope="module")
def realistic(running_sim: Sim) -> dict[str, Any]:
    """One realistic seeded account, read once for the checks below."""
    running_sim.reset(REALISTIC, seed=11)
    return snapshot(running_sim)


# ---------------------------------------------------------------- determinism
def test_same_seed_gives_identical_records(sim: Sim) -> None:
    sim.reset(SMALL, seed=3)
    first = snapshot(sim)
    sim.reset(SMALL, seed=3)
    assert snapshot(sim) == first
    assert all(first[path] for path in COLLECTIONS)


def test_same_seed_survives_other_activity_in_between(sim: Sim) -> None:
    sim.reset(SMALL, seed=5)
    first = snapshot(sim)
    sim.api.post("/contacts", data={"phone_number": "995599000123"})
    sim.api.delete("/lists/1")
    sim.reset(SMALL, seed=5)
    assert snapshot(sim) == first


def test_different_seeds_give_different_records(sim: Sim) -> None:
    sim.reset(SMALL, seed=3)
    first = snapshot(sim)
    sim.reset(SMALL, seed=4)
    second = snapshot(sim)
    for path in ("/contacts", "/lists", "/campaigns", "/messages"):
        assert first[path] != second[path], path
    # Same shape, different values.
    assert len(first["/contacts"]) == len(second["/contacts"]) == SMALL.contacts
    numbers = {c["phone_number"] for c in first["/contacts"]}
    assert numbers != {c["phone_number"] for c in second["/contacts"]}


def test_sizes_are_honoured(realistic: dict[str, Any]) -> None:
    assert len(realistic["/contacts"]) == 300
    assert len(realistic["/lists"]) == 8
    assert len(realistic["/campaigns"]) == 8
    assert len(realistic["/birthday_campaigns"]) == 3
    assert len(realistic["/messages"]) == 1500
    assert len(realistic["/titles"]) == 3
    assert len(realistic["/templates"]) == 5


# ---------------------------------------------------------------- contacts
def test_phone_numbers_are_unique_digit_strings_some_with_leading_zeros(
    realistic: dict[str, Any],
) -> None:
    numbers = [c["phone_number"] for c in realistic["/contacts"]]
    assert len(set(numbers)) == len(numbers)
    assert all(isinstance(n, str) and n.isdigit() for n in numbers)
    assert any(n.startswith("0") and not n.startswith("00") for n in numbers)
    assert any(n.startswith("00") for n in numbers)
    assert any(not n.startswith("0") for n in numbers)
    extra = [n for c in realistic["/contacts"] for n in c["additional_numbers"]]
    assert extra and all(n.isdigit() for n in extra)


def script_of(text: str) -> str:
    letter = next(ch for ch in text if ch.isalpha())
    return unicodedata.name(letter).split()[0]


def test_names_come_in_several_scripts(realistic: dict[str, Any]) -> None:
    names = [c["first_name"] for c in realistic["/contacts"]] + [
        c["last_name"] for c in realistic["/contacts"] if c["last_name"]
    ]
    scripts = {script_of(name) for name in names}
    assert {"LATIN", "GEORGIAN", "CYRILLIC", "GREEK", "ARABIC"} <= scripts
    assert any(not name.isascii() for name in names)
    assert any("'" in name for name in names)  # O'Brien, D'Angelo


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_text_fields_are_sometimes_null_and_sometimes_empty(
    realistic: dict[str, Any], field: str
) -> None:
    if field == "first_name":  # always given
        assert all(c[field] for c in realistic["/contacts"])
        return
    values = [c[field] for c in realistic["/contacts"]]
    assert None in values
    assert "" in values
    assert any(values)


def test_birthdays_include_29_february_and_nulls(realistic: dict[str, Any]) -> None:
    birthdays = [c["birthday"] for c in realistic["/contacts"]]
    assert None in birthdays
    leap = [b for b in birthdays if b and b.startswith("29/02/")]
    assert leap
    assert all(int(b[-4:]) % 4 == 0 for b in leap)
    assert all(len(b) == 10 and b[2] == b[5] == "/" for b in birthdays if b)


def test_genders_as_the_contract_spells_them(realistic: dict[str, Any]) -> None:
    assert {c["gender"] for c in realistic["/contacts"]} == {"Male", "Female", "", None}


# ---------------------------------------------------------------- lists
def test_lists_overlap_and_some_carry_noncontact_members(realistic: dict[str, Any]) -> None:
    lists = realistic["/lists"]
    members = {lst["id"]: {m["id"] for m in lst["members"]} for lst in lists}
    assert all(members.values())
    assert any(members[a] & members[b] for a, b in combinations(members, 2))
    assert any(members[a] != members[b] for a, b in combinations(members, 2))
    extras = [lst["noncontact_members"] for lst in lists]
    assert None in extras
    filled = [e for e in extras if e is not None]
    assert filled
    assert all(e["phone_number"] and all(n.isdigit() for n in e["phone_number"]) for e in filled)
    contacts = {c["id"]: c for c in realistic["/contacts"]}
    for lst in lists:
        for member in lst["members"]:
            assert member == contacts[member["id"]]


# ---------------------------------------------------------------- campaigns and messages
def test_campaigns_of_all_four_schedule_types(realistic: dict[str, Any]) -> None:
    campaigns = realistic["/campaigns"]
    assert {c["schedule"]["type"] for c in campaigns} == SCHEDULE_TYPES
    for campaign in campaigns:
        schedule = campaign["schedule"]
        permanent = schedule["type"].startswith("permanent")
        assert campaign["job_type"] == int(permanent)
        if "certain-dates" in schedule["type"]:
            assert set(schedule) == {"type", "dates"}
            assert schedule["dates"]
        else:
            assert set(schedule) == {"type", "date-range", "repeat"}
            assert len(schedule["date-range"].split(" - ")) == (1 if permanent else 2)
    lists = {lst["id"] for lst in realistic["/lists"]}
    assert all(set(c["recipients_list"]) <= lists for c in campaigns)
    assert all(set(c["recipient_lists"]) <= lists for c in realistic["/birthday_campaigns"])


def test_messages_in_every_final_status(realistic: dict[str, Any]) -> None:
    messages = realistic["/messages"]
    assert {m["final_status"] for m in messages} == {"delivered", "undelivered", "pending"}
    for message in messages:
        report = message["delivery_report"]
        if message["final_status"] == "delivered":
            assert report == {"status": "Delivered", "reason": "0"}
        elif message["final_status"] == "undelivered":
            assert report["status"] == "Undelivered"
            assert report["reason"] not in ("", "0")
        else:
            assert report["status"] == "Pending"
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)


def test_pending_messages_settle_as_time_passes(sim: Sim) -> None:
    sim.reset(REALISTIC, seed=11)
    pending = sim.api.get("/messages", params={"final_status": "pending"}).json()
    assert pending
    sim.advance(60)  # delivery reports take at most a minute
    settled = {m["id"]: m["final_status"] for m in sim.api.get("/messages").json()}
    assert {settled[m["id"]] for m in pending} <= {"delivered", "undelivered"}


def test_messages_of_campaigns_and_birthday_campaigns(realistic: dict[str, Any]) -> None:
    messages = realistic["/messages"]
    greetings = [m for m in messages if m["birthday_campaign"]]
    by_campaign = [m for m in messages if m["campaign_id"] and not m["birthday_campaign"]]
    assert greetings and by_campaign
    assert any(m["campaign_id"] == 0 for m in messages)


def test_a_seeded_campaigns_messages_agree_with_the_campaign(realistic: dict[str, Any]) -> None:
    """What an analyst joining messages to campaigns on the demo account sees: each
    message a campaign sent carries its content, went to a member of its lists (or one of
    its extra recipients) and was sent after the campaign was made; birthday greetings
    likewise with their birthday campaign."""
    members = {
        listed["id"]: {member["phone_number"] for member in listed["members"]}
        for listed in realistic["/lists"]
    }

    def senders(path: str, lists: str) -> dict[int, tuple[str, set[str], datetime]]:
        return {
            c["id"]: (
                c["content"],
                set().union(*(members[i] for i in c[lists]), split(c.get("recipients"))),
                datetime.fromisoformat(c["created_at"]),
            )
            for c in realistic[path]
        }

    campaigns = senders("/campaigns", "recipients_list")
    birthday_campaigns = senders("/birthday_campaigns", "recipient_lists")
    sent = [m for m in realistic["/messages"] if m["campaign_id"]]
    assert sent
    for message in sent:
        group = birthday_campaigns if message["birthday_campaign"] else campaigns
        content, numbers, created = group[message["campaign_id"]]
        assert message["sms"]["content"] == content
        assert message["sms"]["destination"] in numbers
        assert datetime.fromisoformat(message["created_at"]) >= created


def split(recipients: str | None) -> set[str]:
    return {number for number in (recipients or "").split(",") if number}


def test_the_simulator_reads_the_contract_on_its_own() -> None:
    """The simulator is the oracle the client is tested against: it shares none of the
    client's parsing (formats.py), so a misreading cannot hide on both sides."""
    import subprocess
    import sys

    probe = (
        "import sys, oneconnect_pipelines.simulator as s, oneconnect_pipelines.simulator.admin;"
        "s.build_app;"
        "print(sorted(m for m in sys.modules if m.startswith('oneconnect_pipelines')"
        " and not m.startswith('oneconnect_pipelines.simulator')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['oneconnect_pipelines']"
