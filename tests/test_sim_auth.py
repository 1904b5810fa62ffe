"""The request gate: Basic auth (401), the Business IP allow-list (403), 404/405, statistics."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from oneconnect_pipelines.simulator import SimClock, Simulator, SimulatorThread

from .conftest import API_KEY, EMAIL, EMPTY, Sim, default_account

UNAUTHORIZED = {"error_code": 401, "status": "ERROR", "message": "Unauthorized"}
FORBIDDEN = {"error_code": 403, "status": "ERROR", "message": "IP address not allowed"}
NOT_FOUND = {"error_code": 404, "status": "ERROR", "message": "Not found"}


def raw_get(sim: Sim, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """A request without the fixture's credentials."""
    with httpx.Client(base_url=sim.base_url, timeout=30) as client:
        return client.get(path, headers=headers)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ---------------------------------------------------------------- 401
@pytest.mark.parametrize(
    "header",
    [
        None,
        basic("someone@example.com", API_KEY),
        basic(EMAIL, "wrong-key"),
        basic(EMAIL.upper(), API_KEY),
        basic(EMAIL, ""),
        basic("", ""),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(f"{EMAIL}{API_KEY}".encode()).decode(),  # no colon
        "Bearer " + API_KEY,
        basic(EMAIL, API_KEY).replace("Basic ", ""),  # scheme missing
        "Basic",
        basic(EMAIL, "clé-fausse"),  # non-ASCII: compared as bytes, never a 500
        basic("démo@example.com", API_KEY),
        basic(EMAIL, "ключ"),
        "Basic " + base64.b64encode(EMAIL.encode() + b":\xff\xfe").decode(),  # not UTF-8
    ],
)
def test_missing_or_wrong_credentials_are_401(sim: Sim, header: str | None) -> None:
    answer = raw_get(sim, "/contacts", None if header is None else {"Authorization": header})
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED
    assert answer.headers["www-authenticate"].lower().startswith("basic")


def test_right_credentials_pass_and_scheme_is_case_insensitive(sim: Sim) -> None:
    answer = raw_get(sim, "/balance", {"Authorization": basic(EMAIL, API_KEY)})
    assert answer.status_code == 200
    lower = raw_get(sim, "/balance", {"Authorization": "basic " + basic(EMAIL, API_KEY)[6:]})
    assert lower.status_code == 200


def test_writes_need_credentials_too_and_change_nothing(sim: Sim) -> None:
    with httpx.Client(base_url=sim.base_url, timeout=30) as client:
        answer = client.post("/contacts", data={"phone_number": "995599000123"})
        deleted = client.delete("/contacts/1")
    assert answer.status_code == 401
    assert deleted.status_code == 401
    assert sim.api.get("/contacts", params={"phone_number": "995599000123"}).json() == []
    assert sim.api.get("/contacts/1").status_code == 200


def test_non_ascii_credentials_of_the_account_are_accepted_as_utf8() -> None:
    key = "clé-ключ-鍵"
    simulator = Simulator.create(default_account(api_key=key), EMPTY, clock=SimClock(frozen=True))
    with SimulatorThread(simulator) as thread, httpx.Client(base_url=thread.base_url) as client:
        right = client.get("/balance", auth=(EMAIL, key))
        wrong = client.get("/balance", auth=(EMAIL, "clé-ключ-鍵!"))
    assert right.status_code == 200, right.text
    assert wrong.status_code == 401
    assert wrong.json() == UNAUTHORIZED


def test_unknown_paths_ask_for_credentials_first(sim: Sim) -> None:
    answer = raw_get(sim, "/no_such_thing")
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED


# ---------------------------------------------------------------- 403 IP allow-list
def test_business_allow_list_without_loopback_is_403(sim: Sim) -> None:
    sim.reset(ip_allowlist=["10.1.2.3", "192.168.0.7"])
    for answer in (
        sim.api.get("/contacts"),
        sim.api.get("/balance"),
        sim.api.post("/contacts", data={"phone_number": "995599000123"}),
    ):
        assert answer.status_code == 403
        assert answer.json() == FORBIDDEN
    sim.admin.put("/account", json={"ip_allowlist": []}).raise_for_status()
    assert sim.api.get("/contacts", params={"phone_number": "995599000123"}).json() == []


def test_wrong_credentials_from_a_disallowed_ip_are_still_401(sim: Sim) -> None:
    sim.reset(ip_allowlist=["10.1.2.3"])
    assert raw_get(sim, "/contacts").status_code == 401


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_forwarding_headers_cannot_name_an_allowed_address(sim: Sim, header: str) -> None:
    """The allow-list judges the connection's peer, not what the client says it is."""
    sim.reset(ip_allowlist=["10.1.2.3"])
    value = "for=10.1.2.3" if header == "Forwarded" else "10.1.2.3"
    answer = sim.api.get("/balance", headers={header: value})
    assert answer.status_code == 403
    assert answer.json() == FORBIDDEN


def test_forwarding_headers_cannot_make_an_allowed_peer_foreign(sim: Sim) -> None:
    sim.reset(ip_allowlist=["127.0.0.1"])
    answer = sim.api.get("/balance", headers={"X-Forwarded-For": "203.0.113.9"})
    assert answer.status_code == 200, answer.text


def test_business_allow_list_with_loopback_is_allowed(sim: Sim) -> None:
    sim.reset(ip_allowlist=["10.1.2.3", "127.0.0.1"])
    assert sim.api.get("/contacts").status_code == 200
    assert sim.api.get("/balance").json() == {"sms_balance": 10_000}


