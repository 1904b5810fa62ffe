"""Paging without totals: a sliding window of concurrent page requests, in order, once each.

The API has no count and no next link: a page shorter than ``per_page`` is the last. So
pages are requested ahead (the window starts at one page and doubles up to the client's
concurrency while pages come back full), handed out strictly in page order, and the
window stops at the first short page; requests already in flight past the end are
ignored. A page identical to the previous one means the server ignores ``page``: that is
an error, not an endless loop. Records already seen (a collection shifting under a
sorted listing) are dropped so each comes back exactly once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any

from ._transport import CallStats
from .errors import PaginationError

MAX_PAGES = 1_000_000

Page = list[dict[str, Any]]


def iter_pages(
    fetch: Callable[[int], Page],
    per_page: int,
    *,
    executor: Executor,
    concurrency: int,
    stats: CallStats,
    call: str,
    max_pages: int = MAX_PAGES,
) -> Iterator[Page]:
    """Yield pages 1, 2, ... of ``fetch(page)`` until the first short or empty one."""
    pending: deque[Future[Page]] = deque()
    next_page = 1
    window = 1
    previous_ids: list[Any] | None = None
    seen: set[Any] = set()

    def submit() -> None:
        nonlocal next_page
        if next_page > max_pages:
            return
        pending.append(executor.submit(fetch, next_page))
        next_page += 1

    submit()
    number = 0
    try:
        while pending:
            page = pending.popleft().result()
            number += 1
            stats.add(pages=1)
            ids = [record.get("id") for record in page]
            if page and ids == previous_ids:
                raise PaginationError(f"page {number} repeats page {number - 1}", call=call)
            previous_ids = ids
            fresh = [record for record, i in zip(page, ids, strict=True) if i not in seen]
            seen.update(ids)
            if len(fresh) != len(page):
                stats.add(duplicates_dropped=len(page) - len(fresh))
            stats.add(records=len(fresh))
            yield fresh
            if len(page) < per_page:
                return
            if next_page > max_pages and not pending:
                raise PaginationError(f"more than {max_pages} pages", call=call)
            window = min(concurrency, window * 2)
            while len(pending) < window and next_page <= max_pages:
                submit()
    finally:
        for future in pending:
            future.cancel()
