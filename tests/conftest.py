"""Shared fixtures: a real simulator on a loopback port, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from oneconnect_pipelines.simulator import (
    Account,
    SeedSizes,
    SimClock,
    Simulator,
    SimulatorThread,
    plan_named,
)

EMAIL, API_KEY = "demo@example.com", "demo-key"
TZ = ZoneInfo("Asia/Tbilisi")
#: Small enough to seed in milliseconds, big enough to page through.
SMALL = SeedSizes(
    contacts=60, lists=4, campaigns=4, birthday_campaigns=2, messages=120, titles=2, templates=3
)
EMPTY = SeedSizes(0, 0, 0, 0, 0, 0, 0)


def default_account(**changes: Any) -> Account:
    values: dict[str, Any] = {
        "email": EMAIL,
        "api_key": API_KEY,
        "plan": plan_named("business"),
        "timezone": TZ,
        "sms_balance": 10_000,
        "title_activation_s": 3600.0,
        "seed": 7,
    }
    values.update(changes)
    return Account(**values)


@dataclass
class Sim:
    """A running simulator with an authenticated API client and an admin client."""

    thread: SimulatorThread
    api: httpx.Client
    admin: httpx.Client

    @property
    def simulator(self) -> Simulator:
        return self.thread.simulator

    @property
    def base_url(self) -> str:
        return self.thread.base_url

    def reset(self, sizes: SeedSizes = SMALL, seed: int = 7, **account: Any) -> None:
        """A fresh account: seeded records, no faults, zeroed statistics, frozen clock."""
        self.admin.put("/faults", json={}).raise_for_status()
        self.admin.post("/clock", json={"frozen": True}).raise_for_status()
        sizes_json = {f.name: getattr(sizes, f.name) for f in fields(sizes)}
        self.admin.post(
            "/reset", json={"seed": seed, "account": account, **sizes_json}
        ).raise_for_status()
        self.admin.delete("/stats").raise_for_status()

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.admin.get("/stats").json()
        return answer

    def advance(self, seconds: float) -> dict[str, Any]:
        answer = self.admin.post("/clock", json={"advance_s": seconds})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def now(self) -> float:
        return float(self.admin.get("/clock").json()["epoch"])


@pytest.fixture(scope="session")
def running_sim() -> Iterator[Sim]:
    simulator = Simulator.create(default_account(), SMALL, clock=SimClock(frozen=True))
    with SimulatorThread(simulator) as thread:
        api = httpx.Client(base_url=thread.base_url, auth=(EMAIL, API_KEY), timeout=30)
        admin = httpx.Client(base_url=thread.root_url + "/_sim", timeout=60)
        yield Sim(thread, api, admin)
        api.close()
        admin.close()


@pytest.fixture
def sim(running_sim: Sim) -> Sim:
    """The session's simulator, reset to the SMALL seeded account."""
    running_sim.reset()
    return running_sim


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server of the session's own (``tests/objectstore.py``)."""
    from .objectstore import s3_server

    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of the session's own (``tests/postgres.py``)."""
    from .postgres import postgres_server

    with postgres_server() as url:
        yield url
