"""``/campaigns``: the four schedule types, their error codes, and sending as time passes."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.formats import add_months

from .conftest import EMPTY, TZ, Sim
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
    next_minute,
    request_time,
    schedule_time,
    set_clock,
    stamp_of,
)

TYPES = {
    "scheduled-recurring": (0, 0),
    "scheduled-certain-dates": (0, 1),
    "permanent-recurring": (1, 0),
    "permanent-certain-dates": (1, 1),
}


def create(sim: Sim, **fields: Any) -> Any:
    data = {"name": "Promo", "content": "Big sale", **fields}
    return sim.api.post("/campaigns", data={k: v for k, v in data.items() if v is not None})


def created(sim: Sim, **fields: Any) -> dict[str, Any]:
    answer = create(sim, **fields)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def kind_fields(kind: str, dates: str, repeat: str | None = None) -> dict[str, Any]:
    job_type, campaign_type = TYPES[kind]
    return {"job_type": job_type, "campaign_type": campaign_type, "dates": dates, "repeat": repeat}


# ---------------------------------------------------------------- creating and reading
def test_each_schedule_type_reads_back_in_its_documented_shape(sim: Sim) -> None:
    start = next_minute(sim, 60)
    end = start + timedelta(days=30)
    second = start + timedelta(days=3, hours=2)
    cases: list[tuple[dict[str, Any], dict[str, Any], int]] = [
        (
            kind_fields(
                "scheduled-recurring", f"{request_time(start)} - {request_time(end)}", "2 days"
            ),
            {
                "type": "scheduled-recurring",
                "date-range": f"{schedule_time(start)} - {schedule_time(end)}",
                "repeat": "2 days",
            },
            0,
        ),
        (
            kind_fields(
                "scheduled-certain-dates", f"{request_time(second)}, {request_time(start)}"
            ),
            {
                "type": "scheduled-certain-dates",
                "dates": [schedule_time(start), schedule_time(second)],
            },
            0,
        ),
        (
            kind_fields("permanent-recurring", request_time(start), "1 week"),
            {"type": "permanent-recurring", "date-range": schedule_time(start), "repeat": "1 week"},
            1,
        ),
        (
            kind_fields("permanent-certain-dates", f"{request_time(start)},{request_time(second)}"),
            {
                "type": "permanent-certain-dates",
                "dates": [schedule_time(start), schedule_time(second)],
            },
            1,
        ),
    ]
    for fields, schedule, job_type in cases:
        record = created(sim, name=f"c {schedule['type']}", recipients="995544000001", **fields)
        assert record["schedule"] == schedule
        assert record["job_type"] == job_type
        assert record["completed"] is (None if job_type == 1 else False)
        assert record["active"] is True
        assert record["recipients"] == "995544000001"
        assert record["recipients_list"] == []
        assert record["title"] is None
        assert sim.api.get(f"/campaigns/{record['id']}").json() == record
        assert record in sim.api.get("/campaigns").json()


def test_campaign_fields_read_back(sim: Sim) -> None:
    title = sim.api.get("/titles/1").json()
    record = created(
        sim,
        name="Full",
        content="All the fields",
        recipients="995544000001, 0555123456",
        recipients_list="2, 1",
        title=title["id"],
        active="false",
        **kind_fields("permanent-recurring", request_time(next_minute(sim, 5)), "3 months"),
    )
    assert record["name"] == "Full"
    assert record["content"] == "All the fields"
    assert record["recipients"] == "995544000001,0555123456"
    assert record["recipients_list"] == [2, 1]
    assert record["title"] == title["name"]
    assert record["active"] is False
    assert record["schedule"]["repeat"] == "3 months"


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    count=st.integers(min_value=1, max_value=99),
    period=st.sampled_from(["day", "week", "month", "year"]),
    plural=st.booleans(),
    upper=st.booleans(),
)
def test_valid_repeats_are_accepted_and_read_back_normalised(
    running_sim: Sim, count: int, period: str, plural: bool, upper: bool
) -> None:
    running_sim.reset(EMPTY)
    text = f"{count} {period}{'s' if plural else ''}"
    record = created(
        running_sim,
        **kind_fields(
            "permanent-recurring",
            request_time(next_minute(running_sim, 5)),
            text.upper() if upper else text,
        ),
    )
    assert record["schedule"]["repeat"] == f"{count} {period}{'s' if count != 1 else ''}"


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.sampled_from(["0 days", "-1 days", "2 fortnights", "days", "2", "two days", "1.5 days"]),
        st.text(alphabet="abcxyz -_.", min_size=1, max_size=12).filter(str.strip),
    )
)
def test_invalid_repeats_are_3013(running_sim: Sim, text: str) -> None:
    running_sim.reset(EMPTY)
    answer = create(
        running_sim,
        **kind_fields("permanent-recurring", request_time(next_minute(running_sim, 5)), text),
    )
    assert_coded(answer, 3013)
    assert running_sim.api.get("/campaigns").json() == []


# ---------------------------------------------------------------- errors
def test_schedule_errors_carry_their_codes(sim: Sim) -> None:
    start, end = next_minute(sim, 10), next_minute(sim, 10 + 60 * 24)
    span = f"{request_time(start)} - {request_time(end)}"
    before = sim.api.get("/campaigns").json()
    cases: list[tuple[dict[str, Any], int]] = [
        (kind_fields("scheduled-recurring", span, None), 3010),
        (kind_fields("scheduled-recurring", "", "1 day"), 3010),
        ({**kind_fields("permanent-recurring", "", "1 day"), "dates": None}, 3010),
        (kind_fields("scheduled-certain-dates", ""), 3010),
        (kind_fields("permanent-certain-dates", ""), 3010),
        (kind_fields("scheduled-certain-dates", "32.01.2031 10:00"), 3011),
        (kind_fields("permanent-certain-dates", f"{request_time(start)}, soon"), 3011),
        (
            kind_fields(
                "scheduled-recurring", f"{request_time(end)} - {request_time(start)}", "1 day"
            ),
            3011,
        ),
        (kind_fields("scheduled-recurring", "2031-01-01 - 2031-02-01", "1 day"), 3011),
        (kind_fields("permanent-recurring", span, "1 day"), 3011),
        (kind_fields("scheduled-recurring", request_time(start), "1 day"), 3012),
        (kind_fields("scheduled-recurring", span, "every day"), 3013),
        (kind_fields("permanent-recurring", request_time(start), "0 weeks"), 3013),
        (
            {
                **kind_fields("permanent-recurring", request_time(start), "1 day"),
                "recipients_list": "1, 999",
            },
            3020,
        ),
        (
            {
                **kind_fields("permanent-recurring", request_time(start), "1 day"),
                "recipients_list": "x",
            },
            3020,
        ),
    ]
    for fields, code in cases:
        assert_coded(create(sim, **fields), code)
    assert sim.api.get("/campaigns").json() == before


@pytest.mark.parametrize("kind", list(TYPES))
def test_dates_in_the_read_back_slash_form_are_3011(sim: Sim, kind: str) -> None:
    """Requests carry ``DD.MM.YYYY HH:MM``; ``DD/MM/YYYY HH:MM`` is only how schedules read
    back, and a client that echoes it must learn so at once."""
    start, end = next_minute(sim, 10), next_minute(sim, 10 + 60 * 24)
    dotted = {
        "scheduled-recurring": f"{request_time(start)} - {request_time(end)}",
        "scheduled-certain-dates": f"{request_time(start)}, {request_time(end)}",
        "permanent-recurring": request_time(start),
        "permanent-certain-dates": request_time(start),
    }[kind]
    repeat = "1 day" if "recurring" in kind else None
    before = sim.api.get("/campaigns").json()
    for dates in (
        dotted.replace(".", "/"),
        dotted.replace(request_time(start), schedule_time(start)),  # one date slashed
        dotted.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
    ):
        assert_coded(create(sim, **kind_fields(kind, dates, repeat)), 3011)
    assert sim.api.get("/campaigns").json() == before
    assert created(sim, **kind_fields(kind, dotted, repeat))["schedule"]["type"] == kind


@pytest.mark.parametrize("number", ["９９５５４４０００００１", "٩٩٥٥٤٤٠٠٠٠٠١", "९९५५४४०००००१"])
def test_recipients_in_other_scripts_digits_are_refused(sim: Sim, number: str) -> None:
    fields = kind_fields("permanent-recurring", request_time(next_minute(sim, 10)), "1 day")
    answer = create(sim, recipients=f"995544000001, {number}", **fields)
    assert assert_errors(answer) == ["Recipients must be comma-separated phone numbers"]
    patched = sim.api.patch("/campaigns/1", data={"recipients": number})
    assert assert_errors(patched) == ["Recipients must be comma-separated phone numbers"]


@pytest.mark.parametrize("value", ["99999999999999999999", str(2**63), "٢"])
def test_ids_beyond_64_bits_in_campaign_fields_are_malformed(sim: Sim, value: str) -> None:
    fields = kind_fields("permanent-recurring", request_time(next_minute(sim, 10)), "1 day")
    assert assert_errors(create(sim, title=value, **fields)) == ["title must be the id of a title"]
    assert_coded(create(sim, recipients_list=value, **fields), 3020)
    assert_coded(sim.api.patch("/campaigns/1", data={"recipients_list": value}), 3020)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, ["Name can't be blank"]),
        ({"content": ""}, ["Content can't be blank"]),
        ({"name": None, "content": None}, ["Name can't be blank", "Content can't be blank"]),
        ({"content": "x" * 161}, ["Content is too long (maximum is 160 characters)"]),
    ],
)
def test_blank_name_or_content_answer_errors(
    sim: Sim, fields: dict[str, Any], expected: list[str]
) -> None:
    answer = create(
        sim, **fields, **kind_fields("permanent-recurring", "01.01.2031 10:00", "1 day")
    )
    assert assert_errors(answer) == expected


def test_basic_plan_allows_no_campaigns(sim: Sim) -> None:
    sim.reset(EMPTY, plan="basic")
    answer = create(
        sim, **kind_fields("permanent-recurring", request_time(next_minute(sim)), "1 day")
    )
    assert assert_errors(answer) == ["Campaigns limit reached"]
    assert sim.api.get("/campaigns").json() == []


def test_premium_plan_allows_five_campaigns(sim: Sim) -> None:
    sim.reset(EMPTY, plan="premium")
    fields = kind_fields("permanent-recurring", request_time(next_minute(sim)), "1 day")
    for n in range(5):
        created(sim, name=f"c{n}", **fields)
    assert assert_errors(create(sim, name="sixth", **fields)) == ["Campaigns limit reached"]
    assert [c["name"] for c in sim.api.get("/campaigns").json()] == [f"c{n}" for n in range(5)]


# ---------------------------------------------------------------- update, filters, delete
def base_campaign(sim: Sim) -> dict[str, Any]:
    return created(
        sim,
        name="Patched",
        content="Original",
        recipients="995544000001",
        recipients_list="1",
        **kind_fields("permanent-recurring", request_time(next_minute(sim, 30)), "1 day"),
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "Renamed"}, {"name": "Renamed"}),
        ({"content": "New text"}, {"content": "New text"}),
        ({"recipients": "995544000009,995544000008"}, {"recipients": "995544000009,995544000008"}),
        ({"active": "false"}, {"active": False}),
        ({"recipients_list": "2,3"}, {"recipients_list": [2, 3]}),
        ({"title": "1"}, {"title": "OneShop"}),
        ({"name": "Both", "active": "0"}, {"name": "Both", "active": False}),
    ],
)
def test_patch_changes_only_the_fields_sent(
    sim: Sim, change: dict[str, str], expected: dict[str, Any]
) -> None:
    original = base_campaign(sim)
    sim.advance(5)
    answer = sim.api.patch(f"/campaigns/{original['id']}", data=change)
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert stamp_of(record, "updated_at") > stamp_of(original, "updated_at")
    assert {**original, **expected, "updated_at": record["updated_at"]} == record
    assert sim.api.get(f"/campaigns/{original['id']}").json() == record


def test_patch_on_the_bare_path_takes_the_id_field(sim: Sim) -> None:
    original = base_campaign(sim)
    answer = sim.api.patch("/campaigns", data={"id": original["id"], "name": "Bare"})
    assert answer.status_code == 200
    assert answer.json()["name"] == "Bare"


@pytest.mark.parametrize(
    "change",
    [
        {"dates": "01.01.2031 10:00"},
        {"repeat": "2 days"},
        {"job_type": "0"},
        {"campaign_type": "1"},
    ],
)
def test_patch_refuses_schedule_changes(sim: Sim, change: dict[str, str]) -> None:
    original = base_campaign(sim)
    assert_errors(sim.api.patch(f"/campaigns/{original['id']}", data={"name": "X", **change}))
    assert sim.api.get(f"/campaigns/{original['id']}").json() == original


def test_patch_errors(sim: Sim) -> None:
    original = base_campaign(sim)
    assert_coded(
        sim.api.patch(f"/campaigns/{original['id']}", data={"recipients_list": "77"}), 3020
    )
    assert_errors(sim.api.patch(f"/campaigns/{original['id']}", data={"name": ""}))
    assert sim.api.get(f"/campaigns/{original['id']}").json() == original
    assert_not_found(sim.api.patch("/campaigns/9999", data={"name": "x"}))


def test_filters_select_exactly_the_matching_campaigns(sim: Sim) -> None:
    created(
        sim,
        name="Filtered",
        content="Unique words",
        title="1",
        **kind_fields("scheduled-certain-dates", request_time(next_minute(sim, 30))),
    )
    whole = sim.api.get("/campaigns").json()
    assert len(whole) == 5
    for name in ("name", "content"):
        value = whole[-1][name]
        assert sim.api.get("/campaigns", params={name: value}).json() == [
            c for c in whole if c[name] == value
        ]
    for job_type in (0, 1):
        chosen = sim.api.get("/campaigns", params={"job_type": job_type}).json()
        assert chosen == [c for c in whole if c["job_type"] == job_type]
        assert chosen
    both = sim.api.get("/campaigns", params={"title": "OneShop", "job_type": 0}).json()
    assert both == [c for c in whole if c["title"] == "OneShop" and c["job_type"] == 0]
    assert whole[-1] in both
    assert sim.api.get("/campaigns", params={"name": "no such"}).json() == []
    assert_errors(sim.api.get("/campaigns", params={"job_type": "2"}))


def test_delete_answers_the_envelope_then_404(sim: Sim) -> None:
    record = base_campaign(sim)
    answer = sim.api.delete(f"/campaigns/{record['id']}")
    assert answer.status_code == 200
    assert answer.json() == {"error_code": 0, "status": "OK", "message": "Campaign deleted."}
    assert_not_found(sim.api.get(f"/campaigns/{record['id']}"))
    assert_not_found(sim.api.delete(f"/campaigns/{record['id']}"))
    assert record["id"] not in [c["id"] for c in sim.api.get("/campaigns").json()]


# ---------------------------------------------------------------- sending over time
def audience(sim: Sim) -> tuple[int, set[str]]:
    """A list of two contacts (plus one contact outside it); returns the list id and
    every number a campaign on it with recipient 995555000002 and 995555000009 reaches."""
    sim.reset(BARE)
    a = create_contact(sim, "995555000001")
    b = create_contact(sim, "995555000002")
    create_contact(sim, "995555000003")
    target = create_list(sim, "Target", [a["id"], b["id"]])
    return target["id"], {"995555000001", "995555000002", "995555000009"}


RECIPIENTS = "995555000002, 995555000009"


def sends(sim: Sim, campaign_id: int) -> dict[datetime, list[str]]:
    """The campaign's messages grouped by send time."""
    batches: dict[datetime, list[str]] = defaultdict(list)
    for record in messages(sim, campaign_id=campaign_id):
        assert record["birthday_campaign"] is False
        batches[stamp_of(record)].append(record["sms"]["destination"])
    return dict(batches)


