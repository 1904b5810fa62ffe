"""The SDK under injected faults (500s, 429s, dropped connections): listings come back
exactly as without faults, creates never duplicate, sends are never made twice, updates
land; plus the failures the simulator cannot produce, through ``httpx.MockTransport``."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from oneconnect_pipelines.client import (
    DEFAULT_CONCURRENCY,
    CertainDates,
    OneConnect,
    RetryPolicy,
    Timeouts,
)
from oneconnect_pipelines.client import errors as e
from oneconnect_pipelines.client._pagination import LOOKAHEAD
from oneconnect_pipelines.simulator import SeedSizes

from .conftest import API_KEY, EMAIL, TZ, Sim

FAST = RetryPolicy(backoff_base=0.01, backoff_max=0.05, retry_after_max=2, max_attempts=12)
MEDIUM = SeedSizes(
    contacts=400, lists=6, campaigns=4, birthday_campaigns=2, messages=500, titles=2, templates=2
)


def faults(retry_after_s: float = 0, seed: int = 3) -> dict[str, Any]:
    return {
        "error_rates": {"500": 0.1, "429": 0.05},
        "retry_after_s": retry_after_s,
        "drop_rate": 0.05,
        "seed": seed,
    }


def set_faults(sim: Sim, settings: dict[str, Any]) -> None:
    sim.admin.put("/faults", json=settings).raise_for_status()


def raw(sim: Sim, path: str) -> Any:
    answer = sim.api.get(path)
    assert answer.status_code == 200, answer.text
    return answer.json()


def lost_answers(sim: Sim, route: str) -> int:
    """How many ``route`` requests the simulator processed but answered 5xx or dropped."""
    statuses = sim.stats()["route_statuses"]
    return sum(statuses.get(f"{route} {status}", 0) for status in ("500", "dropped"))


@pytest.fixture
def oc(sim: Sim) -> Iterator[OneConnect]:
    with OneConnect(sim.base_url, EMAIL, API_KEY, timezone=TZ, retry=FAST, seed=1) as client:
        yield client


# ------------------------------------------------------------------ listings


@pytest.mark.parametrize("retry_after_s", [0, 1])
def test_listings_under_faults_equal_the_fault_free_ones(sim: Sim, retry_after_s: float) -> None:
    sim.reset(MEDIUM)
    options: dict[str, Any] = {"timezone": TZ, "retry": FAST, "per_page": 20, "concurrency": 4}
    with OneConnect(sim.base_url, EMAIL, API_KEY, **options) as calm:
        contacts, messages = list(calm.contacts.list()), list(calm.messages.list())
        lists = list(calm.lists.list())
        assert calm.stats.snapshot()["retries"] == 0
    assert (len(contacts), len(messages)) == (400, 500)
    set_faults(sim, faults(retry_after_s))
    with OneConnect(sim.base_url, EMAIL, API_KEY, **options) as client:
        assert list(client.contacts.list()) == contacts
        assert list(client.messages.list()) == messages
        assert list(client.lists.list()) == lists
        stats = client.stats.snapshot()
    assert stats["retries"] > 0
    assert stats["statuses"].get("429", 0) > 0
    assert sim.stats()["statuses"].get("dropped", 0) > 0


# ------------------------------------------------------------------ creates


def test_contact_creates_under_faults_make_one_contact_each(sim: Sim, oc: OneConnect) -> None:
    numbers = [f"0588{i:06d}" for i in range(150)]
    set_faults(sim, faults())
    created = [oc.contacts.create(number, first_name=f"N{i}") for i, number in enumerate(numbers)]
    assert lost_answers(sim, "POST /contacts") > 0  # the reconciliation path ran
    set_faults(sim, {})
    assert [c.phone_number for c in created] == numbers
    assert len({c.id for c in created}) == 150
    counts = Counter(r["phone_number"] for r in raw(sim, "/contacts"))
    assert all(counts[number] == 1 for number in numbers)
    assert len(counts) == 60 + 150


def test_list_creates_under_faults_make_one_list_each(sim: Sim, oc: OneConnect) -> None:
    names = [f"Segment {i}" for i in range(60)]
    set_faults(sim, faults(seed=5))
    created = [oc.lists.create(name, members=[i % 60 + 1]) for i, name in enumerate(names)]
    assert lost_answers(sim, "POST /lists") > 0
    set_faults(sim, {})
    assert [x.name for x in created] == names
    assert [x.member_ids for x in created] == [[i % 60 + 1] for i in range(60)]
    counts = Counter(r["name"] for r in raw(sim, "/lists"))
    assert all(counts[name] == 1 for name in names)


def test_a_create_the_server_applies_late_ends_as_one_record(sim: Sim, oc: OneConnect) -> None:
    """The server answers 504 and applies the create two requests later: after the
    client's read-back found nothing and it replayed. Templates may repeat, so only the
    client can notice the second record, and it deletes it."""
    set_faults(sim, {"late_writes": 1, "late_by": 2})
    template = oc.templates.create("Late", "Applied late, kept once")
    set_faults(sim, {})
    same = [t for t in raw(sim, "/templates") if t["title"] == "Late"]
    assert [t["id"] for t in same] == [template.id]
    routes = sim.stats()["route_statuses"]
    assert routes["POST /templates 504"] == 1 and routes["POST /templates 200"] == 1
    assert routes["DELETE /templates/:id 200"] == 1  # the extra one, made by the late apply


@pytest.mark.parametrize("late_by", [1, 2, 3, 5])
def test_late_birthday_campaign_and_contact_creates_converge(
    sim: Sim, oc: OneConnect, late_by: int
) -> None:
    """Wherever the late original lands relative to the read-backs and the replay
    (before the first read-back, between, or after the create returned)."""
    set_faults(sim, {"late_writes": 1, "late_by": late_by})
    greeting = oc.birthday_campaigns.create("Greetings", "Happy birthday!", [1])
    sim.api.get("/balance")  # a few more requests: whatever was held has landed now
    sim.api.get("/balance")
    set_faults(sim, {"late_writes": 1, "late_by": late_by})
    contact = oc.contacts.create("0599111222", first_name="Late")
    for _ in range(late_by):
        sim.api.get("/balance")
    set_faults(sim, {})
    campaigns = [c["id"] for c in raw(sim, "/birthday_campaigns") if c["name"] == "Greetings"]
    if late_by <= 3:
        assert campaigns == [greeting.id]
    else:
        # Landed after the create had returned: no read-back can see that far; the
        # next birthday sync deletes the copy (tests/test_birthday_sync.py).
        assert len(campaigns) == 2 and greeting.id in campaigns
    numbers = [c["id"] for c in raw(sim, "/contacts") if c["phone_number"] == "0599111222"]
    assert numbers == [contact.id]  # unique numbers: the late original is refused


@pytest.mark.parametrize("late_by", [1, 3])
def test_a_lost_create_of_a_key_already_taken_is_refused_not_given_the_old_record(
    sim: Sim, oc: OneConnect, late_by: int
) -> None:
    """Without a lost answer, creating a contact with a number in use (or a list with a
    name in use) is refused as "already taken". With the answer lost, the read-back finds
    the record that was there: it is not this create's, and returning it reported the
    CRM's row as created while OneConnect kept the old values."""
    existing = raw(sim, "/contacts")[0]
    a_list = raw(sim, "/lists")[0]
    set_faults(sim, {"late_writes": 1, "late_by": late_by})
    with pytest.raises(e.ValidationError, match="already taken"):
        oc.contacts.create(existing["phone_number"], first_name="Brand-new")
    set_faults(sim, {"late_writes": 1, "late_by": late_by})
    with pytest.raises(e.ValidationError, match="already taken"):
        oc.lists.create(a_list["name"], members=[existing["id"]])
    set_faults(sim, {})
    assert sim.api.get(f"/contacts/{existing['id']}").json() == existing
    assert raw(sim, "/lists")[0] == a_list


