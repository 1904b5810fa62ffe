"""The production deployment of ``deploy/``, for real: a PostgreSQL server holding Dagster's
instance (runs, events, schedules) and the warehouse, and the webserver, the daemon and
a gRPC code server as three separate processes, configured only through ``deploy/``'s
files and environment variables, as docs/deployment.md starts them.

The CRM drop folder and the exports are in an S3 bucket (a real S3-compatible server on
loopback), as they are when runs execute on other machines than the daemon's sensor.

What a team would check after deploying: a CRM export dropped in the bucket is picked up
by the daemon's sensor, queued, launched and synced, and the webserver's GraphQL API
reports the run; the nightly schedule ticks (its cron moved to every minute) and its run
lands the tables in PostgreSQL; the daemon killed with SIGKILL once its sensor has
requested a run (still queued, or already launched: the moment is not controlled), then
started again, loses no run and starts none twice."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy
import yaml

from oneconnect_pipelines.storage import Location

from .conftest import API_KEY, EMAIL, EMPTY, Sim
from .extract_helpers import private_sim, rows
from .objectstore import new_bucket
from .postgres import create_database, free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
T = TypeVar("T")

#: Three processes start, and a whole snapshot run goes through a queue: more than the
#: suite's default of 300 s per test on a slow machine.
pytestmark = pytest.mark.timeout(900)

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status jobName creationTime tags { key value } } }
    ... on PythonError { message }
  }
}
"""
SCHEDULE = """
query Schedule($selector: ScheduleSelector!) {
  scheduleOrError(scheduleSelector: $selector) { ... on Schedule { scheduleState { id } } }
}
"""
STOP = """
mutation Stop($id: String) {
  stopRunningSchedule(id: $id) { __typename ... on PythonError { message } }
}
"""
DONE = {"SUCCESS", "FAILURE", "CANCELED"}
EXPORT = (
    "First Name;Last Name;Mobile Phone;Date of Birth\n"
    "Anna;Smith;0555 12 34 56;05.05.1997\n"
    "Giorgi;Beridze;+995 555 123457;29/02/2000\n"
    "Bad;Phone;12;01.01.1980\n"
)
SECOND = "First Name;Last Name;Mobile Phone\nNino;Kapanadze;555123458\n"


@dataclass
class Deployment:
    sim: Sim
    env: dict[str, str]
    home: Path
    drop: Location
    warehouse: str
    graphql: str
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]]

    def start(self, name: str, *command: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=self.home, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def start_daemon(self) -> None:
        self.start("daemon", str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml")

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def runs(self, **tags: str) -> list[dict[str, Any]]:
        """The runs the webserver reports, by tags."""
        selection = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
        found = self.graphql_query(RUNS, {"filter": selection})["runsOrError"]
        assert "results" in found, found
        return list(found["results"])

    def stop_schedule(self, name: str) -> None:
        """Stop a schedule as the UI's toggle does (no more ticks queue up behind the test)."""
        selector = {"repositoryLocationName": "oneconnect", "repositoryName": "__repository__"}
        state = self.graphql_query(SCHEDULE, {"selector": {**selector, "scheduleName": name}})
        stopped = self.graphql_query(STOP, {"id": state["scheduleOrError"]["scheduleState"]["id"]})
        assert stopped["stopRunningSchedule"]["__typename"] == "ScheduleStateResult", stopped

    def graphql_query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(self.graphql, json={"query": query, "variables": variables}, timeout=30)
        assert answer.status_code == 200, answer.text[:2000]
        return dict(answer.json()["data"])

    def tail(self) -> str:
        return "\n".join(
            f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:]
            for log in sorted(self.logs.glob("*.log"))
        )


def wait_until(
    what: str, probe: Callable[[], T | None], deployment: Deployment, within: float
) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for name, process in deployment.processes.items():
            assert process.poll() is None, f"{name} exited\n{deployment.tail()}"
        found = probe()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"not within {within:.0f} s: {what}\n{deployment.tail()}")


def drop_export(folder: Location, name: str, text: str) -> str:
    """A complete export (its ``.done`` marker written after it); its SHA-256."""
    (folder / name).write_text(text, encoding="utf-8")
    (folder / f"{name}.done").write_text("")
    return hashlib.sha256(text.encode()).hexdigest()


