"""The one request loop: auth, timeouts, rate limit, retries, error mapping, statistics.

Retry rules. Reads are retried on connection errors, timeouts, 429 and 5xx; a 429 or 503
whose Retry-After exceeds ``RetryPolicy.retry_after_max`` fails at once. Writes are
retried only when the server cannot have acted: the connection was never made, or it
answered 429 or 503 (refused before processing). Any other failure of a write is
ambiguous and surfaces as ``OutcomeUnknownError``, so the caller can reconcile
(creates read back; sends are never replayed).

Every wait (a backoff, a Retry-After, the rate limit) ends as soon as the client is
closed, and the call then raises ``ClientClosedError``: a closed client's threads end at
once instead of sleeping out a minute's Retry-After.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from . import errors as e
from ._answers import decode, describe, retry_after_of, status_error
from ._connections import AnswerTooLarge, attempt_deadline, deadline_transport, tls_context
from ._redact import Redactor, unwatch_logs, watch_logs

#: Statuses that mean "refused before processing": safe to retry for every method.
REFUSED_STATUSES = (429, 503)
#: The most an API answer may bring, headers and body: a page of 1,000 records is
#: 0.3-0.5 MB. A server sending more (an endless body) would otherwise fill the memory
#: before the attempt's deadline. CSV exports (``Requester.text``) are not bounded.
MAX_ANSWER_BYTES = 64 * 2**20


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float, interrupt: threading.Event) -> None:
        """Wait ``seconds``, or less once ``interrupt`` is set (the client is closing)."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, interrupt: threading.Event) -> None:
        if seconds > 0:
            interrupt.wait(seconds)