def test_a_replay_refused_for_its_own_reason_raises_that_refusal() -> None:
    """The answer to a create is lost, the read-back finds nothing, and the replay is
    refused (the plan's contacts limit): that refusal is the error, at once, not
    "the write may have taken effect" after every attempt."""
    posts: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=[])
        posts.append(1)
        if len(posts) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(422, json={"errors": ["Contacts limit reached"]})

    transport = httpx.MockTransport(answer)
    base = "http://oneconnect.test/api/v1"
    with (
        OneConnect(base, EMAIL, API_KEY, timezone=TZ, retry=FAST, transport=transport) as oc,
        pytest.raises(e.ValidationError, match="Contacts limit reached"),
    ):
        oc.contacts.create("0599111444")
    assert len(posts) == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("created_at", "995599123456"), ("birthday", "5 June 1987"), ("id", "995 599 12 34 56")],
)
def test_a_record_read_back_after_a_lost_create_is_named_never_quoted(
    field: str, value: str
) -> None:
    """The answer to a create is lost and the record read back breaks the contract: the
    error names the field, never its value (a phone number, a birthday). The read-back
    record was checked outside the client's reader, so the value reached the CRM sync's
    step failure."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            stamp = "2026-12-01 10:00:00 +0400"
            record = {"id": 7, "phone_number": "995599000001", "created_at": stamp}
            return httpx.Response(200, json=[{**record, "updated_at": stamp, field: value}])
        raise httpx.ReadTimeout("timed out", request=request)

    transport = httpx.MockTransport(answer)
    base = "http://oneconnect.test/api/v1"
    with (
        OneConnect(base, EMAIL, API_KEY, timezone=TZ, retry=FAST, transport=transport) as oc,
        pytest.raises(e.OutcomeUnknownError) as raised,
    ):
        oc.contacts.create("995599000001")
    said = []
    error: BaseException | None = raised.value
    while error is not None:
        said += [str(error), repr(error)]
        error = error.__cause__ or error.__context__
    assert f"cannot read a contact at {field}" in said[0] or f"contact 7 at {field}" in said[0]
    for shown in (value, value.replace(" ", ""), "1987", "599123456"):
        assert shown not in "".join(said)


def test_a_create_is_not_refused_for_an_unreadable_record_that_was_there_before() -> None:
    """Templates may repeat: the matches there before the create are noted by id only, so
    one the client cannot read otherwise does not stop a new one from being made."""
    stamp = "2026-12-01 10:00:00 +0400"
    odd = {"id": 3, "title": "Hi", "body": "Hello", "created_at": "yesterday", "updated_at": stamp}
    made = {**odd, "id": 4, "created_at": stamp}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=made if request.method == "POST" else [odd])

    transport = httpx.MockTransport(answer)
    base = "http://oneconnect.test/api/v1"
    with OneConnect(base, EMAIL, API_KEY, timezone=TZ, retry=FAST, transport=transport) as oc:
        assert oc.templates.create("Hi", "Hello").id == 4


#: Creates whose text has whitespace around it (read from a file, a YAML block): the
#: resource's path, the field that finds it and its text as the server keeps it (stripped).
PADDED_CREATES: dict[str, tuple[Callable[[OneConnect], Any], str, str, str]] = {
    "template": (
        lambda oc: oc.templates.create(" Padded ", "Hello from the file\n"),
        "/templates",
        "title",
        "Padded",
    ),
    "birthday campaign": (
        lambda oc: oc.birthday_campaigns.create("Greetings X", "Happy birthday!\n", [1]),
        "/birthday_campaigns",
        "name",
        "Greetings X",
    ),
    "campaign": (
        lambda oc: oc.campaigns.create(
            "Tips ", " Tip of the week", CertainDates([datetime.now(UTC) + timedelta(days=3)])
        ),
        "/campaigns",
        "name",
        "Tips",
    ),
    "list": (lambda oc: oc.lists.create(" Padded list\n"), "/lists", "name", "Padded list"),
    "contact": (
        lambda oc: oc.contacts.create(" 0599111333 "),
        "/contacts",
        "phone_number",
        "0599111333",
    ),
}


@pytest.mark.parametrize("late_by", [1, 2])
@pytest.mark.parametrize("resource", list(PADDED_CREATES))
def test_a_lost_create_of_padded_text_ends_as_one_record(
    sim: Sim, oc: OneConnect, resource: str, late_by: int
) -> None:
    """The server strips text fields: the read-back after a lost answer must look for the
    text as stored, or it misses the record and the replay makes a second one."""
    create, path, key, stored = PADDED_CREATES[resource]
    set_faults(sim, {"late_writes": 1, "late_by": late_by})
    made = create(oc)
    set_faults(sim, {})
    same = [r["id"] for r in raw(sim, path) if r[key] == stored]
    assert same == [made.id]
    assert getattr(made, "title" if resource == "template" else key) == stored


def test_a_server_that_wraps_around_is_stopped_at_the_first_repeated_page(sim: Sim) -> None:
    sim.reset(MEDIUM)
    set_faults(sim, {"page_wrap": 3})
    with (
        OneConnect(sim.base_url, EMAIL, API_KEY, timezone=TZ, per_page=20, retry=FAST) as client,
        pytest.raises(e.PaginationError) as raised,
    ):
        list(client.contacts.list())
    assert "page 4 holds only records of earlier pages" in str(raised.value)
    window = LOOKAHEAD * DEFAULT_CONCURRENCY
    assert sim.stats()["routes"]["GET /contacts"] <= 4 + window  # a window past it, no runaway


# ------------------------------------------------------------------ sends


def test_no_sms_is_sent_twice_under_faults(sim: Sim, oc: OneConnect) -> None:
    set_faults(sim, faults(seed=11))
    delivered: list[str] = []
    unknown: dict[str, e.SendOutcomeUnknownError] = {}
    for i in range(100):
        content = f"Fault-tolerant hello number {i}"
        destination = f"0577{i:06d}"
        try:
            oc.messages.send(content, destinations=[destination])
        except e.SendOutcomeUnknownError as lost:
            assert destination not in str(lost)
            assert API_KEY not in str(lost)
            unknown[content] = lost
        else:
            delivered.append(content)
    set_faults(sim, {})
    times = Counter(m["sms"]["content"] for m in raw(sim, "/messages"))
    assert all(times[content] == 1 for content in delivered)
    assert all(times[content] in (0, 1) for content in unknown)
    assert unknown, "some sends should have lost their answer"
    assert delivered
    references = [error.reference for error in unknown.values()]
    assert all(ref.startswith("oc-") for ref in references)
    assert len(set(references)) == len(references)
    for error in unknown.values():
        assert error.call == "POST /messages"
        assert error.reference in str(error)  # the reference the message tells you to look for
    # Never replayed: one POST per send.
    assert sim.stats()["routes"]["POST /messages"] - counted_refusals(sim) == 100


def counted_refusals(sim: Sim) -> int:
    """POST /messages answered 429/503 before processing: those are safe to resend."""
    statuses = sim.stats()["route_statuses"]
    return sum(statuses.get(f"POST /messages {status}", 0) for status in ("429", "503"))


# ------------------------------------------------------------------ updates and deletes


def test_updates_and_deletes_under_faults_end_in_the_intended_state(
    sim: Sim, oc: OneConnect
) -> None:
    set_faults(sim, faults(retry_after_s=1, seed=17))
    for contact_id in range(1, 41):
        assert (
            oc.contacts.update(contact_id, city=f"Town {contact_id}").city == f"Town {contact_id}"
        )
    for list_id in (1, 2, 3, 4):
        oc.lists.update(list_id, name=f"Renamed {list_id}", members=[list_id, 50 + list_id])
        oc.lists.add_members(list_id, [10, 11, 12, 13], batch_size=1)
        oc.lists.remove_members(list_id, [11, 13], batch_size=1)
    for campaign_id in (1, 2, 3, 4):
        oc.campaigns.update(campaign_id, content=f"New text {campaign_id}", active=True)
    for contact_id in range(41, 61):
        oc.contacts.delete(contact_id)
    assert lost_answers(sim, "PATCH /contacts/:id") > 0
    set_faults(sim, {})
    contacts = {r["id"]: r for r in raw(sim, "/contacts")}
    assert sorted(contacts) == list(range(1, 41))
    assert all(contacts[i]["city"] == f"Town {i}" for i in range(1, 41))
    lists = {r["id"]: r for r in raw(sim, "/lists")}
    for list_id in (1, 2, 3, 4):
        assert lists[list_id]["name"] == f"Renamed {list_id}"
        members = sorted(m["id"] for m in lists[list_id]["members"])
        assert members == sorted({list_id, 10, 12} & set(contacts))
    campaigns = {r["id"]: r for r in raw(sim, "/campaigns")}
    assert all(
        campaigns[i]["content"] == f"New text {i}" and campaigns[i]["active"] for i in (1, 2, 3, 4)
    )


# ------------------------------------------------------------------ no server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "action",
    [
        lambda c: c.balance(),
        lambda c: list(c.contacts.list()),
        lambda c: c.contacts.create("0599000001"),
        lambda c: c.messages.send("hello", destinations=["0599000001"]),
    ],
    ids=["read", "listing", "create", "send"],
)
def test_a_closed_port_raises_connect_error_after_retries(
    action: Callable[[OneConnect], object],
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/v1"
    with OneConnect(url, EMAIL, API_KEY, timezone=TZ, retry=FAST) as client:
        with pytest.raises(e.ConnectError) as caught:
            action(client)
        assert client.stats.snapshot()["requests"] == FAST.max_attempts
    assert not isinstance(caught.value, httpx.HTTPError)
    assert "ConnectError" in str(caught.value)


@pytest.fixture
def stalled_server() -> Iterator[str]:
    """Accepts connections, reads nothing, answers nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1"
    stop.set()
    thread.join(2)
    for connection in accepted:
        connection.close()
    listener.close()