def test_empty_allow_list_allows_every_address(sim: Sim) -> None:
    assert sim.admin.get("/account").json()["ip_allowlist"] == []
    assert sim.api.get("/contacts").status_code == 200


@pytest.mark.parametrize("plan", ["premium", "basic"])
def test_allow_list_is_not_enforced_below_business(sim: Sim, plan: str) -> None:
    sim.reset(plan=plan, ip_allowlist=["10.1.2.3"])
    assert sim.admin.get("/account").json()["ip_allowlist"] == ["10.1.2.3"]
    assert sim.api.get("/contacts").status_code == 200


# ---------------------------------------------------------------- 404 and 405
@pytest.mark.parametrize("path", ["/no_such_thing", "/contacts/abc", "/contacts/1/extra", "/"])
def test_unknown_path_is_404_json(sim: Sim, path: str) -> None:
    answer = sim.api.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == NOT_FOUND


ID_ROUTES = [
    ("GET", "/contacts/{}"),
    ("PATCH", "/contacts/{}"),
    ("DELETE", "/contacts/{}"),
    ("GET", "/lists/{}"),
    ("PATCH", "/lists/{}"),
    ("DELETE", "/lists/{}"),
    ("POST", "/lists/{}/add_members"),
    ("POST", "/lists/{}/remove_members"),
    ("GET", "/campaigns/{}"),
    ("PATCH", "/campaigns/{}"),
    ("DELETE", "/campaigns/{}"),
    ("GET", "/birthday_campaigns/{}"),
    ("PATCH", "/birthday_campaigns/{}"),
    ("DELETE", "/birthday_campaigns/{}"),
    ("GET", "/titles/{}"),
    ("DELETE", "/titles/{}"),
    ("GET", "/templates/{}"),
    ("DELETE", "/templates/{}"),
    ("GET", "/messages/{}"),
]


@pytest.mark.parametrize("record_id", ["99999999999999999999", str(2**63)])
def test_ids_beyond_64_bits_are_404_on_every_path(sim: Sim, record_id: str) -> None:
    """No record can have such an id (SQLite's INTEGER is 64-bit): not found, never a 500."""
    for method, template in ID_ROUTES:
        data = None if method == "GET" else {"ids": "1", "name": "x"}
        answer = sim.api.request(method, template.format(record_id), data=data)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), (method, template)
    counted = sim.stats()["route_statuses"]
    assert counted["GET /contacts/:id 404"] == 1  # under its route, as any other 404


def test_path_outside_the_api_is_404_json(sim: Sim) -> None:
    with httpx.Client(base_url=sim.thread.root_url, timeout=30) as client:
        answer = client.get("/api/v2/contacts")
    assert answer.status_code == 404
    assert answer.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/contacts"),
        ("DELETE", "/contacts"),
        ("PUT", "/contacts/1"),
        ("POST", "/contacts/1"),
        ("PATCH", "/titles/1"),
        ("DELETE", "/balance"),
        ("GET", "/mfa/sms_auth"),
        ("GET", "/lists/1/add_members"),
    ],
)
def test_wrong_method_is_405_json(sim: Sim, method: str, path: str) -> None:
    answer = sim.api.request(method, path)
    assert answer.status_code == 405
    assert answer.json() == {"error_code": 405, "status": "ERROR", "message": "Method not allowed"}


def test_405_changes_nothing(sim: Sim) -> None:
    before = sim.api.get("/contacts/1").json()
    assert sim.api.put("/contacts/1", data={"first_name": "Changed"}).status_code == 405
    assert sim.api.get("/contacts/1").json() == before


# ---------------------------------------------------------------- statistics
def test_stats_count_requests_by_route_template_and_status(sim: Sim) -> None:
    sim.api.get("/contacts/1")
    sim.api.get("/contacts/2")
    sim.api.get("/contacts/9999")
    sim.api.get("/contacts")
    sim.api.post("/contacts", data={"phone_number": "12"})
    sim.api.patch("/contacts/1", data={"city": "Gori"})
    sim.api.put("/contacts")
    sim.api.get("/no_such_thing")
    raw_get(sim, "/lists/1")
    stats: dict[str, Any] = sim.stats()
    assert stats["total"] == 9
    assert stats["writes"] == 3
    assert stats["routes"] == {
        "GET /contacts/:id": 3,
        "GET /contacts": 1,
        "POST /contacts": 1,
        "PATCH /contacts/:id": 1,
        "PUT /contacts": 1,
        "GET <unknown>": 1,
        "GET /lists/:id": 1,
    }
    assert stats["statuses"] == {"200": 4, "404": 2, "422": 1, "405": 1, "401": 1}
    assert stats["route_statuses"] == {
        "GET /contacts/:id 200": 2,
        "GET /contacts/:id 404": 1,
        "GET /contacts 200": 1,
        "POST /contacts 422": 1,
        "PATCH /contacts/:id 200": 1,
        "PUT /contacts 405": 1,
        "GET <unknown> 404": 1,
        "GET /lists/:id 401": 1,
    }


def test_stats_exclude_admin_calls_and_reset_on_delete(sim: Sim) -> None:
    sim.api.get("/balance")
    sim.admin.get("/clock")
    sim.admin.get("/account")
    first = sim.stats()
    assert first["routes"] == {"GET /balance": 1}
    assert sim.stats() == first  # reading the statistics is not counted either
    cleared = sim.admin.delete("/stats").json()
    assert cleared["total"] == 0
    assert cleared["routes"] == {}
    sim.api.get("/titles/1")
    assert sim.stats()["routes"] == {"GET /titles/:id": 1}
