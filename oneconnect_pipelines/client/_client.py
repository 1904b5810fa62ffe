"""``OneConnect``: the client object that owns the connection pool, the request loop and
the API sections."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import tzinfo
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from oneconnect_pipelines.formats import timestamp_offset

from ._answers import read_record
from ._pagination import MAX_PAGES
from ._request_loop import CallStats, Clock, RequestLoop, RetryPolicy, SystemClock, Timeouts
from ._requester import Requester
from .birthday_campaigns import BirthdayCampaigns
from .campaigns import Campaigns
from .contacts import Contacts
from .errors import OneConnectError
from .lists import Lists
from .messages import Messages
from .models import Plan
from .titles import Templates, Titles

DEFAULT_BASE_URL = "https://oneconnect.uno/api/v1"
#: Requests in flight per listing: quick on a high-latency API, gentle on a SaaS one. Six
#: is what a browser opens to one host, so what a web service expects of one client;
#: a 429 pauses every request of the client for its Retry-After (docs/client.md).
DEFAULT_CONCURRENCY = 6
MAX_PER_PAGE = 1000
#: Threads that decode listing pages in native code, side by side.
DECODERS = 2
#: ``OneConnect(timezone=INFER)``: read the offset off the account's own timestamps.
INFER = "infer"
_PROBES = ("/messages", "/contacts", "/lists", "/templates", "/titles", "/campaigns")


class OneConnect:
    """A OneConnect account. Thread-safe; use it as a context manager or call ``close``.

    ``timezone`` is the account's zone (request datetimes are written in it, campaign
    schedules read in it); ``"infer"`` asks for the UTC offset of the account's own
    timestamps instead, a fixed offset that cannot follow daylight saving time. Without
    either, a call that needs the zone fails and says so. ``rate_limit``
    caps requests per second across every thread (None: only the server's 429s slow us).
    ``max_pages`` stops a listing that runs longer than that as a runaway.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        email: str = "",
        api_key: str = "",
        *,
        timezone: tzinfo | str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        per_page: int = MAX_PER_PAGE,
        rate_limit: float | None = None,
        max_pages: int = MAX_PAGES,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        seed: int | None = None,
    ) -> None:
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        self.base_url = base_url
        self.per_page = per_page
        self.max_pages = max_pages
        self.concurrency = concurrency
        self._infer_timezone = timezone == INFER
        self._timezone = None if self._infer_timezone else _zone(timezone)
        self._loop = RequestLoop(
            base_url,
            email,
            api_key,
            timeouts=timeouts or Timeouts(),
            retry=retry or RetryPolicy(),
            rate_limit=rate_limit,
            connections=concurrency * 2,
            clock=clock or SystemClock(),
            transport=transport,
            seed=seed,
        )
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="oneconnect"
        )
        # Native decoding releases the GIL: as many threads as there are cores to use.
        self._decoders = ThreadPoolExecutor(
            max_workers=min(DECODERS, os.cpu_count() or 1), thread_name_prefix="oneconnect-decode"
        )
        requester = Requester(
            self._loop,
            self._executor,
            self._decoders,
            concurrency,
            per_page,
            max_pages,
            zone=lambda: self.timezone,
            known_zone=lambda: self._timezone,
        )
        self.contacts = Contacts(requester)
        self.lists = Lists(requester)
        self.campaigns = Campaigns(requester)
        self.birthday_campaigns = BirthdayCampaigns(requester)
        self.messages = Messages(requester)
        self.titles = Titles(requester)
        self.templates = Templates(requester)

    def __repr__(self) -> str:
        return f"OneConnect({self.base_url!r})"

    @property
    def stats(self) -> CallStats:
        """Requests, retries, pages and records so far (``stats.snapshot()`` for a dict)."""
        return self._loop.stats

    @property
    def timezone_if_known(self) -> tzinfo | None:
        return self._timezone

    @property
    def timezone(self) -> tzinfo:
        """The account's timezone: configured, or (``"infer"``) read off its records'
        UTC offset."""
        if self._timezone is not None:
            return self._timezone
        if not self._infer_timezone:
            raise OneConnectError(
                "the account's timezone is needed here: pass timezone='Area/City' (or "
                "timezone='infer' for the fixed UTC offset of its records)"
            )
        for path in _PROBES:
            found = self._loop.call("GET", path, params={"limit": 1})
            if isinstance(found, list) and found and found[0].get("created_at"):
                self._timezone = read_record(
                    _offset_of_created_at, found[0], path.strip("/"), f"GET {path}"
                )
                return self._timezone
        raise OneConnectError(
            "cannot infer the account's timezone from an empty account: pass timezone='Area/City'"
        )

    def balance(self) -> int:
        """SMS left on the account."""
        answer = self._loop.call("GET", "/balance")
        return read_record(_sms_balance, answer, "balance", "GET /balance")

    def pricing(self) -> list[Plan]:
        plans = self._loop.call("GET", "/pricing")
        return [read_record(Plan.from_api, plan, "plan", "GET /pricing") for plan in plans]

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any endpoint through the same request loop (for what the sections don't cover)."""
        return self._loop.call(method, path, **kwargs)

    def close(self) -> None:
        """End every call of the client: waits (backoff, Retry-After, rate limit) and
        listings read on other threads raise ``ClientClosedError`` at once, no page or
        retry is requested afterwards, and the download threads end as soon as their
        waits are cut short (one reading an answer ends with that answer or its timeout)."""
        self._loop.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._decoders.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> OneConnect:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _offset_of_created_at(record: dict[str, Any]) -> tzinfo:
    return timestamp_offset(record["created_at"])


def _sms_balance(answer: dict[str, Any]) -> int:
    return int(answer["sms_balance"])


def _zone(value: tzinfo | str | None) -> tzinfo | None:
    return ZoneInfo(value) if isinstance(value, str) else value
