"""Typed records: pages decoded straight from bytes agree with ``from_api`` on every shape
the contract allows; broken records and error answers raise errors that say what broke."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pyarrow
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.client import Contact, ContactList, Message, OneConnect, errors
from oneconnect_pipelines.client.models import CONTACT_PAGES, LIST_PAGES, MESSAGE_PAGES
from oneconnect_pipelines.formats import FormatError

STAMP = "2026-12-01 10:00:00 +0400"
#: Text fields may be a value, empty or null, or be left out altogether.
TEXT = st.one_of(st.none(), st.just(""), st.text(max_size=12), st.just(...))
STAMPS = st.sampled_from([STAMP, "2026-03-29 03:30:00 -0230", "2000-02-29 23:59:59 +1400"])


def drop_missing(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if value is not ...}


@st.composite
def contact_records(draw: st.DrawFn) -> dict[str, Any]:
    birthday = draw(st.dates(date(1900, 1, 1), date(2030, 12, 31)))
    return drop_missing(
        {
            "id": draw(st.one_of(st.integers(1, 10**9), st.integers(1, 10**9).map(str))),
            "phone_number": draw(st.from_regex(r"\A[0-9]{9,12}\Z")),
            "email": draw(TEXT),
            "first_name": draw(TEXT),
            "last_name": draw(TEXT),
            "birthday": draw(
                st.sampled_from(
                    [birthday.strftime("%d.%m.%Y"), birthday.strftime("%d/%m/%Y"), "", None, ...]
                )
            ),
            "post_code": draw(TEXT),
            "city": draw(TEXT),
            "street": draw(TEXT),
            "additional_numbers": draw(
                st.one_of(st.lists(st.from_regex(r"\A[0-9]{9}\Z"), max_size=3), st.none())
            ),
            "gender": draw(st.sampled_from(["Male", "Female", "", None, ...])),
            "created_at": draw(STAMPS),
            "updated_at": draw(STAMPS),
        }
    )


def expected_contact(r: dict[str, Any]) -> dict[str, Any]:
    """What a reader should see, written out independently of the client's code."""

    def text(name: str) -> str | None:
        return r.get(name) or None

    def stamp(name: str) -> datetime:
        return datetime.strptime(r[name], "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)

    birthday = r.get("birthday")
    return {
        "id": int(r["id"]),
        "phone_number": r["phone_number"],
        **{name: text(name) for name in ("email", "first_name", "last_name")},
        "birthday": datetime.strptime(birthday.replace("/", "."), "%d.%m.%Y").date()
        if birthday
        else None,
        **{name: text(name) for name in ("post_code", "city", "street", "gender")},
        "additional_numbers": tuple(r.get("additional_numbers") or ()),
        "created_at": stamp("created_at"),
        "updated_at": stamp("updated_at"),
    }


def fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__struct_fields__}


@settings(max_examples=200, deadline=None)
@given(records=st.lists(contact_records(), max_size=8))
def test_contact_pages_and_single_records_read_every_documented_shape(
    records: list[dict[str, Any]],
) -> None:
    page = CONTACT_PAGES(orjson.dumps(records))
    singles = [Contact.from_api(record) for record in records]
    assert page == singles
    assert [fields(c) for c in page] == [expected_contact(r) for r in records]
    assert all(c.created_at.tzinfo is UTC and c.updated_at.tzinfo is UTC for c in page)