def assert_batches(
    sim: Sim, campaign_id: int, moments: list[datetime], numbers: set[str], content: str
) -> None:
    batches = sends(sim, campaign_id)
    assert sorted(batches) == moments
    for batch in batches.values():
        assert sorted(batch) == sorted(numbers)
    assert {r["sms"]["content"] for r in messages(sim, campaign_id=campaign_id)} == {content}


def test_scheduled_recurring_sends_every_occurrence_until_the_end(sim: Sim) -> None:
    list_id, numbers = audience(sim)
    start = next_minute(sim, 90)
    end = start + timedelta(days=4)
    record = created(
        sim,
        content="Daily",
        recipients=RECIPIENTS,
        recipients_list=str(list_id),
        **kind_fields(
            "scheduled-recurring", f"{request_time(start)} - {request_time(end)}", "1 day"
        ),
    )
    advance_to(sim, start - timedelta(seconds=1))
    assert sends(sim, record["id"]) == {}
    advance_to(sim, start + timedelta(seconds=1))
    assert_batches(sim, record["id"], [start], numbers, "Daily")
    assert sim.api.get(f"/campaigns/{record['id']}").json()["completed"] is False
    advance_to(sim, end + timedelta(days=3))
    assert_batches(
        sim, record["id"], [start + timedelta(days=n) for n in range(5)], numbers, "Daily"
    )
    assert sim.api.get(f"/campaigns/{record['id']}").json()["completed"] is True
    assert len(messages(sim)) == 5 * len(numbers)


