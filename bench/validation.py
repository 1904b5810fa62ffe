"""pandera validation of 1,000,000 messages: seconds, and its share of building the frame
(issue 7, scenario 5). Records are made in memory in the API's shape (no HTTP), so the
figures are the CPU cost of typing and validating alone.

    python -m bench.validation [--quick] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from oneconnect_pipelines import frames
from oneconnect_pipelines.schemas import MessagesSchema

from ._simulator import RESULT_PREFIX

TZ = ZoneInfo("Asia/Tbilisi")
STATUSES = ("delivered", "delivered", "delivered", "undelivered", "pending")


def records(count: int) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        moment = (start + timedelta(seconds=i * 2)).astimezone(TZ)
        stamp = moment.strftime("%Y-%m-%d %H:%M:%S %z")
        status = STATUSES[i % len(STATUSES)]
        out.append(
            {
                "id": i + 1,
                "final_status": status,
                "campaign_id": i % 7,
                "birthday_campaign": i % 11 == 0,
                "sms": {"destination": f"9955{i % 10**8:08d}", "content": "Our winter sale starts"},
                "delivery_report": {"status": status.capitalize(), "reason": "0"},
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 messages")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    count = 100_000 if args.quick else 1_000_000
    data = records(count)
    builds, validations = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        frame = frames.messages_frame(data, TZ)
        built = time.perf_counter()
        MessagesSchema.validate(frame, lazy=True)
        validated = time.perf_counter()
        builds.append(built - started)
        validations.append(validated - built)
    build, validate = statistics.median(builds), statistics.median(validations)
    summary = {
        "messages": count,
        "build_frame_s_median": round(build, 3),
        "validate_s_median": round(validate, 3),
        "validation_share_of_build_and_validate": round(validate / (build + validate), 3),
        "validated_rows_per_s": round(count / validate),
    }
    print(json.dumps(summary, indent=2))
    print(RESULT_PREFIX + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
