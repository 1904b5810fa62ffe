"""``make ui``: the sandbox simulator and ``dagster dev`` (webserver + daemon) on loopback.

The simulator serves the sandbox account (``data/simulator.db``, the one ``make demo``
extracts), on ``ONECONNECT_SIMULATOR_PORT`` (8765); the UI is on ``DAGSTER_PORT`` (3000).
Both ports are checked first, naming the one that is taken. Schedules and sensors run
(the daemon is part of ``dagster dev``); runs are kept under ``data/dagster_home``.
The code location gets the sandbox account's credentials, whatever ONECONNECT_EMAIL
and ONECONNECT_API_KEY say (the sandbox refuses any other account).
Ctrl-C or SIGTERM stops the whole tree: simulator, webserver, daemon, code server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from oneconnect_pipelines.cli import port_taken

DAGSTER_HOME = Path("data/dagster_home")
PORTS = {"ONECONNECT_SIMULATOR_PORT": 8765, "DAGSTER_PORT": 3000}
DAGSTER_DEV = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"]


class Stop(Exception):
    """SIGTERM or SIGINT: stop everything."""


def ports() -> dict[str, int] | str:
    """The ports to use, or why they cannot be used."""
    chosen: dict[str, int] = {}
    for name, default in PORTS.items():
        text = os.environ.get(name, str(default))
        if not text.isdigit() or not 0 < int(text) < 65536:
            return f"{name}={text!r} is not a port number"
        port = int(text)
        if port in chosen.values():
            return f"{name}={port} is the port of the other server too: choose another"
        if port_taken("127.0.0.1", port):
            return (
                f"port {port} is taken (another `make ui` or dagster dev?): stop it, or "
                f"set {name} to a free port"
            )
        chosen[name] = port
    return chosen


def _stop(signum: int, frame: object) -> None:
    raise Stop


def main() -> int:
    try:
        from .sandbox import sandbox_environment  # reads the settings
    except ValueError as unusable:  # settings.SettingsError: one line naming the variable
        print(f"make ui: {unusable}", file=sys.stderr)
        return 1
    chosen = ports()
    if isinstance(chosen, str):
        print(f"make ui: {chosen}", file=sys.stderr)
        return 1
    DAGSTER_HOME.mkdir(parents=True, exist_ok=True)
    config = DAGSTER_HOME / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    children: list[subprocess.Popen[str]] = []
    try:
        # Each child leads a process group of its own, so that stopping it reaches its
        # own children (dagster dev's webserver, daemon and code server) too.
        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assets.sandbox",
                "--port",
                str(chosen["ONECONNECT_SIMULATOR_PORT"]),
            ],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        children.append(simulator)
        assert simulator.stdout is not None
        ready = simulator.stdout.readline().strip()
        if "ready" not in ready:
            print(f"make ui: the simulator did not start ({ready or 'no output'})", file=sys.stderr)
            return 1
        base_url = ready.rsplit(" ", 1)[-1]
        env = {
            **os.environ,
            "DAGSTER_HOME": str(DAGSTER_HOME.resolve()),
            **sandbox_environment(base_url),
        }
        port = chosen["DAGSTER_PORT"]
        print(f"simulator: {base_url} (admin: {base_url.rsplit('/api/v1', 1)[0]}/_sim/stats)")
        print(f"Dagster UI: http://127.0.0.1:{port} (Ctrl-C stops everything)", flush=True)
        dagster = subprocess.Popen(
            [*DAGSTER_DEV, "-h", "127.0.0.1", "-p", str(port)],
            env=env,
            start_new_session=True,
            text=True,
        )
        children.append(dagster)
        return dagster.wait()
    except Stop:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in reversed(children):
            stop(child)


def stop(child: subprocess.Popen[str]) -> None:
    """SIGINT to the child's group (dagster dev shuts down cleanly on it), then SIGKILL
    to whatever of it is left after 30 s."""
    if child.poll() is not None:
        return
    try:
        os.killpg(child.pid, signal.SIGINT)
        child.wait(30)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait(5)


if __name__ == "__main__":
    sys.exit(main())