def test_scheduled_certain_dates_send_once_each_then_complete(sim: Sim) -> None:
    list_id, numbers = audience(sim)
    dates = [next_minute(sim, m) for m in (30, 60 * 5, 60 * 24 * 2)]
    record = created(
        sim,
        content="Dated",
        recipients=RECIPIENTS,
        recipients_list=str(list_id),
        **kind_fields(
            "scheduled-certain-dates", ", ".join(request_time(d) for d in reversed(dates))
        ),
    )
    advance_to(sim, dates[1] + timedelta(minutes=1))
    assert_batches(sim, record["id"], dates[:2], numbers, "Dated")
    assert sim.api.get(f"/campaigns/{record['id']}").json()["completed"] is False
    advance_to(sim, dates[2] + timedelta(days=5))
    assert_batches(sim, record["id"], dates, numbers, "Dated")
    assert sim.api.get(f"/campaigns/{record['id']}").json()["completed"] is True


def test_permanent_recurring_keeps_sending(sim: Sim) -> None:
    list_id, numbers = audience(sim)
    start = next_minute(sim, 10)
    record = created(
        sim,
        content="Fortnightly",
        recipients=RECIPIENTS,
        recipients_list=str(list_id),
        **kind_fields("permanent-recurring", request_time(start), "2 weeks"),
    )
    advance_to(sim, start + timedelta(weeks=5))
    moments = [start + timedelta(weeks=2 * n) for n in range(3)]
    assert_batches(sim, record["id"], moments, numbers, "Fortnightly")
    assert sim.api.get(f"/campaigns/{record['id']}").json()["completed"] is None


