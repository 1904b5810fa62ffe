"""Sync plans: every CRM row gets exactly one outcome, and only real changes are planned."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.client.errors import ResponseError
from oneconnect_pipelines.crm import (
    ColumnMapping,
    Normalised,
    NormaliseOptions,
    PlanOptions,
    SyncPlan,
    plan_sync,
    prepare,
)
from oneconnect_pipelines.formats import BIRTHDAY_READ_FORMAT

from . import frame_records

TODAY = date(2025, 6, 1)
GE = NormaliseOptions(region="GE", today=TODAY)
HEADER = ["Mobile Phone", "First Name", "Last Name", "Email", "Date of Birth", "Gender", "City"]


def load(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Normalised:
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(header)
        writer.writerows(rows)
    normalised, _ = prepare(path, ColumnMapping(), GE)
    return normalised


def contact(contact_id: int, phone: str, **fields: Any) -> dict[str, Any]:
    """An account's contact as the API lists it (gender sent as ``""`` when unset)."""
    return frame_records.contact(contact_id, phone, **{"gender": "", **fields})


def outcomes(plan: SyncPlan) -> dict[int, tuple[str, Any, Any]]:
    return {
        int(r.row): (r.outcome, None if r.reason is None else str(r.reason), r.contact_id)
        for r in plan.rows.fillna({"reason": "", "contact_id": 0}).itertuples()
    }


def run(rows: Normalised, contacts: list[dict[str, Any]], **options: Any) -> SyncPlan:
    return plan_sync(rows, contacts, GE.phones(), PlanOptions(**options))


def test_create_update_unchanged_and_rejected(tmp_path: Path) -> None:
    rows = load(
        tmp_path,
        [
            ["0555123456", "Ana", "Beridze", "", "05.05.1997", "f", "Tbilisi"],  # unchanged
            ["555000111", "Nino", "", "", "", "", "Batumi"],  # update: city only
            ["995555000222", "Giorgi", "", "g@example.com", "", "m", ""],  # create
            ["12", "Bad", "", "", "", "", ""],  # rejected
        ],
    )
    account = [
        contact(
            1,
            "995555123456",
            first_name="Ana",
            last_name="Beridze",
            birthday="05/05/1997",
            gender="Female",
            city="Tbilisi",
        ),
        contact(2, "0555000111", first_name="Nino", last_name="Kapanadze", city="Kutaisi"),
    ]
    plan = run(rows, account)
    assert plan.counts == {"rows": 4, "create": 1, "update": 1, "unchanged": 1, "rejected": 1}
    got = outcomes(plan)
    assert got[2] == ("unchanged", "", 1)
    assert got[3] == ("update", "", 2)
    assert got[5] == ("rejected", "bad phone number: is too short", 0)
    changes = plan.rows.set_index("row")["changes"]
    assert dict(changes[3]) == {"city": "Batumi"}  # the empty last name erases nothing
    assert dict(changes[4]) == {
        "phone_number": "995555000222",
        "first_name": "Giorgi",
        "email": "g@example.com",
        "gender": "Male",
    }


def test_erase_missing_clears_only_columns_the_file_has(tmp_path: Path) -> None:
    rows = load(tmp_path, [["0555000111", "Nino", ""]], header=["Phone", "First Name", "City"])
    account = [contact(2, "995555000111", first_name="Nino", city="Kutaisi", street="Main St")]
    plan = run(rows, account, erase_missing=True)
    assert dict(plan.rows["changes"][0]) == {"city": None}  # street is not in the file


def test_match_by_email_updates_the_number(tmp_path: Path) -> None:
    rows = load(tmp_path, [["0555000999", "Nino", "", "NINO@example.com", "", "", ""]])
    plan = run(rows, [contact(7, "995555000111", email="nino@example.com", first_name="Nino")])
    assert outcomes(plan)[2] == ("update", "", 7)
    assert dict(plan.rows["changes"][0]) == {"phone_number": "995555000999"}


