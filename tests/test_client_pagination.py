"""Windowed pagination: every record once, in order, few wasted requests, bad servers caught."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pyarrow
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.client import OneConnect, RetryPolicy, errors
from oneconnect_pipelines.client._pagination import LOOKAHEAD, MAX_PAGES
from oneconnect_pipelines.client.models import CONTACT_WIRE
from oneconnect_pipelines.masking import mask_text

from .sim_helpers import wait_for


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


def client(
    server: Callable[[httpx.Request], httpx.Response],
    per_page: int,
    concurrency: int,
    max_pages: int = MAX_PAGES,
    **options: Any,
) -> OneConnect:
    """A client of ``server`` (a ``PagedServer``, or any answering function)."""
    return OneConnect(
        "http://oneconnect.test/api/v1",
        "ops@example.com",
        "key",
        timezone="UTC",
        per_page=per_page,
        concurrency=concurrency,
        max_pages=max_pages,
        transport=httpx.MockTransport(server),
        **options,
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


@st.composite
def paged_collections(draw: st.DrawFn) -> tuple[int, int, int]:
    """(size, per_page, max_pages), sizes clustered around max_pages full pages."""
    per_page = draw(st.integers(min_value=1, max_value=20))
    max_pages = draw(st.integers(min_value=1, max_value=12))
    full_pages = draw(st.integers(min_value=max(0, max_pages - 2), max_value=max_pages + 2))
    return full_pages * per_page + draw(st.integers(0, per_page - 1)), per_page, max_pages


@settings(max_examples=80, deadline=None)
@given(paged_collections(), st.integers(min_value=1, max_value=6))
def test_a_listing_of_up_to_max_pages_is_whole_and_a_longer_one_is_stopped(
    collection_shape: tuple[int, int, int], concurrency: int
) -> None:
    """A collection filling exactly max_pages pages is complete (its next page is empty),
    not a runaway; one record more is stopped, after the max_pages pages it may have."""
    size, per_page, max_pages = collection_shape
    records = collection(size)
    server = PagedServer(records)
    read: list[int] = []
    with client(server, per_page, concurrency, max_pages) as oc:
        if size <= max_pages * per_page:
            read.extend(t.id for t in oc.titles.list())
            assert read == [r["id"] for r in records]
        else:
            with pytest.raises(errors.PaginationError, match=f"more than {max_pages} pages"):
                read.extend(t.id for t in oc.titles.list())
            assert read == [r["id"] for r in records[: max_pages * per_page]]
    assert max(server.pages) <= max_pages + 1


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


def arrow_pages_of(body: bytes) -> list[Any]:
    """What ``contacts.arrow_pages()`` gives for one page answered with ``body``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    with OneConnect(
        "http://oneconnect.test/api/v1",
        "a",
        "b",
        timezone="UTC",
        transport=httpx.MockTransport(handler),
    ) as oc:
        return list(oc.contacts.arrow_pages())


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"unexpected": true}', "expected a JSON array, got dict"),
        (b"null", "expected a JSON array, got NoneType"),
        (b"[null]", "expected JSON objects, got NoneType as record 1"),
        (b'[{"id": 1}, 7]', "expected JSON objects, got int as record 2"),
    ],
)
def test_an_arrow_page_that_is_not_an_array_of_objects_is_a_response_error(
    body: bytes, why: str
) -> None:
    with pytest.raises(errors.ResponseError) as raised:
        arrow_pages_of(body)
    assert str(raised.value) == f"GET /contacts: {why}"


def test_an_error_answer_to_an_arrow_page_raises_its_own_error() -> None:
    with pytest.raises(errors.ValidationError) as raised:
        arrow_pages_of(b'{"errors": ["per_page too big"]}')
    assert str(raised.value) == "GET /contacts: per_page too big"


