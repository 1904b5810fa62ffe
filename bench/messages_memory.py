"""Extracting 1,000,000 messages sent over 30 days (31 calendar-day partitions, today
included): wall time and peak RSS of
each partition run (issue 4's target: under 1 GiB per partition run).

Each partition runs in its own process (as Dagster's multiprocess executor runs steps),
against a simulator process holding 1,000,000 messages spread over the last 30 days.

    python -m bench.messages_memory [--quick] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ._simulator import RESULT_PREFIX, simulator_process

TIMEZONE = "Asia/Tbilisi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 messages, 5 partitions")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    messages, days = (100_000, 5) if args.quick else (1_000_000, 30)
    print(
        f"simulator: {messages:,} messages over {days} days; one process per partition", flush=True
    )
    seed = [
        "--contacts",
        "1000",
        "--lists",
        "0",
        "--campaigns",
        "0",
        "--birthday-campaigns",
        "0",
        "--messages",
        str(messages),
        "--message-days",
        str(days),
        "--latency-ms",
        str(args.latency_ms),
        "--timezone",
        TIMEZONE,
    ]
    today = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE)).date()
    keys = [(today - timedelta(days=n)).isoformat() for n in range(days, -1, -1)]
    runs = []
    with tempfile.TemporaryDirectory() as tmp, simulator_process(*seed) as base_url:
        env = {
            **os.environ,
            "ONECONNECT_BASE_URL": base_url,
            "ONECONNECT_TIMEZONE": TIMEZONE,
            "ONECONNECT_WAREHOUSE": f"{tmp}/warehouse.duckdb",
            "ONECONNECT_MESSAGES_START": keys[0],
        }
        for key in keys:
            out = subprocess.run(
                [sys.executable, "-m", "bench.partition_run", key],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            run = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(json.dumps(run), flush=True)
    total = sum(run["rows"] for run in runs)
    summary = {
        "messages_extracted": total,
        "partitions": len(runs),
        "all_succeeded": all(run["success"] for run in runs),
        "peak_rss_mib_max": max(run["peak_rss_mib"] for run in runs),
        "peak_rss_mib_median": statistics.median(run["peak_rss_mib"] for run in runs),
        "seconds_per_partition_median": statistics.median(run["seconds"] for run in runs),
        "rows_per_partition_median": statistics.median(run["rows"] for run in runs),
    }
    print(json.dumps(summary, indent=2))
    print(RESULT_PREFIX + json.dumps(summary), flush=True)
    print(
        f"peak RSS of one partition run: max {summary['peak_rss_mib_max']} MiB (target < 1024 MiB)"
    )


if __name__ == "__main__":
    main()
