"""``POST /messages``, ``GET /messages``, ``POST /group_sms`` and delivery-report callbacks."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.formats import format_birthday, parse_birthday

from .conftest import SMALL, Sim
from .sim_helpers import (
    BARE,
    Receiver,
    advance_to,
    assert_coded,
    assert_errors,
    assert_not_found,
    balance,
    callback_receiver,
    create_contact,
    destinations,
    local_now,
    messages,
    messages_after,
    newest_id,
    next_minute,
    request_time,
    stamp_of,
    wait_for,
    years_before,
)

OK_SENT = {"error_code": 0, "status": "OK", "message": "Message sent successfully."}


def send(sim: Sim, **fields: Any) -> Any:
    return sim.api.post("/messages", data=fields)


# ---------------------------------------------------------------- immediate sends
def test_send_to_destinations_records_one_pending_message_per_distinct_number(sim: Sim) -> None:
    last, before = newest_id(sim), balance(sim)
    answer = send(sim, destination="995511000001, 995511000002,995511000001", content="Hi there")
    assert answer.status_code == 200
    assert answer.json() == OK_SENT
    new = messages_after(sim, last)
    assert sorted(destinations(new)) == ["995511000001", "995511000002"]
    now = local_now(sim)
    for record in new:
        assert record["sms"] == {"destination": record["sms"]["destination"], "content": "Hi there"}
        assert record["campaign_id"] == 0
        assert record["birthday_campaign"] is False
        assert record["final_status"] == "pending"
        assert record["delivery_report"]["status"] == "Pending"
        assert abs((stamp_of(record) - now).total_seconds()) < 1
    assert balance(sim) == before - 2


def test_send_to_contacts_and_lists_reaches_each_number_once(sim: Sim) -> None:
    list_record = sim.api.get("/lists/3").json()  # the seed gives list 3 non-contacts
    member_numbers = {m["phone_number"] for m in list_record["members"]}
    noncontact = set((list_record["noncontact_members"] or {}).get("phone_number", []))
    first, second = sim.api.get("/contacts/1").json(), sim.api.get("/contacts/2").json()
    member = list_record["members"][0]["phone_number"]
    assert noncontact
    expected = member_numbers | noncontact | {first["phone_number"], second["phone_number"]}
    last, before = newest_id(sim), balance(sim)
    answer = send(
        sim,
        contacts=f"1, 2,{list_record['members'][0]['id']}",
        lists="3",
        destination=member,  # already a member: still one message
        content="Spring sale",
    )
    assert answer.json() == OK_SENT
    new = messages_after(sim, last)
    assert sorted(destinations(new)) == sorted(expected)
    assert {r["sms"]["content"] for r in new} == {"Spring sale"}
    assert balance(sim) == before - len(expected)


def test_phone_numbers_keep_their_leading_zeros(sim: Sim) -> None:
    last = newest_id(sim)
    send(sim, destination="0055512345678", content="zeros")
    assert destinations(messages_after(sim, last)) == ["0055512345678"]


def test_insufficient_balance_refuses_the_whole_send(sim: Sim) -> None:
    sim.admin.put("/account", json={"sms_balance": 2}).raise_for_status()
    last = newest_id(sim)
    answer = send(sim, destination="995511000001,995511000002,995511000003", content="x")
    assert_coded(answer, 1000)
    assert messages_after(sim, last) == []
    assert balance(sim) == 2
    assert send(sim, destination="995511000001,995511000002", content="x").json() == OK_SENT
    assert balance(sim) == 0
    assert_coded(send(sim, destination="995511000001", content="x"), 1000)
    assert len(messages_after(sim, last)) == 2


@pytest.mark.parametrize("content", [None, "", "   "])
def test_missing_content_is_1001(sim: Sim, content: str | None) -> None:
    fields = {"destination": "995511000001"}
    if content is not None:
        fields["content"] = content
    last = newest_id(sim)
    assert_coded(send(sim, **fields), 1001)
    assert messages_after(sim, last) == []


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"destination": "", "contacts": "", "lists": ""},
        {"title": "1"},
        {"destination": ","},  # separators only: nobody (it answered OK and sent nothing)
        {"lists": " , ", "contacts": ","},
    ],
)
def test_no_recipients_is_1002(sim: Sim, fields: dict[str, str]) -> None:
    last = newest_id(sim)
    assert_coded(send(sim, content="hello", **fields), 1002)
    assert messages_after(sim, last) == []


def test_scheduling_without_sms_date_is_1004(sim: Sim) -> None:
    last = newest_id(sim)
    assert_coded(send(sim, destination="995511000001", content="x", send_now="false"), 1004)
    advance_to(sim, next_minute(sim, 5))
    assert messages_after(sim, last) == []


@pytest.mark.parametrize(
    "sms_date",
    [
        "2030-01-05 10:00",
        "31.02.2030 10:00",
        "tomorrow",
        "5.5",
        "05/01/2030 10:00",  # how schedules read back, never a request's form
        "05.01/2030 10:00",
        "٠٥.٠١.٢٠٣٠ ١٠:٠٠",  # Arabic-Indic digits
    ],
)
def test_malformed_sms_date_is_1005(sim: Sim, sms_date: str) -> None:
    answer = send(sim, destination="995511000001", content="x", send_now="false", sms_date=sms_date)
    assert_coded(answer, 1005)


def test_sms_date_is_read_only_in_its_dotted_form(sim: Sim) -> None:
    due = next_minute(sim, 5)
    slashed = request_time(due).replace(".", "/")
    refused = send(sim, destination="995511000001", content="x", send_now="false", sms_date=slashed)
    assert_coded(refused, 1005)
    dotted = request_time(due)
    assert (
        send(sim, destination="995511000001", content="x", send_now="false", sms_date=dotted).json()
        == OK_SENT
    )


def test_sms_date_in_the_past_is_1005(sim: Sim) -> None:
    past = next_minute(sim, -2)
    answer = send(
        sim, destination="995511000001", content="x", send_now="false", sms_date=request_time(past)
    )
    assert_coded(answer, 1005)


@pytest.mark.parametrize("length", [160, 161])
def test_content_limit_is_160_characters(sim: Sim, length: int) -> None:
    last = newest_id(sim)
    answer = send(sim, destination="995511000001", content="ა" * length)
    if length <= 160:
        assert answer.json() == OK_SENT
        assert [r["sms"]["content"] for r in messages_after(sim, last)] == ["ა" * length]
    else:
        assert_coded(answer, 1010)
        assert messages_after(sim, last) == []


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.text(alphabet=st.sampled_from("abcXYZ019!?.,ბგდЖЯ€"), min_size=1, max_size=200))
def test_any_content_up_to_160_characters_is_sent_verbatim(running_sim: Sim, content: str) -> None:
    running_sim.reset(BARE)
    answer = send(running_sim, destination="995511000001", content=content)
    if len(content) <= 160:
        assert answer.json() == OK_SENT
        assert [r["sms"]["content"] for r in messages(running_sim)] == [content]
    else:
        assert_coded(answer, 1010)
        assert messages(running_sim) == []


@pytest.mark.parametrize(
    "number",
    ["٩٩٥٥١١٠٠٠٠٠١", "９９５５１１０００００１", "९९५५११०००००१", "99551100000１"],
)
def test_destinations_in_other_scripts_digits_are_refused(sim: Sim, number: str) -> None:
    last, before = newest_id(sim), balance(sim)
    errors = assert_errors(send(sim, destination=f"995511000001, {number}", content="x"))
    assert errors == ["Destination numbers at positions 2 are invalid"]
    assert messages_after(sim, last) == []
    assert balance(sim) == before


def test_unknown_recipients_are_refused(sim: Sim) -> None:
    last = newest_id(sim)
    errors = assert_errors(send(sim, contacts="99999", lists="888", content="x"))
    assert any("99999" in e for e in errors) and any("888" in e for e in errors)
    assert_errors(send(sim, destination="12ab", content="x"))
    assert messages_after(sim, last) == []


# ---------------------------------------------------------------- scheduled sends
def test_scheduled_send_appears_only_once_the_clock_passes_sms_date(sim: Sim) -> None:
    last, before = newest_id(sim), balance(sim)
    at = next_minute(sim, 30)
    answer = send(
        sim,
        destination="995511000001,995511000002",
        content="later",
        send_now="false",
        sms_date=request_time(at),
    )
    assert answer.json() == OK_SENT
    assert messages_after(sim, last) == []
    advance_to(sim, at - timedelta(seconds=1))
    assert messages_after(sim, last) == []
    advance_to(sim, at + timedelta(seconds=1))
    new = messages_after(sim, last)
    assert sorted(destinations(new)) == ["995511000001", "995511000002"]
    assert {stamp_of(r) for r in new} == {at}
    assert {r["sms"]["content"] for r in new} == {"later"}
    assert balance(sim) == before - 2


def test_scheduled_send_to_the_current_minute_is_accepted(sim: Sim) -> None:
    last = newest_id(sim)
    this_minute = next_minute(sim, 0)
    answer = send(
        sim,
        destination="995511000001",
        content="now-ish",
        send_now="false",
        sms_date=request_time(this_minute),
    )
    assert answer.json() == OK_SENT
    assert destinations(messages_after(sim, last)) == ["995511000001"]


def test_scheduling_with_no_balance_is_1000(sim: Sim) -> None:
    sim.admin.put("/account", json={"sms_balance": 0}).raise_for_status()
    at = request_time(next_minute(sim, 10))
    answer = send(sim, destination="995511000001", content="x", send_now="false", sms_date=at)
    assert_coded(answer, 1000)


# ---------------------------------------------------------------- delivery status
def test_pending_messages_settle_after_the_clock_moves(sim: Sim) -> None:
    last = newest_id(sim)
    numbers = ",".join(f"9955110000{n:02d}" for n in range(30))
    send(sim, destination=numbers, content="status")
    pending = messages_after(sim, last)
    assert {r["final_status"] for r in pending} == {"pending"}
    sim.advance(61)  # every delivery report is in within a minute
    settled = messages_after(sim, last)
    assert len(settled) == 30
    for before, after in zip(pending, settled, strict=True):
        assert after["final_status"] in ("delivered", "undelivered")
        assert after["created_at"] == before["created_at"]
        assert stamp_of(after, "updated_at") > stamp_of(before, "updated_at")
        assert after["delivery_report"]["status"] == after["final_status"].capitalize()
        if after["final_status"] == "delivered":
            assert after["delivery_report"]["reason"] == "0"
        else:
            assert after["delivery_report"]["reason"] not in ("", "0")
    assert "delivered" in {r["final_status"] for r in settled}


# ---------------------------------------------------------------- reading history
def test_get_message_by_id_and_404(sim: Sim) -> None:
    whole = messages(sim)
    record = whole[17]
    answer = sim.api.get(f"/messages/{record['id']}")
    assert answer.status_code == 200
    assert answer.json() == record
    assert_not_found(sim.api.get("/messages/999999"))


def test_filters_select_exactly_the_matching_messages(sim: Sim) -> None:
    whole = messages(sim)
    assert len(whole) == SMALL.messages
    for status in ("delivered", "undelivered", "pending"):
        expected = [r for r in whole if r["final_status"] == status]
        assert messages(sim, final_status=status) == expected
    campaign = next(r["campaign_id"] for r in whole if r["campaign_id"] and r["birthday_campaign"])
    assert messages(sim, campaign_id=0) == [r for r in whole if r["campaign_id"] == 0]
    assert messages(sim, birthday_campaign="true") == [r for r in whole if r["birthday_campaign"]]
    assert messages(sim, birthday_campaign="false") == [
        r for r in whole if not r["birthday_campaign"]
    ]
    by_birthday = messages(sim, campaign_id=campaign, birthday_campaign="true")
    assert by_birthday == [
        r for r in whole if r["campaign_id"] == campaign and r["birthday_campaign"]
    ]
    assert by_birthday
    # the id alone is the campaign's, never the birthday campaign's of the same number
    assert messages(sim, campaign_id=campaign) == [
        r for r in whole if r["campaign_id"] == campaign and not r["birthday_campaign"]
    ]


def test_date_filters_are_inclusive_and_combine(sim: Sim) -> None:
    at = next_minute(sim, 20)
    send(
        sim, destination="995511000001", content="edge", send_now="false", sms_date=request_time(at)
    )
    advance_to(sim, at + timedelta(minutes=5))
    whole = messages(sim)
    edge = [r for r in whole if r["sms"]["content"] == "edge"]
    assert [stamp_of(r) for r in edge] == [at]
    # Exactly at the boundary: included by both ends.
    assert messages(sim, start_date=request_time(at), end_date=request_time(at)) == edge
    assert edge[0] not in messages(sim, end_date=request_time(at - timedelta(minutes=1)))
    assert edge[0] not in messages(sim, start_date=request_time(at + timedelta(minutes=1)))
    middle = stamp_of(whole[len(whole) // 2])
    start = (middle - timedelta(days=10)).replace(second=0, microsecond=0)
    end = middle.replace(second=0, microsecond=0)
    expected = [r for r in whole if start <= stamp_of(r) <= end]
    assert expected
    assert messages(sim, start_date=request_time(start), end_date=request_time(end)) == expected
    assert messages(sim, start_date=request_time(start)) == [
        r for r in whole if stamp_of(r) >= start
    ]
    delivered = [r for r in expected if r["final_status"] == "delivered"]
    assert messages(
        sim,
        start_date=request_time(start),
        end_date=request_time(end),
        final_status="delivered",
        campaign_id=0,
    ) == [r for r in delivered if r["campaign_id"] == 0]


@pytest.mark.parametrize(
    "params",
    [
        {"final_status": "sent"},
        {"campaign_id": "abc"},
        {"birthday_campaign": "maybe"},
    ],
)
def test_bad_filter_values_are_refused(sim: Sim, params: dict[str, str]) -> None:
    assert_errors(sim.api.get("/messages", params=params))


HUGE = "99999999999999999999"  # beyond SQLite's 64-bit INTEGER


def test_ids_beyond_64_bits_are_404_not_500(sim: Sim) -> None:
    assert_not_found(sim.api.get(f"/messages/{HUGE}"))
    assert_not_found(sim.api.get(f"/messages/{2**63}"))


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"title": HUGE}, "title must be the id of a title"),
        ({"title": "-" + HUGE}, "title must be the id of a title"),
        ({"title": "١"}, "title must be the id of a title"),
        ({"contacts": f"1, {HUGE}"}, "contacts must be comma-separated ids"),
        ({"lists": str(2**63)}, "lists must be comma-separated ids"),
    ],
)
def test_integer_fields_beyond_64_bits_are_validation_errors(
    sim: Sim, fields: dict[str, str], error: str
) -> None:
    """Such a number names no record (and SQLite cannot hold it): the field is malformed,
    as ``abc`` would be, whether the send is immediate or scheduled."""
    sim.reset(BARE)
    later = {"send_now": "false", "sms_date": request_time(next_minute(sim, 5))}
    for scheduled in ({}, later):
        answer = send(sim, destination="995511000001", content="x", **fields, **scheduled)
        assert assert_errors(answer) == [error]
    advance_to(sim, next_minute(sim, 10))
    assert messages(sim) == []


@pytest.mark.parametrize("title", [HUGE, "١"])
def test_group_sms_title_beyond_64_bits_is_a_validation_error(sim: Sim, title: str) -> None:
    answer = sim.api.post("/group_sms", data={"content": "x", "genders": "male", "title": title})
    assert assert_errors(answer) == ["title must be the id of a title"]


@pytest.mark.parametrize("value", [HUGE, str(2**63), "-" + HUGE, "١"])
def test_campaign_id_filter_beyond_64_bits_is_a_validation_error(sim: Sim, value: str) -> None:
    answer = sim.api.get("/messages", params={"campaign_id": value})
    assert assert_errors(answer) == ["campaign_id must be an integer"]
    assert messages(sim, campaign_id=str(2**63 - 1)) == []


@pytest.mark.parametrize("name", ["start_date", "end_date"])
@pytest.mark.parametrize(
    "value", ["2024-01-01", "01/01/2024 10:00", "01.01.2024", "٠١.٠١.٢٠٢٤ ١٠:٠٠"]
)
def test_bad_dates_in_filters_are_1005(sim: Sim, name: str, value: str) -> None:
    assert_coded(sim.api.get("/messages", params={name: value}), 1005)


def test_history_is_trimmed_to_the_basic_plan_limit(sim: Sim) -> None:
    sim.reset(SMALL, plan="basic")
    whole = messages(sim)
    assert len(whole) == 100
    send(sim, destination="995511000001,995511000002,995511000003", content="newest")
    after = messages(sim)
    assert len(after) == 100
    assert [r["id"] for r in after] == [r["id"] for r in whole[3:]] + [r["id"] for r in after[-3:]]
    assert [r["sms"]["content"] for r in after[-3:]] == ["newest"] * 3
    assert_not_found(sim.api.get(f"/messages/{whole[0]['id']}"))


def test_moving_to_the_basic_plan_trims_the_history(sim: Sim) -> None:
    send(sim, destination="995511000001", content="before the downgrade")
    assert len(messages(sim)) == SMALL.messages + 1
    sim.admin.put("/account", json={"plan": "basic"}).raise_for_status()
    after = messages(sim)
    assert len(after) == 100
    assert after[-1]["sms"]["content"] == "before the downgrade"


# ---------------------------------------------------------------- group SMS
def group_account(sim: Sim) -> dict[str, tuple[str, int | None]]:
    """Contacts with known genders and ages: number -> (gender, age or None)."""
    sim.reset(BARE)
    today = local_now(sim).date()
    people: dict[str, tuple[str, int | None]] = {}
    specs: list[tuple[str, str, Any]] = [
        ("995522000001", "Male", years_before(today, 18)),  # 18 today
        ("995522000002", "Male", years_before(today + timedelta(days=1), 18)),  # 17
        ("995522000003", "Female", years_before(today, 30)),
        ("995522000004", "Female", years_before(today - timedelta(days=1), 45)),  # 45
        ("995522000005", "Male", years_before(today, 46)),
        ("995522000006", "Female", None),
        ("995522000007", "", years_before(today, 30)),
    ]
    for number, gender, birthday in specs:
        fields = {"gender": gender}
        if birthday is not None:
            fields["birthday"] = format_birthday(birthday)
        record = create_contact(sim, number, **fields)
        age = None
        if record["birthday"]:
            born = parse_birthday(record["birthday"])
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        people[number] = (gender, age)
    return people


@pytest.mark.parametrize(
    ("genders", "bounds"),
    [
        ("male", {}),
        ("female", {}),
        ("male, female", {}),
        ("Male,Female", {"age_from": "18"}),
        ("male,female", {"age_from": "18", "age_to": "45"}),
        ("female", {"age_to": "40"}),
    ],
)
def test_group_sms_selects_contacts_by_gender_and_age(
    sim: Sim, genders: str, bounds: dict[str, str]
) -> None:
    people = group_account(sim)
    wanted = {g.strip().capitalize() for g in genders.split(",")}
    low, high = int(bounds.get("age_from", 0)), bounds.get("age_to")
    expected = sorted(
        number
        for number, (gender, age) in people.items()
        if gender in wanted
        and (not bounds or (age is not None and age >= low and (high is None or age <= int(high))))
    )
    assert expected
    before = balance(sim)
    answer = sim.api.post("/group_sms", data={"content": "group", "genders": genders, **bounds})
    assert answer.status_code == 200
    assert answer.json() == {"error_code": 0, "status": "OK"}
    sent = messages(sim)
    assert sorted(destinations(sent)) == expected
    assert {r["sms"]["content"] for r in sent} == {"group"}
    assert {r["campaign_id"] for r in sent} == {0}
    assert balance(sim) == before - len(expected)


@pytest.mark.parametrize("genders", [None, "", "other", "male, robot", "males"])
def test_group_sms_with_bad_genders_is_2005(sim: Sim, genders: str | None) -> None:
    last = newest_id(sim)
    fields = {"content": "x"} | ({} if genders is None else {"genders": genders})
    assert_coded(sim.api.post("/group_sms", data=fields), 2005)
    assert messages_after(sim, last) == []


def test_group_sms_without_content_is_1001(sim: Sim) -> None:
    assert_coded(sim.api.post("/group_sms", data={"genders": "male"}), 1001)


def test_group_sms_beyond_the_balance_is_1000(sim: Sim) -> None:
    group_account(sim)
    sim.admin.put("/account", json={"sms_balance": 1}).raise_for_status()
    assert_coded(sim.api.post("/group_sms", data={"content": "x", "genders": "male"}), 1000)
    assert messages(sim) == []


# ---------------------------------------------------------------- delivery reports
def test_delivery_reports_are_posted_only_for_messages_with_a_reference(sim: Sim) -> None:
    with callback_receiver() as receiver:
        sim.admin.put("/account", json={"callback_url": receiver.url}).raise_for_status()
        last = newest_id(sim)
        send(sim, destination="995533000001,995533000002", content="tracked", reference="ord-7")
        send(sim, destination="995533000003", content="untracked")
        sim.advance(61)
        settled = {r["sms"]["destination"]: r for r in messages_after(sim, last)}
        assert all(r["final_status"] != "pending" for r in settled.values())
        assert wait_for(
            lambda: len(receiver.received) >= 2, poke=lambda: sim.api.get("/balance")
        ), receiver.received
        time.sleep(0.3)  # a third (wrong) report would have been sent with the others
        got = sorted(receiver.received, key=lambda r: r.form["destination"])
    assert [r.form["destination"] for r in got] == ["995533000001", "995533000002"]
    for report in got:
        message = settled[report.form["destination"]]
        assert report.path == "/reports"
        assert report.content_type.startswith("application/x-www-form-urlencoded")
        assert report.form == {
            "reference": "ord-7",
            "status": message["delivery_report"]["status"],
            "reason": message["delivery_report"]["reason"],
            "destination": message["sms"]["destination"],
        }
    log = sim.admin.get("/callbacks").json()
    assert len(log) == 2
    assert {entry["url"] for entry in log} == {receiver.url}
    assert {entry["status"] for entry in log} == {200}
    assert {entry["form"]["reference"] for entry in log} == {"ord-7"}


def test_no_delivery_reports_without_a_callback_url(sim: Sim) -> None:
    send(sim, destination="995533000001", content="tracked", reference="ord-8")
    sim.advance(61)
    sim.api.get("/balance")
    assert sim.admin.get("/callbacks").json() == []


def reports_by_destination(receiver: Receiver, count: int, poke: Any) -> dict[str, dict[str, str]]:
    """The reports received once ``count`` have come in, by destination; each exactly once."""
    assert wait_for(lambda: len(receiver.received) >= count, poke=poke), len(receiver.received)
    time.sleep(0.3)  # a duplicate would have been sent with the others
    forms = [r.form for r in receiver.received]
    by_destination = {form["destination"]: form for form in forms}
    assert len(forms) == len(by_destination) == count
    return by_destination


def test_a_message_undelivered_for_want_of_balance_is_reported_too(sim: Sim) -> None:
    sim.reset(BARE, sms_balance=1)
    with callback_receiver() as receiver:
        sim.admin.put("/account", json={"callback_url": receiver.url}).raise_for_status()
        due = request_time(next_minute(sim, 2))
        scheduled = send(
            sim,
            destination="995533000001, 995533000002",
            content="tracked",
            send_now="false",
            sms_date=due,
            reference="ord-9",
        )
        assert scheduled.json() == OK_SENT
        sim.advance(3600)
        got = reports_by_destination(receiver, 2, poke=lambda: sim.api.get("/balance"))
    sent = {r["sms"]["destination"]: r for r in messages(sim)}
    assert sent["995533000002"]["delivery_report"] == {
        "status": "Undelivered",
        "reason": "Insufficient balance",
    }
    for number, message in sent.items():
        assert got[number] == {
            "reference": "ord-9",
            "status": message["delivery_report"]["status"],
            "reason": message["delivery_report"]["reason"],
            "destination": number,
        }
    assert len(sim.admin.get("/callbacks").json()) == 2


def test_trimming_the_history_loses_no_delivery_report(sim: Sim) -> None:
    sim.reset(BARE, plan="basic")
    numbers = [f"9955330{n:05d}" for n in range(120)]
    with callback_receiver() as receiver:
        sim.admin.put("/account", json={"callback_url": receiver.url}).raise_for_status()
        answer = send(sim, destination=",".join(numbers), content="batch", reference="batch-7")
        assert answer.json() == OK_SENT
        kept = messages(sim)
        assert len(kept) == 100  # the 20 oldest left the history at once, still pending
        sim.advance(61)
        got = reports_by_destination(receiver, 120, poke=lambda: sim.api.get("/balance"))
    assert sorted(got) == numbers
    settled = {r["sms"]["destination"]: r["delivery_report"] for r in messages(sim)}
    assert len(settled) == 100
    for number, report in got.items():
        assert report["reference"] == "batch-7"
        assert report["status"] in ("Delivered", "Undelivered")
        if number in settled:
            assert {"status": report["status"], "reason": report["reason"]} == settled[number]
    assert len(sim.admin.get("/callbacks").json()) == 120