@pytest.mark.parametrize(
    "layout",
    [
        lambda value: json.dumps(value, separators=(",", ":")),  # compact: read without
        lambda value: json.dumps(value, indent=2) + "\n",  # newlines_in_values
        lambda value: json.dumps(value, indent=2).replace("\n", "\r\n"),
    ],
    ids=["compact", "indented", "crlf"],
)
def test_an_arrow_page_is_read_whatever_its_layout_and_unknown_fields(
    layout: Callable[[Any], str],
) -> None:
    records = contact_collection(3)
    (page,) = arrow_pages_of(layout([{**r, "loyalty": {"tier": 2}} for r in records]).encode())
    assert isinstance(page, pyarrow.RecordBatch)
    assert page.column("id").to_pylist() == [1, 2, 3]
    assert "loyalty" not in page.schema.names


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.text(max_size=12), min_size=1, max_size=5),
    compact=st.booleans(),
    ascii_only=st.booleans(),
)
def test_an_arrow_page_holds_any_text_exactly_as_the_json_says(
    names: list[str], compact: bool, ascii_only: bool
) -> None:
    """Quotes, escapes, raw line and paragraph separators, any layout: Arrow reads what
    ``json.loads`` reads."""
    records = [
        {**record, "first_name": name, "city": name[::-1]}
        for record, name in zip(contact_collection(len(names)), names, strict=True)
    ]
    layout = {"separators": (",", ":")} if compact else {"indent": 1}
    body = json.dumps(records, ensure_ascii=ascii_only, **layout).encode()
    (page,) = arrow_pages_of(body)
    assert isinstance(page, pyarrow.RecordBatch)
    assert page.column("first_name").to_pylist() == names
    assert page.column("city").to_pylist() == [name[::-1] for name in names]


def test_an_arrow_page_off_the_wire_types_comes_back_in_them() -> None:
    """An id sent as text is read as the typed listing reads it, and the page comes back
    in the same Arrow columns, for the frame builder to read and name what is off."""
    record = {**contact_collection(1)[0], "id": "7", "birthday": "1990"}
    (page,) = arrow_pages_of(json.dumps([record]).encode())
    assert page.schema == CONTACT_WIRE
    assert page.to_pylist() == [{**dict.fromkeys(CONTACT_WIRE.names), **record, "id": 7}]


@pytest.mark.parametrize(
    ("record", "where", "why"),
    [
        # an id that cannot be read does not name its record (it may be a phone number)
        ({"id": 1.5}, "a contact at id", "Expected `int`, got `float`"),
        ({"id": True}, "a contact at id", "Expected `int`, got `bool`"),
        ({"id": 2**63}, "a contact at id", "Expected `int` <= 9223372036854775807"),
        ({"birthday": 19900101}, "contact 2 at birthday", "Expected `str | null`, got `int`"),
        (
            {"first_name": {"a": 1}},
            "contact 2 at first_name",
            "Expected `str | null`, got `object`",
        ),
        (
            {"additional_numbers": "995"},
            "contact 2 at additional_numbers",
            "Expected `array | null`, got `str`",
        ),
        (
            {"additional_numbers": [995]},
            "contact 2 at additional_numbers[0]",
            "Expected `str`, got `int`",
        ),
    ],
    ids=[
        "float id",
        "bool id",
        "id past int64",
        "number as birthday",
        "object as text",
        "text as list",
        "number in list",
    ],
)
def test_a_value_of_the_wrong_json_type_names_its_record_and_field(
    record: dict[str, Any], where: str, why: str
) -> None:
    """Not landed as something else (1.5 as 1, "995" as "9, 9, 5"): the listing stops."""
    records = contact_collection(2)
    records[1].update(record)
    with pytest.raises(errors.ResponseError) as raised:
        arrow_pages_of(json.dumps(records).encode())
    assert str(raised.value) == "GET /contacts: " + mask_text(f"cannot read {where}: {why}")
    assert raised.value.resource == "contact"
    assert raised.value.field == where.rpartition(" at ")[2]


