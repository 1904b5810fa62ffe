"""Titles (sender names: rules, plan limit, activation) and templates (saved texts)."""

from __future__ import annotations

import csv
import io
import string
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import EMPTY, Sim

TIMESTAMP = "%Y-%m-%d %H:%M:%S %z"
NAME_ALPHABET = string.ascii_letters + string.digits + "-. "
NAME_RULE = "Name must be at most 11 characters of letters, digits, dash, dot and space"
NOT_FOUND = {"error_code": 404, "status": "ERROR", "message": "Not found"}
hypothesis_settings = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: Names as a user types them: inner spaces are fine, edges are not blank.
EDGE = st.sampled_from(string.ascii_letters + string.digits + "-.")
valid_names = st.builds(
    lambda first, middle, last: first + middle + last,
    EDGE,
    st.text(NAME_ALPHABET, max_size=9),
    st.just("") | EDGE,
).filter(lambda name: name == name.strip())
too_long = st.builds(lambda a, b, c: a + b + c, EDGE, st.text(NAME_ALPHABET, min_size=10), EDGE)
with_bad_char = st.builds(
    lambda a, bad, b: a + bad + b,
    st.text(NAME_ALPHABET, max_size=4),
    st.characters(blacklist_categories=("Cs", "Zs", "Cc")).filter(lambda c: c not in NAME_ALPHABET),
    EDGE,
)


