"""Injected faults (``/_sim/faults``): validation, when each fault strikes, and statistics."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import API_KEY, EMAIL, Sim
from .sim_helpers import BARE


def put_faults(sim: Sim, **settings: Any) -> dict[str, Any]:
    answer = sim.admin.put("/faults", json=settings)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def contacts_with(sim: Sim, phone: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = sim.api.get("/contacts", params={"phone_number": phone}).json()
    return records


@pytest.mark.parametrize(
    "body",
    [
        {"bogus": 1},
        {"latency_ms": 5, "typo_rate": 0.1},
        {"error_rates": {"500": 1.5}},
        {"error_rates": {"500": 0.6, "503": 0.6}},
        {"error_rates": {"404": 0.1}},
        {"error_rates": {"abc": 0.1}},
        {"drop_rate": 1.01},
        {"drop_rate": 0.5, "error_rates": {"429": 0.6}},
        {"latency_ms": -1},
        {"rps_limit": -1},
        {"rps_limit": "fast"},
        {"error_rates": [500]},
        {"error_rates": None},
        {"drop_rate": None},
        {"late_writes": -1},
        {"late_by": 0},
        {"page_wrap": 0},
    ],
)
def test_bad_fault_settings_are_refused_and_change_nothing(sim: Sim, body: dict[str, Any]) -> None:
    before = put_faults(sim, latency_ms=1.0)
    answer = sim.admin.put("/faults", json=body)
    assert answer.status_code == 422
    assert answer.json()["errors"]
    assert sim.admin.get("/faults").json() == before
    assert sim.api.get("/balance").status_code == 200


def test_valid_settings_are_echoed(sim: Sim) -> None:
    body = put_faults(sim, error_rates={"500": 0.25, "429": 0.5}, drop_rate=0.25, retry_after_s=3)
    assert body["error_rates"] == {"500": 0.25, "429": 0.5}
    assert body["drop_rate"] == 0.25
    assert body["retry_after_s"] == 3
    assert sim.admin.get("/faults").json() == body


def test_429_answers_retry_after_and_processes_nothing(sim: Sim) -> None:
    put_faults(sim, error_rates={"429": 1.0}, retry_after_s=2.5)
    answer = sim.api.post("/contacts", data={"phone_number": "995577000001"})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "3"
    assert answer.json()["error_code"] == 429
    assert answer.json()["status"] == "ERROR"
    put_faults(sim)
    assert contacts_with(sim, "995577000001") == []


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seconds=st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=120)))
def test_retry_after_is_whole_seconds_rounded_up(running_sim: Sim, seconds: float) -> None:
    put_faults(running_sim, error_rates={"429": 1.0}, retry_after_s=seconds)
    answer = running_sim.api.get("/balance")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == str(math.ceil(seconds))
    put_faults(running_sim)


def test_503_strikes_before_processing(sim: Sim) -> None:
    put_faults(sim, error_rates={"503": 1.0})
    answer = sim.api.post("/contacts", data={"phone_number": "995577000002"})
    assert answer.status_code == 503
    assert answer.json()["error_code"] == 503
    unauthorised = httpx.get(sim.base_url + "/balance")
    assert unauthorised.status_code == 503  # before auth too: the server did nothing
    put_faults(sim)
    assert contacts_with(sim, "995577000002") == []


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_strike_after_the_write_took_effect(sim: Sim, status: int) -> None:
    put_faults(sim, error_rates={str(status): 1.0})
    answer = sim.api.post("/contacts", data={"phone_number": "995577000003"})
    assert answer.status_code == status
    assert answer.json()["error_code"] == status
    put_faults(sim)
    assert [c["phone_number"] for c in contacts_with(sim, "995577000003")] == ["995577000003"]


def test_dropped_connection_raises_but_the_write_happened(sim: Sim) -> None:
    put_faults(sim, drop_rate=1.0)
    with (
        httpx.Client(base_url=sim.base_url, auth=(EMAIL, API_KEY), timeout=10) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post("/contacts", data={"phone_number": "995577000004"})
    put_faults(sim)
    assert [c["phone_number"] for c in contacts_with(sim, "995577000004")] == ["995577000004"]


def test_dropped_send_still_charges_and_records_the_message(sim: Sim) -> None:
    sim.reset(BARE)
    before = sim.api.get("/balance").json()["sms_balance"]
    put_faults(sim, drop_rate=1.0)
    with (
        httpx.Client(base_url=sim.base_url, auth=(EMAIL, API_KEY), timeout=10) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.post("/messages", data={"destination": "995577000005", "content": "once"})
    put_faults(sim)
    assert [m["sms"]["destination"] for m in sim.api.get("/messages").json()] == ["995577000005"]
    assert sim.api.get("/balance").json()["sms_balance"] == before - 1


def test_rps_limit_answers_429_beyond_the_limit(sim: Sim) -> None:
    put_faults(sim, rps_limit=3)
    answers = [sim.api.get("/balance") for _ in range(12)]
    statuses = [a.status_code for a in answers]
    assert statuses[0] == 200
    assert statuses.count(200) <= 6  # 3 up front plus whatever trickles in meanwhile
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    assert all(int(a.headers["Retry-After"]) >= 1 for a in limited)
    put_faults(sim)
    assert sim.api.get("/balance").status_code == 200


def test_latency_delays_every_request(sim: Sim) -> None:
    put_faults(sim, latency_ms=300)
    started = time.perf_counter()
    answer = sim.api.get("/balance")
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200
    assert elapsed >= 0.3


def test_stats_count_by_route_template_and_status(sim: Sim) -> None:
    sim.api.get("/contacts/1")
    sim.api.get("/contacts/2")
    sim.api.get("/contacts/999999")
    sim.api.get("/nowhere")
    httpx.get(sim.base_url + "/balance")
    sim.admin.get("/clock")  # admin calls are not counted
    put_faults(sim, drop_rate=1.0)
    with (
        httpx.Client(base_url=sim.base_url, auth=(EMAIL, API_KEY), timeout=10) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post("/contacts", data={"phone_number": "995577000006"})
    put_faults(sim, error_rates={"503": 1.0})
    sim.api.delete("/contacts/1")
    put_faults(sim)
    stats = sim.stats()
    assert stats["routes"] == {
        "GET /contacts/:id": 3,
        "GET <unknown>": 1,
        "GET /balance": 1,
        "POST /contacts": 1,
        "DELETE /contacts/:id": 1,
    }
    assert stats["statuses"] == {"200": 2, "404": 2, "401": 1, "dropped": 1, "503": 1}
    assert stats["route_statuses"] == {
        "GET /contacts/:id 200": 2,
        "GET /contacts/:id 404": 1,
        "GET <unknown> 404": 1,
        "GET /balance 401": 1,
        "POST /contacts dropped": 1,
        "DELETE /contacts/:id 503": 1,
    }
    assert stats["total"] == 7
    assert stats["writes"] == 2
    assert sim.admin.delete("/stats").json()["total"] == 0
    assert sim.stats()["routes"] == {}


def test_a_late_write_is_answered_504_and_applied_requests_later(sim: Sim) -> None:
    sim.reset(BARE)
    put_faults(sim, late_writes=1, late_by=3)
    answer = sim.api.post("/contacts", data={"phone_number": "0555000111"})
    assert answer.status_code == 504
    assert contacts_with(sim, "0555000111") == []  # 1st request after it
    assert contacts_with(sim, "0555000111") == []  # 2nd
    (landed,) = contacts_with(sim, "0555000111")  # applied just before the 3rd
    assert landed["phone_number"] == "0555000111"
    assert sim.admin.get("/faults").json()["late_writes"] == 0
    # only the next `late_writes` writes are late: this one is answered at once
    assert sim.api.post("/contacts", data={"phone_number": "0555000112"}).status_code == 200


def test_a_late_write_applied_after_a_replay_is_judged_like_any_request(sim: Sim) -> None:
    """The late original of a create whose replay landed first is refused as taken."""
    sim.reset(BARE)
    put_faults(sim, late_writes=1, late_by=2)
    assert sim.api.post("/contacts", data={"phone_number": "0555000114"}).status_code == 504
    replay = sim.api.post("/contacts", data={"phone_number": "0555000114"})
    assert replay.status_code == 200  # the replay lands first ...
    assert len(contacts_with(sim, "0555000114")) == 1  # ... the late original is refused
    assert len(contacts_with(sim, "0555000114")) == 1


def test_page_wrap_starts_listings_over(sim: Sim) -> None:
    put_faults(sim, page_wrap=2)
    pages = [
        [r["id"] for r in sim.api.get("/contacts", params={"page": p, "per_page": 10}).json()]
        for p in (1, 2, 3, 4, 5)
    ]
    assert pages[2] == pages[0] and pages[3] == pages[1] and pages[4] == pages[0]
    assert pages[0] != pages[1]


@pytest.mark.parametrize("page", ["²", "٣", "3x"])
def test_page_wrap_leaves_a_malformed_page_to_the_handler(sim: Sim, page: str) -> None:
    put_faults(sim, page_wrap=2)
    answer = sim.api.get("/contacts", params={"page": page, "per_page": 10})
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"errors": ["page must be a positive integer"]}


def test_reflect_makes_error_answers_echo_the_request(sim: Sim) -> None:
    put_faults(sim, reflect=True, error_rates={"500": 1.0})
    answer = sim.api.post(
        "/contacts", data={"phone_number": "0555000115", "birthday": "05.05.1997"}
    )
    assert answer.status_code == 500
    assert answer.json()["error_code"] == 500
    for echoed in ("authorization: Basic ", f"credentials: {EMAIL}:{API_KEY}", "0555000115"):
        assert echoed in answer.text
    assert "05.05.1997" in answer.text
