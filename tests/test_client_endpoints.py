"""The SDK against the simulator over loopback: every endpoint, typed records, whole
listings, and every documented error mapped to its exception class."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.client import (
    CertainDates,
    Message,
    OneConnect,
    OneConnectError,
    Recurring,
)
from oneconnect_pipelines.client import errors as e
from oneconnect_pipelines.formats import Repeat
from oneconnect_pipelines.masking import mask_digits
from oneconnect_pipelines.simulator import SeedSizes

from .conftest import API_KEY, EMAIL, EMPTY, TZ, Sim

Raw = dict[str, Any]
BIG = SeedSizes(
    contacts=2500, lists=12, campaigns=4, birthday_campaigns=2, messages=3000, titles=2, templates=2
)
FEW_EXAMPLES = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def make_client(sim: Sim, **options: Any) -> OneConnect:
    return OneConnect(sim.base_url, EMAIL, API_KEY, timezone="Asia/Tbilisi", **options)


@pytest.fixture
def oc(sim: Sim) -> Iterator[OneConnect]:
    with make_client(sim) as client:
        yield client


def raw(sim: Sim, path: str, **params: Any) -> Any:
    """The simulator's answer without the SDK (whole collections: no paging)."""
    answer = sim.api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def utc_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)


def sim_now(sim: Sim) -> datetime:
    """The simulator's (frozen) clock, as an aware datetime."""
    return datetime.fromtimestamp(sim.now(), UTC)


def whole_minute(moment: datetime, minutes: int = 0) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=minutes)


def sent(client: OneConnect, content: str) -> list[Message]:
    return [message for message in client.messages.list() if message.content == content]


# ------------------------------------------------------------------ typed records


def test_contacts_are_typed_utc_dates_and_string_numbers(sim: Sim, oc: OneConnect) -> None:
    records = {r["id"]: r for r in raw(sim, "/contacts")}
    contacts = list(oc.contacts.list())
    assert [c.id for c in contacts] == sorted(records)
    for contact in contacts:
        r = records[contact.id]
        assert contact.phone_number == r["phone_number"]
        assert contact.created_at == utc_stamp(r["created_at"])
        assert contact.created_at.utcoffset() == timedelta(0)
        assert contact.updated_at == utc_stamp(r["updated_at"])
        if r["birthday"]:
            assert contact.birthday == datetime.strptime(r["birthday"], "%d/%m/%Y").date()
        else:
            assert contact.birthday is None
        assert contact.additional_numbers == tuple(r["additional_numbers"])
    assert any(c.phone_number.startswith("0") for c in contacts)
    assert any(c.birthday is not None for c in contacts)


def test_messages_campaigns_and_titles_are_typed(sim: Sim, oc: OneConnect) -> None:
    records = {r["id"]: r for r in raw(sim, "/messages")}
    for message in oc.messages.list():
        r = records[message.id]
        assert message.destination == r["sms"]["destination"]
        assert message.content == r["sms"]["content"]
        assert message.final_status == r["final_status"]
        assert message.campaign_id == (r["campaign_id"] or None)
        assert message.created_at == utc_stamp(r["created_at"])
        assert message.created_at.tzinfo is not None
        assert message.created_at.utcoffset() == timedelta(0)
    for campaign in oc.campaigns.list():
        assert campaign.created_at.utcoffset() == timedelta(0)
        for moment in (campaign.schedule.start, campaign.schedule.end, *campaign.schedule.dates):
            assert moment is None or moment.utcoffset() is not None
    titles = list(oc.titles.list())
    assert [(t.id, t.name, t.active) for t in titles] == [
        (r["id"], r["name"], r["active"]) for r in raw(sim, "/titles")
    ]


def test_timezone_is_inferred_from_the_accounts_timestamps_on_request(sim: Sim) -> None:
    with OneConnect(sim.base_url, EMAIL, API_KEY, timezone="infer") as client:
        assert client.timezone_if_known is None
        zone = client.timezone
        assert str(zone) == "UTC+04:00"
        assert zone.utcoffset(None) == timedelta(hours=4)
        # The inferred zone writes request datetimes the way the configured one does.
        moments = sorted(m.created_at for m in client.messages.list())
        start = whole_minute(moments[20])
        inferred = [m.id for m in client.messages.list(start=start)]
    with make_client(sim) as configured:
        assert [m.id for m in configured.messages.list(start=start)] == inferred
    assert 0 < len(inferred) < len(moments)