@settings(max_examples=100, deadline=None)
@given(
    statuses=st.lists(
        st.tuples(
            st.sampled_from(["delivered", "undelivered", "pending"]),
            st.one_of(st.none(), st.integers(0, 50)),
            st.one_of(st.none(), st.fixed_dictionaries({"status": TEXT, "reason": TEXT})),
            st.one_of(st.none(), st.booleans()),
        ),
        max_size=6,
    )
)
def test_message_pages_agree_with_from_api(statuses: list[tuple[Any, ...]]) -> None:
    records = [
        {
            "id": i + 1,
            "final_status": status,
            "campaign_id": campaign,
            "birthday_campaign": birthday,
            "sms": {"destination": "995555123456", "content": "hi"},
            "delivery_report": drop_missing(report) if report else report,
            "created_at": STAMP,
            "updated_at": STAMP,
        }
        for i, (status, campaign, report, birthday) in enumerate(statuses)
    ]
    page = MESSAGE_PAGES(orjson.dumps(records))
    assert page == [Message.from_api(record) for record in records]
    for message, record in zip(page, records, strict=True):
        assert message.campaign_id == (record["campaign_id"] or None)  # 0: an ad-hoc send
        assert message.birthday_campaign is bool(record["birthday_campaign"])
        report = record["delivery_report"] or {}
        assert message.delivery_status == (report.get("status") or None)
        assert message.destination == "995555123456"


def test_a_list_page_carries_its_members_as_contacts() -> None:
    member = {"id": 7, "phone_number": "995555000007", "created_at": STAMP, "updated_at": STAMP}
    record = {
        "id": 3,
        "name": "VIP",
        "members": [member],
        "noncontact_members": {"phone": ["995555000099"]},
        "created_at": STAMP,
        "updated_at": STAMP,
    }
    (read,) = LIST_PAGES(orjson.dumps([record]))
    assert read == ContactList.from_api(record)
    assert read.members == (Contact.from_api(member),)
    assert read.member_ids == [7]
    assert read.noncontact_members == {"phone": ["995555000099"]}


def test_records_are_frozen_and_not_tracked_by_the_garbage_collector() -> None:
    record = {"id": 1, "phone_number": "995555000001", "created_at": STAMP, "updated_at": STAMP}
    (contact,) = CONTACT_PAGES(orjson.dumps([record]))
    assert not gc.is_tracked(contact)  # 100,000 of them cost the collector nothing
    with pytest.raises(AttributeError):
        contact.city = "Tbilisi"  # type: ignore[misc]


def test_a_single_record_that_breaks_the_contract_names_the_field() -> None:
    with pytest.raises(FormatError, match="not a OneConnect contact at phone_number: ") as raised:
        Contact.from_api({"id": 1, "created_at": STAMP, "updated_at": STAMP})
    assert raised.value.field == "phone_number"


def serving(body: Any, status: int = 200) -> OneConnect:
    return OneConnect(
        "http://oneconnect.test/api/v1",
        "ops@example.com",
        "key",
        timezone="UTC",
        transport=httpx.MockTransport(lambda request: httpx.Response(status, json=body)),
    )


def test_a_broken_record_in_a_page_is_a_response_error_naming_where() -> None:
    good = {"id": 1, "phone_number": "995555000001", "created_at": STAMP, "updated_at": STAMP}
    with (
        serving([good, {**good, "id": "one"}]) as oc,
        pytest.raises(
            errors.ResponseError, match="cannot read a contact at id: Expected `int`"
        ) as raised,
    ):
        list(oc.contacts.list())
    assert raised.value.call == "GET /contacts"


def test_an_error_answer_to_a_fast_listing_raises_its_own_class() -> None:
    with serving({"error_code": 1000, "message": "No balance"}) as oc:
        with pytest.raises(errors.NoBalanceError):
            list(oc.messages.list())
        with pytest.raises(errors.ResponseError, match="expected a JSON array"):
            list(serving({"unexpected": True}).lists.list())


def test_a_listing_that_is_not_json_is_a_response_error() -> None:
    oc = OneConnect(
        "http://oneconnect.test/api/v1",
        "ops@example.com",
        "key",
        timezone="UTC",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, text="<html>")),
    )
    with oc, pytest.raises(errors.ResponseError, match="expected JSON"):
        list(oc.contacts.list())


def test_a_contact_page_with_a_broken_record_comes_back_as_it_is() -> None:
    # The frames reject the broken record with its reason and keep the others.
    good = {"id": 1, "phone_number": "995555000001", "created_at": STAMP, "updated_at": STAMP}
    broken = {**good, "id": "one", "phone_number": 995555000002}
    with serving([good, broken]) as oc:
        (page,) = oc.contacts.pages()
    assert page == [good, broken]


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=6)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)


