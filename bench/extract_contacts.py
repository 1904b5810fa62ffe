"""Scenario 1: every contact of a 100,000-contact account into a validated DataFrame and
into DuckDB. Ours vs. the raw HTTP ceiling vs. a naive script vs. dlt, in one run.

- ours: what the ``oneconnect/contacts`` asset does, without Dagster's run machinery:
  ``contacts.pages()`` (default concurrency), ``frames.contacts_frame``, the pandera
  ``ContactsSchema`` (lazy, as the asset's Dagster type validates), and the warehouse's
  own writer (``warehouse.append_frame``) into a DuckDB file;
- ceiling: the very requests ours made, at the same concurrency, bodies read, not parsed;
- naive: sequential ``httpx.get`` at per_page=100, ``pandas.DataFrame(records)``, and
  ``CREATE TABLE AS`` from it (no types, no validation);
- dlt: the ``rest_api`` source with a page-number paginator into DuckDB, with its best
  settings (``bench.dlt_contenders``).

At 25 ms of latency per request (the network dominates) and at 0 ms (parsing, validation
and writing dominate). Contenders alternate within each round; medians and per-round
ratios are printed, and ours' stages (fetch and frame, validate, write) show where its
time goes. One extra run of ours at 0 ms (full size only) is profiled with pyinstrument into
``bench/profiles/extract_contacts.txt``.

    python -m bench.extract_contacts [--quick] [--rounds N] [--latency-ms 25 0]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from oneconnect_pipelines import frames
from oneconnect_pipelines.client import DEFAULT_CONCURRENCY, OneConnect
from oneconnect_pipelines.schemas import ContactsSchema
from oneconnect_pipelines.warehouse.duckdb import DuckDBWarehouse

from ._http import EMAIL, KEY, ceiling, naive_records
from ._simulator import RESULT_PREFIX, simulator_process

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "bench" / "profiles" / "extract_contacts.txt"


def ours(base_url: str, database: Path) -> dict[str, float]:
    """Seconds of each stage, the total, the rows in DuckDB and the requests made."""
    marks = [time.perf_counter()]
    with OneConnect(base_url, EMAIL, KEY) as client:
        # as the asset does: each page is converted while the next ones download
        frame = frames.contacts_frame(itertools.chain.from_iterable(client.contacts.pages()))
        requests = client.stats.snapshot()["requests"]
    marks.append(time.perf_counter())
    frame = ContactsSchema.validate(frame, lazy=True)
    marks.append(time.perf_counter())
    rows = [DuckDBWarehouse(database).write("oneconnect.contacts", frame)]
    marks.append(time.perf_counter())
    stages = dict(zip(("fetch_and_frame_s", "validate_s", "write_s"), _steps(marks), strict=True))
    return {
        "ours_s": marks[-1] - marks[0],
        **stages,
        "rows": float(rows[0] if rows else 0),
        "requests": float(requests),
    }


def naive(base_url: str, database: Path) -> tuple[float, int]:
    started = time.perf_counter()
    frame = pd.DataFrame(naive_records(base_url, "/contacts"))
    with duckdb.connect(str(database)) as connection:
        connection.register("frame", frame)
        connection.execute("CREATE OR REPLACE TABLE contacts AS SELECT * FROM frame")
        rows = connection.execute("SELECT count(*) FROM contacts").fetchone()
    return time.perf_counter() - started, int(rows[0] if rows else 0)


def _steps(marks: list[float]) -> list[float]:
    return [after - before for before, after in itertools.pairwise(marks)]


def measure(
    base_url: str, contacts: int, rounds: int, workdir: Path, with_naive: bool
) -> dict[str, Any]:
    from .dlt_contenders import dlt_contacts

    ours(base_url, workdir / "warm.duckdb")  # warm-up: connections, caches, imports
    rows: list[dict[str, float]] = []
    for number in range(rounds):
        row = ours(base_url, workdir / "ours.duckdb")
        row["ceiling_s"] = ceiling(base_url, "/contacts", int(row["requests"]), DEFAULT_CONCURRENCY)
        row["dlt_s"], dlt_rows = dlt_contacts(base_url, workdir / f"dlt{number}")
        counts = [int(row["rows"]), dlt_rows]
        if with_naive:
            row["naive_s"], naive_rows = naive(base_url, workdir / "naive.duckdb")
            counts.append(naive_rows)
        assert counts == [contacts] * len(counts), counts
        row["ours_over_ceiling"] = row["ours_s"] / row["ceiling_s"]
        row["dlt_over_ours"] = row["dlt_s"] / row["ours_s"]
        if with_naive:
            row["naive_over_ours"] = row["naive_s"] / row["ours_s"]
        rows.append(row)
        print("  round " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    summary: dict[str, Any] = {
        key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]
    }
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 contacts, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[25.0, 0.0])
    args = parser.parse_args()
    contacts = 5_000 if args.quick else 100_000
    rounds = args.rounds or (2 if args.quick else 3)
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
            f"{latency:g} ms: ours/ceiling {figures['ours_over_ceiling']} (target <= 1.15), "
            f"dlt/ours {figures['dlt_over_ours']}x (target >= 3), "
            f"naive/ours {figures['naive_over_ours']}x (target >= 8)"
        )


if __name__ == "__main__":
    main()
