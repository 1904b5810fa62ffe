"""Lists: members embedded as contact records, lookup by name, membership writes, CSV, delete."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from .conftest import EMPTY, Sim

NOT_FOUND = {"error_code": 404, "status": "ERROR", "message": "Not found"}


def ok_json(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def create(sim: Sim, name: str, members: str | None = None) -> dict[str, Any]:
    form = {"name": name} if members is None else {"name": name, "members": members}
    record: dict[str, Any] = ok_json(sim.api.post("/lists", data=form))
    return record


def member_ids(record: dict[str, Any]) -> list[int]:
    return [member["id"] for member in record["members"]]


def refused(answer: Any) -> list[str]:
    assert answer.status_code == 422, answer.text
    errors: list[str] = answer.json()["errors"]
    return errors


def test_create_with_members_embeds_their_contact_records(sim: Sim) -> None:
    record = create(sim, "Georgian speakers", "9, 3,5,3")
    assert record["id"] == 5
    assert record["name"] == "Georgian speakers"
    assert member_ids(record) == [3, 5, 9]  # once each, in id order
    assert record["members"] == [ok_json(sim.api.get(f"/contacts/{i}")) for i in (3, 5, 9)]
    assert record["noncontact_members"] is None
    assert record["created_at"] == record["updated_at"]
    assert ok_json(sim.api.get("/lists/5")) == record
    assert ok_json(sim.api.get("/lists"))[-1] == record


def test_create_without_members_is_an_empty_list(sim: Sim) -> None:
    assert create(sim, "Nobody yet")["members"] == []


def test_lookup_by_name_answers_one_object(sim: Sim) -> None:
    created = create(sim, "Spring 2025", "1,2")
    found = ok_json(sim.api.get("/lists", params={"name": "Spring 2025"}))
    assert found == created
    missing = sim.api.get("/lists", params={"name": "spring 2025"})
    assert missing.status_code == 404
    assert missing.json() == NOT_FOUND


def test_get_unknown_list_is_404(sim: Sim) -> None:
    for answer in (
        sim.api.get("/lists/999"),
        sim.api.patch("/lists/999", data={"name": "x"}),
        sim.api.post("/lists/999/add_members", data={"ids": "1"}),
        sim.api.post("/lists/999/remove_members", data={"ids": "1"}),
        sim.api.delete("/lists/999"),
    ):
        assert answer.status_code == 404
        assert answer.json() == NOT_FOUND


def test_add_and_remove_members(sim: Sim) -> None:
    created = create(sim, "Regulars", "1,2")
    sim.advance(30)
    added = ok_json(sim.api.post(f"/lists/{created['id']}/add_members", data={"ids": "2, 7,4"}))
    assert member_ids(added) == [1, 2, 4, 7]
    assert added["updated_at"] != created["updated_at"]
    removed = ok_json(sim.api.post(f"/lists/{created['id']}/remove_members", data={"ids": "1,7"}))
    assert member_ids(removed) == [2, 4]
    assert ok_json(sim.api.get(f"/lists/{created['id']}")) == removed


def test_membership_writes_need_ids(sim: Sim) -> None:
    for action in ("add_members", "remove_members"):
        assert refused(sim.api.post(f"/lists/1/{action}", data={})) == ["ids must be given"]
        assert refused(sim.api.post(f"/lists/1/{action}", data={"ids": "1,x"}))


def test_unknown_member_ids_are_refused_and_nothing_changes(sim: Sim) -> None:
    before = ok_json(sim.api.get("/lists/1"))
    assert refused(sim.api.post("/lists", data={"name": "Ghosts", "members": "1,998,999"})) == [
        "Contacts not found: 998, 999"
    ]
    assert refused(sim.api.post("/lists/1/add_members", data={"ids": "2,999"})) == [
        "Contacts not found: 999"
    ]
    assert refused(sim.api.patch("/lists/1", data={"members": "999"})) == [
        "Contacts not found: 999"
    ]
    assert ok_json(sim.api.get("/lists/1")) == before
    assert len(ok_json(sim.api.get("/lists"))) == 4


@pytest.mark.parametrize("ids", ["99999999999999999999", f"2, {2**63}", "٢"])
def test_member_ids_beyond_64_bits_or_in_other_scripts_are_malformed(sim: Sim, ids: str) -> None:
    before = ok_json(sim.api.get("/lists/1"))
    error = ["ids must be comma-separated contact ids"]
    assert refused(sim.api.post("/lists", data={"name": "Huge", "members": ids})) == error
    assert refused(sim.api.patch("/lists/1", data={"members": ids})) == error
    for action in ("add_members", "remove_members"):
        assert refused(sim.api.post(f"/lists/1/{action}", data={"ids": ids})) == error
    assert ok_json(sim.api.get("/lists/1")) == before
    assert len(ok_json(sim.api.get("/lists"))) == 4


def test_patch_renames_and_replaces_members(sim: Sim) -> None:
    created = create(sim, "Draft", "1,2,3")
    renamed = ok_json(sim.api.patch(f"/lists/{created['id']}", data={"name": "Final"}))
    assert renamed["name"] == "Final"
    assert member_ids(renamed) == [1, 2, 3]  # members untouched when not sent
    replaced = ok_json(sim.api.patch(f"/lists/{created['id']}", data={"members": "3,10"}))
    assert replaced["name"] == "Final"
    assert member_ids(replaced) == [3, 10]
    emptied = ok_json(sim.api.patch(f"/lists/{created['id']}", data={"members": ""}))
    assert emptied["members"] == []
    bare = ok_json(sim.api.patch("/lists", data={"id": str(created["id"]), "name": "Bare"}))
    assert bare["name"] == "Bare"
    assert ok_json(sim.api.get("/lists", params={"name": "Bare"}))["id"] == created["id"]


def test_duplicate_and_blank_names_are_refused(sim: Sim) -> None:
    taken = ok_json(sim.api.get("/lists/1"))["name"]
    assert refused(sim.api.post("/lists", data={"name": taken})) == ["Name has already been taken"]
    assert refused(sim.api.patch("/lists/2", data={"name": taken})) == [
        "Name has already been taken"
    ]
    assert refused(sim.api.post("/lists", data={"name": "  "})) == ["Name can't be blank"]
    assert refused(sim.api.post("/lists", data={})) == ["Name can't be blank"]
    assert refused(sim.api.patch("/lists/2", data={"name": ""})) == ["Name can't be blank"]
    assert ok_json(sim.api.patch("/lists/1", data={"name": taken}))["name"] == taken  # its own


def test_basic_plan_lists_limit(sim: Sim) -> None:
    sim.reset(EMPTY, plan="basic")
    for n in range(5):
        create(sim, f"List {n}")
    assert refused(sim.api.post("/lists", data={"name": "One too many"})) == ["Lists limit reached"]
    assert len(ok_json(sim.api.get("/lists"))) == 5


def test_seeded_lists_have_null_and_object_noncontact_members(sim: Sim) -> None:
    lists = ok_json(sim.api.get("/lists"))
    extras = [lst["noncontact_members"] for lst in lists]
    assert None in extras
    objects = [extra for extra in extras if extra is not None]
    assert objects
    for extra in objects:
        assert isinstance(extra, dict)
        numbers = extra["phone_number"]
        assert numbers and all(isinstance(n, str) and n.isdigit() for n in numbers)
        assert all(isinstance(v, list) and len(v) == len(numbers) for v in extra.values())


def test_deleting_a_contact_drops_it_from_lists(sim: Sim) -> None:
    create(sim, "Pair", "4,6")
    assert ok_json(sim.api.delete("/contacts/4"))["message"] == "Contact deleted."
    assert member_ids(ok_json(sim.api.get("/lists", params={"name": "Pair"}))) == [6]


def test_contact_updates_show_in_list_members(sim: Sim) -> None:
    created = create(sim, "Pair", "4,6")
    ok_json(sim.api.patch("/contacts/6", data={"first_name": "Renamed"}))
    members = ok_json(sim.api.get(f"/lists/{created['id']}"))["members"]
    assert members[1]["first_name"] == "Renamed"


def test_lists_csv_matches_the_json(sim: Sim) -> None:
    create(sim, 'Quoted, "tricky" name', "2,5")
    answer = sim.api.get("/lists_csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    lists = ok_json(sim.api.get("/lists"))
    assert [row["id"] for row in rows] == [str(lst["id"]) for lst in lists]
    for row, lst in zip(rows, lists, strict=True):
        assert row["name"] == lst["name"]
        assert row["members"] == ", ".join(str(i) for i in member_ids(lst))
        extra = lst["noncontact_members"]
        assert (json.loads(row["noncontact_members"]) if row["noncontact_members"] else None) == (
            extra
        )
        assert row["created_at"] == lst["created_at"]
        assert row["updated_at"] == lst["updated_at"]


def test_delete_answers_the_envelope_and_the_list_is_gone(sim: Sim) -> None:
    created = create(sim, "Short lived", "1")
    answer = sim.api.delete(f"/lists/{created['id']}")
    assert answer.status_code == 200
    assert answer.json() == {"error_code": 0, "status": "OK", "message": "List deleted."}
    assert sim.api.get(f"/lists/{created['id']}").status_code == 404
    assert sim.api.get("/lists", params={"name": "Short lived"}).status_code == 404
    assert created["id"] not in [lst["id"] for lst in ok_json(sim.api.get("/lists"))]
    assert ok_json(sim.api.get("/contacts/1"))["id"] == 1  # members are not deleted
    assert sim.api.delete(f"/lists/{created['id']}").status_code == 404


@pytest.mark.parametrize("deleted", [1, 2])
def test_deleting_a_list_drops_it_from_campaigns(sim: Sim, deleted: int) -> None:
    campaign = ok_json(
        sim.api.post(
            "/campaigns",
            data={
                "name": "Two lists",
                "content": "Hello",
                "job_type": "1",
                "campaign_type": "1",
                "dates": "01.01.2030 10:00",
                "recipients_list": "1, 2",
            },
        )
    )
    birthday = ok_json(
        sim.api.post(
            "/birthday_campaigns",
            data={"name": "Two lists", "content": "Happy birthday", "recipient_lists": "2,1"},
        )
    )
    assert campaign["recipients_list"] == [1, 2]
    assert birthday["recipient_lists"] == [2, 1]
    ok_json(sim.api.delete(f"/lists/{deleted}"))
    kept = 3 - deleted
    assert ok_json(sim.api.get(f"/campaigns/{campaign['id']}"))["recipients_list"] == [kept]
    assert ok_json(sim.api.get(f"/birthday_campaigns/{birthday['id']}"))["recipient_lists"] == [
        kept
    ]
    for record in ok_json(sim.api.get("/campaigns")):
        assert deleted not in record["recipients_list"]
    for record in ok_json(sim.api.get("/birthday_campaigns")):
        assert deleted not in record["recipient_lists"]