def lists_in(value: Any) -> int:
    if isinstance(value, dict):
        return sum(map(lists_in, value.values()))
    if isinstance(value, (list, tuple)):
        return isinstance(value, list) + sum(map(lists_in, value))
    return 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=5), max_size=4))
@example([{"id": {}}, {"id": [1, {"a": 2}]}])  # ids no set can hold (found by CI)
def test_pages_are_the_json_records_with_arrays_as_tuples(records: list[dict[str, Any]]) -> None:
    # Shallow records take the fast decoder, deeper ones the general way: the same shape.
    with serving(records) as oc:
        (page,) = oc.contacts.pages()
    assert orjson.loads(orjson.dumps(page)) == records  # orjson writes tuples as arrays
    assert sum(map(lists_in, page)) == 0  # the page is a list, its records hold none


def test_contact_pages_keep_records_without_extra_numbers_out_of_the_collector() -> None:
    plain = {"id": 1, "phone_number": "995555000001", "additional_numbers": [], "city": None}
    extra = {**plain, "id": 2, "additional_numbers": ["995555000002"]}
    with serving([plain, extra]) as oc:
        (page,) = oc.contacts.pages()
    assert page == [
        {**plain, "additional_numbers": ()},
        {**extra, "additional_numbers": ("995555000002",)},
    ]
    assert not gc.is_tracked(page[0])  # most contacts: 100,000 of them cost the collector nothing


def test_the_arrow_wire_schemas_are_the_wire_structs_fields() -> None:
    """Derived from the structs: the contract's contact fields, typed as the JSON has them."""
    from oneconnect_pipelines.client.models import CONTACT_WIRE, MESSAGE_WIRE
    from oneconnect_pipelines.formats import CONTACT_FIELDS

    assert CONTACT_WIRE.names == ["id", *CONTACT_FIELDS, "created_at", "updated_at"]
    assert CONTACT_WIRE.field("id").type == pyarrow.int64()
    assert CONTACT_WIRE.field("additional_numbers").type == pyarrow.list_(pyarrow.string())
    assert MESSAGE_WIRE.field("sms").type == pyarrow.struct(
        [("destination", pyarrow.string()), ("content", pyarrow.string())]
    )
    assert MESSAGE_WIRE.field("birthday_campaign").type == pyarrow.bool_()


BIRTHDAY_OFF_FORMAT = "1997-05-05"  # ISO: neither DD.MM.YYYY nor DD/MM/YYYY
CONTACT = {"id": 1, "phone_number": "995555000001", "created_at": STAMP, "updated_at": STAMP}
ODD_CONTACT = {**CONTACT, "id": 2, "birthday": BIRTHDAY_OFF_FORMAT}
CAMPAIGN = {
    "id": 5,
    "name": "Tips",
    "active": True,
    "recipients": "",
    "recipients_list": [1],
    "title": None,
    "content": "Tip",
    "job_type": 0,
    "schedule": {"type": "scheduled-certain-dates", "dates": ["22/05/2019 17:57", "2019-05-23"]},
    "completed": False,
    "created_at": STAMP,
    "updated_at": STAMP,
}
PLAN = {"name": "Basic", "price": "cheap", "price_yearly": "99.8"}

#: A phone number where another value belongs: no error, nor any it chains, may quote it.
NUMBER_OFF_FORMAT = "995555999888"


