"""``make ui``: a seeded simulator and ``dagster dev`` (webserver + daemon) on loopback.

Schedules and sensors really run (the daemon is part of ``dagster dev``), against the
simulator's demo account; runs are kept under ``data/dagster_home``. Ctrl-C stops both.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

DAGSTER_HOME = Path("data/dagster_home")
SIMULATOR_PORT = int(os.environ.get("ONECONNECT_SIMULATOR_PORT", "8765"))
UI_PORT = int(os.environ.get("DAGSTER_PORT", "3000"))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops both, like Ctrl-C


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    DAGSTER_HOME.mkdir(parents=True, exist_ok=True)
    (DAGSTER_HOME / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    simulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oneconnect_pipelines.cli",
            "simulator",
            "--port",
            str(SIMULATOR_PORT),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert simulator.stdout is not None
    ready = simulator.stdout.readline().strip()
    if "ready" not in ready:
        print(f"the simulator did not start: {ready!r}", file=sys.stderr)
        return 1
    base_url = ready.rsplit(" ", 1)[-1]
    env = {
        **os.environ,
        "DAGSTER_HOME": str(DAGSTER_HOME.resolve()),
        "ONECONNECT_BASE_URL": base_url,
    }
    print(f"simulator: {base_url} (admin: {base_url.rsplit('/api/v1', 1)[0]}/_sim/stats)")
    print(f"Dagster UI: http://127.0.0.1:{UI_PORT} (Ctrl-C stops both)", flush=True)
    dagster = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(UI_PORT),
        ],
        env=env,
    )
    try:
        return dagster.wait()
    except KeyboardInterrupt:
        dagster.send_signal(signal.SIGINT)
        dagster.wait(30)
        return 0
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.wait(15)


if __name__ == "__main__":
    sys.exit(main())