def test_an_empty_account_cannot_infer_its_timezone(sim: Sim) -> None:
    sim.reset(EMPTY)
    with (
        OneConnect(sim.base_url, EMAIL, API_KEY, timezone="infer") as client,
        pytest.raises(OneConnectError, match="empty account"),
    ):
        client.messages.schedule(datetime(2031, 1, 1, tzinfo=UTC), "hi", destinations=["995555"])


def test_without_a_timezone_nothing_is_inferred_and_the_error_says_what_to_pass(
    sim: Sim,
) -> None:
    with OneConnect(sim.base_url, EMAIL, API_KEY) as client:
        assert len(list(client.contacts.list())) == 60  # reads that need no zone work
        sim.admin.delete("/stats")
        with pytest.raises(OneConnectError, match="timezone='Area/City'"):
            client.messages.schedule(
                datetime(2031, 1, 1, tzinfo=UTC), "hi", destinations=["995555123456"]
            )
    assert sim.stats()["total"] == 0  # no probing of the account's records


# ------------------------------------------------------------------ whole listings


@pytest.mark.parametrize(("per_page", "concurrency"), [(1000, 1), (1000, 8), (7, 1), (7, 8)])
def test_listings_equal_the_whole_collection(sim: Sim, per_page: int, concurrency: int) -> None:
    sim.reset(BIG)
    contacts, messages, lists = raw(sim, "/contacts"), raw(sim, "/messages"), raw(sim, "/lists")
    assert (len(contacts), len(messages)) == (2500, 3000)
    with make_client(sim, per_page=per_page, concurrency=concurrency) as client:
        assert [(c.id, c.phone_number, c.last_name) for c in client.contacts.list()] == [
            (r["id"], r["phone_number"], r["last_name"] or None) for r in contacts
        ]
        assert [(m.id, m.destination, m.final_status) for m in client.messages.list()] == [
            (r["id"], r["sms"]["destination"], r["final_status"]) for r in messages
        ]
        assert [(x.id, x.name, x.member_ids) for x in client.lists.list()] == [
            (r["id"], r["name"], [m["id"] for m in r["members"]]) for r in lists
        ]
        assert client.stats.snapshot()["duplicates_dropped"] == 0


# ------------------------------------------------------------------ messages


def test_message_filters(sim: Sim, oc: OneConnect) -> None:
    records = raw(sim, "/messages")
    everything = list(oc.messages.list())
    assert len(everything) == len(records)
    for status in ("delivered", "undelivered", "pending"):
        expected = [r["id"] for r in records if r["final_status"] == status]
        assert [m.id for m in oc.messages.list(final_status=status)] == expected
    campaign_id = next(r["campaign_id"] for r in records if r["campaign_id"])
    by_campaign = [m.id for m in oc.messages.list(campaign_id=campaign_id)]
    assert by_campaign == [r["id"] for r in records if r["campaign_id"] == campaign_id]
    assert by_campaign
    birthday = [m.id for m in oc.messages.list(birthday_campaign=True)]
    assert birthday == [r["id"] for r in records if r["birthday_campaign"]]
    assert [m.id for m in oc.messages.list(birthday_campaign=False)] == [
        r["id"] for r in records if not r["birthday_campaign"]
    ]
    assert len(list(oc.messages.list(limit=5))) == 5


def test_message_start_and_end_datetimes_in_any_timezone(sim: Sim, oc: OneConnect) -> None:
    everything = list(oc.messages.list())
    # Whole minutes (the wire format's precision), given in UTC: the client must convert.
    start = whole_minute(everything[30].created_at)
    end = whole_minute(everything[80].created_at, 1)
    window = [m.id for m in everything if start <= m.created_at <= end]
    assert 0 < len(window) < len(everything)
    assert [m.id for m in oc.messages.list(start=start, end=end)] == window
    assert [m.id for m in oc.messages.list(start=start.astimezone(TZ))] == [
        m.id for m in everything if m.created_at >= start
    ]
    assert [m.id for m in oc.messages.list(end=end)] == [
        m.id for m in everything if m.created_at <= end
    ]


def test_get_message(sim: Sim, oc: OneConnect) -> None:
    record = raw(sim, "/messages")[7]
    message = oc.messages.get(record["id"])
    assert message == Message.from_api(record)
    assert message.destination == record["sms"]["destination"]
    with pytest.raises(e.NotFoundError):
        oc.messages.get(999_999)


