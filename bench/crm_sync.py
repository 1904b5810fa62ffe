"""CRM sync of 50,000 rows (40% new, 20% changed, 40% unchanged) through the
``crm_contacts_sync`` job, against a simulator process with 25 ms latency per request:
rows/s, write requests made vs. the minimum possible (new + changed + membership
batches), and a second run of the same file, which must write nothing.

    python -m bench.crm_sync [--quick] [--rows 50000] [--latency-ms 25]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg
import httpx

from assets.crm_sync import crm_contacts_sync, sync_counts
from assets.resources import OneConnectResource
from assets.warehouse import WarehouseResource
from oneconnect_pipelines.client.lists import MEMBER_BATCH

from ._simulator import RESULT_PREFIX, simulator_process

EMAIL, KEY = "demo@example.com", "demo-key"
LIST = "Bench customers"


def export(path: Path, rows: range, changed: range) -> Path:
    lines = ["First Name,Last Name,Mobile Phone,Email"]
    for i in rows:
        first = f"Changed{i}" if i in changed else f"First{i}"
        lines.append(f"{first},Last{i},0555{i:06d},p{i}@example.com")
    path.write_text("\n".join(lines) + "\n")
    return path


def sync(base_url: str, warehouse: Path, path: Path) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    result = crm_contacts_sync.execute_in_process(
        run_config={
            "ops": {"sync_crm_file": {"config": {"path": str(path), "lists": [LIST]}}},
            "loggers": {"console": {"config": {"log_level": "ERROR"}}},
        },
        resources={
            "oneconnect": OneConnectResource(base_url=base_url, email=EMAIL, api_key=KEY),
            "warehouse": WarehouseResource(url=str(warehouse)),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    counts: dict[str, int] = sync_counts(result)
    return time.perf_counter() - started, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 rows")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    args = parser.parse_args()
    total = 2_000 if args.quick else args.rows
    existing, changed = int(total * 0.6), range(0, int(total * 0.2))
    with tempfile.TemporaryDirectory() as tmp, simulator_process(title_activation_s=-1) as base_url:
        root = base_url.rsplit("/api/v1", 1)[0] + "/_sim"
        folder = Path(tmp)
        warehouse = folder / "warehouse.duckdb"
        print(f"setting up {existing:,} existing contacts (no latency) ...", flush=True)
        sync(base_url, warehouse, export(folder / "before.csv", range(existing), range(0)))
        httpx.put(f"{root}/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
        httpx.delete(f"{root}/stats").raise_for_status()
        path = export(folder / "export.csv", range(total), changed)
        print(f"syncing {total:,} rows at {args.latency_ms:g} ms latency ...", flush=True)
        seconds, counts = sync(base_url, warehouse, path)
        stats: dict[str, Any] = httpx.get(f"{root}/stats").json()
        new = total - existing
        minimum = new + len(changed) + -(-new // MEMBER_BATCH)
        httpx.delete(f"{root}/stats").raise_for_status()
        again_seconds, again = sync(base_url, warehouse, path)
        again_writes = httpx.get(f"{root}/stats").json()["writes"]
    summary = {
        "rows": total,
        "counts": counts,
        "seconds": round(seconds, 2),
        "rows_per_second": round(total / seconds, 1),
        "write_requests": stats["writes"],
        "minimum_write_requests": minimum,
        "writes_by_route": {
            k: v for k, v in stats["routes"].items() if k.split()[0] in ("POST", "PATCH", "DELETE")
        },
        "second_run_seconds": round(again_seconds, 2),
        "second_run_counts": again,
        "second_run_write_requests": again_writes,
        "latency_ms": args.latency_ms,
    }
    print(json.dumps(summary, indent=2))
    print(RESULT_PREFIX + json.dumps(summary), flush=True)
    print(
        f"{summary['rows_per_second']} rows/s; writes {stats['writes']} vs minimum {minimum}; "
        f"second run: {again_writes} writes"
    )


if __name__ == "__main__":
    main()