class Closing:
    """A client's close as the threads working for it see it: ``event`` cuts their waits
    short, and whoever waits for their work (a listing's reader) is woken by its callback."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._wakers: set[Callable[[], None]] = set()

    @property
    def closed(self) -> bool:
        return self.event.is_set()

    def close(self) -> None:
        with self._lock:
            self.event.set()
            wakers = list(self._wakers)
        for wake in wakers:
            wake()

    def on_close(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` when the client closes (now, if it already has)."""
        with self._lock:
            if not self.event.is_set():
                self._wakers.add(wake)
                return
        wake()

    def forget(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._wakers.discard(wake)

    def check(self, call: str) -> None:
        """Raise ``ClientClosedError`` once the client is closed."""
        if self.event.is_set():
            raise e.ClientClosedError("the client was closed", call=call)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait: capped exponential backoff with full jitter."""

    max_attempts: int = 6
    backoff_base: float = 0.2
    backoff_max: float = 20.0
    #: A server's Retry-After is honoured up to this many seconds; a longer one fails the
    #: call at once (``RateLimitError.retry_after`` says when to come back).
    retry_after_max: float = 60.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Wait before retry number ``attempt`` (1-based): in [cap/2, cap] of the doubling."""
        cap = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        return cap * (0.5 + rng.random() / 2)

    def wait(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Retry-After when given (capped), never less than the backoff: ``0`` cannot spin."""
        backoff = self.backoff(attempt, rng)
        if retry_after is None:
            return backoff
        return min(self.retry_after_max, max(retry_after, backoff))


@dataclass(frozen=True)
class Timeouts:
    """httpx's timeouts, each per operation (``read``: per socket read), and a deadline for
    a whole attempt that bounds what they cannot: a server trickling its answer."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 60.0

    @property
    def attempt(self) -> float:
        """An attempt still connecting, sending or receiving (its headers or its body)
        ``connect + read`` seconds after it started is cut off then."""
        return self.connect + self.read

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class RateLimiter:
    """Requests per second shared by every thread of a client; a 429 pauses them all."""

    def __init__(self, rate: float | None, clock: Clock) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate_limit must be positive (or None for no limit)")
        self.rate = rate
        self._spacing = 0.0 if rate is None else 1.0 / rate
        self._clock = clock
        self._lock = threading.Lock()
        self._last = -math.inf
        self._paused_until = 0.0

    def acquire(self, interrupt: threading.Event) -> None:
        """Wait for a request's turn: past any pause (one a 429 starts meanwhile too) and
        ``1 / rate`` after the request before. No turn is reserved ahead, so a request
        that stops waiting (``interrupt``: its listing was left, the client closed)
        holds up no other; reserved turns of abandoned pages made the next call wait
        seconds for nothing, and turns taken before a pause went out during it."""
        while not interrupt.is_set():
            with self._lock:
                now = self._clock.monotonic()
                start = max(self._paused_until, self._last + self._spacing)
                if start <= now:
                    self._last = now
                    return
            self._clock.sleep(start - now, interrupt)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)


@dataclass
class CallStats:
    """What a client did: requests sent, retries, pages read, records, by status."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    records: int = 0
    duplicates_dropped: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def status(self, code: int | str) -> None:
        with self._lock:
            self.statuses[str(code)] = self.statuses.get(str(code), 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "pages": self.pages,
                "records": self.records,
                "duplicates_dropped": self.duplicates_dropped,
                "statuses": dict(self.statuses),
            }


class RequestLoop:
    """Sends one logical call, retrying as the module docstring says, and decodes it."""

    def __init__(
        self,
        base_url: str,
        email: str,
        api_key: str,
        *,
        timeouts: Timeouts,
        retry: RetryPolicy,
        rate_limit: float | None,
        connections: int,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        seed: int | None = None,
    ) -> None:
        #: Scrubs this client's secrets (and masks personal data) in any text from a server.
        self.redact = Redactor(email, api_key)
        watch_logs(self.redact)
        self.retry = retry
        self.clock = clock
        self.stats = CallStats()
        #: Set by ``close``: ends every wait of the loop and wakes listings' readers.
        self.closing = Closing()
        self.limiter = RateLimiter(rate_limit, clock)
        self._attempt_timeout = timeouts.attempt
        self._rng = random.Random(seed)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=httpx.BasicAuth(email, api_key),
            timeout=timeouts.httpx(),
            verify=tls_context(),
            limits=limits,
            transport=transport or deadline_transport(limits),
            headers={"Accept": "application/json", "User-Agent": "oneconnect-pipelines"},
        )

    def close(self) -> None:
        self.closing.close()
        self._http.close()
        unwatch_logs(self.redact)

    def __repr__(self) -> str:  # never the credentials
        return f"RequestLoop({self._http.base_url!s})"

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        replay_safe: bool | None = None,
    ) -> Any:
        """The decoded JSON answer of ``method path``; see the module docstring for retries."""
        return self.decode(
            self.send(method, path, params=params, data=data, replay_safe=replay_safe),
            f"{method} {path}",
        )

    def decode(self, response: httpx.Response, call: str) -> Any:
        """JSON of a response, or the exception its status and body stand for."""
        return decode(response, call, self.redact)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        replay_safe: bool | None = None,
        abandoned: threading.Event | None = None,
        max_bytes: int | None = MAX_ANSWER_BYTES,
    ) -> httpx.Response:
        """The raw successful response (status < 400, or a 4xx that retrying cannot fix).
        Once ``abandoned`` is set (a listing's page nobody will read; set on the client's
        close too), no further attempt is made and a wait ends at once. An answer over
        ``max_bytes`` (None: no bound) is a ``ResponseError``, not retried: asking again
        brings the same."""
        call = f"{method} {path}"
        safe = method in ("GET", "HEAD") if replay_safe is None else replay_safe
        interrupt = abandoned or self.closing.event
        attempt = 0
        while True:
            attempt += 1
            self._check(call, abandoned)
            self.limiter.acquire(interrupt)
            self._check(call, abandoned)
            self.stats.add(requests=1)
            retry_after: float | None = None
            try:
                response = self._exchange(method, path, params, data, max_bytes)
            except AnswerTooLarge as exc:
                self.stats.status("too_large")
                raise e.ResponseError(f"{exc} (the client's bound)", call=call) from None
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                error: e.OneConnectError = e.ConnectError(describe(exc, self.redact), call=call)
                retryable, ambiguous = True, False
                self.stats.status("connect_error")
            except httpx.TimeoutException as exc:
                error = e.RequestTimeout(describe(exc, self.redact), call=call)
                retryable, ambiguous = safe, not safe
                self.stats.status("timeout")
            except httpx.HTTPError as exc:  # dropped connections, broken bodies, ...
                error = e.TransportError(describe(exc, self.redact), call=call)
                retryable, ambiguous = safe, not safe
                self.stats.status("transport_error")
            except RuntimeError:  # httpx refuses a request once its client is closed
                self.closing.check(call)
                raise
            else:
                self.stats.status(response.status_code)
                status = response.status_code
                if status in REFUSED_STATUSES:
                    retry_after = retry_after_of(response)
                    if retry_after is not None and retry_after > self.retry.retry_after_max:
                        # Waiting that long would hang a sensor tick or a run: fail now,
                        # saying when the server will take requests again.
                        note = (
                            f"Retry-After: {retry_after:g} s, above the "
                            f"{self.retry.retry_after_max:g} s this client waits"
                        )
                        raise status_error(response, call, retry_after, self.redact, note=note)
                    error = status_error(response, call, retry_after, self.redact)
                    retryable, ambiguous = True, False
                elif status >= 500:
                    error = status_error(response, call, None, self.redact)
                    retryable, ambiguous = safe, not safe
                else:
                    return response
            if not retryable or attempt >= self.retry.max_attempts:
                if ambiguous:
                    raise e.OutcomeUnknownError(
                        f"the answer was lost ({error.message}); the write may have taken effect",
                        call=call,
                    ) from error
                raise error
            wait = self.retry.wait(attempt, retry_after, self._rng)
            if retry_after is not None:
                self.limiter.pause(wait)
            self.stats.add(retries=1)
            self.clock.sleep(wait, interrupt)

    def _check(self, call: str, abandoned: threading.Event | None) -> None:
        self.closing.check(call)
        if abandoned is not None and abandoned.is_set():
            raise e.ClientClosedError("the listing was left before this page was read", call=call)

    def _exchange(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        data: dict[str, Any] | None,
        max_bytes: int | None,
    ) -> httpx.Response:
        """One attempt: the response with its body read, within ``Timeouts.attempt``
        (headers, informational answers and body alike: ``_connections``) and
        ``max_bytes``."""
        with (
            attempt_deadline(self._attempt_timeout, max_bytes),
            self._http.stream(method, path, params=params, data=data) as response,
        ):
            response.read()
        return response
