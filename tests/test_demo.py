"""``make demo`` (``python -m assets.demo``) on a fresh folder: every step runs, the summary
says what landed, a second run continues the same account, and what ``make ui`` then
serves (``python -m assets.sandbox``) is that account: a materialization from there
keeps every check green, and no leftover drop file is synced again. The drop folder is
the user's: the demo writes nothing over what is there."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("ONECONNECT_", "DAGSTER_"))}


def demo(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assets.demo"],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_demo_runs_everything_and_the_ui_serves_the_same_account(tmp_path: Path) -> None:
    first = demo(tmp_path)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    out = first.stdout
    for step in (
        "running oneconnect_snapshot",
        "running oneconnect_messages for",
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
    data = tmp_path / "data"
    assert (data / "warehouse.duckdb").is_file() and (data / "simulator.db").is_file()
    assert list((data / "exports" / "crm_reports").glob("*.rejected.csv"))
    assert (data / "exports" / "oneconnect" / "contacts.parquet").is_file()
    # the sample export was taken out again: a later sensor has nothing to re-sync
    assert sorted(p.name for p in (data / "crm_drop").iterdir()) == []

    second = demo(tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "created 0, updated 0, unchanged 41" in second.stdout  # the same account

    # What `make ui` serves is the demo's account: extracting from it keeps checks green.
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "assets.sandbox", "--port", "0"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        ready = re.search(r"(http://\S+/api/v1)", sandbox.stdout.readline())
        assert ready, "the sandbox simulator did not start"
        extract = subprocess.run(
            [sys.executable, "-m", "assets.cli", "extract"],
            cwd=tmp_path,
            env={**clean_env(), "ONECONNECT_BASE_URL": ready.group(1)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        sandbox.terminate()
        sandbox.wait(30)
    assert extract.returncode == 0, extract.stderr[-3000:]
    assert re.search(r"checks: \d+ passed, 0 failed", extract.stdout), extract.stdout
    contacts = re.search(r"oneconnect/contacts\s+-\s+([\d,]+)", extract.stdout)
    assert contacts and contacts.group(1) == "5,041"  # the seeded 5,000 and the demo's 41


#: A user's own mapping, for a CRM whose columns the demo's sample does not have: the
#: sample synced with it would fail (the Handy column is missing).
USER_MAPPING = "lists: [Newsletter]\ncolumns:\n  phone_number: Handy\n"


def test_the_demo_leaves_a_users_mapping_yaml_as_it_is(tmp_path: Path) -> None:
    drop = tmp_path / "data" / "crm_drop"
    drop.mkdir(parents=True)
    (drop / "mapping.yaml").write_text(USER_MAPPING)
    done = demo(tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "CRM sync of crm_export.csv: rows 44, created 41" in done.stdout
    assert "Birthday greetings: CRM customers (active: True)" in done.stdout
    assert (drop / "mapping.yaml").read_text() == USER_MAPPING
    assert sorted(p.name for p in drop.iterdir()) == ["mapping.yaml"]
