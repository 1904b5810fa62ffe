"""Start a seeded simulator in its own process, so the benchmark's client never shares its core."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

READY = re.compile(r"(http://\S+/api/v1)")
#: Each benchmark ends with one line: this prefix and its summary as JSON (for ``make bench``).
RESULT_PREFIX = "RESULT "


#: Every collection the simulator seeds; a benchmark's simulator holds only what it names.
_EMPTY = {"contacts": 0, "messages": 0, "lists": 0, "campaigns": 0, "birthday_campaigns": 0}


def _flags(options: dict[str, object]) -> list[str]:
    """``latency_ms=25.0`` -> ``["--latency-ms", "25"]``."""
    return [
        part
        for name, value in options.items()
        for part in (
            f"--{name.replace('_', '-')}",
            f"{value:g}" if isinstance(value, float) else str(value),
        )
    ]


@contextmanager
def simulator_process(*, timeout: float = 600.0, **options: object) -> Iterator[str]:
    """``oneconnect simulator --port 0`` with ``options`` as flags (every collection empty
    unless named: ``contacts=1000``) -> its base URL; stopped (SIGTERM) on exit."""
    args = _flags({**_EMPTY, **options})
    command = [sys.executable, "-m", "oneconnect_pipelines.cli", "simulator", "--port", "0", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        deadline = time.monotonic() + timeout
        assert process.stdout is not None
        line = process.stdout.readline()
        match = READY.search(line)
        if not match or time.monotonic() > deadline:
            raise RuntimeError(f"simulator did not start: {line!r}")
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
