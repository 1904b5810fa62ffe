"""``make bench`` / ``make bench-quick``: every benchmark in its own process, one after the
other (they start their own simulators), then ``bench/results.json`` and
``BENCHMARKS.md`` with the figures, a chart, the machine, the versions and the date
(a quick run writes them under ``bench/quick/``).

    python -m bench [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ._simulator import RESULT_PREFIX
from .extract_contacts import PROFILE

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Outputs:
    """Where a run writes: a full run's files are committed; a quick run writes the
    same files under ``bench/quick/`` (git-ignored), leaving the full figures alone."""

    results: Path
    chart: Path
    summary: Path

    @classmethod
    def of(cls, quick: bool) -> Outputs:
        if quick:
            folder = ROOT / "bench" / "quick"
            folder.mkdir(exist_ok=True)
            return cls(folder / "results.json", folder / "benchmarks.png", folder / "BENCHMARKS.md")
        return cls(
            ROOT / "bench" / "results.json",
            ROOT / "bench" / "benchmarks.png",
            ROOT / "BENCHMARKS.md",
        )


SCENARIO_1 = "extract_contacts"
GREEN, RED, GREY = "#2a9d8f", "#e76f51", "#8d99ae"  # target met, missed, none
Figures = dict[str, Any]


@dataclass(frozen=True)
class Benchmark:
    module: str
    what: str
    target: str
    #: Whether the figures meet the target; None when the benchmark only reports.
    verdict: Callable[[Figures], bool] | None
    #: The figures the summary table shows (``a.b`` reaches into a nested dict).
    shown: tuple[str, ...]


BENCHMARKS = (
    Benchmark(
        "extract_contacts",
        "1. contacts into a validated DataFrame and DuckDB: ours vs. ceiling, naive, dlt",
        "<= 1.25x ceiling at 25 ms and <= 3x at 0 ms; >= 8x faster than dlt and naive at 25 ms",
        lambda f: (
            f["latency_25ms"]["ours_over_ceiling"] <= 1.25
            and f["latency_0ms"]["ours_over_ceiling"] <= 3
            and f["latency_25ms"]["dlt_over_ours"] >= 8
            and f["latency_25ms"]["naive_over_ours"] >= 8
        ),
        (
            "latency_25ms.ours_over_ceiling",
            "latency_25ms.dlt_over_ours",
            "latency_25ms.naive_over_ours",
            "latency_0ms.ours_over_ceiling",
            "latency_0ms.dlt_over_ours",
            "latency_0ms.naive_over_ours",
        ),
    ),
    Benchmark(
        "messages_memory",
        "2. messages over daily partitions, one process per run: ours vs. dlt",
        "<= 300 MiB peak RSS per partition run",
        lambda f: f["all_succeeded"] and f["peak_rss_mib_max"] <= 300,
        (
            "messages_extracted",
            "partitions",
            "peak_rss_mib_max",
            "imports_file_rss_mib_median",
            "dlt_peak_rss_mib_max",
            "seconds_per_partition_median",
            "dlt_seconds_per_partition_median",
            "dlt_over_ours_median",
        ),
    ),
    Benchmark(
        "crm_sync",
        "3. CRM sync (40% new, 20% changed): rows/s, writes vs. minimum, second run",
        "writes == minimum; second run 0 writes",
        lambda f: (
            f["write_requests"] == f["minimum_write_requests"]
            and f["second_run_write_requests"] == 0
        ),
        (
            "rows",
            "rows_per_second",
            "write_requests",
            "minimum_write_requests",
            "second_run_write_requests",
        ),
    ),
    Benchmark(
        "sensor_tick",
        "4. drop-folder sensor tick over processed + 10 new files",
        "< 1 s",
        lambda f: f["tick_seconds_max"] < 1,
        ("files_processed", "tick_seconds_median", "tick_seconds_max"),
    ),
    Benchmark(
        "validation",
        "5. pandera validation of messages: seconds and share of the extraction",
        "(reported)",
        None,
        ("messages", "validate_s_median", "validation_share_of_extraction", "extraction_s_median"),
    ),
    Benchmark(
        "client_listing",
        "client: listing every contact vs. the raw ceiling and a naive loop",
        "typed records <= 1.15x ceiling, >= 8x faster than naive (JSON pages: reported)",
        lambda f: f["typed_over_ceiling"] <= 1.15 and f["naive_over_typed"] >= 8,
        (
            "contacts",
            "typed_over_ceiling",
            "typed_and_free_over_ceiling",
            "pages_over_ceiling",
            "naive_over_typed",
            "ceiling_s",
            "typed_cpu_s",
        ),
    ),
    Benchmark(
        "simulator_throughput",
        "simulator: page throughput and deep-page cost",
        ">= 300 req/s; last/first page < 2",
        lambda f: (
            f["contacts_pages_per_s_median"] >= 300 and f["messages_last_over_first_median"] < 2
        ),
        ("contacts_pages_per_s_median", "messages_last_over_first_median"),
    ),
)


def run(module: str, quick: bool) -> dict[str, Any]:
    """One benchmark in its own process, its output shown as it comes; its RESULT line."""
    command = [sys.executable, "-m", f"bench.{module}", *(["--quick"] if quick else [])]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line)
        if not line.startswith(RESULT_PREFIX):
            print("   " + line, end="", flush=True)
    process.wait()
    seconds = round(time.perf_counter() - started, 1)
    lines = [line for line in output if line.startswith(RESULT_PREFIX)]
    if process.returncode != 0 or not lines:
        return {"error": "".join(output)[-1500:], "wall_seconds": seconds}
    return {**json.loads(lines[-1][len(RESULT_PREFIX) :]), "wall_seconds": seconds}


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": {
            name: version(name)
            for name in (
                *("dagster", "pandas", "pandera", "pyarrow", "httpx", "msgspec", "orjson"),
                *("duckdb", "uvicorn", "dlt"),
            )
        },
    }


def verdict(benchmark: Benchmark, figures: Figures) -> str:
    if "error" in figures:
        return "FAILED to run"
    if benchmark.verdict is None:
        return "reported"
    try:
        return "met" if benchmark.verdict(figures) else "**MISSED**"
    except KeyError as missing:
        return f"figure {missing} missing"


def pick(figures: Figures, path: str) -> Any:
    for key in path.split("."):
        figures = figures.get(key, {}) if isinstance(figures, dict) else {}
    return figures if figures != {} else "-"


def markdown(results: dict[str, Any], quick: bool, chart: Path, summary_dir: Path) -> str:
    info = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench{'-quick' if quick else ''}` on {info['date']}: "
        f"Python {info['python']}, {info['cpus']} CPUs, {info['platform']}; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + ".",
        "Machines here are noisy: absolute seconds are context, ratios (measured side by "
        "side in one run, contenders alternating, medians of rounds) are the result."
        + (
            " These are the quick sizes; the targets hold at the full sizes (`make bench`)."
            if quick
            else ""
        ),
        "Each row says the day it was measured (`--only` re-runs some and keeps the "
        "others' figures; `-`: measured before days were recorded, 2026-12-03 or earlier).",
        "Analysis, profiles of the missed targets and what would close them: "
        "[docs/benchmarks.md](docs/benchmarks.md).",
        "",
        f"![ratios of each comparison against its target]({chart.relative_to(summary_dir)})",
        "",
        "| benchmark | target | result | measured | key figures |",
        "| --- | --- | --- | --- | --- |",
    ]
    measured = results["benchmarks"]
    for benchmark in BENCHMARKS:
        figures = measured.get(benchmark.module, {"error": "not run"})
        shown = "; ".join(f"{path}: {pick(figures, path)}" for path in benchmark.shown)
        lines.append(
            f"| {benchmark.what} (`python -m bench.{benchmark.module}`) | {benchmark.target} "
            f"| {verdict(benchmark, figures)} | {figures.get('measured_on', '-')} | {shown} |"
        )
    if not quick and PROFILE.exists():
        lines += [
            "",
            "## Where scenario 1's time goes (ours at 0 ms, pyinstrument)",
            "",
            f"From `{PROFILE.relative_to(ROOT)}`, written by the same run:",
            "",
            "```",
            *PROFILE.read_text().strip("\n").splitlines(),
            "```",
        ]
    lines += ["", "## Every figure", ""]
    for benchmark in BENCHMARKS:
        figures = measured.get(benchmark.module, {})
        lines += [
            f"### `bench.{benchmark.module}`",
            "",
            "```json",
            json.dumps(figures, indent=1),
            "```",
            "",
        ]
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    """Every comparison as a bar against its target: how far from the ceiling (lower is
    better) and how many times faster than the alternative (higher is better)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    measured = results["benchmarks"]
    near = [
        ("client: typed records / ceiling", "client_listing", "typed_over_ceiling", 1.15),
        ("client: JSON pages / ceiling", "client_listing", "pages_over_ceiling", 1.15),
        ("contacts to DuckDB / ceiling, 25 ms", SCENARIO_1, "latency_25ms.ours_over_ceiling", 1.15),
        ("contacts to DuckDB / ceiling, 0 ms", SCENARIO_1, "latency_0ms.ours_over_ceiling", None),
    ]
    faster = [
        ("naive / client, 25 ms", "client_listing", "naive_over_typed", 8),
        ("naive / ours, contacts 25 ms", SCENARIO_1, "latency_25ms.naive_over_ours", 8),
        ("dlt / ours, contacts 25 ms", SCENARIO_1, "latency_25ms.dlt_over_ours", 3),
        ("dlt / ours, contacts 0 ms", SCENARIO_1, "latency_0ms.dlt_over_ours", None),
        ("dlt / ours, messages partition", "messages_memory", "dlt_over_ours_median", None),
    ]

    def value(module: str, path: str) -> float:
        found = pick(measured.get(module, {}), path)
        return float(found) if isinstance(found, (int, float)) else 0.0

    figure, (left, right) = pyplot.subplots(1, 2, figsize=(13, 4.5))
    labels = [label for label, *_ in near]
    values = [value(module, path) for _, module, path, _ in near]
    colours = [
        GREY if target is None else GREEN if found <= target else RED
        for found, (*_, target) in zip(values, near, strict=True)
    ]
    left.bar_label(left.barh(labels, values, color=colours), fmt="%.2f", padding=3)
    left.axvline(1.15, color="black", linestyle="--", label="target 1.15x")
    left.axvline(1.0, color="grey", linewidth=0.8)
    left.legend(loc="lower right")
    labels = [label for label, *_ in faster]
    values = [value(module, path) for _, module, path, _ in faster]
    targets = [target for *_, target in faster]
    colours = [
        "#2a9d8f" if t is None or v >= t else "#e76f51"
        for v, t in zip(values, targets, strict=True)
    ]
    right.bar_label(right.barh(labels, values, color=colours), fmt="%.1f", padding=3)
    for row, target in enumerate(targets):
        if target is not None:
            right.plot([target, target], [row - 0.4, row + 0.4], color="black", linestyle="--")
    right.axvline(1.0, color="grey", linewidth=0.8)
    right.set_xscale("log")
    right.set_title("their time / ours (higher is better; dashes: targets)")
    left.set_title("time / raw HTTP ceiling (lower is better; grey: no target)")
    for axis in (left, right):
        axis.invert_yaxis()
    figure.suptitle(f"oneconnect-pipelines benchmarks, {results['machine']['date']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[benchmark.module for benchmark in BENCHMARKS],
        help="run these and keep the other figures of bench/results.json (same size only)",
    )
    parser.add_argument(
        "--rewrite", action="store_true", help="only rewrite the summary and chart from results"
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick, "benchmarks": {}}
    out = Outputs.of(args.quick)
    if args.rewrite:
        results = json.loads(out.results.read_text())
    if args.only and out.results.exists():
        previous = json.loads(out.results.read_text())
        if previous.get("quick") == args.quick:
            results["benchmarks"] = previous["benchmarks"]
    chosen = [
        b for b in BENCHMARKS if not args.rewrite and (not args.only or b.module in args.only)
    ]
    for benchmark in chosen:
        print(f"== {benchmark.what}", flush=True)
        figures = {**run(benchmark.module, args.quick), "measured_on": date.today().isoformat()}
        results["benchmarks"][benchmark.module] = figures
        print(f"   -> {verdict(benchmark, figures)}", flush=True)
        out.results.write_text(json.dumps(results, indent=2) + "\n")  # kept if a later fails
    chart(results, out.chart)
    out.summary.write_text(markdown(results, args.quick, out.chart, out.summary.parent))
    print(
        "wrote "
        + ", ".join(str(path.relative_to(ROOT)) for path in (out.results, out.chart, out.summary))
    )
    failed = [name for name, figures in results["benchmarks"].items() if "error" in figures]
    if failed:  # a benchmark that cannot run is a failure; a missed timing never is
        raise SystemExit(f"benchmarks that failed to run: {', '.join(failed)}")


if __name__ == "__main__":
    main()