def test_conflicting_matches_and_contacts_claimed_twice(tmp_path: Path) -> None:
    rows = load(
        tmp_path,
        [
            ["0555000111", "", "", "b@example.com", "", "", ""],  # phone -> A, e-mail -> B
            ["0555000333", "", "", "c@example.com", "", "", ""],  # e-mail -> C, claimed below
            ["0555000444", "", "", "", "", "", ""],  # phone -> C
        ],
    )
    account = [
        contact(1, "995555000111", email="a@example.com"),
        contact(2, "995555000222", email="b@example.com"),
        contact(3, "995555000444", email="c@example.com"),
    ]
    got = outcomes(run(rows, account))
    assert got[2] == (
        "rejected",
        "conflicting matches: the phone number matches contact 1, the e-mail contact 2",
        0,
    )
    assert got[3] == (
        "rejected",
        "conflicting matches: the e-mail matches contact 3, which row 4 matches by phone number",
        0,
    )
    assert got[4] == ("unchanged", "", 3)


def test_a_rejected_rows_number_keeps_its_contact_from_another_row_by_e_mail(
    tmp_path: Path,
) -> None:
    """Bob's row is rejected (31 February), his wife's new number comes with his e-mail:
    her row took Bob's contact over by the e-mail (his number and name replaced by hers),
    and fixing his row the next day was then the conflict. A rejected row's number names
    its contact as an accepted row's does."""
    rows = load(
        tmp_path,
        [
            ["0555123456", "Bob", "", "smith@example.com", "31.02.1980", "", ""],
            ["0555999888", "Ann", "", "smith@example.com", "", "", ""],
        ],
    )
    got = outcomes(run(rows, [contact(1, "995555123456", email="smith@example.com")]))
    assert got[2][0] == "rejected" and "birthday" in got[2][1]
    assert got[3] == (
        "rejected",
        "conflicting matches: the e-mail matches contact 1, which row 2 matches by phone number",
        0,
    )


def test_a_contact_claimed_by_e_mail_is_named_as_such(tmp_path: Path) -> None:
    rows = load(
        tmp_path,
        [
            ["0555000011", "", "", "anna@example.com", "", "", ""],
            ["0555000012", "", "", "anna@example.com", "", "", ""],
        ],
    )
    got = outcomes(run(rows, [contact(7, "995555000001", email="anna@example.com")]))
    assert got[2] == ("update", "", 7)
    assert got[3] == (
        "rejected",
        "conflicting matches: the e-mail matches contact 7, which row 2 matches by e-mail",
        0,
    )


def test_duplicates_and_plan_limit(tmp_path: Path) -> None:
    rows = load(
        tmp_path,
        [
            ["0555000111", "First", "", "", "", "", ""],
            ["995555000111", "Second", "", "", "", "", ""],
            ["0555000222", "", "", "", "", "", ""],
            ["0555000333", "", "", "", "", "", ""],
        ],
    )
    plan = run(rows, [contact(1, "995555999999")], contacts_limit=3)
    got = outcomes(plan)
    assert got[2][0] == "create"
    assert got[3] == ("rejected", "duplicate phone number: same number as row 2", 0)
    assert got[4][0] == "create"
    assert got[5] == ("rejected", "plan limit reached: the account may hold 3 contacts", 0)
    assert plan.counts == {"rows": 4, "create": 2, "update": 0, "unchanged": 0, "rejected": 2}


