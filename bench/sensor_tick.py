"""The CRM drop-folder sensor's tick over 10,000 already-processed files and 10 new ones
(issue 5's target: well inside Dagster's 60 s budget; issue 7's: under 1 s): the tick
finds and hashes the 10, requests a run for the oldest and queues the other 9.

    python -m bench.sensor_tick [--files 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg

import assets.crm_sync as crm_sync
from assets.settings import SETTINGS
from oneconnect_pipelines.crm.dropfolder import RACY_NS

from ._simulator import RESULT_PREFIX


def tick(cursor: str | None, instance: dg.DagsterInstance) -> tuple[float, dg.SensorResult]:
    """One tick; its run-storage query included (an in-memory instance with no runs)."""
    started = time.perf_counter()
    result = crm_sync.crm_drop_sensor(dg.build_sensor_context(cursor=cursor, instance=instance))
    assert isinstance(result, dg.SensorResult)
    return time.perf_counter() - started, result


def synced(cursor: str | None) -> str:
    """``cursor`` with every waiting export synced (no runs here: none waits for one)."""
    return json.dumps({**json.loads(cursor or "{}"), "waiting": []})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 processed files")
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    args.files = args.files or (2_000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory() as tmp, dg.DagsterInstance.ephemeral() as instance:
        folder = Path(tmp)
        crm_sync.SETTINGS = dataclasses.replace(SETTINGS, crm_drop_dir=folder)  # type: ignore[attr-defined]
        for index in range(args.files):
            (folder / f"export-{index:05}.csv").write_text(f"Mobile Phone\n0555{index:06}\n")
        # Processed files were written long before: past the racy second, a hash is final.
        time.sleep(RACY_NS / 1e9)
        _, first = tick(None, instance)  # first sight: sizes recorded
        _, settled = tick(first.cursor, instance)  # stable: hashed once, the first requested
        assert len(settled.run_requests or []) == 1
        times = []
        for round_no in range(args.rounds):
            for index in range(10):
                name = f"new-{round_no}-{index}.csv"
                (folder / name).write_text(f"Mobile Phone\n0599{round_no}{index:05}\n")
                (folder / f"{name}.done").write_text("")
            seconds, result = tick(synced(settled.cursor), instance)
            assert [r.tags["crm/file"] for r in result.run_requests or []] == [
                f"new-{round_no}-0.csv"
            ]
            assert len(json.loads(result.cursor or "{}")["waiting"]) == 9
            times.append(seconds)
            settled = result
    summary = {
        "files_processed": args.files,
        "new_files_per_tick": 10,
        "tick_seconds_median": round(statistics.median(times), 3),
        "tick_seconds_max": round(max(times), 3),
    }
    print(json.dumps(summary, indent=2))
    print(RESULT_PREFIX + json.dumps(summary), flush=True)
    print(
        f"sensor tick over {args.files:,} processed + 10 new files: median "
        f"{summary['tick_seconds_median']} s (target < 1 s)"
    )


if __name__ == "__main__":
    main()
