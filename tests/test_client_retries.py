"""The request loop's timing and replay decisions, driven by a fake clock (no real sleeps)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.client import OneConnect, RetryPolicy, errors
from oneconnect_pipelines.client._request_loop import RateLimiter

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Time moves only when the client sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float, interrupt: threading.Event) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A transport handler that plays ``answers`` in order (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle, seen


def client_for(handler: Handler, clock: FakeClock, **options: Any) -> OneConnect:
    return OneConnect(
        "http://oneconnect.test/api/v1",
        "ops@example.com",
        "secret-key",
        timezone="Asia/Tbilisi",
        transport=httpx.MockTransport(handler),
        clock=clock,
        seed=1,
        **options,
    )


def ok(payload: Any) -> httpx.Response:
    return httpx.Response(200, json=payload)


BALANCE = ok({"sms_balance": 5})


def test_retry_after_is_honoured() -> None:
    clock = FakeClock()
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "7"}), BALANCE)
    assert client_for(handler, clock).balance() == 5
    assert len(seen) == 2
    assert clock.sleeps == [7.0]


def test_retry_after_up_to_the_cap_is_waited_out() -> None:
    clock = FakeClock()
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "30"}), BALANCE)
    client = client_for(handler, clock, retry=RetryPolicy(retry_after_max=30))
    assert client.balance() == 5
    assert clock.sleeps == [30.0]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_above_the_cap_fails_at_once(status: int) -> None:
    """Sleeping 60 s five times for a Retry-After of 10000 s would hang a sensor tick."""
    clock = FakeClock()
    handler, seen = scripted(httpx.Response(status, headers={"Retry-After": "10000"}), BALANCE)
    client = client_for(handler, clock, retry=RetryPolicy(retry_after_max=60))
    expected = errors.RateLimitError if status == 429 else errors.ServerError
    with pytest.raises(expected) as raised:
        client.balance()
    assert clock.sleeps == []
    assert len(seen) == 1
    assert "Retry-After: 10000 s, above the 60 s this client waits" in str(raised.value)
    if isinstance(raised.value, errors.RateLimitError):
        assert raised.value.retry_after == 10000.0


def test_retry_after_zero_does_not_spin() -> None:
    clock = FakeClock()
    throttled = httpx.Response(429, headers={"Retry-After": "0"})
    handler, seen = scripted(throttled, throttled, throttled, BALANCE)
    policy = RetryPolicy(backoff_base=0.5, backoff_max=10)
    assert client_for(handler, clock, retry=policy).balance() == 5
    assert len(seen) == 4
    # never less than the backoff, and the backoff doubles: 0.25-0.5, 0.5-1, 1-2 seconds
    for attempt, waited in enumerate(clock.sleeps, start=1):
        cap = 0.5 * 2 ** (attempt - 1)
        assert cap / 2 <= waited <= cap


def test_backoff_grows_and_is_capped() -> None:
    clock = FakeClock()
    handler, seen = scripted(httpx.Response(502))
    policy = RetryPolicy(max_attempts=8, backoff_base=1.0, backoff_max=5.0)
    with pytest.raises(errors.ServerError) as raised:
        client_for(handler, clock, retry=policy).balance()
    assert raised.value.status_code == 502
    assert len(seen) == 8
    caps = [min(5.0, 2.0**i) for i in range(7)]
    assert all(cap / 2 <= waited <= cap for cap, waited in zip(caps, clock.sleeps, strict=True))


def test_backoff_jitter_is_random_and_spread_over_its_interval() -> None:
    """Clients that failed together must not retry together: for one attempt number the
    waits of many clients cover [cap/2, cap], not one value (plain doubling would)."""
    import random

    policy = RetryPolicy(backoff_base=1.0, backoff_max=20.0)
    for attempt, cap in ((1, 1.0), (3, 4.0), (9, 20.0)):
        waits = [policy.backoff(attempt, random.Random(seed)) for seed in range(400)]
        assert all(cap / 2 <= wait <= cap for wait in waits)
        assert len(set(waits)) == len(waits)  # no two clients in lock-step
        # every tenth of the interval is used: spread, not clustered at one end
        tenths = {min(int((wait - cap / 2) / (cap / 2) * 10), 9) for wait in waits}
        assert tenths == set(range(10))
    # one client's successive waits are jittered as well, not a fixed ladder
    rng = random.Random(3)
    ratios = {round(policy.backoff(2, rng) / 2.0, 6) for _ in range(50)}
    assert len(ratios) == 50


def test_reads_are_retried_after_dropped_connections_and_timeouts() -> None:
    clock = FakeClock()
    handler, seen = scripted(
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.ReadTimeout("slow"),
        httpx.Response(500),
        BALANCE,
    )
    client = client_for(handler, clock)
    assert client.balance() == 5
    assert len(seen) == 4
    assert client.stats.snapshot()["retries"] == 3


def test_a_write_is_not_replayed_after_a_server_error() -> None:
    clock = FakeClock()
    handler, seen = scripted(httpx.Response(500), ok({"error_code": 0, "status": "OK"}))
    with pytest.raises(errors.SendOutcomeUnknownError) as raised:
        client_for(handler, clock).messages.send("hi", destinations=["0555123456"])
    assert len(seen) == 1
    assert raised.value.reference.startswith("oc-")
    assert seen[0].content.decode().count(raised.value.reference) == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), httpx.Response(504)],
    ids=["read-timeout", "dropped", "504"],
)
def test_ambiguous_send_failures_are_never_replayed(failure: httpx.Response | Exception) -> None:
    handler, seen = scripted(failure, ok({"error_code": 0, "status": "OK"}))
    with pytest.raises(errors.SendOutcomeUnknownError):
        client_for(handler, FakeClock()).messages.send("hi", destinations=["0555123456"])
    assert len(seen) == 1


@pytest.mark.parametrize(
    "refusal",
    [
        httpx.ConnectError("refused"),
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(503),
    ],
    ids=["connect-error", "429", "503"],
)
def test_writes_are_retried_when_the_server_cannot_have_acted(
    refusal: httpx.Response | Exception,
) -> None:
    sent = ok({"error_code": 0, "status": "OK", "message": "Message sent successfully."})
    handler, seen = scripted(refusal, sent)
    receipt = client_for(handler, FakeClock()).messages.send("hi", destinations=["0555123456"])
    assert len(seen) == 2
    # the same reference on both attempts: one logical send
    assert [dict(httpx.QueryParams(r.content.decode()))["reference"] for r in seen] == [
        receipt.reference
    ] * 2


def test_a_lost_create_is_reconciled_by_reading_back() -> None:
    created = {
        "id": 9,
        "phone_number": "0555123456",
        "created_at": "2026-12-01 10:00:00 +0400",
        "updated_at": "2026-12-01 10:00:00 +0400",
    }
    handler, seen = scripted(httpx.ReadTimeout("slow"), ok([created]))
    contact = client_for(handler, FakeClock()).contacts.create("0555123456")
    assert contact.id == 9
    assert [(r.method, r.url.path) for r in seen] == [
        ("POST", "/api/v1/contacts"),
        ("GET", "/api/v1/contacts"),
    ]
    assert seen[1].url.params["phone_number"] == "0555123456"


def test_a_lost_create_that_did_not_land_is_sent_again() -> None:
    created = {
        "id": 9,
        "phone_number": "0555123456",
        "created_at": "2026-12-01 10:00:00 +0400",
        "updated_at": "2026-12-01 10:00:00 +0400",
    }
    handler, seen = scripted(httpx.Response(502), ok([]), ok(created))
    assert client_for(handler, FakeClock()).contacts.create("0555123456").id == 9
    assert [r.method for r in seen] == ["POST", "GET", "POST"]


def test_client_rate_limit_spaces_requests_across_threads() -> None:
    clock = FakeClock()
    handler, seen = scripted(BALANCE)
    client = client_for(handler, clock, rate_limit=4.0)
    threads = [threading.Thread(target=client.balance) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    # 8 requests at 4/s: the last one may start no earlier than 7 intervals after the first
    assert clock.now - 1000.0 >= 7 * 0.25 - 1e-9


def test_a_429_pauses_every_request_of_the_client() -> None:
    clock = FakeClock()
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "5"}), BALANCE)
    client = client_for(handler, clock)
    client.balance()
    assert clock.sleeps == [5.0]
    # another thread asking during the pause waits it out too
    limiter = client._loop.limiter
    limiter.pause(5.0)
    limiter.acquire(threading.Event())
    assert clock.sleeps == [5.0, 5.0]


def test_a_request_waiting_its_turn_when_a_429_comes_waits_out_the_pause() -> None:
    """A 429 (Retry-After: 5) is answered while the next request waits its turn of the
    rate: that request goes out after the pause, not into it."""

    class AnsweredMeanwhile(FakeClock):
        def sleep(self, seconds: float, interrupt: threading.Event) -> None:
            super().sleep(seconds, interrupt)
            if len(self.sleeps) == 1:
                limiter.pause(5.0)

    clock = AnsweredMeanwhile()
    limiter = RateLimiter(10.0, clock)
    limiter.acquire(threading.Event())
    limiter.acquire(threading.Event())
    assert clock.sleeps == pytest.approx([0.1, 5.0]) and clock.now == pytest.approx(1005.1)


def test_rate_limiter_alone_spaces_calls_evenly() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock)
    for _ in range(5):
        limiter.acquire(threading.Event())
    assert clock.sleeps == [0.5, 0.5, 0.5, 0.5]


@settings(max_examples=40, deadline=None)
@given(
    retry_after=st.one_of(st.none(), st.floats(min_value=0, max_value=10_000)),
    attempt=st.integers(min_value=1, max_value=30),
)
def test_every_wait_is_bounded_and_never_zero(retry_after: float | None, attempt: int) -> None:
    import random

    policy = RetryPolicy(backoff_base=0.2, backoff_max=20.0, retry_after_max=60.0)
    wait = policy.wait(attempt, retry_after, random.Random(attempt))
    assert 0.1 <= wait <= 60.0
    if retry_after is not None and retry_after <= 60:
        assert wait >= retry_after


def test_http_200_with_a_nonzero_error_code_is_an_error() -> None:
    handler, _ = scripted(ok({"error_code": 1000, "status": "ERROR", "message": "No balance"}))
    with pytest.raises(errors.NoBalanceError) as raised:
        client_for(handler, FakeClock()).messages.send("hi", destinations=["0555123456"])
    assert raised.value.error_code == 1000
    assert "POST /messages" in str(raised.value)


def test_httpx_exceptions_never_escape() -> None:
    clock = FakeClock()
    handler, _ = scripted(httpx.ConnectError("refused"))
    with pytest.raises(errors.ConnectError) as raised:
        client_for(handler, clock, retry=RetryPolicy(max_attempts=3)).balance()
    assert not isinstance(raised.value, httpx.HTTPError)
    assert len(clock.sleeps) == 2


def test_close_cuts_retry_waits_short_and_ends_the_download_threads() -> None:
    """Calls sleeping out a Retry-After, a call held by the 429 pause, and a listing's
    look-ahead downloads waiting to retry all end when the client closes (real time, no
    fake clock): nothing more is sent and the threads end, so the process can exit."""
    page_size = 10
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path.endswith("/balance"):
            return httpx.Response(503, headers={"Retry-After": "30"})
        if request.url.params["page"] == "1":
            stamp = "2026-12-01 10:00:00 +0400"
            titles = [
                {"id": i, "name": "t", "active": True, "created_at": stamp, "updated_at": stamp}
                for i in range(1, page_size + 1)
            ]
            return ok(titles)
        return httpx.Response(429, headers={"Retry-After": "30"})

    before = set(threading.enumerate())
    oc = OneConnect(
        "http://oneconnect.test/api/v1",
        "ops@example.com",
        "secret-key",
        timezone="UTC",
        per_page=page_size,
        transport=httpx.MockTransport(handler),
    )
    listing = oc.titles.pages()
    next(listing)  # page 1; the look-ahead downloads now wait out a 30 s Retry-After
    outcomes: list[BaseException] = []

    def call_balance() -> None:
        try:
            oc.balance()
        except BaseException as error:  # whatever it was, the test reports it
            outcomes.append(error)

    callers = [threading.Thread(target=call_balance) for _ in range(2)]
    for caller in callers:
        caller.start()
    time.sleep(0.3)
    workers = [t for t in threading.enumerate() if t not in before and t not in callers]
    assert workers, "the listing's download threads"
    sent = len(seen)
    closed_at = time.monotonic()
    oc.close()
    for thread in (*callers, *workers):
        thread.join(2)
    assert time.monotonic() - closed_at < 1.0
    assert not any(thread.is_alive() for thread in (*callers, *workers))
    assert [type(outcome) for outcome in outcomes] == [errors.ClientClosedError] * 2
    assert len(seen) == sent  # no retry went out after the close
    with pytest.raises(errors.ClientClosedError):
        next(listing)


def test_a_redirect_says_where_to_rather_than_that_the_answer_was_not_json() -> None:
    """An http:// base URL that the server moves to https://: its 301 names the status
    and where it points (it was ``expected JSON, got ''``)."""
    moved = httpx.Response(301, headers={"Location": "https://oneconnect.test/api/v1/balance"})
    handler, _ = scripted(moved)
    client = client_for(handler, FakeClock())
    with pytest.raises(errors.HTTPStatusError) as raised:
        client.balance()
    assert raised.value.status_code == 301
    assert "redirected to https://oneconnect.test/api/v1/balance" in str(raised.value)
    with pytest.raises(errors.HTTPStatusError, match="redirected"):
        client.contacts.export_csv()


def test_an_odd_answer_to_a_send_or_a_code_is_named_not_a_python_error() -> None:
    """A 2xx send is taken as sent whatever its body says (raising could make the caller
    send again); a code answer without its code is a ResponseError naming the call."""
    handler, _ = scripted(ok([1, 2]))
    receipt = client_for(handler, FakeClock()).messages.send("hi", destinations=["0555123456"])
    assert receipt.message == "OK"
    handler, _ = scripted(ok({}))
    with pytest.raises(errors.ResponseError, match="POST /mfa/sms_auth"):
        client_for(handler, FakeClock()).messages.sms_auth("0555123456")