def test_read_rejections_count_as_rows(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Phone;Name\n0555000111;Ana\n0555000222\n", encoding="utf-8")
    rows, _ = prepare(path, ColumnMapping(), GE)
    plan = run(rows, [])
    assert outcomes(plan)[3][0] == "rejected"
    assert plan.counts["rows"] == 2


def test_printed_plan_shows_no_phone_number_email_or_birthday(tmp_path: Path) -> None:
    rows = load(tmp_path, [["0555123456", "Ana", "", "ana@example.com", "05.05.1997", "", ""]])
    plan = run(rows, [])
    shown = repr(plan) + repr(plan.rows) + repr(plan.rows["changes"][0]) + repr(rows)
    for secret in ("555123456", "ana@example.com", "1997"):
        assert secret not in shown


# ----------------------------------------------------------------------------- properties
phones = st.one_of(
    st.integers(0, 999_999).map(lambda n: f"0555{n:06d}"),
    st.integers(0, 999_999).map(lambda n: f"+995 555 {n:06d}"),
    st.integers(0, 999_999).map(lambda n: f"99555{n:06d}"[:12]),
    st.text("0123456789+ -x", max_size=14),
)
days = st.dates(date(1890, 1, 1), date(2030, 12, 31))
birthdays = st.one_of(
    st.just(""),
    days.map(lambda d: d.isoformat()),
    days.map(lambda d: d.strftime("%d.%m.%Y")),
    days.map(lambda d: d.strftime("%d/%m/%Y")),
    days.map(lambda d: str((d - date(1899, 12, 30)).days)),
    st.sampled_from(["31.02.1990", "29.02.2001", "29.02.2004", "soon"]),
)
names = st.one_of(st.just(""), st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s))
emails = st.one_of(st.just(""), st.sampled_from(["a@example.com", "B@Example.com", "nope"]))
genders = st.sampled_from(["", "m", "F", "female", "other"])
export_rows = st.lists(
    st.tuples(phones, names, names, emails, birthdays, genders, names).map(list), max_size=25
)


def prepare_rows(rows: list[list[str]]) -> Normalised:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(HEADER)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        normalised, _ = prepare(path, ColumnMapping(), GE)
    return normalised


def account_holding(plan: SyncPlan) -> list[dict[str, Any]]:
    """The contacts an account would hold after applying ``plan``'s creates."""
    records = []
    for number, changes in enumerate(plan.rows["changes"], start=1):
        if changes is None:
            continue
        values = dict(changes)
        if isinstance(values.get("birthday"), date):
            values["birthday"] = values["birthday"].strftime(BIRTHDAY_READ_FORMAT)
        records.append(contact(number, str(values.pop("phone_number")), **values))
    return records


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export_rows)
def test_every_row_gets_exactly_one_outcome_and_counts_add_up(rows: list[list[str]]) -> None:
    normalised = prepare_rows(rows)
    plan = run(normalised, [contact(999, "995555000001", email="a@example.com")])
    file_rows = set(plan.rows["row"])
    assert len(plan.rows) == len(file_rows)  # no row twice
    non_blank = [r for r in rows if any(cell.strip() for cell in r)]
    assert plan.counts["rows"] == len(non_blank)
    assert sum(plan.counts[o] for o in ("create", "update", "unchanged", "rejected")) == len(
        non_blank
    )
    rejected = plan.rows[plan.rows["outcome"] == "rejected"]
    assert rejected["reason"].notna().all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export_rows)
def test_planning_against_the_planned_state_changes_nothing(rows: list[list[str]]) -> None:
    normalised = prepare_rows(rows)
    first = run(normalised, [])
    second = run(normalised, account_holding(first))
    accepted = first.rows["outcome"] != "rejected"
    assert (second.rows.loc[accepted, "outcome"] == "unchanged").all()
    assert second.counts["rejected"] == first.counts["rejected"]


def test_an_account_contact_whose_id_is_no_number_is_named_never_quoted(tmp_path: Path) -> None:
    """The account's contacts come in raw: an id the API sent as something else (a phone
    number with spaces) failed the sync with Python's words quoting it."""
    rows = load(tmp_path, [["0555123456", "Ana", "", "", "", "", ""]])
    with pytest.raises(ResponseError) as raised:
        run(rows, [contact(1, "995555000001"), {**contact(2, "995555000002"), "id": "995 599 1"}])
    assert str(raised.value) == "cannot read a contact at id: not a whole number"
    assert (raised.value.resource, raised.value.field) == ("contact", "id")
    assert run(rows, [{**contact(1, "995555123456"), "id": "1"}]).rows["contact_id"].tolist() == [1]