def test_permanent_certain_dates_repeat_every_year(sim: Sim) -> None:
    list_id, numbers = audience(sim)
    first, second = next_minute(sim, 60), next_minute(sim, 60 * 30)
    record = created(
        sim,
        content="Yearly",
        recipients=RECIPIENTS,
        recipients_list=str(list_id),
        **kind_fields("permanent-certain-dates", f"{request_time(first)}, {request_time(second)}"),
    )
    advance_to(sim, add_months(first, 12) + timedelta(minutes=1))
    moments = [first, second, add_months(first, 12)]
    assert_batches(sim, record["id"], moments, numbers, "Yearly")
    assert sim.api.get(f"/campaigns/{record['id']}").json()["completed"] is None


def test_permanent_certain_dates_over_a_year_apart_still_send_in_time_order(sim: Sim) -> None:
    list_id, numbers = audience(sim)
    first = next_minute(sim, 60)
    later = add_months(first, 14)  # the second date lies beyond the first one's anniversary
    record = created(
        sim,
        content="Anniversaries",
        recipients=RECIPIENTS,
        recipients_list=str(list_id),
        **kind_fields("permanent-certain-dates", f"{request_time(first)}, {request_time(later)}"),
    )
    advance_to(sim, add_months(first, 26) + timedelta(minutes=1))
    moments = [first, add_months(first, 12), later, add_months(first, 24), add_months(later, 12)]
    assert_batches(sim, record["id"], moments, numbers, "Anniversaries")