STALL = RetryPolicy(backoff_base=0.05, backoff_max=0.1, max_attempts=3)
READ_TIMEOUT = 0.4


def test_a_stalled_server_fails_a_read_within_its_timeouts_and_retries(
    stalled_server: str,
) -> None:
    options: dict[str, Any] = {"timezone": TZ, "retry": STALL}
    with OneConnect(
        stalled_server, EMAIL, API_KEY, timeouts=Timeouts(read=READ_TIMEOUT), **options
    ) as client:
        started = time.monotonic()
        with pytest.raises(e.RequestTimeout):
            client.balance()
        took = time.monotonic() - started
        assert client.stats.snapshot()["requests"] == 3
    # 3 attempts of one read timeout each, plus at most 0.05 + 0.1 s of backoff
    assert 3 * READ_TIMEOUT <= took < 3 * READ_TIMEOUT + 0.15 + 1.0


def test_a_stalled_server_fails_a_write_after_one_timeout_without_replaying_it(
    stalled_server: str,
) -> None:
    fails_one_send_after(stalled_server, Timeouts(read=READ_TIMEOUT), READ_TIMEOUT)


def fails_one_send_after(base_url: str, timeouts: Timeouts, seconds: float) -> None:
    """A send to a server whose answer never comes whole: one attempt, never replayed,
    failed after ``seconds`` (and less than one more)."""
    with OneConnect(
        base_url, EMAIL, API_KEY, timezone=TZ, retry=STALL, timeouts=timeouts
    ) as client:
        started = time.monotonic()
        with pytest.raises(e.SendOutcomeUnknownError):
            client.messages.send("hello", destinations=["0599000001"])
        took = time.monotonic() - started
        assert client.stats.snapshot()["requests"] == 1
    assert seconds <= took < seconds + 1.0


