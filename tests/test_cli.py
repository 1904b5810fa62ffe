"""The ``oneconnect simulator`` command as a user runs it: a subprocess on a free port."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import API_KEY, EMAIL

READY = re.compile(r"^OneConnect simulator ready at (http://127\.0\.0\.1:\d+/api/v1)$")


def command() -> list[str]:
    script = Path(sys.executable).parent / "oneconnect"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "oneconnect_pipelines.cli"]


def first_line(process: subprocess.Popen[str], timeout_s: float = 30.0) -> str:
    """The first stdout line, or fail after ``timeout_s`` (the process is killed then)."""
    lines: list[str] = []
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    if not lines:
        process.kill()
        pytest.fail("the simulator printed nothing")
    return lines[0].rstrip("\n")


@pytest.fixture
def simulator() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [*command(), "simulator", "--port", "0", "--contacts", "20", "--messages", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = first_line(process)
        match = READY.match(line)
        assert match, line
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_prints_its_base_url_and_serves_the_demo_account(
    simulator: tuple[subprocess.Popen[str], str],
) -> None:
    _, base_url = simulator
    with httpx.Client(base_url=base_url, auth=(EMAIL, API_KEY), timeout=10) as client:
        assert client.get("/balance").status_code == 200
        assert len(client.get("/contacts").json()) == 20
        assert len(client.get("/messages").json()) == 50
    wrong = httpx.get(base_url + "/balance", auth=(EMAIL, "wrong"), timeout=10)
    assert wrong.status_code == 401


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly(
    simulator: tuple[subprocess.Popen[str], str], signum: signal.Signals
) -> None:
    process, base_url = simulator
    assert httpx.get(base_url + "/balance", auth=(EMAIL, API_KEY), timeout=10).status_code == 200
    process.send_signal(signum)
    try:
        code = process.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 10 s after {signum.name}")
    assert process.stderr is not None
    assert code == 0, process.stderr.read()
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/balance", timeout=2)


@pytest.mark.parametrize(
    ("rate", "explains"),
    [
        ("500=2", "more than 1"),
        ("404=0.1", "404"),
        ("500", "STATUS=RATE, not '500'"),
        ("five=0.1", "STATUS=RATE, not 'five=0.1'"),
    ],
)
def test_bad_error_rates_are_refused_with_exit_code_2(rate: str, explains: str) -> None:
    result = subprocess.run(
        [*command(), "simulator", "--port", "0", "--error-rate", rate],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""  # never announced as ready
    assert "bad fault settings" in result.stderr
    assert explains in result.stderr
    assert "Traceback" not in result.stderr
