"""pandera models reject what they must, with a failure sample a user can act on; and
``frames`` turns every record shape the contract documents into a valid table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneconnect_pipelines import frames
from oneconnect_pipelines import schemas as s
from oneconnect_pipelines.client.models import Title

from .conftest import TZ
from .frame_records import (
    CREATED,
    a_list,
    birthday_campaign,
    birthday_campaigns_of,
    campaign,
    campaigns_of,
    contact,
    lists_of,
    message,
    title,
)


def failures(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> pd.DataFrame:
    """The failure cases of validating ``frame`` (lazily: all of them)."""
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        model.validate(frame, lazy=True)
    cases: pd.DataFrame = caught.value.failure_cases
    return cases


def cases_of(cases: pd.DataFrame, column: str) -> list[tuple[str, str]]:
    """(check, failure_case) pairs reported for ``column``."""
    rows = cases[cases["column"] == column]
    return [(str(c), str(f)) for c, f in zip(rows["check"], rows["failure_case"], strict=True)]


def contacts(*records: dict[str, Any]) -> pd.DataFrame:
    return frames.contacts_frame(list(records))


def titles(*records: Title) -> pd.DataFrame:
    return frames.frame_of(s.TitlesSchema, records, "titles")


# ----------------------------------------------------------------------- rejections
def test_duplicate_contact_ids_are_named() -> None:
    frame = contacts(contact(4, "995551000001"), contact(4, "995551000002"))
    cases = failures(s.ContactsSchema, frame)
    assert cases_of(cases, "id") == [("field_uniqueness", "4"), ("field_uniqueness", "4")]


def test_a_phone_number_with_letters_is_named() -> None:
    frame = contacts(contact(1, "995551000001"), contact(2, "99555l000002"))
    cases = failures(s.ContactsSchema, frame)
    assert cases_of(cases, "phone_number") == [(r"str_matches('^\d+$')", "99555l000002")]
    assert list(cases["index"]) == [1]


def test_phone_numbers_as_integers_are_refused() -> None:
    frame = contacts(contact(1, "0555100001"))
    frame["phone_number"] = frame["phone_number"].astype("int64")  # the leading 0 is gone
    cases = failures(s.ContactsSchema, frame)
    check, failure = cases_of(cases, "phone_number")[0]
    assert check == "dtype('string[pyarrow]')"
    assert failure == "555100001"  # the number as it arrived, its leading 0 lost


def test_text_held_as_python_objects_is_refused_by_its_dtype() -> None:
    frame = contacts(contact(1, "995551000001", email="a@example.com"))
    frame["email"] = frame["email"].astype(object)  # the strings alone are not the type
    cases = failures(s.ContactsSchema, frame)
    assert cases_of(cases, "email") == [("dtype('string[pyarrow]')", "object")]
    assert set(cases["column"]) == {"email"}


def test_a_gender_outside_male_female_is_named() -> None:
    frame = contacts(contact(1, "995551000001", gender="Male"), contact(2, "995551000002"))
    frame["gender"] = pd.Categorical(["Male", "Other"])
    cases = failures(s.ContactsSchema, frame)
    assert cases_of(cases, "gender") == [("isin(('Male', 'Female'))", "Other")]


def test_an_extra_column_is_named() -> None:
    frame = contacts(contact(1, "995551000001")).assign(notes="x")
    cases = failures(s.ContactsSchema, frame)
    assert cases_of(cases, "ContactsSchema") == [("column_in_schema", "notes")]


def test_a_bad_final_status_is_named() -> None:
    frame = frames.messages_frame([message(1, CREATED), message(2, CREATED)], TZ)
    frame["final_status"] = pd.Categorical(["delivered", "sent"])
    cases = failures(s.MessagesSchema, frame)
    assert cases_of(cases, "final_status") == [
        ("isin(('delivered', 'undelivered', 'pending'))", "sent")
    ]


def test_wrong_dtypes_are_named_per_column() -> None:
    frame = frames.messages_frame([message(1, CREATED)], TZ)
    frame["created_at"] = frame["created_at"].astype(str)
    frame["id"] = frame["id"].astype("float64")
    cases = failures(s.MessagesSchema, frame)
    assert cases_of(cases, "created_at")[0][1] == "object"
    assert cases_of(cases, "id")[0][1] == "float64"


def test_a_missing_column_is_named() -> None:
    frame = titles(title(1, "OneShop")).drop(columns=["active"])
    cases = failures(s.TitlesSchema, frame)
    assert "active" in set(cases["failure_case"].astype(str))


def test_an_invalid_sender_name_is_named() -> None:
    frame = titles(title(1, "Far too long!", active=False))
    cases = failures(s.TitlesSchema, frame)
    assert [f for _, f in cases_of(cases, "name")] == ["Far too long!"]


# ----------------------------------------------------------------------- what frames accept
def test_birthdays_in_both_documented_formats() -> None:
    frame = contacts(
        contact(1, "995551000001", birthday="05/05/1997"),
        contact(2, "995551000002", birthday="05.05.1997"),
        contact(3, "995551000003", birthday="29/02/2000"),
        contact(4, "995551000004", birthday=""),
        contact(5, "995551000005"),
    )
    s.ContactsSchema.validate(frame)
    assert list(frame["birthday"])[:3] == [date(1997, 5, 5), date(1997, 5, 5), date(2000, 2, 29)]
    assert frame["birthday"].isna().tolist() == [False, False, False, True, True]


def test_empty_strings_and_nulls_in_contact_fields_are_both_missing() -> None:
    blank = {f: "" for f in ("email", "first_name", "last_name", "post_code", "city", "street")}
    frame = contacts(
        contact(1, "995551000001", gender="", **blank),
        contact(2, "0555100002", gender=None, additional_numbers=["0555100003", "995551000004"]),
        contact(3, "995551000005", gender="Female", first_name="Nino", email="n@example.com"),
    )
    s.ContactsSchema.validate(frame)
    for field in (*blank, "gender"):
        assert frame[field].isna().tolist()[:2] == [True, True], field
    assert frame["additional_numbers"].tolist()[1] == "0555100003, 995551000004"
    assert frame["gender"].tolist()[2] == "Female"
    assert frame.loc[2, "first_name"] == "Nino"


def test_lists_with_and_without_noncontact_members() -> None:
    ann, bob = contact(1, "995551000001", first_name="Ann"), contact(2, "0555100002")
    lists, members = frames.lists_frames(
        lists_of(
            [
                a_list(1, [ann, bob], noncontact=None),
                a_list(
                    2,
                    [bob],
                    noncontact={
                        "phone_number": ["0555999001", "995559990002"],
                        "first_name": ["Zoë", ""],
                        "last_name": ["", None],  # type: ignore[list-item]
                    },
                ),
                a_list(3, []),
            ]
        )
    )
    s.ListsSchema.validate(lists)
    s.ListMembersSchema.validate(members)
    assert lists[["member_count", "noncontact_count"]].values.tolist() == [[2, 0], [1, 2], [0, 0]]
    noncontacts = members[members["member_type"] == "noncontact"]
    assert noncontacts["phone_number"].tolist() == ["0555999001", "995559990002"]
    assert noncontacts["contact_id"].isna().all()
    assert members.loc[members["contact_id"] == 1, "first_name"].tolist() == ["Ann"]


def test_campaigns_with_null_title_null_completed_and_every_schedule() -> None:
    records = [
        campaign(
            1,
            {"type": "scheduled-recurring", "date-range": "01/02/2026 10:00 - 28/02/2026 10:00"}
            | {"repeat": "1 week"},
            title=None,
        ),
        campaign(2, {"type": "scheduled-certain-dates", "dates": ["22/05/2026 17:57"]}),
        campaign(
            3,
            {"type": "permanent-recurring", "date-range": "18/06/2026 16:00", "repeat": "2 days"},
            completed=None,
            recipients="0555100001, 995551000002",
        ),
        campaign(
            4,
            {"type": "permanent-certain-dates", "dates": ["01/01/2026 09:00", "14/02/2026 12:30"]},
            completed=None,
            lists=[3, 5],
        ),
    ]
    frame = frames.campaigns_frame(campaigns_of(records))
    s.CampaignsSchema.validate(frame)
    assert frame["title"].isna().tolist() == [True, False, False, False]
    assert frame["completed"].isna().tolist() == [False, False, True, True]
    first = frame.iloc[0]
    assert first["start_at"] == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)  # 10:00 in Tbilisi
    assert first["end_at"] == datetime(2026, 2, 28, 6, 0, tzinfo=UTC)
    assert (first["repeat_every"], first["repeat_period"]) == (1, "weeks")
    assert frame.iloc[2]["recipients"] == "0555100001,995551000002"
    assert frame.iloc[2]["recipient_count"] == 2
    assert pd.isna(frame.iloc[2]["end_at"])
    assert list(frame.iloc[3]["dates"]) == [
        pd.Timestamp("2026-01-01 05:00", tz="UTC"),
        pd.Timestamp("2026-02-14 08:30", tz="UTC"),
    ]
    assert list(frame.iloc[3]["recipients_list"]) == [3, 5]


def test_birthday_campaigns_with_an_empty_title() -> None:
    frame = frames.frame_of(
        s.BirthdayCampaignsSchema,
        birthday_campaigns_of(
            [birthday_campaign(1, [1, 2], title=""), birthday_campaign(2, [], title="OneShop")]
        ),
        "birthday_campaigns",
    )
    s.BirthdayCampaignsSchema.validate(frame)
    assert frame["title"].isna().tolist() == [True, False]


def test_messages_campaign_id_zero_is_ad_hoc() -> None:
    frame = frames.messages_frame(
        [
            message(1, CREATED, campaign_id=0),
            message(2, CREATED, campaign_id=7),
            message(3, CREATED, campaign_id=2, birthday=True, status="pending"),
        ],
        TZ,
    )
    s.MessagesSchema.validate(frame)
    assert frame["sender_type"].tolist() == ["adhoc", "campaign", "birthday"]
    assert frame["campaign_id"].tolist()[1:] == [7, 2]
    assert pd.isna(frame["campaign_id"].iloc[0])
    assert frame["sent_local"].iloc[0] == pd.Timestamp("2026-01-10 09:30:00")
    assert frame["delivery_reason"].tolist()[:2] == ["0", "0"]  # "0" means success, kept
    assert pd.isna(frame["delivery_reason"].iloc[2])


EMPTY_TABLES: list[tuple[type[pa.DataFrameModel], Any]] = [
    (s.ContactsSchema, lambda: frames.contacts_frame([])),
    (s.ListsSchema, lambda: frames.lists_frames([])[0]),
    (s.ListMembersSchema, lambda: frames.lists_frames([])[1]),
    (s.CampaignsSchema, lambda: frames.campaigns_frame([])),
    (s.BirthdayCampaignsSchema, lambda: frames.frame_of(s.BirthdayCampaignsSchema, [], "t")),
    (s.MessagesSchema, lambda: frames.messages_frame([], TZ)),
    (s.TitlesSchema, lambda: titles()),
    (s.TemplatesSchema, lambda: frames.frame_of(s.TemplatesSchema, [], "templates")),
    (s.PricingSchema, lambda: frames.frame_of(s.PricingSchema, [], "pricing")),
]


@pytest.mark.parametrize(("model", "build"), EMPTY_TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_empty_collections_give_typed_empty_tables(
    model: type[pa.DataFrameModel], build: Any
) -> None:
    frame: pd.DataFrame = build()
    assert len(frame) == 0
    model.validate(frame)  # dtypes included: nothing is coerced
    assert list(frame.columns) == list(model.to_schema().columns)


def test_a_list_with_no_members_at_all_still_has_typed_member_columns() -> None:
    _, members = frames.lists_frames(lists_of([a_list(1, [])]))
    s.ListMembersSchema.validate(members)
    assert len(members) == 0


# ----------------------------------------------------------------------- FrameError
def test_an_impossible_timestamp_names_table_field_and_ids() -> None:
    records = [
        contact(11, "995551000001"),
        contact(12, "995551000002", created_at="2026-02-30 10:00:00 +0400"),
    ]
    with pytest.raises(frames.FrameError) as caught:
        frames.contacts_frame(records)
    assert "contacts.created_at" in str(caught.value)
    assert "[12]" in str(caught.value)


def test_an_impossible_message_timestamp_names_the_message() -> None:
    with pytest.raises(frames.FrameError, match=r"messages\.updated_at .*\[8\]"):
        frames.messages_frame([message(8, CREATED) | {"updated_at": "yesterday"}], TZ)


def test_an_impossible_birthday_names_the_contacts() -> None:
    records = [
        contact(3, "995551000001", birthday="31/02/1990"),
        contact(4, "995551000002", birthday="1990-01-01"),
        contact(5, "995551000003", birthday="01/01/1990"),
    ]
    with pytest.raises(frames.FrameError) as caught:
        frames.contacts_frame(records)
    message_text = str(caught.value)
    assert "contacts.birthday" in message_text
    assert "2 record(s)" in message_text and "[3, 4]" in message_text
    assert "1990" not in message_text  # the birthdays themselves stay out of the error


def test_an_unknown_final_status_or_gender_is_refused_not_dropped() -> None:
    with pytest.raises(frames.FrameError, match=r"messages\.final_status .*\[2\]"):
        frames.messages_frame([message(1, CREATED), message(2, CREATED, status="sent")], TZ)
    with pytest.raises(frames.FrameError, match=r"contacts\.gender .*\[6\]"):
        frames.contacts_frame([contact(6, "995551000001", gender="Unknown")])


def test_a_moment_no_table_can_hold_names_the_records() -> None:
    """A typed record may hold any year; a table only 1677 to 2262."""
    far = Title(7, "OneShop", True, datetime(2400, 1, 1, tzinfo=UTC), datetime.now(UTC))
    with pytest.raises(frames.FrameError) as caught:
        titles(title(6, "Shop"), far)
    assert str(caught.value) == (
        "titles.created_at is outside the years 1677 to 2262 a table holds for 1 record(s), ids [7]"
    )


def test_a_send_time_no_table_can_hold_names_the_campaigns() -> None:
    """Certain dates past 2262 read fine into a record; the table names the campaign."""
    far = {"type": "permanent-certain-dates", "dates": ["01/01/2026 09:00", "01/01/2300 09:00"]}
    near = {"type": "scheduled-certain-dates", "dates": ["22/05/2026 17:57"]}
    records = campaigns_of([campaign(4, near), campaign(5, far), campaign(6, far)])
    with pytest.raises(frames.FrameError) as caught:
        frames.campaigns_frame(records)
    assert str(caught.value) == (
        "campaigns.dates is outside the years 1677 to 2262 a table holds for 2 record(s), "
        "ids [5, 6]"
    )


# ----------------------------------------------------------------------- property
optional_text = st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=12))
phone = st.from_regex(r"0{0,3}[0-9]{6,12}", fullmatch=True)
birthdays = st.one_of(
    st.none(),
    st.just(""),
    st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)).flatmap(
        lambda d: st.sampled_from([d.strftime("%d/%m/%Y"), d.strftime("%d.%m.%Y")])
    ),
)


@st.composite
def contact_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    numbers = draw(st.lists(phone, min_size=1, max_size=8, unique=True))
    return [
        contact(
            i + 1,
            number,
            email=draw(optional_text),
            first_name=draw(optional_text),
            last_name=draw(optional_text),
            birthday=draw(birthdays),
            city=draw(optional_text),
            gender=draw(st.sampled_from([None, "", "Male", "Female"])),
            additional_numbers=draw(st.lists(phone, max_size=2)),
        )
        for i, number in enumerate(numbers)
    ]


@settings(max_examples=25, deadline=None)
@given(contact_records())
def test_contact_records_round_trip_with_their_exact_numbers(records: list[dict[str, Any]]) -> None:
    frame = frames.contacts_frame(records)
    s.ContactsSchema.validate(frame)
    assert frame["phone_number"].tolist() == [r["phone_number"] for r in records]
    assert frame["additional_numbers"].fillna("").tolist() == [
        ", ".join(r["additional_numbers"]) for r in records
    ]
    for record, (_, row) in zip(records, frame.iterrows(), strict=True):
        assert (None if pd.isna(row["first_name"]) else row["first_name"]) == (
            record["first_name"] or None
        )
        if record["birthday"]:
            assert row["birthday"].strftime("%d/%m/%Y") == record["birthday"].replace(".", "/")
        else:
            assert pd.isna(row["birthday"])


# ----------------------------------------------------------------------- one contract
def test_every_shape_of_a_contact_has_the_contracts_fields_in_one_order() -> None:
    """A contact's fields are declared by the contract (``formats.CONTACT_FIELDS``); the
    shapes that hold it (typed record, warehouse table, CRM rows, CRM mapping) each have
    exactly those fields, the matching phone number first, and the categories the table
    converts to are the contract's."""
    from oneconnect_pipelines.client.models import Contact
    from oneconnect_pipelines.crm.mapping import CONTACT_FIELDS as CRM_FIELDS
    from oneconnect_pipelines.crm.mapping import DEFAULT_HEADERS
    from oneconnect_pipelines.formats import CONTACT_FIELDS, CONTACT_TEXT_FIELDS, GENDERS

    fields = ["phone_number", *(name for name in CONTACT_FIELDS if name != "phone_number")]
    table = ["id", *fields, "created_at", "updated_at"]
    assert list(Contact.__struct_fields__) == table
    assert list(s.ContactsSchema.to_schema().columns) == table
    assert s.arrow_schema(s.ContactsSchema).names == table
    assert list(contacts(contact(1, "995555000001")).columns) == table
    assert list(s.CrmContactsSchema.to_schema().columns) == ["row", *fields]
    assert list(CRM_FIELDS) == fields and set(DEFAULT_HEADERS) == set(fields)
    assert set(CONTACT_TEXT_FIELDS) < set(CONTACT_FIELDS)
    assert s.categories(s.ContactsSchema) == {"gender": GENDERS}


def test_a_message_record_and_its_table_have_the_same_fields_in_one_order() -> None:
    """The table adds what it derives (who sent it, the account's local time) and says
    who sent it instead of the record's ``birthday_campaign`` flag."""
    from oneconnect_pipelines.client.models import Message
    from oneconnect_pipelines.formats import MESSAGE_STATUSES

    record = [name for name in Message.__struct_fields__ if name != "birthday_campaign"]
    table = list(s.MessagesSchema.to_schema().columns)
    assert [name for name in table if name not in ("sender_type", "sent_local")] == record
    assert list(frames.messages_frame([message(1, CREATED)], TZ).columns) == table
    assert s.categories(s.MessagesSchema) == {
        "final_status": MESSAGE_STATUSES,
        "sender_type": s.SENDER_TYPES,
    }