def test_send_to_destinations_contacts_and_lists(sim: Sim, oc: OneConnect) -> None:
    balance = oc.balance()
    receipt = oc.messages.send("to numbers", destinations=["0599000001", "995599000002"])
    assert receipt.reference.startswith("oc-")
    assert receipt.message == "Message sent successfully."
    assert sorted(m.destination for m in sent(oc, "to numbers")) == ["0599000001", "995599000002"]

    contact = raw(sim, "/contacts")[3]
    oc.messages.send("to a contact", contacts=[contact["id"]], reference="my-ref-1")
    assert [m.destination for m in sent(oc, "to a contact")] == [contact["phone_number"]]

    target = next(r for r in raw(sim, "/lists") if r["noncontact_members"])
    numbers = {m["phone_number"] for m in target["members"]}
    numbers |= set(target["noncontact_members"].get("phone_number", []))
    oc.messages.send("to a list", lists=[target["id"]])
    to_list = sent(oc, "to a list")
    assert sorted(m.destination for m in to_list) == sorted(numbers)
    assert oc.balance() == balance - 3 - len(numbers)


def test_scheduled_send_goes_out_at_its_time(sim: Sim, oc: OneConnect) -> None:
    at = whole_minute(sim_now(sim), 10)
    oc.messages.schedule(at, "later, please", destinations=["0599000003"])
    assert sent(oc, "later, please") == []
    sim.advance(9 * 60)
    assert sent(oc, "later, please") == []
    sim.advance(2 * 60)
    [message] = sent(oc, "later, please")
    assert message.destination == "0599000003"
    assert message.created_at == at


def test_send_group_reaches_the_chosen_genders_and_ages(sim: Sim, oc: OneConnect) -> None:
    contacts = raw(sim, "/contacts")
    oc.messages.send_group("for women", ["Female"])
    women = sorted(c["phone_number"] for c in contacts if c["gender"] == "Female")
    assert sorted(m.destination for m in sent(oc, "for women")) == women
    assert women

    today = sim_now(sim).astimezone(TZ).date()

    def age(birthday: str) -> int:
        born = datetime.strptime(birthday, "%d/%m/%Y").date()
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    oc.messages.send_group("middle aged", ["male", "female"], age_from=30, age_to=50)
    expected = sorted(
        c["phone_number"]
        for c in contacts
        if c["gender"] in ("Male", "Female") and c["birthday"] and 30 <= age(c["birthday"]) <= 50
    )
    assert sorted(m.destination for m in sent(oc, "middle aged")) == expected
    assert 0 < len(expected) < len(contacts)


def test_sms_auth_texts_a_code(sim: Sim, oc: OneConnect) -> None:
    code = oc.messages.sms_auth("0599000004", only_numbers=True, length=6)
    assert code.phone_number == "0599000004"
    assert len(code.code) == 6
    assert code.code.isdigit()
    [message] = [m for m in oc.messages.list() if code.code in m.content]
    assert message.destination == "0599000004"
    upper = oc.messages.sms_auth("0599000004", only_uppercase=True, length=12)
    assert upper.code == upper.code.upper()
    assert len(upper.code) == 12


# ------------------------------------------------------------------ contacts


def test_contact_filters(sim: Sim, oc: OneConnect) -> None:
    records = raw(sim, "/contacts")
    city = records[0]["city"]
    expected = [r["id"] for r in records if r["city"] == city and r["gender"] == "Female"]
    assert [c.id for c in oc.contacts.list(city=city, gender="Female")] == expected
    assert expected
    with_birthday = next(r for r in records if r["birthday"])
    day = datetime.strptime(with_birthday["birthday"], "%d/%m/%Y").date()
    assert [c.id for c in oc.contacts.list(birthday=day)] == [
        r["id"] for r in records if r["birthday"] == with_birthday["birthday"]
    ]
    extra = next(r for r in records if r["additional_numbers"])
    number = extra["additional_numbers"][0]
    assert [c.id for c in oc.contacts.list(additional_numbers=number)] == [
        r["id"] for r in records if number in r["additional_numbers"]
    ]
    assert len(list(oc.contacts.list(limit=9))) == 9


def test_contacts_multi_key_sort_across_pages(sim: Sim) -> None:
    expected = [r["id"] for r in raw(sim, "/contacts", sort="city,-first_name")]
    assert expected != sorted(expected)
    with make_client(sim, per_page=7) as client:
        assert [c.id for c in client.contacts.list(sort=["city", "-first_name"])] == expected
        assert [c.id for c in client.contacts.list(sort="city,-first_name")] == expected
        newest = [c.id for c in client.contacts.list(sort="-created_at")]
    by_created = sorted(raw(sim, "/contacts"), key=lambda r: utc_stamp(r["created_at"]))
    assert newest == [r["id"] for r in reversed(by_created)]