#: How a slow server keeps an answer coming, 50 ms between sends: every socket read is
#: well inside any read timeout, yet the whole answer takes 10 s (or never ends).
TRICKLES = {
    "body": (b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n", [b" "] * 200),
    "headers": (b"", [bytes([c]) for c in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200]),
    "102 Processing": (b"", [b"HTTP/1.1 102 Processing\r\n\r\n"] * 200),
}


@contextlib.contextmanager
def raw_server(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A loopback server answering each connection by ``answer(connection, stop)`` on a
    thread of its own (``stop`` is set when the server shuts down); its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stop = threading.Event()

    def answered(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            answer(connection, stop)

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                connection = listener.accept()[0]
                threading.Thread(target=answered, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture(params=list(TRICKLES))
def trickling_server(request: pytest.FixtureRequest) -> Iterator[str]:
    head, pieces = TRICKLES[request.param]

    def answer(connection: socket.socket, stop: threading.Event) -> None:
        connection.recv(65536)
        connection.sendall(head)
        for piece in pieces:
            if stop.wait(0.05):
                return
            connection.sendall(piece)

    with raw_server(answer) as url:
        yield url


TRICKLE_TIMEOUTS = Timeouts(connect=0.2, read=0.4)


def test_a_server_trickling_its_answer_fails_a_read_within_the_attempt_deadline(
    trickling_server: str,
) -> None:
    """httpx's read timeout is per socket read: without a deadline for the whole attempt,
    a byte every 50 ms (of the body, of the headers, or a 102 Processing after another)
    keeps a call going for as long as the server likes."""
    with OneConnect(
        trickling_server, EMAIL, API_KEY, timezone=TZ, retry=STALL, timeouts=TRICKLE_TIMEOUTS
    ) as client:
        started = time.monotonic()
        with pytest.raises(e.RequestTimeout, match="the answer outlasted the attempt"):
            client.balance()
        took = time.monotonic() - started
        assert client.stats.snapshot()["requests"] == STALL.max_attempts
    # each attempt is cut off connect + read (0.6 s) after it started
    attempts = STALL.max_attempts * TRICKLE_TIMEOUTS.attempt
    assert attempts <= took < attempts + 0.15 + 1.0


def test_a_server_trickling_its_answer_to_a_send_fails_it_once_without_replaying(
    trickling_server: str,
) -> None:
    fails_one_send_after(trickling_server, TRICKLE_TIMEOUTS, TRICKLE_TIMEOUTS.attempt)


@pytest.fixture
def flooding_server() -> Iterator[str]:
    """Answers a CSV export with 65 MiB of text, and anything else with a JSON body that
    never ends (chunks of 1 MiB, as fast as the socket takes them)."""
    chunk = b"[" + b" " * (2**20 - 1)

    def answer(connection: socket.socket, stop: threading.Event) -> None:
        request = connection.recv(65536)
        if b"_csv" in request.split(b"\r\n", 1)[0]:
            size = 65 * 2**20
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n")
            connection.sendall(f"Content-Length: {size}\r\n\r\n".encode())
            for _ in range(65):
                connection.sendall(b"a" * (2**20 - 1) + b"\n")
            return
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        while not stop.is_set():
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    with raw_server(answer) as url:
        yield url


def test_an_answer_that_never_ends_is_cut_off_at_the_bound_not_read_into_memory(
    flooding_server: str,
) -> None:
    """A body sent as fast as the socket takes it never outlasts the attempt's deadline
    for long: without a bound on the bytes an answer may bring, it filled the memory. An
    API answer stops at ``MAX_ANSWER_BYTES``, once (asking again brings the same); a CSV
    export, as large as the account, is not bounded."""
    with OneConnect(flooding_server, EMAIL, API_KEY, timezone=TZ, retry=STALL) as client:
        started = time.monotonic()
        with pytest.raises(e.ResponseError, match=r"larger than 67,108,864 bytes"):
            client.balance()
        assert time.monotonic() - started < 10
        assert client.stats.snapshot()["requests"] == 1
        assert len(client.contacts.export_csv()) == 65 * 2**20


# ------------------------------------------------------------------ odd answers (MockTransport)


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> OneConnect:
    return OneConnect(
        "http://oneconnect.test/api/v1",
        EMAIL,
        API_KEY,
        timezone=TZ,
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )


def test_an_answer_that_is_not_json_raises_response_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Down for maintenance</html>")

    with mock_client(handler) as client:
        with pytest.raises(e.ResponseError, match="GET /balance") as caught:
            client.balance()
        assert "maintenance" in str(caught.value)
        with pytest.raises(e.ResponseError, match="GET /contacts"):
            list(client.contacts.list())


def test_an_object_where_a_page_is_expected_raises_response_error() -> None:
    with (
        mock_client(lambda request: httpx.Response(200, json={"contacts": []})) as client,
        pytest.raises(e.ResponseError, match="JSON array"),
    ):
        list(client.contacts.list())


def test_an_error_code_inside_http_200_is_an_error() -> None:
    body = {"error_code": 1002, "status": "ERROR", "message": "no recipients"}
    with (
        mock_client(lambda request: httpx.Response(200, json=body)) as client,
        pytest.raises(e.RecipientsRequiredError) as caught,
    ):
        client.messages.send("hi", destinations=["0599000001"])
    assert (caught.value.error_code, caught.value.status_code) == (1002, 200)


def test_a_gateway_error_page_is_retried_then_raised_as_server_error() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(502, text="<html>Bad gateway</html>")

    with mock_client(handler) as client, pytest.raises(e.ServerError) as caught:
        client.balance()
    assert caught.value.status_code == 502
    assert len(calls) == FAST.max_attempts


def test_a_timed_out_send_is_not_replayed_and_a_timed_out_read_is() -> None:
    calls: Counter[str] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        calls[request.method] += 1
        raise httpx.ReadTimeout("timed out", request=request)

    with mock_client(handler) as client:
        with pytest.raises(e.SendOutcomeUnknownError) as lost:
            client.messages.send("hi", destinations=["0599000001"])
        assert calls["POST"] == 1
        assert lost.value.reference in str(lost.value)
        with pytest.raises(e.RequestTimeout):
            client.balance()
        assert calls["GET"] == FAST.max_attempts
    assert not isinstance(lost.value, httpx.HTTPError)
