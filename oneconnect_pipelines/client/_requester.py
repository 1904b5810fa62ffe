"""``Requester``: what an API section needs of its client, and nothing more: the request
loop, the pages of a listing, and the account's timezone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, TypeVar

import httpx

from ._answers import text_answer
from ._pagination import Listing, iter_pages
from ._request_loop import RequestLoop, RetryPolicy

P = TypeVar("P")


@dataclass(frozen=True)
class Requester:
    loop: RequestLoop
    executor: Executor
    #: Threads for native decoding of pages (``pages(..., native_load=True)``).
    decoders: Executor
    concurrency: int
    per_page: int
    max_pages: int
    #: The account's timezone (may ask the account, ``timezone="infer"``, or refuse).
    zone: Callable[[], tzinfo]
    #: The timezone when configured or already inferred, else None.
    known_zone: Callable[[], tzinfo | None]

    @property
    def timezone(self) -> tzinfo:
        return self.zone()

    @property
    def timezone_if_known(self) -> tzinfo | None:
        return self.known_zone()

    @property
    def retry(self) -> RetryPolicy:
        return self.loop.retry

    def call(self, method: str, path: str, **options: Any) -> Any:
        """The decoded JSON answer (``RequestLoop.call``)."""
        return self.loop.call(method, path, **options)

    def text(self, path: str) -> str:
        """The text answer of ``GET path`` (a CSV export: as large as the account), or the
        exception an error answer stands for (a wrong key's 401 is not CSV)."""
        answer = self.loop.send("GET", path, max_bytes=None)
        return text_answer(answer, f"GET {path}", self.loop.redact)

    def decode(self, response: httpx.Response, call: str) -> Any:
        return self.loop.decode(response, call)

    def redact(self, text: str) -> str:
        return self.loop.redact(text)

    def pages(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        load: Callable[[httpx.Response], P],
        ids_of: Callable[[P], list[Any]],
        keep: Callable[[P, list[bool]], P],
        *,
        native_load: bool = False,
    ) -> Listing[P]:
        """``load``-ed pages of ``GET path``, fetched ahead concurrently, in order (see
        ``iter_pages`` for ``ids_of`` and ``keep``). ``load`` runs on the consumer's
        thread; a ``native_load`` (native code that releases the GIL) runs on the
        decoding threads instead, side by side with the downloads and the consumer."""
        base = {k: v for k, v in (params or {}).items() if v is not None}
        per_page = self.per_page

        def fetch(page: int, abandoned: threading.Event) -> httpx.Response:
            params = {**base, "page": page, "per_page": per_page}
            return self.loop.send("GET", path, params=params, abandoned=abandoned)

        return iter_pages(
            fetch,
            load,
            per_page,
            ids_of,
            keep,
            executor=self.executor,
            concurrency=self.concurrency,
            stats=self.loop.stats,
            call=f"GET {path}",
            closing=self.loop.closing,
            max_pages=self.max_pages,
            preparer=self.decoders if native_load else None,
        )