def finished(deployment: Deployment, **tags: str) -> list[dict[str, Any]] | None:
    runs = deployment.runs(**tags)
    return runs if runs and all(r["status"] in DONE for r in runs) else None


@pytest.fixture(scope="module")
def deployment(
    postgres_url: str, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("deployment")
    home, logs = folder / "dagster_home", folder / "logs"
    for made in (home, logs):
        made.mkdir()
    bucket = new_bucket()  # the AWS_* variables that reach the processes point at it
    drop = bucket / "crm_drop"
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    shutil.copy(DEPLOY / "workspace.yaml", home / "workspace.yaml")
    (drop / "mapping.yaml").write_text("lists: [CRM customers]\n")
    code_port, web_port = free_port(), free_port()
    with private_sim(EMPTY) as sim:
        warehouse = create_database(postgres_url, "deployed_warehouse")
        env = {
            **{
                k: v for k, v in os.environ.items() if not k.startswith(("ONECONNECT_", "DAGSTER_"))
            },
            "DAGSTER_HOME": str(home),
            # psycopg2 is dagster-postgres's driver (SQLAlchemy 2.1 assumes psycopg 3)
            "DAGSTER_POSTGRES_URL": create_database(postgres_url, "deployed_dagster").replace(
                "postgresql://", "postgresql+psycopg2://"
            ),
            "ONECONNECT_CODE_SERVER_HOST": "127.0.0.1",
            "ONECONNECT_CODE_SERVER_PORT": str(code_port),
            "ONECONNECT_BASE_URL": sim.base_url,
            "ONECONNECT_EMAIL": EMAIL,
            "ONECONNECT_API_KEY": API_KEY,
            "ONECONNECT_WAREHOUSE": warehouse,
            "ONECONNECT_CRM_DROP_DIR": str(drop),
            "ONECONNECT_EXPORT_DIR": str(bucket / "exports"),
            "ONECONNECT_CRM_SENSOR_INTERVAL_S": "5",
            "ONECONNECT_SNAPSHOT_CRON": "* * * * *",
            "PYTHONPATH": str(ROOT),
        }
        deployed = Deployment(
            sim, env, home, drop, warehouse, f"http://127.0.0.1:{web_port}/graphql", logs, {}
        )
        try:
            deployed.start(
                "code_server",
                *(str(BIN / "dagster"), "api", "grpc", "-m", "assets.definitions"),
                *("-h", "127.0.0.1", "-p", str(code_port), "--location-name", "oneconnect"),
                *("--working-directory", str(ROOT)),
            )
            deployed.start(
                "webserver",
                *(str(BIN / "dagster-webserver"), "-w", "workspace.yaml"),
                *("-h", "127.0.0.1", "-p", str(web_port)),
            )

            def serving() -> bool:
                try:
                    return httpx.get(f"http://127.0.0.1:{web_port}/server_info").is_success
                except httpx.TransportError:
                    return False

            wait_until("the webserver answers", serving, deployed, within=120)
            deployed.start_daemon()
            yield deployed
        finally:
            for process in deployed.processes.values():
                process.send_signal(signal.SIGTERM)
            for process in deployed.processes.values():
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_a_dropped_export_is_synced_by_the_daemon_and_reported(deployment: Deployment) -> None:
    sha = drop_export(deployment.drop, "export.csv", EXPORT)
    runs = wait_until(
        "the sensor's run for the export has finished",
        lambda: finished(deployment, **{"crm/sha256": sha}),
        deployment,
        within=240,
    )
    assert [(r["jobName"], r["status"]) for r in runs] == [("crm_contacts_sync", "SUCCESS")]
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert tags["dagster/sensor_name"] == "crm_drop_sensor"
    sim = deployment.sim
    phones = {c["phone_number"] for c in sim.api.get("/contacts").json()}
    assert {"995555123456", "995555123457"} <= {p.lstrip("+") for p in phones}
    log = rows(deployment.warehouse, "SELECT outcome, count(*) AS n FROM crm.sync_log GROUP BY 1")
    assert {r["outcome"]: r["n"] for r in log} == {"created": 2, "rejected": 1}
    [report] = (deployment.drop.parent / "exports" / "crm_reports").glob("export.*.csv")
    assert "rejected" in report.read_text()  # the run worker wrote it to the bucket


def test_the_schedule_ticks_and_lands_the_tables_in_postgres(deployment: Deployment) -> None:
    # A run requested after the CRM sync above finished sees its contacts (an earlier tick's
    # run may have read the account before them).
    synced = time.time()
    schedule = {"dagster/schedule_name": "oneconnect_snapshot_daily"}

    def after_the_sync() -> list[dict[str, Any]]:
        return [r for r in deployment.runs(**schedule) if r["creationTime"] > synced]

    [run] = wait_until(
        "the nightly schedule (every minute here) has ticked", after_the_sync, deployment, 180
    )
    deployment.stop_schedule("oneconnect_snapshot_daily")
    wait_until(
        "the schedule's run has finished",
        lambda: [r for r in after_the_sync() if r["status"] in DONE],
        deployment,
        within=420,
    )
    assert "FAILURE" not in {r["status"] for r in deployment.runs(**schedule)}
    assert [r["status"] for r in after_the_sync()] == ["SUCCESS"]
    assert [r["runId"] for r in after_the_sync()] == [run["runId"]]  # the stop held
    sim = deployment.sim
    contacts = rows(deployment.warehouse, "SELECT count(*) AS n FROM oneconnect.contacts")
    assert contacts[0]["n"] == len(sim.api.get("/contacts").json())


def test_a_killed_daemon_loses_no_run_and_duplicates_none(deployment: Deployment) -> None:
    sha = drop_export(deployment.drop, "second.csv", SECOND)
    wait_until(
        "the sensor has requested the run",
        lambda: deployment.runs(**{"crm/sha256": sha}),
        deployment,
        within=120,
    )
    deployment.kill("daemon")  # SIGKILL: no chance to tidy up
    time.sleep(3)
    deployment.start_daemon()
    runs = wait_until(
        "the run has finished after the restart",
        lambda: finished(deployment, **{"crm/sha256": sha}),
        deployment,
        within=240,
    )
    time.sleep(12)  # two more sensor ticks of the restarted daemon: still one run
    runs = deployment.runs(**{"crm/sha256": sha})
    assert [(r["jobName"], r["status"]) for r in runs] == [("crm_contacts_sync", "SUCCESS")]
    every = deployment.runs(**{"dagster/sensor_name": "crm_drop_sensor"})
    keys = [{t["key"]: t["value"] for t in r["tags"]}["crm/sha256"] for r in every]
    assert keys.count(sha) == 1 and len(keys) == len(set(keys))  # no file synced twice


def test_the_helm_values_say_what_the_instance_file_says_once() -> None:
    """No chart here to render them: check the two rules the chart enforces or needs.

    Dagster's chart refuses a run limit set under both ``concurrency.runs`` and the queued
    run coordinator; a dead worker's pool slots are freed after the same delay as in
    ``deploy/dagster.yaml``, or one lost ``oneconnect_api`` slot stalls every later run;
    and the instance's PostgreSQL URL names a driver the image has."""
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    coordinator = values["dagsterDaemon"]["runCoordinator"].get("config", {})
    assert "maxConcurrentRuns" not in coordinator.get("queuedRunCoordinator", {})
    assert (
        values["concurrency"]["runs"]["maxConcurrentRuns"]
        == instance["concurrency"]["runs"]["max_concurrent_runs"]
    )
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert monitoring["enabled"] is True
    assert (
        monitoring["freeSlotsAfterRunEndSeconds"]
        == instance["run_monitoring"]["free_slots_after_run_end_seconds"]
        == 300
    )
    assert (
        values["concurrency"]["pools"]["defaultLimit"]
        == instance["concurrency"]["pools"]["default_limit"]
    )
    # the chart writes this scheme into the instance's postgres_db (a bare postgresql://
    # is psycopg 3 to SQLAlchemy 2.1, which the image does not have): its driver loads
    scheme = values["postgresql"]["postgresqlScheme"]
    assert scheme == "postgresql+psycopg2"
    sqlalchemy.create_engine(f"{scheme}://dagster@dagster-postgres/dagster").dispose()
