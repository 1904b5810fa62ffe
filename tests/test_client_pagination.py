"""Windowed pagination: every record once, in order, few wasted requests, bad servers caught."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.client import OneConnect, errors
from oneconnect_pipelines.client._pagination import LOOKAHEAD


def stamp() -> str:
    return "2026-12-01 10:00:00 +0400"


def collection(size: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i * 3 + 1,
            "name": f"t{i}",
            "active": True,
            "created_at": stamp(),
            "updated_at": stamp(),
        }
        for i in range(size)
    ]


class PagedServer:
    """Serves ``records`` the way OneConnect pages them; counts the pages asked for."""

    def __init__(self, records: list[dict[str, Any]], repeat_from: int | None = None) -> None:
        self.records = records
        self.repeat_from = repeat_from
        self.pages: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        with self._lock:
            self.pages.append(page)
        if self.repeat_from is not None and page >= self.repeat_from:
            page = self.repeat_from - 1  # a server that ignores `page` past some point
        start = (page - 1) * per_page
        return httpx.Response(200, json=self.records[start : start + per_page])


def client(server: PagedServer, per_page: int, concurrency: int) -> OneConnect:
    return OneConnect(
        "http://oneconnect.test/api/v1",
        "ops@example.com",
        "key",
        timezone="UTC",
        per_page=per_page,
        concurrency=concurrency,
        transport=httpx.MockTransport(server),
    )


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=400),
    per_page=st.integers(min_value=1, max_value=60),
    concurrency=st.integers(min_value=1, max_value=8),
)
def test_every_record_once_in_order(size: int, per_page: int, concurrency: int) -> None:
    records = collection(size)
    server = PagedServer(records)
    with client(server, per_page, concurrency) as oc:
        titles = list(oc.titles.list())
        stats = oc.stats.snapshot()
    assert [t.id for t in titles] == [r["id"] for r in records]
    needed = size // per_page + 1  # the short (or empty) last page included
    assert set(range(1, needed + 1)) <= set(server.pages)
    # ahead-fetching wastes at most a window's worth past the end
    assert len(server.pages) <= needed + LOOKAHEAD * concurrency - 1
    assert len(set(server.pages)) == len(server.pages)  # no page asked twice
    assert stats["records"] == size


def test_small_collections_cost_one_request() -> None:
    server = PagedServer(collection(5))
    with client(server, 1000, 8) as oc:
        assert len(list(oc.titles.list())) == 5
    assert server.pages == [1]


def test_a_server_that_repeats_a_page_is_stopped() -> None:
    server = PagedServer(collection(100), repeat_from=3)
    with client(server, 10, 4) as oc, pytest.raises(errors.PaginationError) as raised:
        list(oc.titles.list())
    assert "page 3 holds only records of earlier pages" in str(raised.value)


class WrappingServer(PagedServer):
    """Past page ``wrap`` it starts again at page 1 (page wrap+1 is page 1), forever."""

    def __init__(self, records: list[dict[str, Any]], wrap: int) -> None:
        super().__init__(records)
        self.wrap = wrap

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        with self._lock:
            self.pages.append(page)
        start = ((page - 1) % self.wrap) * per_page
        return httpx.Response(200, json=self.records[start : start + per_page])


@settings(max_examples=40, deadline=None)
@given(
    wrap=st.integers(min_value=1, max_value=12),
    per_page=st.integers(min_value=1, max_value=20),
    concurrency=st.integers(min_value=1, max_value=6),
)
def test_a_server_that_wraps_around_to_an_earlier_page_is_stopped(
    wrap: int, per_page: int, concurrency: int
) -> None:
    """Page wrap+1 is page 1 again (not the previous page): today's runaway of thousands
    of requests ends at the first repeated page, with only a window's worth past it."""
    server = WrappingServer(collection(wrap * per_page), wrap)
    with (
        client(server, per_page, concurrency) as oc,
        pytest.raises(errors.PaginationError) as raised,
    ):
        list(oc.titles.list())
    assert f"page {wrap + 1} holds only records of earlier pages" in str(raised.value)
    assert len(server.pages) <= wrap + 1 + LOOKAHEAD * concurrency


def test_a_listing_longer_than_max_pages_is_stopped() -> None:
    """A server inventing fresh ids forever is stopped by the page cap."""
    counter = itertools.count(1)

    def endless(request: httpx.Request) -> httpx.Response:
        ids = [next(counter) for _ in range(int(request.url.params["per_page"]))]
        return httpx.Response(200, json=[{**collection(1)[0], "id": i} for i in ids])

    with (
        OneConnect(
            "http://oneconnect.test/api/v1",
            "ops@example.com",
            "key",
            timezone="UTC",
            per_page=5,
            max_pages=30,
            transport=httpx.MockTransport(endless),
        ) as oc,
        pytest.raises(errors.PaginationError) as raised,
    ):
        records = 0
        for _ in oc.titles.list():
            records += 1
    assert "more than 30 pages" in str(raised.value)
    assert records == 30 * 5
    with pytest.raises(ValueError, match="max_pages"):
        OneConnect("http://oneconnect.test/api/v1", "a", "b", max_pages=0)


def test_records_seen_on_an_earlier_page_are_not_returned_twice() -> None:
    records = collection(30)

    def shifting(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        start = (page - 1) * 10 - (1 if page >= 2 else 0)  # a record slid in after page 1
        return httpx.Response(200, json=records[max(start, 0) : start + 10])

    with OneConnect(
        "http://oneconnect.test/api/v1",
        "a",
        "b",
        timezone="UTC",
        per_page=10,
        transport=httpx.MockTransport(shifting),
    ) as oc:
        ids = [t.id for t in oc.titles.list()]
        assert oc.stats.snapshot()["duplicates_dropped"] == 1
    assert ids == [r["id"] for r in records]


def test_a_page_that_is_not_an_array_is_a_response_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"unexpected": True})

    with (
        OneConnect(
            "http://oneconnect.test/api/v1",
            "a",
            "b",
            timezone="UTC",
            transport=httpx.MockTransport(handler),
        ) as oc,
        pytest.raises(errors.ResponseError),
    ):
        list(oc.titles.list())