def test_contacts_csv_export(sim: Sim, oc: OneConnect) -> None:
    rows = list(csv.DictReader(io.StringIO(oc.contacts.export_csv())))
    records = raw(sim, "/contacts")
    assert [int(row["id"]) for row in rows] == [r["id"] for r in records]
    assert [row["phone_number"] for row in rows] == [r["phone_number"] for r in records]
    assert any(row["phone_number"].startswith("0") for row in rows)


def test_get_and_find_contact_by_phone(sim: Sim, oc: OneConnect) -> None:
    record = next(r for r in raw(sim, "/contacts") if r["phone_number"].startswith("0"))
    contact = oc.contacts.get(record["id"])
    assert (contact.id, contact.phone_number, contact.email) == (
        record["id"],
        record["phone_number"],
        record["email"] or None,
    )
    assert oc.contacts.find_by_phone(record["phone_number"]) == contact
    assert oc.contacts.find_by_phone("0000000001") is None


def test_create_update_delete_contact(sim: Sim, oc: OneConnect) -> None:
    created = oc.contacts.create(
        "0577000001",
        first_name="Nino",
        last_name="Beridze",
        birthday=date(1990, 2, 28),
        additional_numbers=["0577000002", "995577000003"],
        gender="female",
        city="Batumi",
    )
    assert created.phone_number == "0577000001"
    assert created.birthday == date(1990, 2, 28)
    assert created.additional_numbers == ("0577000002", "995577000003")
    assert created.gender == "Female"
    assert oc.contacts.get(created.id) == created
    stored = raw(sim, f"/contacts/{created.id}")
    assert stored["birthday"] in ("28.02.1990", "28/02/1990")

    updated = oc.contacts.update(created.id, city="Kutaisi")
    assert updated.city == "Kutaisi"
    assert (updated.first_name, updated.last_name, updated.birthday, updated.phone_number) == (
        "Nino",
        "Beridze",
        date(1990, 2, 28),
        "0577000001",
    )
    assert updated.additional_numbers == created.additional_numbers
    assert oc.contacts.get(created.id) == updated

    oc.contacts.delete(created.id)
    with pytest.raises(e.NotFoundError):
        oc.contacts.get(created.id)
    assert oc.contacts.find_by_phone("0577000001") is None


@FEW_EXAMPLES
@given(
    phone=st.from_regex(r"\A0{1,3}[0-9]{5,10}\Z"),
    birthday=st.one_of(
        st.none(), st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31))
    ),
    extra=st.lists(st.from_regex(r"\A0[0-9]{8}\Z"), max_size=3, unique=True),
)
def test_contacts_round_trip(
    running_sim: Sim, phone: str, birthday: date | None, extra: list[str]
) -> None:
    running_sim.reset(EMPTY)
    with make_client(running_sim) as client:
        created = client.contacts.create(phone, birthday=birthday, additional_numbers=extra)
        found = client.contacts.find_by_phone(phone)
    assert found == created
    assert (created.phone_number, created.birthday, list(created.additional_numbers)) == (
        phone,
        birthday,
        extra,
    )


# ------------------------------------------------------------------ lists


def test_list_lists_by_name_get_and_csv(sim: Sim, oc: OneConnect) -> None:
    records = raw(sim, "/lists")
    lists = list(oc.lists.list())
    assert [(x.id, x.name, x.member_ids) for x in lists] == [
        (r["id"], r["name"], [m["id"] for m in r["members"]]) for r in records
    ]
    second = oc.lists.by_name(records[1]["name"])
    assert second is not None
    assert second == oc.lists.get(records[1]["id"]) == lists[1]
    assert oc.lists.by_name("no such list") is None
    with pytest.raises(e.NotFoundError):
        oc.lists.get(999_999)
    rows = list(csv.DictReader(io.StringIO(oc.lists.export_csv())))
    assert [(int(row["id"]), row["name"]) for row in rows] == [
        (r["id"], r["name"]) for r in records
    ]
    assert [row["members"] for row in rows] == [
        ", ".join(str(m["id"]) for m in r["members"]) for r in records
    ]