#: A call reading a record off its formats -> (answer served, resource, record id, field).
UNREADABLE_RECORDS: dict[str, tuple[Callable[[OneConnect], Any], Any, str, Any, str | None]] = {
    "contact listing": (
        lambda oc: list(oc.contacts.list()),
        [CONTACT, ODD_CONTACT],
        "contact",
        2,
        "birthday",
    ),
    "contact": (lambda oc: oc.contacts.get(2), ODD_CONTACT, "contact", 2, "birthday"),
    "contact listing, a phone number where a moment belongs": (
        lambda oc: list(oc.contacts.list()),
        [CONTACT, {**CONTACT, "id": 2, "created_at": NUMBER_OFF_FORMAT}],
        "contact",
        2,
        "created_at",
    ),
    "list listing": (
        lambda oc: list(oc.lists.list()),
        [
            {
                "id": 3,
                "name": "VIP",
                "created_at": STAMP,
                "updated_at": STAMP,
                "members": [ODD_CONTACT],
            }
        ],
        "list",
        3,
        "members[0].birthday",
    ),
    "campaign": (lambda oc: oc.campaigns.get(5), CAMPAIGN, "campaign", 5, "schedule.dates[1]"),
    "title listing": (
        lambda oc: list(oc.titles.list()),
        [{"id": 4, "name": "Shop", "active": True, "created_at": "yesterday", "updated_at": STAMP}],
        "title",
        4,
        "created_at",
    ),
    "template without created_at": (
        lambda oc: oc.templates.get(6),
        {"id": 6, "title": "T", "body": "B", "updated_at": STAMP},
        "template",
        6,
        "created_at",
    ),
    "plan": (lambda oc: oc.pricing(), [PLAN], "plan", None, "price"),
    # a value of the wrong JSON type is refused, not made into something else by Python
    # (``bool("no")`` is True, ``str({...})`` a repr, ``int(5.5)`` 5)
    "title listing, a flag that is no boolean": (
        lambda oc: list(oc.titles.list()),
        [{"id": 4, "name": "Shop", "active": "no", "created_at": STAMP, "updated_at": STAMP}],
        "title",
        4,
        "active",
    ),
    "campaign listing, an object as its name": (
        lambda oc: list(oc.campaigns.list()),
        [{**CAMPAIGN, "name": {"text": "Tips"}}],
        "campaign",
        5,
        "name",
    ),
    "campaign listing, a list id of 5.5": (
        lambda oc: list(oc.campaigns.list()),
        [{**CAMPAIGN, "recipients_list": [5.5]}],
        "campaign",
        5,
        "recipients_list[0]",
    ),
    "campaign without a schedule type": (
        lambda oc: oc.campaigns.get(5),
        {**CAMPAIGN, "schedule": {"dates": []}},
        "campaign",
        5,
        "schedule.type",
    ),
    "birthday campaign listing, list ids as text": (
        lambda oc: list(oc.birthday_campaigns.list()),
        [{**CAMPAIGN, "recipient_lists": "1,2"}],
        "birthday campaign",
        5,
        "recipient_lists",
    ),
    "template listing, a number as its body": (
        lambda oc: list(oc.templates.list()),
        [{"id": 6, "title": "T", "body": 7, "created_at": STAMP, "updated_at": STAMP}],
        "template",
        6,
        "body",
    ),
    "plan, a limit of 1.5": (
        lambda oc: oc.pricing(),
        [{"name": "Basic", "price": "9.98", "price_yearly": "99.8", "lists_limit": 1.5}],
        "plan",
        None,
        "lists_limit",
    ),
}


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ({"type": "scheduled-recurring", "date-range": "31/02/2026 10:00"}, "schedule.date-range"),
        (
            {"type": "permanent-recurring", "date-range": "01/03/2026 10:00", "repeat": "often"},
            "schedule.repeat",
        ),
        ({"type": "scheduled-certain-dates", "dates": "01/03/2026 10:00,later"}, "schedule.dates"),
        (
            {
                "type": "scheduled-recurring",
                "date-range": "01/03/2026 10:00 - soon",
                "repeat": "1 days",
            },
            "schedule.date-range",
        ),
        ({"date-range": "01/03/2026 10:00", "repeat": "1 day"}, "schedule.type"),
        (
            {"type": "scheduled-certain-dates", "dates": {"first": "01/03/2026 10:00"}},
            "schedule.dates",
        ),
    ],
    ids=[
        "no such day",
        "no such repeat",
        "a date among text",
        "a range's end",
        "no type",
        "an object as dates",
    ],
)
def test_a_schedule_off_the_contract_names_its_campaign(
    schedule: dict[str, Any], field: str | None
) -> None:
    """The extraction's campaigns table is built from these records: a schedule it cannot
    read fails the listing naming the campaign (and the field, where one value is wrong)."""
    with (
        serving([{**CAMPAIGN, "id": 42, "schedule": schedule}]) as oc,
        pytest.raises(errors.ResponseError, match="cannot read campaign 42") as raised,
    ):
        list(oc.campaigns.list())
    assert (raised.value.resource, raised.value.record_id) == ("campaign", 42)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("noncontact", "field"),
    [
        ({"phone_number": "995559990002"}, "noncontact_members[...]"),
        (["995559990002"], "noncontact_members"),
        ({"first_name": {"a": "Zoë"}}, "noncontact_members[...]"),
        ({"phone_number": [995559990002]}, "noncontact_members[...][0]"),
    ],
    ids=["text for an array", "array for an object", "object for an array", "a number"],
)
def test_noncontact_members_of_another_shape_name_their_list(noncontact: Any, field: str) -> None:
    """Not read as one member per character of a number given as text."""
    good = {"id": 1, "name": "A", "created_at": STAMP, "updated_at": STAMP}
    with (
        serving([good, {**good, "id": 2, "noncontact_members": noncontact}]) as oc,
        pytest.raises(errors.ResponseError, match=re.escape(f"cannot read list 2 at {field}: ")),
    ):
        list(oc.lists.list())


