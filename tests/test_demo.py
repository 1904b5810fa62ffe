"""``make demo`` (``python -m assets.demo``) on a fresh folder: every step runs, the summary
says what landed, and a second run works too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def demo(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONECONNECT_", "DAGSTER_"))}
    return subprocess.run(
        [sys.executable, "-m", "assets.demo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_demo_runs_everything_and_says_where_it_went(tmp_path: Path) -> None:
    first = demo(tmp_path)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    out = first.stdout
    for step in (
        "running oneconnect_extract",
        "evaluating crm_drop_sensor",
        "running crm_contacts_sync",
        "running birthday_campaigns_sync",
        "running analytics_export",
    ):
        assert step in out
    assert (
        "CRM sync of crm_export.csv: rows 44, created 41, updated 0, unchanged 0, "
        "rejected 3, failed 0" in out
    )
    assert "Birthday greetings: CRM customers (active: True)" in out
    assert (tmp_path / "data" / "warehouse.duckdb").is_file()
    assert list((tmp_path / "data" / "exports" / "crm_reports").glob("*.rejected.csv"))
    assert (tmp_path / "data" / "exports" / "oneconnect" / "contacts.parquet").is_file()
    second = demo(tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
