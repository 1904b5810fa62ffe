"""Contacts as the contract defines them: writes, reads, filters, sort, validation and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import EMPTY, Sim

TIMESTAMP = "%Y-%m-%d %H:%M:%S %z"
FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone_number",
    "birthday",
    "post_code",
    "city",
    "street",
    "additional_numbers",
    "gender",
)
SORTABLE = ("id", *(f for f in FIELDS if f != "additional_numbers"), "created_at", "updated_at")
FULL_FORM = {
    "email": "nino.beridze@example.com",
    "first_name": "ნინო",
    "last_name": "Beridze",
    "phone_number": "0555123456",
    "birthday": "29.02.1996",
    "post_code": "0108",
    "city": "Tbilisi",
    "street": "Rustaveli Ave 12",
    "additional_numbers": "0322000111, 995599000222,00995577000333",
    "gender": "female",
}
hypothesis_settings = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def create(sim: Sim, **fields: str) -> dict[str, Any]:
    answer = sim.api.post("/contacts", data=fields)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def refused(sim: Sim, method: str, path: str, **fields: str) -> list[str]:
    answer = sim.api.request(method, path, data=fields)
    assert answer.status_code == 422, answer.text
    errors: list[str] = answer.json()["errors"]
    return errors


def all_contacts(sim: Sim, **params: str) -> list[dict[str, Any]]:
    answer = sim.api.get("/contacts", params=params)
    assert answer.status_code == 200, answer.text
    records: list[dict[str, Any]] = answer.json()
    return records


def moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, TIMESTAMP)


# ---------------------------------------------------------------- create, get, patch, delete
def test_create_with_every_field_answers_the_stored_record(sim: Sim) -> None:
    record = create(sim, **FULL_FORM)
    assert record == {
        "id": 61,
        "email": "nino.beridze@example.com",
        "first_name": "ნინო",
        "last_name": "Beridze",
        "phone_number": "0555123456",
        "birthday": "29/02/1996",
        "post_code": "0108",
        "city": "Tbilisi",
        "street": "Rustaveli Ave 12",
        "additional_numbers": ["0322000111", "995599000222", "00995577000333"],
        "gender": "Female",
        "created_at": record["created_at"],
        "updated_at": record["created_at"],
    }
    assert moment(record["created_at"]).utcoffset() is not None
    assert sim.api.get("/contacts/61").json() == record
    assert all_contacts(sim)[-1] == record


def test_create_with_only_a_phone_number_leaves_the_rest_empty(sim: Sim) -> None:
    record = create(sim, phone_number="995599123456")
    assert {f: record[f] for f in FIELDS if f != "phone_number"} == {
        "email": None,
        "first_name": None,
        "last_name": None,
        "birthday": None,
        "post_code": None,
        "city": None,
        "street": None,
        "additional_numbers": [],
        "gender": None,
    }


@hypothesis_settings
@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    slash=st.booleans(),
)
def test_birthdays_in_either_format_read_back_as_dd_mm_yyyy(
    running_sim: Sim, day: date, slash: bool
) -> None:
    running_sim.reset(EMPTY)
    written = day.strftime("%d/%m/%Y" if slash else "%d.%m.%Y")
    record = create(running_sim, phone_number="995599000001", birthday=written)
    assert record["birthday"] == day.strftime("%d/%m/%Y")
    assert running_sim.api.get(f"/contacts/{record['id']}").json()["birthday"] == record["birthday"]


@hypothesis_settings
@given(number=st.from_regex(r"0{1,4}[0-9]{5,11}", fullmatch=True))
def test_leading_zeros_are_kept_and_found_by_exact_value(running_sim: Sim, number: str) -> None:
    running_sim.reset(EMPTY)
    record = create(running_sim, phone_number=number, additional_numbers=f"00{number[-6:]}")
    assert record["phone_number"] == number
    assert record["additional_numbers"] == [f"00{number[-6:]}"]
    assert all_contacts(running_sim, phone_number=number) == [record]
    assert all_contacts(running_sim, phone_number=number.lstrip("0")) == []
    assert all_contacts(running_sim, additional_numbers=f"00{number[-6:]}") == [record]


def test_get_unknown_contact_is_404(sim: Sim) -> None:
    answer = sim.api.get("/contacts/9999")
    assert answer.status_code == 404
    assert answer.json() == {"error_code": 404, "status": "ERROR", "message": "Not found"}


def test_patch_changes_only_the_fields_sent_and_moves_updated_at(sim: Sim) -> None:
    before = create(sim, **FULL_FORM)
    sim.advance(90)
    answer = sim.api.patch(f"/contacts/{before['id']}", data={"city": "Batumi", "gender": "MALE"})
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert after == {
        **before,
        "city": "Batumi",
        "gender": "Male",
        "updated_at": after["updated_at"],
    }
    assert after["created_at"] == before["created_at"]
    assert (moment(after["updated_at"]) - moment(before["updated_at"])).total_seconds() == 90
    assert sim.api.get(f"/contacts/{before['id']}").json() == after


def test_patch_with_an_empty_value_clears_that_field_only(sim: Sim) -> None:
    before = create(sim, **FULL_FORM)
    after = sim.api.patch(
        f"/contacts/{before['id']}", data={"birthday": "", "additional_numbers": ""}
    ).json()
    assert after["birthday"] is None
    assert after["additional_numbers"] == []
    assert {f: after[f] for f in FIELDS if f not in ("birthday", "additional_numbers")} == {
        f: before[f] for f in FIELDS if f not in ("birthday", "additional_numbers")
    }


def test_patch_without_changes_keeps_updated_at(sim: Sim) -> None:
    before = sim.api.get("/contacts/5").json()
    sim.advance(60)
    assert sim.api.patch("/contacts/5", data={}).json() == before


def test_bare_patch_path_takes_the_id_from_the_form(sim: Sim) -> None:
    answer = sim.api.patch("/contacts", data={"id": "7", "first_name": "Tamar"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == 7
    assert sim.api.get("/contacts/7").json()["first_name"] == "Tamar"
    assert refused(sim, "PATCH", "/contacts", first_name="Tamar") == ["id must be given"]
    missing = sim.api.patch("/contacts", data={"id": "9999", "first_name": "Tamar"})
    assert missing.status_code == 404
    assert missing.json()["message"] == "Not found"


def test_patch_unknown_contact_is_404(sim: Sim) -> None:
    answer = sim.api.patch("/contacts/9999", data={"city": "Gori"})
    assert answer.status_code == 404
    assert answer.json() == {"error_code": 404, "status": "ERROR", "message": "Not found"}


def test_patch_may_keep_the_own_number_but_not_take_another(sim: Sim) -> None:
    first, second = sim.api.get("/contacts/1").json(), sim.api.get("/contacts/2").json()
    same = sim.api.patch("/contacts/1", data={"phone_number": first["phone_number"]})
    assert same.status_code == 200
    assert refused(sim, "PATCH", "/contacts/1", phone_number=second["phone_number"]) == [
        "Phone number has already been taken"
    ]
    assert sim.api.get("/contacts/1").json()["phone_number"] == first["phone_number"]


def test_delete_removes_the_contact_everywhere(sim: Sim) -> None:
    lists = sim.api.get("/lists").json()
    member_of = [lst["id"] for lst in lists if any(m["id"] == 3 for m in lst["members"])]
    answer = sim.api.delete("/contacts/3")
    assert answer.status_code == 200
    assert answer.json() == {"error_code": 0, "status": "OK", "message": "Contact deleted."}
    assert sim.api.get("/contacts/3").status_code == 404
    assert 3 not in [c["id"] for c in all_contacts(sim)]
    assert len(all_contacts(sim)) == 59
    for list_id in member_of:
        assert 3 not in [m["id"] for m in sim.api.get(f"/lists/{list_id}").json()["members"]]
    again = sim.api.delete("/contacts/3")
    assert again.status_code == 404
    assert again.json() == {"error_code": 404, "status": "ERROR", "message": "Not found"}


# ---------------------------------------------------------------- validation
def test_duplicate_phone_number_is_refused(sim: Sim) -> None:
    taken = sim.api.get("/contacts/1").json()["phone_number"]
    assert refused(sim, "POST", "/contacts", phone_number=taken, first_name="Twin") == [
        "Phone number has already been taken"
    ]
    assert len(all_contacts(sim)) == 60


#: Digits of other scripts: ``str.isdigit`` and ``\\d`` take them, no SMS gateway dials them.
FOREIGN_DIGITS = [
    "٠٥٥٥١٢٣٤٥٦",  # Arabic-Indic
    "۰۵۵۵۱۲۳۴۵۶",  # Extended Arabic-Indic (Persian)
    "９９５５１２３４５６７８",  # fullwidth
    "९९५५१२३४५६७८",  # Devanagari
    "0555１23456",  # one fullwidth digit among ASCII ones
]


@pytest.mark.parametrize(
    "number", ["12345", "+995555123456", "0555 123 456", "abc123456", "1" * 16, *FOREIGN_DIGITS]
)
def test_malformed_phone_number_is_refused(sim: Sim, number: str) -> None:
    assert refused(sim, "POST", "/contacts", phone_number=number) == ["Phone number is invalid"]
    assert refused(sim, "PATCH", "/contacts/1", phone_number=number) == ["Phone number is invalid"]


@pytest.mark.parametrize("number", FOREIGN_DIGITS)
def test_additional_numbers_in_other_scripts_digits_are_refused(sim: Sim, number: str) -> None:
    errors = refused(
        sim, "POST", "/contacts", phone_number="995599000778", additional_numbers=number
    )
    assert errors == ["Additional numbers are invalid"]
    assert refused(sim, "PATCH", "/contacts/1", additional_numbers=f"0555123456, {number}") == [
        "Additional numbers are invalid"
    ]
    assert all_contacts(sim, phone_number="995599000778") == []


def test_missing_phone_number_is_refused(sim: Sim) -> None:
    assert refused(sim, "POST", "/contacts", first_name="Nobody") == ["Phone number can't be blank"]


@pytest.mark.parametrize(
    "birthday", ["31.02.1990", "29.02.2001", "32/01/1990", "1990-05-05", "05.05.1899", "01.01.2999"]
)
def test_impossible_birthday_is_refused(sim: Sim, birthday: str) -> None:
    assert refused(sim, "POST", "/contacts", phone_number="995599000777", birthday=birthday) == [
        "Birthday is invalid"
    ]
    assert refused(sim, "PATCH", "/contacts/1", birthday=birthday) == ["Birthday is invalid"]
    assert all_contacts(sim, phone_number="995599000777") == []


def test_every_validation_error_is_reported_at_once(sim: Sim) -> None:
    errors = refused(
        sim, "POST", "/contacts", phone_number="12", birthday="31.02.1990", email="not-an-email"
    )
    assert sorted(errors) == ["Birthday is invalid", "Email is invalid", "Phone number is invalid"]


def test_basic_plan_contacts_limit(sim: Sim) -> None:
    sim.reset(EMPTY, plan="basic")
    for n in range(20):
        create(sim, phone_number=f"0555{n:06d}")
    assert refused(sim, "POST", "/contacts", phone_number="0555999999") == [
        "Contacts limit reached"
    ]
    assert len(all_contacts(sim)) == 20
    assert sim.api.delete("/contacts/1").status_code == 200
    create(sim, phone_number="0555999999")


# ---------------------------------------------------------------- filters
def matches(record: dict[str, Any], name: str, value: str) -> bool:
    stored = record[name]
    if name == "additional_numbers":
        return value in stored
    if value == "":
        return stored in (None, "")
    return bool(stored == value)


def filter_value(record: dict[str, Any], name: str) -> str | None:
    """A value of ``record`` to filter ``name`` by, as a user would type it."""
    stored = record[name]
    if name == "additional_numbers":
        return stored[0] if stored else None
    return "" if stored is None else str(stored)


@hypothesis_settings
@given(
    seed=st.integers(min_value=0, max_value=50),
    names=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True),
    pick=st.integers(min_value=0, max_value=59),
)
def test_exact_value_filters_combine(
    running_sim: Sim, seed: int, names: list[str], pick: int
) -> None:
    running_sim.reset(seed=seed)
    whole = all_contacts(running_sim)
    chosen = whole[pick]
    params = {n: v for n in names if (v := filter_value(chosen, n)) is not None}
    expected = [r for r in whole if all(matches(r, n, v) for n, v in params.items())]
    assert chosen in expected or not params
    assert all_contacts(running_sim, **params) == expected


def test_each_field_filters_by_its_exact_value(sim: Sim) -> None:
    whole = all_contacts(sim)
    for name in FIELDS:
        holders = [r for r in whole if filter_value(r, name)]
        assert holders, name  # the seed fills every field somewhere
        value = filter_value(holders[0], name)
        assert value is not None
        found = all_contacts(sim, **{name: value})
        assert found == [r for r in whole if matches(r, name, value)], name
        assert holders[0] in found


def test_empty_filter_value_matches_null_and_empty(sim: Sim) -> None:
    whole = all_contacts(sim)
    found = all_contacts(sim, city="")
    assert found == [r for r in whole if r["city"] in (None, "")]
    assert {r["city"] for r in found} == {None, ""}


def test_empty_additional_numbers_filter_matches_contacts_without_any(sim: Sim) -> None:
    whole = all_contacts(sim)
    found = all_contacts(sim, additional_numbers="")
    assert found == [r for r in whole if not r["additional_numbers"]]
    assert found and len(found) < len(whole)  # the seed has both kinds
    bare = create(sim, phone_number="995599000779")
    holder = create(sim, phone_number="995599000780", additional_numbers="995599000781")
    found = all_contacts(sim, additional_numbers="")
    assert bare in found and holder not in found
    assert all_contacts(sim, additional_numbers="", phone_number="995599000779") == [bare]


def test_gender_and_birthday_filters_accept_the_documented_spellings(sim: Sim) -> None:
    whole = all_contacts(sim)
    assert all_contacts(sim, gender="male") == [r for r in whole if r["gender"] == "Male"]
    born = next(r for r in whole if r["birthday"])
    dotted = born["birthday"].replace("/", ".")
    assert born in all_contacts(sim, birthday=dotted)
    assert all_contacts(sim, birthday=dotted) == all_contacts(sim, birthday=born["birthday"])
    answer = sim.api.get("/contacts", params={"birthday": "1990-01-01"})
    assert answer.status_code == 422
    assert answer.json()["errors"]


def test_filter_matching_nothing_is_an_empty_array(sim: Sim) -> None:
    assert all_contacts(sim, first_name="Nobody-at-all") == []
    assert all_contacts(sim, first_name="Anna", last_name="Nobody-at-all") == []


# ---------------------------------------------------------------- sort
def sort_value(record: dict[str, Any], name: str) -> tuple[int, Any]:
    """Nulls first when ascending (last when descending); dates in date order."""
    value = record[name]
    if value is None:
        return (0, "")
    if name == "birthday":
        return (1, datetime.strptime(value, "%d/%m/%Y").date())
    if name in ("created_at", "updated_at"):
        return (1, moment(value))
    return (1, value)


def python_sorted(records: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Stable sorts from the last key to the first; ties stay in id order."""
    ordered = sorted(records, key=lambda r: r["id"])
    for key in reversed(keys):
        name = key.lstrip("-")

        def by_key(record: dict[str, Any], name: str = name) -> tuple[int, Any]:
            return sort_value(record, name)

        ordered = sorted(ordered, key=by_key, reverse=key.startswith("-"))
    return ordered