def test_list_create_update_members_delete(sim: Sim, oc: OneConnect) -> None:
    created = oc.lists.create("Clients", members=[3, 1, 2])
    assert created.member_ids == [1, 2, 3]
    assert oc.lists.by_name("Clients") == created

    renamed = oc.lists.update(created.id, name="Best clients")
    assert (renamed.name, renamed.member_ids) == ("Best clients", [1, 2, 3])
    replaced = oc.lists.update(created.id, members=[4, 5])
    assert (replaced.name, replaced.member_ids) == ("Best clients", [4, 5])

    sim.admin.delete("/stats").raise_for_status()
    assert oc.lists.add_members(created.id, [10, 11, 12, 13, 14], batch_size=2) == 3
    assert oc.lists.get(created.id).member_ids == [4, 5, 10, 11, 12, 13, 14]
    assert oc.lists.remove_members(created.id, [4, 11, 13], batch_size=2) == 2
    assert oc.lists.get(created.id).member_ids == [5, 10, 12, 14]
    routes = sim.stats()["routes"]
    assert routes["POST /lists/:id/add_members"] == 3
    assert routes["POST /lists/:id/remove_members"] == 2

    oc.lists.delete(created.id)
    assert oc.lists.by_name("Best clients") is None
    with pytest.raises(e.NotFoundError):
        oc.lists.get(created.id)


# ------------------------------------------------------------------ campaigns


def test_campaign_list_filters_and_get(sim: Sim, oc: OneConnect) -> None:
    records = raw(sim, "/campaigns")
    assert [c.id for c in oc.campaigns.list()] == [r["id"] for r in records]
    first = records[0]
    for name, value in (
        ("name", first["name"]),
        ("job_type", 1),
        ("title", "OneShop"),
        ("content", first["content"]),
    ):
        expected = [r["id"] for r in records if r[name] == value]
        assert expected
        found = [c.id for c in oc.campaigns.list(**{name: value})]  # type: ignore[arg-type]
        assert found == expected, name
    campaign = oc.campaigns.get(first["id"])
    assert (campaign.name, campaign.recipients, campaign.recipients_list, campaign.title) == (
        first["name"],
        tuple(first["recipients"].split(",")) if first["recipients"] else (),
        tuple(first["recipients_list"]),
        first["title"],
    )
    with pytest.raises(e.NotFoundError):
        oc.campaigns.get(999_999)


START = datetime(2030, 1, 5, 6, 30, tzinfo=UTC)  # 10:30 in Tbilisi


@pytest.mark.parametrize(
    ("schedule", "kind", "wire"),
    [
        (
            Recurring(START, timedelta(days=14), end=START + timedelta(days=60)),
            "scheduled-recurring",
            {"date-range": "05/01/2030 10:30 - 06/03/2030 10:30", "repeat": "2 weeks"},
        ),
        (
            Recurring(START, "2 days"),
            "permanent-recurring",
            {"date-range": "05/01/2030 10:30", "repeat": "2 days"},
        ),
        (
            Recurring(START, Repeat(1, "months"), end=START + timedelta(days=400)),
            "scheduled-recurring",
            {"date-range": "05/01/2030 10:30 - 09/02/2031 10:30", "repeat": "1 month"},
        ),
        (
            CertainDates([START + timedelta(days=3), START]),
            "scheduled-certain-dates",
            {"dates": ["05/01/2030 10:30", "08/01/2030 10:30"]},
        ),
        (
            CertainDates([START.astimezone(TZ)], permanent=True),
            "permanent-certain-dates",
            {"dates": ["05/01/2030 10:30"]},
        ),
    ],
)
def test_campaign_schedules_read_back_as_asked(
    sim: Sim, oc: OneConnect, schedule: Recurring | CertainDates, kind: str, wire: Raw
) -> None:
    campaign = oc.campaigns.create(
        "Spring", "See you soon", schedule, recipients=["0599000005"], lists=[1, 2], title=1
    )
    assert raw(sim, f"/campaigns/{campaign.id}")["schedule"] == {"type": kind, **wire}
    for read in (campaign, oc.campaigns.get(campaign.id)):
        assert read.schedule.type == kind
        assert (read.recipients, read.recipients_list, read.title) == (
            ("0599000005",),
            (1, 2),
            "OneShop",
        )
        assert read.job_type == (1 if read.schedule.permanent else 0)
        if isinstance(schedule, Recurring):
            assert read.schedule.start == schedule.start
            assert read.schedule.end == schedule.end
            count, period = wire["repeat"].split()
            assert read.schedule.repeat == Repeat(int(count), period.rstrip("s") + "s")
            assert read.schedule.dates == ()
        else:
            assert list(read.schedule.dates) == sorted(schedule.dates)
            assert (read.schedule.start, read.schedule.repeat) == (None, None)