def test_small_records_read_numbers_and_flags_sent_as_text_by_their_value() -> None:
    """Lax as every listing: ``"false"`` is False (``bool("false")`` would be True),
    ``"7"`` is 7, a price sent as a number is its exact decimal."""
    title = {"id": "4", "name": "Shop", "active": "false", "created_at": STAMP, "updated_at": STAMP}
    with serving([title]) as oc:
        assert [(t.id, t.active) for t in oc.titles.list()] == [(4, False)]
    plan = {"name": "Basic", "price": 9.98, "price_yearly": "99.8", "lists_limit": "5"}
    with serving([plan]) as oc:
        (read,) = oc.pricing()
    assert (read.price, read.lists_limit, read.integrations) == (Decimal("9.98"), 5, False)
    schedule = {"type": "scheduled-certain-dates", "dates": ["22/05/2019 17:57"]}
    with serving([{**CAMPAIGN, "active": "0", "completed": "true", "schedule": schedule}]) as oc:
        (campaign,) = oc.campaigns.list()
    assert (campaign.active, campaign.completed) == (False, True)


def chain_texts(error: BaseException) -> Iterator[str]:
    """All a log handler can show of an error: its text and repr along the whole chain."""
    seen: BaseException | None = error
    while seen is not None:
        yield f"{seen} {seen!r}"
        seen = seen.__cause__ or seen.__context__


@pytest.mark.parametrize("case", UNREADABLE_RECORDS.values(), ids=list(UNREADABLE_RECORDS))
def test_a_record_the_client_cannot_read_is_a_response_error_naming_where(
    case: tuple[Callable[[OneConnect], Any], Any, str, Any, str | None],
) -> None:
    """A OneConnectError (callers catch those per row), naming resource, id and field,
    and quoting no value: an off-format birthday is personal data."""
    read, answer, resource, record_id, field = case
    with serving(answer) as oc, pytest.raises(errors.ResponseError) as raised:
        read(oc)
    error = raised.value
    assert (error.resource, error.record_id, error.field) == (resource, record_id, field)
    assert (f"{resource} {record_id}" if record_id else f"a {resource}") in str(error)
    assert field is None or f" at {field}: " in str(error)
    for text in chain_texts(error):
        assert BIRTHDAY_OFF_FORMAT not in text and "1997" not in text, text
        assert NUMBER_OFF_FORMAT not in text, text
