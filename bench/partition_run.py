"""One messages partition run in a process of its own, as Dagster's executor runs a step:
prints its rows, seconds and peak RSS as JSON, with the RSS its imports left before the run
(and how much of that is library code mapped from files: the kernel maps a file the
package installer has just written in large pieces, ~30 MiB more than after the files
were read back, 2026-12-06). Used by ``bench.messages_memory``.

    python -m bench.partition_run YYYY-MM-DD   (ONECONNECT_BASE_URL / _WAREHOUSE set)
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main(partition: str) -> None:
    import dagster as dg

    from assets.extract import messages
    from assets.metadata import materialized_rows
    from assets.resources import oneconnect_resource
    from assets.warehouse import warehouse_resources

    imports = _rss_mib("VmRSS"), _rss_mib("RssFile")
    started = time.perf_counter()
    result = dg.materialize(
        [messages],
        partition_key=partition,
        resources={"oneconnect": oneconnect_resource(), **warehouse_resources()},
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    seconds = time.perf_counter() - started
    rows = sum(count or 0 for _, _, count in materialized_rows(result))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "partition": partition,
                "rows": rows,
                "seconds": round(seconds, 3),
                "peak_rss_mib": round(peak_kib / 1024, 1),
                "imports_rss_mib": imports[0],
                "imports_file_rss_mib": imports[1],
                "success": result.success,
            }
        )
    )


def _rss_mib(field: str) -> float:
    """A line of ``/proc/self/status`` (``VmRSS``, ``RssFile``) in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise LookupError(field)


if __name__ == "__main__":
    main(sys.argv[1])