class SlowServer(PagedServer):
    """Serves page 1 at once and holds every later page until ``release`` is set."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        super().__init__(records)
        self.release = threading.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if int(request.url.params["page"]) > 1:
            self.release.wait(10)
        return super().__call__(request)


def contact_collection(size: int) -> list[dict[str, Any]]:
    return [
        {"id": i + 1, "phone_number": f"99555{i:07d}", "created_at": stamp(), "updated_at": stamp()}
        for i in range(size)
    ]


def test_a_listing_tells_whether_its_next_page_has_arrived() -> None:
    """``Listing.arrived()``: true once the next page is downloaded and decoded (taking
    it does not wait), false while the server still holds it."""
    server = SlowServer(contact_collection(25))
    with client(server, per_page=10, concurrency=2) as oc:
        pages = oc.contacts.arrow_pages()
        first = next(pages)
        time.sleep(0.2)  # time enough for page 2 to arrive, were it not held
        assert not pages.arrived()
        server.release.set()
        assert wait_for(pages.arrived, timeout_s=5)
        second = next(pages)  # page 3 is short: the last
        assert wait_for(pages.arrived, timeout_s=5)
        rest = list(pages)
    assert [page.num_rows for page in (first, second, *rest)] == [10, 10, 5]


#: A listing of each kind: how to read it, what the server holds, the call it names.
LISTINGS: dict[str, tuple[Callable[[OneConnect], Iterator[Any]], list[dict[str, Any]], str]] = {
    "records": (lambda oc: oc.titles.list(), collection(100), "GET /titles"),
    "JSON pages": (lambda oc: oc.titles.pages(), collection(100), "GET /titles"),
    "Arrow pages": (lambda oc: oc.contacts.arrow_pages(), contact_collection(100), "GET /contacts"),
}


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_closing_the_client_ends_a_listing_read_on_another_thread(listing: str) -> None:
    """A reader waiting for a page gets ClientClosedError at once, never a hang (the
    finishing download used to fail to request the next page and never woke it)."""
    read, records, call = LISTINGS[listing]
    server = SlowServer(records)
    oc = client(server, per_page=10, concurrency=2)
    got_first = threading.Event()
    outcome: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in read(oc):
                got_first.set()
        except BaseException as error:  # whatever it was, the test reports it
            outcome.append(error)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert got_first.wait(5)
    time.sleep(0.1)  # the reader now waits for page 2, held by the server
    closed_at = time.monotonic()
    oc.close()
    thread.join(2)
    woke_after = time.monotonic() - closed_at
    server.release.set()  # the held downloads finish into a shut-down client
    assert not thread.is_alive(), "the reader still waits for a page of a closed client"
    assert woke_after < 1.0
    assert len(outcome) == 1 and isinstance(outcome[0], errors.ClientClosedError), outcome
    assert str(outcome[0]) == f"{call}: the client was closed"


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_a_listing_that_ends_early_retries_nothing_in_the_background(listing: str) -> None:
    """Page 2 is missing (404) and the pages requested ahead fail (500): the listing
    raises at once, and the downloads of pages nobody will read stop instead of retrying
    for minutes on the client's threads, which would hold up the next listing."""
    read, records, _ = LISTINGS[listing]
    asked: list[tuple[float, int]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        asked.append((time.monotonic(), page))
        if request.url.path.endswith("/templates"):
            return httpx.Response(200, json=[])
        if page == 1:
            return httpx.Response(200, json=records[:per_page])
        return httpx.Response(404 if page == 2 else 500, json={"errors": ["no"]})

    patient = RetryPolicy(backoff_base=0.2, backoff_max=0.2, max_attempts=50)
    with client(answer, per_page=10, concurrency=4, retry=patient) as oc:
        with pytest.raises(errors.NotFoundError):
            list(read(oc))
        ended = time.monotonic()
        time.sleep(0.8)  # four backoffs: a download still retrying would ask again
        # (an attempt already under way when the listing ended may still land, at once)
        assert [page for at, page in asked if at > ended + 0.3] == []
        started = time.monotonic()
        assert [len(page) for page in oc.templates.pages()] == [0]  # threads free again
        assert time.monotonic() - started < 0.5


def test_a_listing_left_early_holds_up_no_later_call_under_a_rate_limit() -> None:
    """At 2 requests a second, a listing is left after its first records while its pages
    ahead wait their turns: the next call goes out within a turn (the abandoned pages'
    turns were reserved, and it waited behind all of them)."""
    server = PagedServer(collection(400))

    def answer(request: httpx.Request) -> httpx.Response:
        return (
            httpx.Response(200, json={}) if request.url.path.endswith("/ping") else server(request)
        )

    with client(answer, per_page=10, concurrency=6, rate_limit=2.0) as oc:
        for _ in itertools.islice(oc.templates.pages(), 1):
            pass
        time.sleep(0.7)  # the window has opened: pages ahead wait their turns
        started = time.monotonic()
        assert oc.call("GET", "/ping") == {}
        assert time.monotonic() - started < 0.8
