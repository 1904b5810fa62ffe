"""Scenario 1: every contact of a 100,000-contact account into a validated DataFrame and
into DuckDB. Ours vs. the raw HTTP ceiling vs. a naive script vs. dlt, in one run.

- ours: what the ``oneconnect/contacts`` asset does, without Dagster's run machinery:
  ``frames.tables(contacts.arrow_pages(), frames.contact_chunk)`` (pages decoded into
  Arrow columns as they download, converted in conversions that grow while pages wait)
  landed by ``landing.land``: chunks written to a DuckDB file by one INSERT while the
  listing runs, the whole table validated by the pandera ``ContactsSchema`` before the
  write commits;
- ceiling: the very requests ours made, at the same concurrency, bodies read, not parsed;
- naive: what a decent first script does: one keep-alive ``httpx.Client``, pages of 100
  one after another, ``pandas.DataFrame(records)`` and ``CREATE TABLE AS`` from it (no
  types, no validation);
- dlt: the ``rest_api`` source with a page-number paginator into DuckDB, with its best
  settings (``bench.dlt_contenders``).

Every clock includes freeing what its contender built. At 25 ms of latency per request
(the network dominates) and at 0 ms (parsing, validation and writing dominate).
Contenders alternate: each round runs them in another order. Medians and per-round
ratios are printed. One extra run of ours at 0 ms (full size only) is profiled with
pyinstrument into ``bench/profiles/extract_contacts.txt``.

    python -m bench.extract_contacts [--quick] [--rounds N] [--latency-ms 25 0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from oneconnect_pipelines import frames
from oneconnect_pipelines.allocation import use_lean_arrow_memory
from oneconnect_pipelines.client import DEFAULT_CONCURRENCY, OneConnect
from oneconnect_pipelines.landing import land
from oneconnect_pipelines.schemas import ContactsSchema
from oneconnect_pipelines.warehouse.duckdb import DuckDBWarehouse

from ._http import EMAIL, KEY, ceiling, naive_records
from ._simulator import RESULT_PREFIX, simulator_process

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "bench" / "profiles" / "extract_contacts.txt"


def ours(base_url: str, database: Path) -> tuple[float, int, int]:
    """Seconds, rows landed and requests made."""
    started = time.perf_counter()
    with OneConnect(base_url, EMAIL, KEY) as client:
        chunks = frames.tables(client.contacts.arrow_pages(), frames.contact_chunk)
        landed = land(
            DuckDBWarehouse(database),
            "oneconnect.contacts",
            chunks,
            ContactsSchema,
        )
        requests = client.stats.snapshot()["requests"]
    rows = landed.rows
    del landed
    return time.perf_counter() - started, rows, requests


def naive(base_url: str, database: Path) -> tuple[float, int]:
    started = time.perf_counter()
    frame = pd.DataFrame(naive_records(base_url, "/contacts"))
    with duckdb.connect(str(database)) as connection:
        connection.register("frame", frame)
        connection.execute("CREATE OR REPLACE TABLE contacts AS SELECT * FROM frame")
        rows = connection.execute("SELECT count(*) FROM contacts").fetchone()
    del frame
    return time.perf_counter() - started, int(rows[0] if rows else 0)


def measure(
    base_url: str, contacts: int, rounds: int, workdir: Path, with_naive: bool
) -> dict[str, Any]:
    from .dlt_contenders import dlt_contacts

    _, _, requests = ours(base_url, workdir / "warm.duckdb")  # connections, caches, imports
    contenders: dict[str, Callable[[int], tuple[float, int]]] = {
        "ours_s": lambda _: ours(base_url, workdir / "ours.duckdb")[:2],
        "ceiling_s": lambda _: (
            ceiling(base_url, "/contacts", requests, DEFAULT_CONCURRENCY),
            contacts,
        ),
        "dlt_s": lambda number: dlt_contacts(base_url, workdir / f"dlt{number}"),
    }
    if with_naive:
        contenders["naive_s"] = lambda _: naive(base_url, workdir / "naive.duckdb")
    rows: list[dict[str, float]] = []
    for number in range(rounds):
        names = list(contenders)
        shift = number % len(names)
        row: dict[str, float] = {}
        for name in names[shift:] + names[:shift]:
            row[name], landed = contenders[name](number)
            assert landed == contacts, (name, landed)
        row = {name: row[name] for name in contenders}
        row["ours_over_ceiling"] = row["ours_s"] / row["ceiling_s"]
        row["dlt_over_ours"] = row["dlt_s"] / row["ours_s"]
        if with_naive:
            row["naive_over_ours"] = row["naive_s"] / row["ours_s"]
        rows.append(row)
        order = " > ".join(names[shift:] + names[:shift])
        print(f"  round ({order}) " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()))
    summary: dict[str, Any] = {
        key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]
    }
    summary["requests"] = requests
    for key in rows[0]:
        if "_over_" in key:
            summary[f"{key}_rounds"] = [round(row[key], 3) for row in rows]
    return summary


def profile(base_url: str, workdir: Path) -> None:
    """One run of ours under pyinstrument (main thread: decoding, frames, validation)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    ours(base_url, workdir / "profiled.duckdb")
    profiler.stop()
    PROFILE.parent.mkdir(exist_ok=True)
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    PROFILE.write_text(text.replace(f"{ROOT}/", ""))  # paths relative to the repository


def main() -> None:
    use_lean_arrow_memory()  # as in every process of the code location (assets/__init__.py)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 contacts, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[25.0, 0.0])
    args = parser.parse_args()
    contacts = 5_000 if args.quick else 100_000
    rounds = args.rounds or (2 if args.quick else 4)
    result: dict[str, Any] = {"contacts": contacts, "rounds": rounds}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        for latency in args.latency_ms:
            print(f"simulator: {contacts:,} contacts, {latency:g} ms latency", flush=True)
            with simulator_process(contacts=contacts, latency_ms=latency) as base_url:
                figures = measure(base_url, contacts, rounds, workdir, with_naive=True)
                if latency == 0 and not args.quick:  # the committed profile is full-size
                    profile(base_url, workdir)
            result[f"latency_{latency:g}ms"] = figures
    print(json.dumps(result, indent=2))
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    for latency in args.latency_ms:
        figures = result[f"latency_{latency:g}ms"]
        print(
            f"{latency:g} ms: ours/ceiling {figures['ours_over_ceiling']} "
            f"(target <= {1.25 if latency else 3}), "
            f"dlt/ours {figures['dlt_over_ours']}x (target >= 8 at 25 ms), "
            f"naive/ours {figures['naive_over_ours']}x (target >= 8)"
        )


if __name__ == "__main__":
    main()
