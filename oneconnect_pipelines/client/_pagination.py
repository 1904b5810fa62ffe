"""Paging without totals: a sliding window of concurrent page requests, in order, once each.

The API has no count and no next link: a page shorter than ``per_page`` is the last. So
pages are requested ahead (one page first, so a small collection costs one request; once
it comes back full, the client's whole concurrency), handed out strictly in page order,
and no new page is requested once a short one has been read; requests already made past
the end are ignored (``LOOKAHEAD`` bounds them). A page holding only records already
seen means the server repeats pages (it ignores ``page``, or wraps around): an error,
not an endless loop; so is a listing longer than ``max_pages`` (page ``max_pages + 1`` is
requested to tell a collection that ends there from a longer one). Records already seen
on a page that also brings new ones (a collection shifting under a sorted listing) are
dropped so each comes once. Closing the client wakes a reader waiting for a page, with
``ClientClosedError``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Executor, Future
from functools import partial
from typing import Any, Generic, TypeVar

from ._request_loop import CallStats, Closing
from .errors import ClientClosedError, PaginationError

#: Pages per listing before it is stopped as a runaway (100 million records at 1,000 a
#: page); ``OneConnect(max_pages=...)`` sets another bound.
MAX_PAGES = 100_000
#: Pages the window may run past the consumer, per request in flight. A consumer that
#: is at times slower than the network (it converts each page as it comes) then finds
#: the next pages already there instead of waiting a round trip; the price is at most
#: ``LOOKAHEAD * concurrency - 1`` requests past the end of a listing.
LOOKAHEAD = 2

#: A page of decoded JSON records: dicts, with arrays as tuples (``_section._records``).
Page = list[dict[str, Any]]
T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P")


class _Window(Generic[R]):
    """The downloads of one listing. Each finished download starts the next one from its
    own thread, so the window never waits for the consumer; at most
    ``LOOKAHEAD * concurrency`` pages are requested past the one it is reading. With
    ``prepare``, each download is then handed to ``preparer`` (decoding in native code),
    and the next request goes out meanwhile: ``concurrency`` requests stay in flight."""

    def __init__(
        self,
        fetch: Callable[[int, threading.Event], R],
        executor: Executor,
        concurrency: int,
        last_page: int,
        closing: Closing,
        call: str,
        prepare: tuple[Callable[[R], Any], Executor] | None = None,
    ) -> None:
        self._fetch = fetch
        self._executor = executor
        self._prepare = prepare
        self._concurrency = concurrency
        self._last_page = last_page
        self._closing = closing
        self._call = call
        self._lock = threading.Condition(threading.RLock())  # callbacks may run inline
        self._futures: dict[int, Future[Any]] = {}
        self._finished: set[int] = set()
        self._next_page = 1
        self._next_out = 1
        self._ahead = 1  # pages past the consumer: one first, a small collection costs one
        self._in_flight = 0
        self._ended = False
        #: Set once nobody will read this listing's pages (it ended, or the client
        #: closed): its downloads make no further attempt and cut their waits short.
        self._abandoned = threading.Event()
        self._watching = False  # the client's close wakes a reader from the first take on

    def arrived(self, number: int) -> bool:
        """Whether page ``number`` is there: taking it would not wait."""
        with self._lock:
            return number in self._finished

    def take(self, number: int) -> Future[Any]:
        """The finished download of page ``number`` (waits for it); ``ClientClosedError``
        once the client is closed."""
        with self._lock:
            if not self._watching:
                self._closing.on_close(self._wake)
                self._watching = True
            self._top_up()
            while True:
                self._closing.check(self._call)
                if number in self._finished:
                    break
                if number not in self._futures:  # never requested: the pool was shut down
                    raise ClientClosedError("the client was closed", call=self._call)
                self._lock.wait()
            self._finished.discard(number)
            return self._futures.pop(number)

    def advance(self, number: int, full: bool) -> None:
        """Page ``number`` was read: a full one opens the window, a short one ends it."""
        with self._lock:
            if full:
                self._ahead = self._concurrency * LOOKAHEAD
            else:
                self._ended = True
            self._next_out = number + 1
            self._top_up()

    def close(self) -> None:
        self._closing.forget(self._wake)
        self._abandoned.set()
        with self._lock:
            self._ended = True
            for future in self._futures.values():
                future.cancel()

    def _download(self, number: int) -> R:
        return self._fetch(number, self._abandoned)

    def _wake(self) -> None:
        self._abandoned.set()
        with self._lock:
            self._lock.notify_all()

    def _top_up(self) -> None:
        while (
            not self._ended
            and self._in_flight < self._concurrency
            and self._next_page <= self._last_page
            and self._next_page - self._next_out < self._ahead
        ):
            number = self._next_page
            future = _submit(self._executor, self._download, number)
            if future is None:
                return
            self._next_page += 1
            self._in_flight += 1
            self._futures[number] = future
            future.add_done_callback(partial(self._arrived, number))

    def _arrived(self, number: int, download: Future[R]) -> None:
        with self._lock:
            self._in_flight -= 1
            if (
                self._prepare is not None
                and not self._ended  # nobody reads it, and the preparer may be shut down
                and not download.cancelled()
                and not download.exception()
            ):
                prepare, preparer = self._prepare
                prepared = _submit(preparer, prepare, download.result())
                if prepared is None:
                    self._finished.add(number)  # unread: take() says the client closed
                else:
                    self._futures[number] = prepared
                    prepared.add_done_callback(partial(self._prepared, number))
            else:
                self._finished.add(number)
            self._top_up()
            self._lock.notify_all()

    def _prepared(self, number: int, _: Future[Any]) -> None:
        with self._lock:
            self._finished.add(number)
            self._lock.notify_all()


class Listing(Iterator[P]):
    """A listing's pages, in order, and whether the next one has arrived: a consumer can
    take what is there in one go rather than wait for a fixed number of pages."""

    def __init__(self, window: _Window[Any], pages: Generator[P, None, None]) -> None:
        self._window, self._pages, self._taken = window, pages, 0

    def __next__(self) -> P:
        page = next(self._pages)
        self._taken += 1
        return page

    def arrived(self) -> bool:
        """Whether the next page is there (downloaded and decoded, or failed): taking it
        would not wait. False before the first page is taken: downloads start then."""
        return self._window.arrived(self._taken + 1)

    def close(self) -> None:
        """Stop the listing: no further page is requested."""
        self._pages.close()


def _submit(executor: Executor, work: Callable[[Any], T], argument: Any) -> Future[T] | None:
    """``executor.submit(work, argument)``, or None once the client's close has shut the
    executor down (a download finishing then must still wake the reader, not fail)."""
    try:
        return executor.submit(work, argument)
    except RuntimeError:
        return None


def iter_pages(
    fetch: Callable[[int, threading.Event], R],
    load: Callable[[R], P],
    per_page: int,
    ids_of: Callable[[P], list[Any]],
    keep: Callable[[P, list[bool]], P],
    *,
    executor: Executor,
    concurrency: int,
    stats: CallStats,
    call: str,
    closing: Closing,
    max_pages: int = MAX_PAGES,
    preparer: Executor | None = None,
) -> Listing[P]:
    """``load(fetch(page))`` for pages 1, 2, ... until the first short or empty one (a
    ``Listing``).

    ``fetch(page, abandoned)`` runs on the executor and only downloads, giving up once
    ``abandoned`` is set (the listing ended early, or the client closed); ``load``
    (decoding, parsing) runs here, on the consumer's thread, while the next downloads are
    in flight, or, given a ``preparer``, on it, pages side by side (for loads in native
    code that releases the GIL). A page is anything ``ids_of`` lists the record ids of (a
    list of records, an Arrow batch), and ``keep`` cuts down to the records a mask keeps.
    """
    prepare = (load, preparer) if preparer is not None else None
    # One page past the cap: a collection of exactly max_pages full pages ends with an
    # empty one there; only records there make the listing a runaway.
    window = _Window(fetch, executor, concurrency, max_pages + 1, closing, call, prepare)
    consume: Callable[[Any], P] = (lambda loaded: loaded) if prepare else load

    def read() -> Generator[P, None, None]:
        seen: set[Any] = set()
        number = 0
        try:
            while True:
                number += 1
                page = consume(window.take(number).result())
                ids = ids_of(page)
                if number > max_pages and ids:
                    raise PaginationError(
                        f"more than {max_pages} pages: stopped as a runaway listing "
                        "(OneConnect(max_pages=...) allows more)",
                        call=call,
                    )
                window.advance(number, full=len(ids) >= per_page)
                stats.add(pages=1)
                fresh, dropped = page, 0
                if not seen.isdisjoint(ids):  # the usual case is checked at C speed
                    if seen.issuperset(ids):
                        raise PaginationError(
                            f"page {number} holds only records of earlier pages: the server "
                            "repeats pages (or the collection shifted by a whole page); stopped",
                            call=call,
                        )
                    mask = [i not in seen for i in ids]
                    fresh, dropped = keep(page, mask), mask.count(False)
                    stats.add(duplicates_dropped=dropped)
                seen.update(ids)
                stats.add(records=len(ids) - dropped)
                yield fresh
                if len(ids) < per_page:
                    return
        finally:
            window.close()

    return Listing(window, read())


def record_ids(id_of: Callable[[T], Any]) -> Callable[[list[T]], list[Any]]:
    """``ids_of`` for pages that are lists of records."""
    return lambda page: list(map(id_of, page))


def keep_records(page: list[T], mask: list[bool]) -> list[T]:
    """``keep`` for pages that are lists of records."""
    return [record for record, kept in zip(page, mask, strict=True) if kept]