def test_monthly_repeat_from_31_january_lands_on_each_months_last_day(sim: Sim) -> None:
    list_id, numbers = audience(sim)
    now = local_now(sim)
    year = now.year + 1
    set_clock(sim, datetime(year, 1, 30, 12, 0, tzinfo=TZ))
    start = datetime(year, 1, 31, 9, 30, tzinfo=TZ)
    end = datetime(year, 4, 30, 9, 30, tzinfo=TZ)
    record = created(
        sim,
        content="Month end",
        recipients=RECIPIENTS,
        recipients_list=str(list_id),
        **kind_fields(
            "scheduled-recurring", f"{request_time(start)} - {request_time(end)}", "1 month"
        ),
    )
    advance_to(sim, datetime(year, 5, 31, 12, 0, tzinfo=TZ))
    february = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    moments = [
        start,
        start.replace(month=2, day=february),
        start.replace(month=3, day=31),
        start.replace(month=4, day=30),
    ]
    assert_batches(sim, record["id"], moments, numbers, "Month end")
    assert sim.api.get(f"/campaigns/{record['id']}").json()["completed"] is True


def test_inactive_campaign_sends_nothing_until_reactivated(sim: Sim) -> None:
    list_id, numbers = audience(sim)
    start = next_minute(sim, 10)
    record = created(
        sim,
        content="Paused",
        active="false",
        recipients=RECIPIENTS,
        recipients_list=str(list_id),
        **kind_fields("permanent-recurring", request_time(start), "1 day"),
    )
    advance_to(sim, start + timedelta(days=2, hours=1))
    assert sends(sim, record["id"]) == {}
    assert messages(sim) == []
    sim.api.patch(f"/campaigns/{record['id']}", data={"active": "true"}).raise_for_status()
    advance_to(sim, start + timedelta(days=4, hours=1))
    moments = [start + timedelta(days=3), start + timedelta(days=4)]
    assert_batches(sim, record["id"], moments, numbers, "Paused")
    sim.api.patch(f"/campaigns/{record['id']}", data={"active": "false"}).raise_for_status()
    advance_to(sim, start + timedelta(days=7, hours=1))
    assert sorted(sends(sim, record["id"])) == moments