def ok_json(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def refused(answer: Any) -> list[str]:
    assert answer.status_code == 422, answer.text
    errors: list[str] = answer.json()["errors"]
    return errors


def create_title(sim: Sim, name: str) -> dict[str, Any]:
    record: dict[str, Any] = ok_json(sim.api.post("/titles", data={"name": name}))
    return record


# ---------------------------------------------------------------- titles
@hypothesis_settings
@given(name=valid_names)
def test_valid_names_are_accepted_inactive(running_sim: Sim, name: str) -> None:
    running_sim.reset(EMPTY)
    record = create_title(running_sim, name)
    assert record["name"] == name
    assert record["active"] is False
    assert ok_json(running_sim.api.get("/titles")) == [record]
    assert ok_json(running_sim.api.get(f"/titles/{record['id']}")) == record


@hypothesis_settings
@given(name=too_long | with_bad_char)
def test_names_breaking_the_rule_are_refused(running_sim: Sim, name: str) -> None:
    running_sim.reset(EMPTY)
    assert refused(running_sim.api.post("/titles", data={"name": name})) == [NAME_RULE]
    assert ok_json(running_sim.api.get("/titles")) == []


@pytest.mark.parametrize("name", ["A", "Shop.ge", "Info-Line", "ABC 123.x-y", "12345678901"])
def test_typical_names_are_accepted(sim: Sim, name: str) -> None:
    assert create_title(sim, name)["name"] == name


@pytest.mark.parametrize("name", ["123456789012", "Shop_ge", "Shop!", "Магазин", "a@b", "Tab\tX"])
def test_typical_bad_names_are_refused(sim: Sim, name: str) -> None:
    assert refused(sim.api.post("/titles", data={"name": name})) == [NAME_RULE]


def test_blank_and_duplicate_names_are_refused(sim: Sim) -> None:
    assert refused(sim.api.post("/titles", data={})) == ["Name can't be blank"]
    assert refused(sim.api.post("/titles", data={"name": ""})) == ["Name can't be blank"]
    taken = ok_json(sim.api.get("/titles/1"))["name"]
    assert refused(sim.api.post("/titles", data={"name": taken})) == ["Name has already been taken"]
    assert len(ok_json(sim.api.get("/titles"))) == 2


@pytest.mark.parametrize(("plan", "limit"), [("basic", 1), ("premium", 5)])
def test_titles_limit_by_plan(sim: Sim, plan: str, limit: int) -> None:
    sim.reset(EMPTY, plan=plan)
    for n in range(limit):
        create_title(sim, f"Sender {n}")
    assert refused(sim.api.post("/titles", data={"name": "Extra"})) == ["Titles limit reached"]
    assert len(ok_json(sim.api.get("/titles"))) == limit
    ok_json(sim.api.delete("/titles/1"))
    create_title(sim, "Extra")


def test_business_plan_has_no_titles_limit(sim: Sim) -> None:
    sim.reset(EMPTY)
    for n in range(7):
        create_title(sim, f"Sender {n}")
    assert len(ok_json(sim.api.get("/titles"))) == 7


def test_new_title_activates_after_the_configured_delay(sim: Sim) -> None:
    sim.reset(title_activation_s=600)
    created = create_title(sim, "Fresh")
    sim.advance(599)
    assert ok_json(sim.api.get(f"/titles/{created['id']}"))["active"] is False
    sim.advance(1)
    activated = ok_json(sim.api.get(f"/titles/{created['id']}"))
    assert activated["active"] is True
    assert activated["created_at"] == created["created_at"]
    elapsed = datetime.strptime(activated["updated_at"], TIMESTAMP) - datetime.strptime(
        created["updated_at"], TIMESTAMP
    )
    assert elapsed.total_seconds() == 600


def test_default_activation_delay_is_an_hour(sim: Sim) -> None:
    created = create_title(sim, "Hourly")
    sim.advance(3599)
    assert ok_json(sim.api.get(f"/titles/{created['id']}"))["active"] is False
    sim.advance(1)
    assert ok_json(sim.api.get(f"/titles/{created['id']}"))["active"] is True


def test_admin_endpoint_activates_at_once(sim: Sim) -> None:
    created = create_title(sim, "Now")
    answer = sim.admin.post(f"/titles/{created['id']}/activate")
    assert answer.status_code == 200
    assert ok_json(sim.api.get(f"/titles/{created['id']}"))["active"] is True
    assert sim.admin.post("/titles/999/activate").status_code == 404


def test_seeded_titles_include_an_inactive_one(sim: Sim) -> None:
    titles = ok_json(sim.api.get("/titles"))
    assert [t["active"] for t in titles] == [True, False]


def test_titles_csv_matches_the_json(sim: Sim) -> None:
    create_title(sim, "A.B-C 1")
    answer = sim.api.get("/titles_csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["id", "active", "name", "created_at", "updated_at"]
    titles = ok_json(sim.api.get("/titles"))
    assert rows[1:] == [
        [str(t["id"]), str(t["active"]).lower(), t["name"], t["created_at"], t["updated_at"]]
        for t in titles
    ]


def test_delete_title(sim: Sim) -> None:
    answer = sim.api.delete("/titles/1")
    assert answer.status_code == 200
    assert answer.json() == {"error_code": 0, "status": "OK", "message": "Title deleted."}
    assert sim.api.get("/titles/1").json() == NOT_FOUND
    assert [t["id"] for t in ok_json(sim.api.get("/titles"))] == [2]
    again = sim.api.delete("/titles/1")
    assert again.status_code == 404
    assert again.json() == NOT_FOUND


def test_deleted_title_is_no_longer_a_campaigns_sender(sim: Sim) -> None:
    campaign = ok_json(
        sim.api.post(
            "/birthday_campaigns", data={"name": "B", "content": "Happy birthday", "title": "1"}
        )
    )
    assert campaign["title"] == ok_json(sim.api.get("/titles/1"))["name"]
    ok_json(sim.api.delete("/titles/1"))
    assert ok_json(sim.api.get(f"/birthday_campaigns/{campaign['id']}"))["title"] == ""


# ---------------------------------------------------------------- templates
def test_template_create_list_get_delete(sim: Sim) -> None:
    body = "გილოცავთ! 20% off until Sunday, reply STOP to opt out."
    created = ok_json(sim.api.post("/templates", data={"title": "Weekend", "body": body}))
    assert created == {
        "id": 4,
        "title": "Weekend",
        "body": body,
        "created_at": created["created_at"],
        "updated_at": created["created_at"],
    }
    assert ok_json(sim.api.get("/templates/4")) == created
    listed = ok_json(sim.api.get("/templates"))
    assert [t["id"] for t in listed] == [1, 2, 3, 4]
    assert listed[-1] == created
    answer = sim.api.delete("/templates/4")
    assert answer.status_code == 200
    assert answer.json() == {"error_code": 0, "status": "OK", "message": "Template deleted."}
    assert sim.api.get("/templates/4").status_code == 404
    assert sim.api.get("/templates/4").json() == NOT_FOUND
    assert sim.api.delete("/templates/4").status_code == 404
    assert [t["id"] for t in ok_json(sim.api.get("/templates"))] == [1, 2, 3]


def test_template_title_is_a_string(sim: Sim) -> None:
    created = ok_json(sim.api.post("/templates", data={"title": "true", "body": "Hi"}))
    assert created["title"] == "true"


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        ({"body": "Hi"}, ["Title can't be blank"]),
        ({"title": "Greeting", "body": " "}, ["Body can't be blank"]),
        ({}, ["Title can't be blank", "Body can't be blank"]),
        ({"title": "", "body": ""}, ["Title can't be blank", "Body can't be blank"]),
    ],
)
def test_template_blank_fields_are_refused(
    sim: Sim, form: dict[str, str], errors: list[str]
) -> None:
    assert refused(sim.api.post("/templates", data=form)) == errors
    assert len(ok_json(sim.api.get("/templates"))) == 3


def test_get_unknown_template_is_404(sim: Sim) -> None:
    answer = sim.api.get("/templates/999")
    assert answer.status_code == 404
    assert answer.json() == NOT_FOUND


def test_surrounding_spaces_are_trimmed(sim: Sim) -> None:
    # A simulator decision (form values are stripped): the sender shows no stray blanks.
    assert create_title(sim, " Shop ")["name"] == "Shop"
    assert refused(sim.api.post("/titles", data={"name": "Shop"})) == [
        "Name has already been taken"
    ]
