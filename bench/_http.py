"""The two reference contenders every listing benchmark shares: the raw HTTP ceiling and
the naive loop a first script would write."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

EMAIL, KEY = "demo@example.com", "demo-key"


def ceiling(base_url: str, path: str, pages: int, concurrency: int) -> float:
    """Seconds for ``pages`` requests of ``path`` (per_page=1000), ``concurrency`` in
    flight, bodies read but not parsed: what the network and the server allow. The clock
    starts once the client is built (httpx loads its CA bundle then, ~60 ms here)."""
    limits = httpx.Limits(max_connections=concurrency * 2)
    with httpx.Client(base_url=base_url, auth=(EMAIL, KEY), limits=limits, timeout=60) as http:
        started = time.perf_counter()

        def fetch(page: int) -> int:
            answer = http.get(path, params={"page": page, "per_page": 1000})
            answer.raise_for_status()
            return len(answer.content)

        with ThreadPoolExecutor(concurrency) as pool:
            assert sum(pool.map(fetch, range(1, pages + 1))) > 0
    return time.perf_counter() - started


def naive_records(base_url: str, path: str) -> list[dict[str, Any]]:
    """What a decent first script does: one keep-alive ``httpx.Client``, one page of 100
    after another, ``response.json()``."""
    records: list[dict[str, Any]] = []
    with httpx.Client(base_url=base_url, auth=(EMAIL, KEY), timeout=60) as http:
        page = 1
        while True:
            batch = http.get(path, params={"page": page, "per_page": 100}).json()
            records.extend(batch)
            if len(batch) < 100:
                return records
            page += 1
