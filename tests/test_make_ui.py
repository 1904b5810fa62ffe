"""``make ui`` (``python -m assets.ui``) as a user meets it: a busy port is named before
anything starts, and SIGTERM stops the whole process tree."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ui(cwd: Path, **variables: int | str) -> subprocess.Popen[str]:
    shutil.copy(ROOT / "workspace.yaml", cwd / "workspace.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONECONNECT_", "DAGSTER_"))}
    env.update({name: str(value) for name, value in variables.items()})
    with (cwd / "ui.log").open("w") as log:  # dagster dev writes a lot: never block on it
        return subprocess.Popen(
            [sys.executable, "-m", "assets.ui"],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield int(holder.getsockname()[1])


def test_a_taken_port_is_named_before_anything_starts(tmp_path: Path, taken_port: int) -> None:
    process = ui(tmp_path, ONECONNECT_SIMULATOR_PORT=free_port(), DAGSTER_PORT=taken_port)
    assert process.wait(60) == 1
    said = (tmp_path / "ui.log").read_text()
    assert f"port {taken_port} is taken" in said and "set DAGSTER_PORT to a free port" in said
    assert not (tmp_path / "data" / "simulator.db").exists()  # nothing was started


def test_one_port_for_both_servers_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """It started both; the UI's webserver could not bind, the simulator answered 404 at
    the UI's address, and make ui kept running."""
    port = free_port()
    process = ui(tmp_path, ONECONNECT_SIMULATOR_PORT=port, DAGSTER_PORT=port)
    try:
        assert process.wait(60) == 1
    finally:  # if it did start everything, stop the whole tree as make ui's user would
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    said = (tmp_path / "ui.log").read_text()
    assert f"make ui: DAGSTER_PORT={port} is the port of the other server too" in said
    assert not (tmp_path / "data" / "simulator.db").exists()


@pytest.mark.parametrize("module", ["assets.ui", "assets.demo"])
def test_a_setting_that_cannot_be_used_is_one_line(tmp_path: Path, module: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONECONNECT_", "DAGSTER_"))}
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=tmp_path,
        env={**env, "ONECONNECT_TIMEZONE": "Europe/Tbilisi", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    command = "make ui" if module == "assets.ui" else "make demo"
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"{command}: ONECONNECT_TIMEZONE='Europe/Tbilisi' is not a timezone name "
        "(an IANA name like Europe/Berlin)"
    )


def test_a_sandbox_made_in_another_zone_is_refused_naming_both(tmp_path: Path) -> None:
    """The sandbox kept the zone it was made in while the code location followed
    ONECONNECT_TIMEZONE: every messages partition failed, after minutes of retries."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONECONNECT_", "DAGSTER_"))}
    probe = "from assets.sandbox import sandbox\nwith sandbox():\n    print('opened')\n"
    for zone, code in (("Asia/Tbilisi", 0), ("Europe/Berlin", 1)):
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=tmp_path,
            env={**env, "ONECONNECT_TIMEZONE": zone, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert (done.returncode, "opened" in done.stdout) == (code, code == 0), done.stderr
    assert (
        "data/simulator.db holds an account in Asia/Tbilisi, but ONECONNECT_TIMEZONE is "
        "Europe/Berlin" in done.stderr
    )


def test_sigterm_stops_the_simulator_webserver_daemon_and_code_server(tmp_path: Path) -> None:
    web, sim = free_port(), free_port()
    process = ui(tmp_path, ONECONNECT_SIMULATOR_PORT=sim, DAGSTER_PORT=web)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{web}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the UI did not come up"
            time.sleep(1)
        tree = descendants(process.pid)
        assert len(tree) >= 4  # simulator, dagster dev, webserver, daemon (+ code servers)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert [pid for pid in tree if alive(pid)] == []
        for port in (web, sim):
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(("127.0.0.1", port))  # free again
    finally:
        if process.poll() is None:
            process.kill()
        for pid in descendants(process.pid):
            os.kill(pid, signal.SIGKILL)


def environment_of(pid: int) -> dict[str, str]:
    raw = (Path("/proc") / str(pid) / "environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def test_the_code_location_gets_the_sandbox_credentials_not_the_users(tmp_path: Path) -> None:
    """ONECONNECT_EMAIL and ONECONNECT_API_KEY exported for a real account would be
    refused by the sandbox (401): dagster dev gets the sandbox account's, which it
    accepts, and the key is never printed."""
    email, key = "ops@company.example", "real-secret-key"
    real = {"ONECONNECT_EMAIL": email, "ONECONNECT_API_KEY": key}
    process = ui(tmp_path, ONECONNECT_SIMULATOR_PORT=free_port(), DAGSTER_PORT=free_port(), **real)
    try:
        deadline = time.monotonic() + 120
        dagster_dev = None
        while dagster_dev is None:
            assert process.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "dagster dev did not start"
            for pid in descendants(process.pid):
                with contextlib.suppress(OSError):
                    if b"dagster\0dev" in (Path("/proc") / str(pid) / "cmdline").read_bytes():
                        dagster_dev = pid
            time.sleep(0.5)
        env = environment_of(dagster_dev)
        auth = (env["ONECONNECT_EMAIL"], env["ONECONNECT_API_KEY"])
        assert auth != (email, key)
        answer = httpx.get(env["ONECONNECT_BASE_URL"] + "/balance", auth=auth, timeout=10)
        assert answer.status_code == 200
        refused = httpx.get(env["ONECONNECT_BASE_URL"] + "/balance", auth=(email, key), timeout=10)
        assert refused.status_code == 401  # what the runs met before
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    said = (tmp_path / "ui.log").read_text()
    assert key not in said and auth[1] not in said
