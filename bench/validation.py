"""Scenario 5: pandera validation of 1,000,000 messages: seconds, and its share of the
whole extraction (fetching every message from a simulator process with 25 ms latency,
building the typed frame, validating it), measured in one process, several rounds.

    python -m bench.validation [--quick] [--rounds 3] [--latency-ms 25]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from oneconnect_pipelines import frames
from oneconnect_pipelines.client import OneConnect
from oneconnect_pipelines.schemas import MessagesSchema

from ._http import EMAIL, KEY
from ._simulator import RESULT_PREFIX, simulator_process

TIMEZONE = "Asia/Tbilisi"


def extract(base_url: str) -> dict[str, float]:
    """Seconds of each stage of one extraction of every message."""
    started = time.perf_counter()
    with OneConnect(base_url, EMAIL, KEY, timezone=TIMEZONE) as client:
        records = [record for page in client.messages.pages() for record in page]
        tz = client.timezone
    fetched = time.perf_counter()
    frame = frames.messages_frame(records, tz)
    built = time.perf_counter()
    MessagesSchema.validate(frame, lazy=True)
    validated = time.perf_counter()
    return {
        "rows": float(len(frame)),
        "fetch_s": fetched - started,
        "build_frame_s": built - fetched,
        "validate_s": validated - built,
        "extraction_s": validated - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 messages")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    args = parser.parse_args()
    count = 100_000 if args.quick else 1_000_000
    print(f"simulator: {count:,} messages, {args.latency_ms:g} ms latency", flush=True)
    rounds = []
    with simulator_process(
        contacts=1000,
        messages=count,
        message_days=30,
        timezone=TIMEZONE,
        latency_ms=args.latency_ms,
    ) as base_url:
        for _ in range(args.rounds):
            figures = extract(base_url)
            assert figures["rows"] == count, figures
            rounds.append(figures)
            print("  round " + "  ".join(f"{k} {v:.3f}" for k, v in figures.items()), flush=True)
    median = {key: statistics.median(row[key] for row in rounds) for key in rounds[0]}
    shares = [row["validate_s"] / row["extraction_s"] for row in rounds]
    summary = {
        "messages": count,
        "latency_ms": args.latency_ms,
        "validate_s_median": round(median["validate_s"], 3),
        "validation_share_of_extraction": round(statistics.median(shares), 4),
        "validation_share_rounds": [round(share, 4) for share in shares],
        "fetch_s_median": round(median["fetch_s"], 3),
        "build_frame_s_median": round(median["build_frame_s"], 3),
        "extraction_s_median": round(median["extraction_s"], 3),
        "validated_rows_per_s": round(count / median["validate_s"]),
    }
    print(json.dumps(summary, indent=2))
    print(RESULT_PREFIX + json.dumps(summary), flush=True)
    print(
        f"validating {count:,} messages: {summary['validate_s_median']} s, "
        f"{summary['validation_share_of_extraction']:.1%} of the extraction"
    )


if __name__ == "__main__":
    main()
