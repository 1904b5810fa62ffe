"""Helpers for the simulator's sending tests: local times, records made through the API,
coded-error checks and a loopback receiver for delivery-report callbacks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

from oneconnect_pipelines.formats import (
    birthday_in_year,
    format_request_datetime,
    format_schedule_datetime,
    parse_timestamp,
)
from oneconnect_pipelines.simulator import SeedSizes
from oneconnect_pipelines.simulator.http import ERROR_MESSAGES

from .conftest import TZ, Sim

#: An account with nothing in it but what a test creates.
BARE = SeedSizes(0, 0, 0, 0, 0, 0, 0)


def local_now(sim: Sim) -> datetime:
    return datetime.fromtimestamp(sim.now(), UTC).astimezone(TZ)


def next_minute(sim: Sim, minutes: int = 1) -> datetime:
    """The start of a whole minute ``minutes`` from now (account-local)."""
    now = local_now(sim).replace(second=0, microsecond=0)
    return now + timedelta(minutes=minutes)


def request_time(moment: datetime) -> str:
    """``DD.MM.YYYY HH:MM`` as requests carry it."""
    return format_request_datetime(moment, TZ)


def schedule_time(moment: datetime) -> str:
    """``DD/MM/YYYY HH:MM`` as campaign schedules read back."""
    return format_schedule_datetime(moment, TZ)


def stamp_of(record: dict[str, Any], name: str = "created_at") -> datetime:
    return parse_timestamp(record[name])


def advance_to(sim: Sim, moment: datetime) -> None:
    """Move the clock forward to ``moment`` (never backwards)."""
    seconds = moment.timestamp() - sim.now()
    assert seconds >= 0, f"{moment} is in the simulator's past"
    sim.advance(seconds)


def set_clock(sim: Sim, moment: datetime) -> None:
    answer = sim.admin.post("/clock", json={"set": moment.isoformat()})
    assert answer.status_code == 200, answer.text


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (29 February lands on 28 February)."""
    return birthday_in_year(day, day.year - years)


def assert_coded(answer: httpx.Response, code: int) -> None:
    """A documented business error: HTTP 422 and exactly the coded envelope."""
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"error_code": code, "status": "ERROR", "message": ERROR_MESSAGES[code]}


def assert_not_found(answer: httpx.Response) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"error_code": 404, "status": "ERROR", "message": "Not found"}


def assert_errors(answer: httpx.Response) -> list[str]:
    """A validation answer: HTTP 422 ``{"errors": [...]}`` with at least one message."""
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert set(body) == {"errors"}, body
    errors: list[str] = body["errors"]
    assert errors and all(isinstance(e, str) and e for e in errors), body
    return errors


def create_contact(sim: Sim, phone: str, **fields: str) -> dict[str, Any]:
    answer = sim.api.post("/contacts", data={"phone_number": phone, **fields})
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def create_list(sim: Sim, name: str, members: list[int]) -> dict[str, Any]:
    answer = sim.api.post("/lists", data={"name": name, "members": ",".join(map(str, members))})
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def messages(sim: Sim, **params: Any) -> list[dict[str, Any]]:
    answer = sim.api.get("/messages", params=params)
    assert answer.status_code == 200, answer.text
    records: list[dict[str, Any]] = answer.json()
    return records


def newest_id(sim: Sim) -> int:
    records = messages(sim)
    return max((r["id"] for r in records), default=0)


def messages_after(sim: Sim, last_id: int, **params: Any) -> list[dict[str, Any]]:
    return [r for r in messages(sim, **params) if r["id"] > last_id]


def balance(sim: Sim) -> int:
    answer = sim.api.get("/balance")
    assert answer.status_code == 200, answer.text
    value: int = answer.json()["sms_balance"]
    return value


def destinations(records: list[dict[str, Any]]) -> list[str]:
    return [r["sms"]["destination"] for r in records]


def wait_for(predicate: Any, timeout_s: float = 10.0, poke: Any = None) -> bool:
    """Poll ``predicate`` until it holds or ``timeout_s`` passes (for background work)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if poke is not None:
            poke()
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


@dataclass
class Received:
    """One POST the receiver got: its path, content type and decoded form fields."""

    path: str
    content_type: str
    form: dict[str, str]


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)


@contextmanager
def callback_receiver() -> Iterator[Receiver]:
    """A loopback HTTP server that records every form POST and answers 200."""
    receiver = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            form = {
                key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()
            }
            with lock:
                receiver.received.append(
                    Received(self.path, self.headers.get("Content-Type", ""), form)
                )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    class Server(ThreadingHTTPServer):
        # The simulator posts a batch's reports at once; the default backlog of 5 would
        # make them wait on SYN retries.
        request_queue_size = 512

    server = Server(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/reports"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def store_off_contract(sim: Sim, contact_id: int, **fields: Any) -> None:
    """Make the simulator answer with ``fields`` in a contact's record, as the API would
    never store them (a formatted number, a birthday in no known form): what a real
    account may still hold, for the client's side of it."""
    store = sim.simulator.platform.store
    doc = json.loads(store.one("SELECT doc FROM contacts WHERE id = ?", (contact_id,)))
    store.execute(
        "UPDATE contacts SET doc = ? WHERE id = ?",
        (json.dumps({**doc, **fields}).encode(), contact_id),
    )
    store.touch("contacts")
