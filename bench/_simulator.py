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


@contextmanager
def simulator_process(*args: str, timeout: float = 600.0) -> Iterator[str]:
    """``oneconnect simulator --port 0 ARGS`` -> its base URL; stopped (SIGTERM) on exit."""
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