@FEW_EXAMPLES
@given(
    start_minutes=st.integers(min_value=0, max_value=5 * 365 * 24 * 60),
    count=st.integers(min_value=1, max_value=12),
    period=st.sampled_from(["days", "weeks", "months", "years"]),
    length_minutes=st.one_of(st.none(), st.integers(min_value=1, max_value=2 * 365 * 24 * 60)),
    offsets=st.lists(
        st.integers(min_value=0, max_value=10**6), min_size=1, max_size=4, unique=True
    ),
    permanent=st.booleans(),
)
def test_campaign_schedules_round_trip(
    running_sim: Sim,
    start_minutes: int,
    count: int,
    period: str,
    length_minutes: int | None,
    offsets: list[int],
    permanent: bool,
) -> None:
    running_sim.reset(EMPTY)
    start = START + timedelta(minutes=start_minutes)
    end = None if length_minutes is None else start + timedelta(minutes=length_minutes)
    recurring = Recurring(start, Repeat(count, period), end=end)
    dates = [start + timedelta(minutes=offset) for offset in offsets]
    with make_client(running_sim) as client:
        read = client.campaigns.create("R", "recurring", recurring).schedule
        assert (read.start, read.end, read.repeat, read.permanent) == (
            start,
            end,
            Repeat(count, period),
            end is None,
        )
        on_dates = client.campaigns.create("D", "dates", CertainDates(dates, permanent))
        assert list(on_dates.schedule.dates) == sorted(dates)
        assert on_dates.schedule.permanent is permanent
        assert client.campaigns.get(on_dates.id).schedule == on_dates.schedule


def test_campaign_update_and_delete(sim: Sim, oc: OneConnect) -> None:
    campaign = oc.campaigns.create(
        "Autumn", "Sale!", Recurring(START, "1 week"), recipients=["0599000006"], lists=[1]
    )
    updated = oc.campaigns.update(campaign.id, content="Bigger sale!", active=False, lists=[2, 3])
    assert (updated.content, updated.active, updated.recipients_list) == (
        "Bigger sale!",
        False,
        (2, 3),
    )
    assert (updated.name, updated.recipients, updated.schedule) == (
        "Autumn",
        ("0599000006",),
        campaign.schedule,
    )
    assert oc.campaigns.get(campaign.id) == updated
    oc.campaigns.delete(campaign.id)
    with pytest.raises(e.NotFoundError):
        oc.campaigns.get(campaign.id)


# ------------------------------------------------------------------ birthday campaigns


def test_birthday_campaigns(sim: Sim, oc: OneConnect) -> None:
    records = raw(sim, "/birthday_campaigns")
    assert [(b.id, b.name, b.recipient_lists) for b in oc.birthday_campaigns.list()] == [
        (r["id"], r["name"], tuple(r["recipient_lists"])) for r in records
    ]
    created = oc.birthday_campaigns.create("Greetings", "Happy birthday!", [1, 3], title=1)
    assert (created.recipient_lists, created.title, created.active) == ((1, 3), "OneShop", True)
    paused = oc.birthday_campaigns.update(created.id, active=False, content="Many happy returns")
    assert (paused.name, paused.content, paused.active, paused.recipient_lists) == (
        "Greetings",
        "Many happy returns",
        False,
        (1, 3),
    )
    assert oc.birthday_campaigns.get(created.id) == paused
    assert [b.id for b in oc.birthday_campaigns.list(active=False)] == [created.id]
    assert created.id not in [b.id for b in oc.birthday_campaigns.list(active=True)]
    oc.birthday_campaigns.delete(created.id)
    with pytest.raises(e.NotFoundError):
        oc.birthday_campaigns.get(created.id)


# ------------------------------------------------------------------ titles, templates, info


def test_titles(sim: Sim, oc: OneConnect) -> None:
    created = oc.titles.create("News-24")
    assert (created.name, created.active) == ("News-24", False)
    assert oc.titles.get(created.id) == created
    assert oc.titles.by_name("News-24") == created
    rows = list(csv.DictReader(io.StringIO(oc.titles.export_csv())))
    assert [row["name"] for row in rows] == [r["name"] for r in raw(sim, "/titles")]
    assert "News-24" in [row["name"] for row in rows]
    oc.titles.delete(created.id)
    with pytest.raises(e.NotFoundError):
        oc.titles.get(created.id)
    assert oc.titles.by_name("News-24") is None


def test_templates(sim: Sim, oc: OneConnect) -> None:
    assert [(t.id, t.title, t.body) for t in oc.templates.list()] == [
        (r["id"], r["title"], r["body"]) for r in raw(sim, "/templates")
    ]
    created = oc.templates.create("Thanks", "Thank you for shopping with us")
    assert oc.templates.get(created.id) == created
    assert oc.templates.by_title("Thanks") == created
    oc.templates.delete(created.id)
    with pytest.raises(e.NotFoundError):
        oc.templates.get(created.id)