def test_sort_by_first_name_then_last_name_descending(sim: Sim) -> None:
    whole = all_contacts(sim)
    answer = all_contacts(sim, sort="first_name,-last_name")
    assert answer == python_sorted(whole, ["first_name", "-last_name"])
    assert answer != whole


@hypothesis_settings
@given(
    seed=st.integers(min_value=0, max_value=50),
    keys=st.lists(
        st.tuples(st.sampled_from(SORTABLE), st.booleans()),
        min_size=1,
        max_size=3,
        unique_by=lambda k: k[0],
    ),
    spaced=st.booleans(),
)
def test_multi_key_sort_matches_python_sorting_with_ties_by_id(
    running_sim: Sim, seed: int, keys: list[tuple[str, bool]], spaced: bool
) -> None:
    running_sim.reset(seed=seed)
    terms = [("-" if descending else "") + name for name, descending in keys]
    whole = all_contacts(running_sim)
    answer = all_contacts(running_sim, sort=(", " if spaced else ",").join(terms))
    assert [r["id"] for r in answer] == [r["id"] for r in python_sorted(whole, terms)]
    paged = running_sim.api.get(
        "/contacts", params={"sort": ",".join(terms), "page": 2, "per_page": 25}
    ).json()
    assert paged == answer[25:50]


