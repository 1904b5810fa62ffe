"""Scenario 2: extracting 1,000,000 messages sent over 30 days (31 calendar-day
partitions, today included): wall time and peak RSS of each partition run (target: under
1 GiB per partition run), ours vs. dlt with its incremental date window.

Each partition runs in its own process, ours as Dagster's multiprocess executor runs a
step (``bench.partition_run``: the ``oneconnect/messages`` asset materialized into
DuckDB), dlt's through ``bench.dlt_contenders`` into DuckDB; the two alternate which goes
first. ``seconds`` is each one's own run (``materialize`` / ``pipeline.run``),
``process_s`` the whole process, imports included. The simulator process holds
1,000,000 messages spread over the last 30 days, with 25 ms of latency per request.

    python -m bench.messages_memory [--quick] [--latency-ms 25]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ._simulator import RESULT_PREFIX, simulator_process

TIMEZONE = "Asia/Tbilisi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30,000 messages, 2 partitions")
    parser.add_argument("--latency-ms", type=float, default=25.0)
    args = parser.parse_args()
    messages, days = (30_000, 1) if args.quick else (1_000_000, 30)
    print(
        f"simulator: {messages:,} messages over {days} days; one process per partition", flush=True
    )
    today = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE)).date()
    keys = [(today - timedelta(days=n)).isoformat() for n in range(days, -1, -1)]
    runs: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        simulator_process(
            contacts=1000,
            messages=messages,
            message_days=days,
            latency_ms=args.latency_ms,
            timezone=TIMEZONE,
        ) as base_url,
    ):
        env = {
            **os.environ,
            "ONECONNECT_BASE_URL": base_url,
            "ONECONNECT_TIMEZONE": TIMEZONE,
            "ONECONNECT_WAREHOUSE": f"{tmp}/warehouse.duckdb",
            "ONECONNECT_MESSAGES_START": keys[0],
        }
        for number, key in enumerate(keys):
            day = date.fromisoformat(key)
            dlt = ["bench.dlt_contenders", "messages", key, (day + timedelta(days=1)).isoformat()]
            contenders = {
                "ours": ["bench.partition_run", key],
                "dlt": [*dlt, f"{tmp}/dlt-{key}", base_url],  # its own table: rows per day
            }
            order = list(contenders) if number % 2 == 0 else list(reversed(contenders))
            run: dict[str, Any] = {"partition": key}
            for name in order:
                started = time.perf_counter()
                out = subprocess.run(
                    [sys.executable, "-m", *contenders[name]],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                answer = json.loads(out.stdout.strip().splitlines()[-1])
                run[name] = {**answer, "process_s": round(time.perf_counter() - started, 3)}
            assert run["ours"]["rows"] == run["dlt"]["rows"], run
            runs.append(run)
            print(json.dumps(run), flush=True)

    def figures(name: str, field: str) -> list[Any]:
        return [run[name][field] for run in runs]

    def median(values: list[Any]) -> float:
        return round(float(statistics.median(values)), 3)

    ratios = [run["dlt"]["seconds"] / run["ours"]["seconds"] for run in runs]
    summary = {
        "messages_extracted": sum(figures("ours", "rows")),
        "partitions": len(runs),
        "latency_ms": args.latency_ms,
        "all_succeeded": all(figures("ours", "success")),
        "peak_rss_mib_max": max(figures("ours", "peak_rss_mib")),
        "peak_rss_mib_median": median(figures("ours", "peak_rss_mib")),
        "imports_rss_mib_median": median(figures("ours", "imports_rss_mib")),
        "imports_file_rss_mib_median": median(figures("ours", "imports_file_rss_mib")),
        "seconds_per_partition_median": median(figures("ours", "seconds")),
        "rows_per_partition_median": median(figures("ours", "rows")),
        "dlt_peak_rss_mib_max": max(figures("dlt", "peak_rss_mib")),
        "dlt_peak_rss_mib_median": median(figures("dlt", "peak_rss_mib")),
        "dlt_seconds_per_partition_median": median(figures("dlt", "seconds")),
        "dlt_over_ours_median": median(ratios),
        "dlt_over_ours_rounds": [round(ratio, 3) for ratio in ratios],
        "process_s_median": median(figures("ours", "process_s")),
        "dlt_process_s_median": median(figures("dlt", "process_s")),
    }
    print(json.dumps(summary, indent=2))
    print(RESULT_PREFIX + json.dumps(summary), flush=True)
    print(
        f"peak RSS of one partition run: max {summary['peak_rss_mib_max']} MiB "
        f"(target <= 300 MiB); after its imports {summary['imports_rss_mib_median']} MiB, "
        f"of which library files {summary['imports_file_rss_mib_median']} MiB"
    )


if __name__ == "__main__":
    main()