def test_campaign_reaches_list_members_as_they_are_at_send_time(sim: Sim) -> None:
    list_id, _ = audience(sim)
    start = next_minute(sim, 10)
    record = created(
        sim,
        content="Live list",
        recipients_list=str(list_id),
        **kind_fields("scheduled-certain-dates", request_time(start)),
    )
    sim.api.post(f"/lists/{list_id}/add_members", data={"ids": "3"}).raise_for_status()
    advance_to(sim, start + timedelta(minutes=1))
    batches = sends(sim, record["id"])
    assert list(batches) == [start]
    assert sorted(batches[start]) == ["995555000001", "995555000002", "995555000003"]


def test_a_date_in_the_current_minute_still_goes_out(sim: Sim) -> None:
    audience(sim)
    this_minute = next_minute(sim, 0)
    record = created(
        sim,
        content="Right now",
        recipients=RECIPIENTS,
        **kind_fields("scheduled-certain-dates", request_time(this_minute)),
    )
    sim.advance(1)
    batches = sends(sim, record["id"])
    assert {k: sorted(v) for k, v in batches.items()} == {
        this_minute: ["995555000002", "995555000009"]
    }
    assert sim.api.get(f"/campaigns/{record['id']}").json()["completed"] is True


def test_dates_all_in_the_past_send_nothing_and_complete_at_once(sim: Sim) -> None:
    audience(sim)
    past = next_minute(sim, -10)
    record = created(
        sim, recipients=RECIPIENTS, **kind_fields("scheduled-certain-dates", request_time(past))
    )
    assert record["completed"] is True
    sim.advance(3600)
    assert messages(sim) == []
