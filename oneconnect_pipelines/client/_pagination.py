"""Paging without totals: a sliding window of concurrent page requests, in order, once each.

The API has no count and no next link: a page shorter than ``per_page`` is the last. So
pages are requested ahead (one page first, so a small collection costs one request; once
it comes back full, the client's whole concurrency), handed out strictly in page order,
and no new page is requested once a short one has been read; requests already made past
the end are ignored (``LOOKAHEAD`` bounds them). A page holding only records already
seen means the server repeats pages (it ignores ``page``, or wraps around): an error,
not an endless loop; so is a listing longer than ``max_pages``. Records already seen on
a page that also brings new ones (a collection shifting under a sorted listing) are
dropped so each comes once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from functools import partial
from typing import Any, Generic, TypeVar

from ._request_loop import CallStats
from .errors import PaginationError

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


class _Window(Generic[R]):
    """The downloads of one listing. Each finished download starts the next one from its
    own thread, so the window never waits for the consumer; at most
    ``LOOKAHEAD * concurrency`` pages are requested past the one it is reading."""

    def __init__(
        self, fetch: Callable[[int], R], executor: Executor, concurrency: int, max_pages: int
    ) -> None:
        self._fetch = fetch
        self._executor = executor
        self._concurrency = concurrency
        self._max_pages = max_pages
        self._lock = threading.Condition(threading.RLock())  # callbacks may run inline
        self._futures: dict[int, Future[R]] = {}
        self._finished: set[int] = set()
        self._next_page = 1
        self._next_out = 1
        self._ahead = 1  # pages past the consumer: one first, a small collection costs one
        self._in_flight = 0
        self._ended = False

    def take(self, number: int) -> Future[R] | None:
        """The finished download of page ``number`` (waits for it); None past max_pages."""
        with self._lock:
            self._top_up()
            while number not in self._finished:
                if number not in self._futures:
                    return None
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
        with self._lock:
            self._ended = True
            for future in self._futures.values():
                future.cancel()

    def _top_up(self) -> None:
        while (
            not self._ended
            and self._in_flight < self._concurrency
            and self._next_page <= self._max_pages
            and self._next_page - self._next_out < self._ahead
        ):
            number = self._next_page
            self._next_page += 1
            self._in_flight += 1
            future = self._executor.submit(self._fetch, number)
            self._futures[number] = future
            future.add_done_callback(partial(self._arrived, number))

    def _arrived(self, number: int, _: Future[R]) -> None:
        with self._lock:
            self._in_flight -= 1
            self._finished.add(number)
            self._top_up()
            self._lock.notify_all()


def iter_pages(
    fetch: Callable[[int], R],
    load: Callable[[R], list[T]],
    per_page: int,
    id_of: Callable[[T], Any],
    *,
    executor: Executor,
    concurrency: int,
    stats: CallStats,
    call: str,
    max_pages: int = MAX_PAGES,
) -> Iterator[list[T]]:
    """Yield ``load(fetch(page))`` for pages 1, 2, ... until the first short or empty one.

    ``fetch`` runs on the executor and only downloads; ``load`` (decoding, parsing) runs
    here, on the consumer's thread, while the next downloads are in flight.
    """
    window = _Window(fetch, executor, concurrency, max_pages)
    seen: set[Any] = set()
    number = 0
    try:
        while True:
            number += 1
            download = window.take(number)
            if download is None:
                raise PaginationError(
                    f"more than {max_pages} pages: stopped as a runaway listing "
                    "(OneConnect(max_pages=...) allows more)",
                    call=call,
                )
            page = load(download.result())
            window.advance(number, full=len(page) >= per_page)
            stats.add(pages=1)
            ids = list(map(id_of, page))
            if seen.isdisjoint(ids):  # the usual case, checked at C speed
                fresh = page
            elif seen.issuperset(ids):
                raise PaginationError(
                    f"page {number} holds only records of earlier pages: the server repeats "
                    "pages (or the collection shifted by a whole page); stopped",
                    call=call,
                )
            else:
                fresh = [record for record, i in zip(page, ids, strict=True) if i not in seen]
            seen.update(ids)
            if len(fresh) != len(page):
                stats.add(duplicates_dropped=len(page) - len(fresh))
            stats.add(records=len(fresh))
            yield fresh
            if len(page) < per_page:
                return
    finally:
        window.close()