def test_balance_and_pricing(sim: Sim, oc: OneConnect) -> None:
    assert oc.balance() == 10_000
    plans = {plan.name: plan for plan in oc.pricing()}
    assert list(plans) == ["Basic", "Premium", "Business"]
    assert (plans["Basic"].price, plans["Basic"].price_yearly) == (Decimal("9.98"), Decimal("99.8"))
    assert plans["Business"].price == Decimal("39.98")
    assert isinstance(plans["Premium"].price_yearly, Decimal)
    assert (plans["Premium"].contacts_limit, plans["Business"].contacts_limit) == (100, None)
    assert plans["Business"].api_ip_restriction and not plans["Basic"].api_ip_restriction


# ------------------------------------------------------------------ errors


def _campaign_form(**fields: str) -> dict[str, str]:
    return {"name": "Broken", "content": "x", **fields}


ErrorCase = tuple[Callable[[OneConnect], object], type[e.APIError], int, str]
CODED: dict[str, ErrorCase] = {
    "1001": (
        lambda c: c.messages.send("", destinations=["0599000007"]),
        e.ContentRequiredError,
        1001,
        "POST /messages",
    ),
    "1001 group": (
        lambda c: c.messages.send_group("", ["male"]),
        e.ContentRequiredError,
        1001,
        "POST /group_sms",
    ),
    "1002": (
        lambda c: c.messages.send("nobody"),
        e.RecipientsRequiredError,
        1002,
        "POST /messages",
    ),
    "1004": (
        lambda c: c.call(
            "POST",
            "/messages",
            data={"content": "x", "destination": "0599000007", "send_now": "false"},
        ),
        e.SmsDateRequiredError,
        1004,
        "POST /messages",
    ),
    "1005": (
        lambda c: c.messages.schedule(
            datetime(2001, 1, 1, tzinfo=UTC), "late", destinations=["0599000007"]
        ),
        e.InvalidDatetimeError,
        1005,
        "POST /messages",
    ),
    "1005 filter": (
        lambda c: c.call("GET", "/messages", params={"start_date": "yesterday"}),
        e.InvalidDatetimeError,
        1005,
        "GET /messages",
    ),
    "1010": (
        lambda c: c.messages.send("x" * 161, destinations=["0599000007"]),
        e.ContentTooLongError,
        1010,
        "POST /messages",
    ),
    "2005": (
        lambda c: c.messages.send_group("hi", ["robots"]),
        e.InvalidGendersError,
        2005,
        "POST /group_sms",
    ),
    "3010": (
        lambda c: c.call(
            "POST", "/campaigns", data=_campaign_form(job_type="0", campaign_type="0")
        ),
        e.ScheduleRequiredError,
        3010,
        "POST /campaigns",
    ),
    "3011": (
        lambda c: c.call(
            "POST",
            "/campaigns",
            data=_campaign_form(job_type="0", campaign_type="1", dates="31.02.2031 10:00"),
        ),
        e.InvalidDatesError,
        3011,
        "POST /campaigns",
    ),
    "3012": (
        lambda c: c.call(
            "POST",
            "/campaigns",
            data=_campaign_form(
                job_type="0", campaign_type="0", dates="01.01.2031 10:00", repeat="2 days"
            ),
        ),
        e.TwoDatesRequiredError,
        3012,
        "POST /campaigns",
    ),
    "3013": (
        lambda c: c.call(
            "POST",
            "/campaigns",
            data=_campaign_form(
                job_type="1", campaign_type="0", dates="01.01.2031 10:00", repeat="fortnightly"
            ),
        ),
        e.InvalidRepeatError,
        3013,
        "POST /campaigns",
    ),
    "3020": (
        lambda c: c.campaigns.create("C", "x", Recurring(START, "1 day"), lists=[999]),
        e.InvalidCampaignListsError,
        3020,
        "POST /campaigns",
    ),
    "3020 update": (
        lambda c: c.campaigns.update(1, lists=[999]),
        e.InvalidCampaignListsError,
        3020,
        "PATCH /campaigns/1",
    ),
    "4004": (
        lambda c: c.messages.sms_auth("12"),
        e.InvalidPhoneNumberError,
        4004,
        "POST /mfa/sms_auth",
    ),
    "4020": (
        lambda c: c.birthday_campaigns.create("B", "x", [999]),
        e.InvalidBirthdayCampaignListsError,
        4020,
        "POST /birthday_campaigns",
    ),
}


