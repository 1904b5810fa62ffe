"""No API key, Basic token, raw phone number or birthday anywhere a run leaves things:
run storage (event logs, compute logs), the process's stdout and stderr, reports, the
sync log. The job runs as a deployment runs it (``dagster job execute``: a persistent
instance, steps in their own processes, compute logs captured), with httpx's and
httpcore's DEBUG lines kept in the event log, against a server whose error pages echo
every request, credentials included."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml

from .conftest import EMAIL, EMPTY, Sim
from .extract_helpers import private_sim

KEY = "sk-live-7Hq2Xv9pLmW4"
TOKEN = base64.b64encode(f"{EMAIL}:{KEY}".encode()).decode()
EXPORT = (
    "First Name,Mobile Phone,Date of Birth,Email\n"
    "Anna,0555 12 34 56,05.05.1997,anna@example.com\n"
    "Giorgi,+995 555 123457,1988-11-23,giorgi@example.com\n"
    "Bad,12,31.02.1990,\n"
)
SECRETS = [
    KEY,
    TOKEN,
    "0555 12 34 56",
    "995555123456",
    "555123456",
    "+995 555 123457",
    "995555123457",
    "05.05.1997",
    "05/05/1997",
    "1997-05-05",
    "1988-11-23",
    "23.11.1988",
    "23/11/1988",
    "31.02.1990",
]


def run_job(sim: Sim, home: Path, work: Path) -> subprocess.CompletedProcess[str]:
    config = work / "run.yaml"
    config.write_text(
        yaml.safe_dump({"ops": {"sync_crm_file": {"config": {"path": str(work / "export.csv")}}}})
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ONECONNECT_BASE_URL": sim.base_url,
        "ONECONNECT_EMAIL": EMAIL,
        "ONECONNECT_API_KEY": KEY,
        "ONECONNECT_WAREHOUSE": str(work / "warehouse.duckdb"),
        "ONECONNECT_EXPORT_DIR": str(work / "exports"),
        "ONECONNECT_CRM_DROP_DIR": str(work),
    }
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "job", "execute", "-m", "assets.definitions", "-j", "crm_contacts_sync"]
    return subprocess.run(
        [*command, "-c", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        cwd=Path(__file__).resolve().parent.parent,
    )


def found_in(folder: Path) -> dict[str, list[str]]:
    """Each file under ``folder`` holding any of the secrets, with the ones it holds."""
    hits: dict[str, list[str]] = {}
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".duckdb":
            data = path.read_bytes()
            held = [s for s in SECRETS if s.encode() in data]
            if held:
                hits[str(path.relative_to(folder))] = held
    return hits


def test_a_sync_run_leaves_no_secret_and_no_personal_data_behind(tmp_path: Path) -> None:
    home, work = tmp_path / "dagster_home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "dagster.yaml").write_text(
        yaml.safe_dump(
            {
                "telemetry": {"enabled": False},
                "python_logs": {
                    "managed_python_loggers": ["httpx", "httpcore"],
                    "python_log_level": "DEBUG",
                },
            }
        )
    )
    (work / "export.csv").write_text(EXPORT)
    (work / "mapping.yaml").write_text("lists: [CRM customers]\n")
    with private_sim(EMPTY, api_key=KEY) as sim:
        # A Basic plan holds 20 contacts: with 19 there, the second create is refused
        # server-side, so a row fails with OneConnect's own (echoing) answer as reason.
        sim.admin.put("/account", json={"plan": "basic"}).raise_for_status()
        for index in range(19):
            sim.api.post(
                "/contacts", data={"phone_number": f"0599{index:06d}"}, auth=(EMAIL, KEY)
            ).raise_for_status()
        # Errors echo the request, credentials included: the refusal reaches a row.
        sim.admin.put("/faults", json={"reflect": True}).raise_for_status()
        first = run_job(sim, home, work)
        # Half the answers are such errors: updates go through them.
        sim.admin.put("/faults", json={"reflect": True, "error_rates": {"500": 0.5}, "seed": 4})
        (work / "export.csv").write_text(EXPORT.replace("Anna", "Anne"))
        second = run_job(sim, home, work)
        # Every answer is one: the run cannot even read the account.
        sim.admin.put("/faults", json={"reflect": True, "error_rates": {"503": 1.0}})
        (work / "export.csv").write_text(EXPORT.replace("Anna", "Ania"))
        third = run_job(sim, home, work)
        sim.admin.put("/faults", json={})
        answer = sim.api.get("/contacts", auth=(EMAIL, KEY)).json()
        names = {c["phone_number"]: c["first_name"] for c in answer}
    runs = {"first": first, "second": second, "third": third}
    assert [output.returncode != 0 for output in runs.values()] == [True, True, True]
    assert names.get("995555123456") == "Anne" and "995555123457" not in names
    # The runs logged the wire (so the filter was exercised) and stored compute logs,
    # and the echoing answers did reach what they could: errors, reasons, reports.
    assert "HTTP Request: PATCH" in second.stdout + second.stderr
    assert list(home.rglob("*.err")) and list(home.rglob("*.out"))
    assert "GET /contacts: Service Unavailable" in third.stderr
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as connection:
        log = connection.execute("SELECT * FROM crm.sync_log").fetchall()
        reasons = [r[0] for r in connection.execute("SELECT reason FROM crm.sync_log").fetchall()]
    assert any("Contacts limit reached" in str(r) and "[secret]" in str(r) for r in reasons)
    logged = " ".join(str(value) for row in log for value in row)
    assert [s for s in SECRETS if s in logged] == []
    for name, output in runs.items():
        for stream in (output.stdout, output.stderr):
            assert [s for s in SECRETS if s in stream] == [], name
    assert found_in(home) == {}
    assert found_in(work / "exports") == {}
    assert list((work / "exports" / "crm_reports").glob("*.csv"))  # rejected and failed rows
