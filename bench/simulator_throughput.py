"""Is the simulator ever the bottleneck? Page throughput and deep-page cost.

Measures, against a simulator process seeded with 100,000 contacts and 1,000,000
messages: requests/s for ``GET /contacts?page=k&per_page=1000`` (random k, concurrent
clients), and the time of the last page of messages relative to the first (alternated,
several rounds). Targets (issue 2): >= 300 requests/s and a last/first ratio under 2.

    python -m bench.simulator_throughput [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time

import httpx

from ._simulator import RESULT_PREFIX, simulator_process

AUTH = ("demo@example.com", "demo-key")


async def contacts_rate(base_url: str, pages: int, requests: int, concurrency: int) -> float:
    """Requests per second for random full pages, ``concurrency`` requests in flight."""
    rng = random.Random(1)
    queue = [rng.randrange(1, pages + 1) for _ in range(requests)]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, auth=AUTH, limits=limits) as client:

        async def worker() -> None:
            while queue:
                page = queue.pop()
                answer = await client.get("/contacts", params={"page": page, "per_page": 1000})
                answer.raise_for_status()
                await answer.aread()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


def page_seconds(client: httpx.Client, page: int) -> float:
    started = time.perf_counter()
    answer = client.get("/messages", params={"page": page, "per_page": 1000})
    answer.raise_for_status()
    assert len(answer.content) > 0
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller account, fewer rounds")
    args = parser.parse_args()
    contacts, messages, rounds = (20_000, 100_000, 3) if args.quick else (100_000, 1_000_000, 7)
    print(
        f"seeding a simulator with {contacts:,} contacts and {messages:,} messages ...", flush=True
    )
    with simulator_process(contacts=contacts, messages=messages) as base_url:
        rates = [
            asyncio.run(contacts_rate(base_url, contacts // 1000, 300, 8)) for _ in range(rounds)
        ]
        last_page = messages // 1000
        ratios, firsts, lasts = [], [], []
        with httpx.Client(base_url=base_url, auth=AUTH, timeout=60) as client:
            page_seconds(client, 1), page_seconds(client, last_page)  # warm the id index
            for _ in range(rounds * 3):
                first, last = page_seconds(client, 1), page_seconds(client, last_page)
                firsts.append(first)
                lasts.append(last)
                ratios.append(last / first)
    result = {
        "contacts_pages_per_s_median": round(statistics.median(rates), 1),
        "contacts_pages_per_s_rounds": [round(r, 1) for r in rates],
        "messages_first_page_ms_median": round(statistics.median(firsts) * 1000, 2),
        "messages_last_page_ms_median": round(statistics.median(lasts) * 1000, 2),
        "messages_last_over_first_median": round(statistics.median(ratios), 3),
        "contacts": contacts,
        "messages": messages,
    }
    print(json.dumps(result, indent=2))
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    print(
        f"GET /contacts?page=k&per_page=1000: {result['contacts_pages_per_s_median']} req/s "
        f"(target >= 300); last/first messages page: "
        f"{result['messages_last_over_first_median']}x (target < 2)"
    )


if __name__ == "__main__":
    main()