@pytest.mark.parametrize("case", CODED.values(), ids=list(CODED))
def test_documented_error_codes_raise_their_class(
    sim: Sim, oc: OneConnect, case: ErrorCase
) -> None:
    action, cls, code, call = case
    before = raw(sim, "/messages")
    with pytest.raises(cls) as caught:
        action(oc)
    error = caught.value
    assert (error.error_code, error.status_code, error.call) == (code, 422, call)
    assert str(error).startswith(f"{call}: ")
    assert error.message
    assert API_KEY not in str(error)
    assert mask_digits(str(error)) == str(error)  # no unmasked phone-like digit run
    assert raw(sim, "/messages") == before  # nothing was sent


def test_no_balance(sim: Sim) -> None:
    sim.reset(sms_balance=0)
    with make_client(sim) as client:
        for action, call in (
            (lambda: client.messages.send("hi", destinations=["0599000008"]), "POST /messages"),
            (lambda: client.messages.sms_auth("0599000008"), "POST /mfa/sms_auth"),
        ):
            with pytest.raises(e.NoBalanceError) as caught:
                action()
            assert (caught.value.error_code, caught.value.status_code) == (1000, 422)
            assert call in str(caught.value)
        assert client.balance() == 0


def test_validation_errors_carry_their_messages(sim: Sim, oc: OneConnect) -> None:
    taken = raw(sim, "/contacts")[0]["phone_number"]
    with pytest.raises(e.ValidationError) as caught:
        oc.contacts.create(taken)
    assert caught.value.errors == ["Phone number has already been taken"]
    assert (caught.value.error_code, caught.value.status_code) == (0, 422)
    assert "POST /contacts" in str(caught.value)
    with pytest.raises(e.ValidationError) as invalid:
        oc.contacts.create("12ab", birthday="31.02.1990")
    assert invalid.value.errors == ["Phone number is invalid", "Birthday is invalid"]
    with pytest.raises(e.ValidationError) as too_big:
        oc.call("GET", "/contacts", params={"page": 1, "per_page": 5000})
    assert too_big.value.errors == ["per_page must be at most 1000"]
    with pytest.raises(e.ValidationError, match="Name has already been taken"):
        oc.lists.create(raw(sim, "/lists")[0]["name"])


def test_wrong_key_raises_authentication_error(sim: Sim) -> None:
    with (
        OneConnect(sim.base_url, EMAIL, "not-the-key", timezone=TZ) as client,
        pytest.raises(e.AuthenticationError) as caught,
    ):
        list(client.contacts.list())
    assert caught.value.status_code == 401
    assert "GET /contacts" in str(caught.value)
    assert client.stats.snapshot()["requests"] == 1  # a 401 is not retried


def test_a_csv_export_refused_raises_its_error_rather_than_returning_it_as_csv(
    sim: Sim,
) -> None:
    """A wrong key's 401 (and an IP off the allow-list) is an error, not the CSV text
    ``{"error_code":401,...}`` handed to the caller as the export."""
    with OneConnect(sim.base_url, EMAIL, "not-the-key", timezone=TZ) as client:
        for section in (client.contacts, client.lists, client.titles):
            with pytest.raises(e.AuthenticationError, match="_csv"):
                section.export_csv()
    sim.reset(ip_allowlist=["10.9.9.9"])
    with make_client(sim) as client, pytest.raises(e.PermissionDeniedError):
        client.contacts.export_csv()


def test_ip_not_on_the_allow_list_raises_permission_denied(sim: Sim) -> None:
    sim.reset(ip_allowlist=["10.9.9.9"])
    with make_client(sim) as client, pytest.raises(e.PermissionDeniedError) as caught:
        client.balance()
    assert caught.value.status_code == 403
    assert "GET /balance" in str(caught.value)


def test_unknown_records_raise_not_found(sim: Sim, oc: OneConnect) -> None:
    for action, call in (
        (lambda: oc.contacts.get(424242), "GET /contacts/424242"),
        (lambda: oc.contacts.update(424242, city="x"), "PATCH /contacts/424242"),
        (lambda: oc.lists.add_members(424242, [1]), "POST /lists/424242/add_members"),
        (lambda: oc.campaigns.delete(424242), "DELETE /campaigns/424242"),
    ):
        with pytest.raises(e.NotFoundError) as caught:
            action()
        assert caught.value.status_code == 404
        assert str(caught.value).startswith(call)