def test_sort_and_filter_combine(sim: Sim) -> None:
    whole = all_contacts(sim)
    answer = all_contacts(sim, gender="Female", sort="-birthday")
    expected = python_sorted([r for r in whole if r["gender"] == "Female"], ["-birthday"])
    assert answer == expected


@pytest.mark.parametrize("sort", ["shoe_size", "first_name,-shoe_size", "additional_numbers"])
def test_unknown_sort_field_is_refused(sim: Sim, sort: str) -> None:
    answer = sim.api.get("/contacts", params={"sort": sort})
    assert answer.status_code == 422
    [message] = answer.json()["errors"]
    assert sort.split(",")[-1].lstrip("-") in message


# ---------------------------------------------------------------- CSV
def test_contacts_csv_has_the_json_records(sim: Sim) -> None:
    create(sim, **FULL_FORM)
    answer = sim.api.get("/contacts_csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    header, body = rows[0], rows[1:]
    assert header == ["id", *FIELDS, "created_at", "updated_at"]
    whole = all_contacts(sim)
    expected = [
        [
            ", ".join(r[c]) if c == "additional_numbers" else ("" if r[c] is None else str(r[c]))
            for c in header
        ]
        for r in whole
    ]
    assert body == expected
    assert body[-1][header.index("additional_numbers")] == (
        "0322000111, 995599000222, 00995577000333"
    )
    assert any(row[header.index("phone_number")].startswith("0") for row in body)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("email", "nino@", "Email is invalid"),
        ("gender", "other", "Gender is invalid"),
        ("additional_numbers", "0322000111, +995599", "Additional numbers are invalid"),
    ],
)
def test_other_malformed_fields_are_refused(sim: Sim, field: str, value: str, error: str) -> None:
    before = sim.api.get("/contacts/1").json()
    assert refused(sim, "POST", "/contacts", phone_number="995599000888", **{field: value}) == [
        error
    ]
    assert refused(sim, "PATCH", "/contacts/1", **{field: value}) == [error]
    assert sim.api.get("/contacts/1").json() == before
