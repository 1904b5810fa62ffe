"""Failed CRM syncs are retried without a person, and a run reads only the file it was
handed: the drop sensor, the runs, the retry sensor, the account in the simulator."""

from __future__ import annotations

import dataclasses
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import dagster as dg
import duckdb
import httpx
import pytest

import assets.crm_retry as crm_retry
import assets.crm_sync as crm_sync
from assets.crm_retry import crm_retry_sensor
from assets.crm_sync import ATTEMPT_TAG, FILE_TAG, RETRY_TAG, crm_contacts_sync, crm_drop_sensor
from assets.resources import OneConnectResource
from assets.settings import SETTINGS
from assets.warehouse import WarehouseResource
from oneconnect_pipelines.client import OneConnect
from oneconnect_pipelines.crm.dropfolder import ReadyFile, content_hash
from oneconnect_pipelines.storage import Location

from .conftest import API_KEY, EMAIL, EMPTY, Sim
from .extract_helpers import private_sim
from .objectstore import drop_folder

#: Five rows no retry can fix: a short number, a date that never was, a bad e-mail,
#: letters for a number, and a duplicate of row 2's number.
BAD_ROWS = [
    "Bad1,12,,",
    "Bad2,0599000001,31.02.1990,",
    "Bad3,0599000002,,not-an-email",
    "Bad4,0555 CALL ME,,",
    "Bad5,0555 000 000,,",
]
L = TypeVar("L", bound=Location)


@pytest.fixture
def account() -> Iterator[Sim]:
    with private_sim(EMPTY) as sim:
        yield sim


def watched(folder: L, monkeypatch: pytest.MonkeyPatch) -> L:
    """``folder`` as the drop folder both sensors watch, retries at once."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mapping.yaml").write_text("lists: [CRM customers]\n")
    settings = dataclasses.replace(
        SETTINGS,
        crm_drop_dir=folder,
        export_dir=folder.parent / "exports",
        crm_retry_backoff_s=0.0,
        crm_retry_attempts=15,
    )
    monkeypatch.setattr(crm_sync, "SETTINGS", settings)
    monkeypatch.setattr(crm_retry, "SETTINGS", settings)
    return folder


@pytest.fixture
def drop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return watched(tmp_path / "crm_drop", monkeypatch)


@pytest.fixture(params=["local", "s3"])
def any_drop(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Location:
    """A local drop folder, or one in a bucket of a real S3-compatible server."""
    return watched(drop_folder(request, tmp_path), monkeypatch)


def drop_file(folder: L, lines: list[str], name: str = "export.csv") -> L:
    path = cast(L, folder / name)  # a Path in a Path, a UPath in a UPath
    path.write_text("\n".join(["First Name,Mobile Phone,Date of Birth,Email", *lines]) + "\n")
    (folder / f"{name}.done").write_text("")
    return path


class Deployment:
    """The sensors ticking and the runs they request executing, on one instance."""

    def __init__(self, sim: Sim, warehouse: Path, **resource: Any) -> None:
        self.instance = dg.DagsterInstance.ephemeral()
        self.resources = {
            "oneconnect": OneConnectResource(
                base_url=sim.base_url, email=EMAIL, api_key=API_KEY, **resource
            ),
            "warehouse": WarehouseResource(url=str(warehouse)),
        }
        self.cursors: dict[str, str | None] = {}
        self.keys: set[str | None] = set()
        self.runs: list[dg.ExecuteInProcessResult] = []
        self.skips: list[str] = []

    def tick(self, sensor: dg.SensorDefinition) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursors.get(sensor.name)
        )
        result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        self.cursors[sensor.name] = result.cursor
        self.skip = result.skip_reason.skip_message if result.skip_reason else None
        self.skips.append(self.skip or "")
        # as Dagster's daemon does: one run per run key, whatever later ticks request
        requests = [r for r in result.run_requests or [] if r.run_key not in self.keys]
        self.keys.update(r.run_key for r in requests)
        return requests

    def execute(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        self.keys.add(request.run_key)  # a run with this key exists now
        result = crm_contacts_sync.execute_in_process(
            run_config=request.run_config,
            tags=request.tags,
            resources=self.resources,
            instance=self.instance,
            raise_on_error=False,
        )
        self.runs.append(result)
        return result


def test_failed_rows_are_retried_until_every_row_is_done(
    account: Sim, any_drop: Location, tmp_path: Path
) -> None:
    """1,000 rows, 5 of them bad, 10% of requests answered 500 (the client's own retries
    cut to one attempt, so server errors reach rows and lists): the retry sensor tries
    again until 995 contacts exist and only the 5 bad rows are rejected, with reasons."""
    good = [f"P{i},0555{i:06d},,p{i}@example.com" for i in range(995)]
    path = drop_file(any_drop, good[:1] + BAD_ROWS + good[1:])
    account.admin.put("/faults", json={"error_rates": {"500": 0.1}, "seed": 21})
    warehouse = tmp_path / "wh.duckdb"
    deployment = Deployment(account, warehouse, retry_attempts=1)
    for request in deployment.tick(crm_drop_sensor):
        deployment.execute(request)
    for _ in range(15):
        requests = deployment.tick(crm_retry_sensor)
        if not requests:
            break
        for request in requests:
            deployment.execute(request)
    account.admin.put("/faults", json={})

    attempts = [int(run.dagster_run.tags[ATTEMPT_TAG]) for run in deployment.runs]
    assert attempts == list(range(1, len(attempts) + 1))
    assert len(attempts) >= 2, "no attempt failed: the faults did not reach the rows"
    assert [run.success for run in deployment.runs] == [False] * (len(attempts) - 1) + [True]
    numbers = sorted(c["phone_number"] for c in account.api.get("/contacts").json())
    assert numbers == sorted(f"995555{i:06d}" for i in range(995))
    members = account.api.get("/lists", params={"name": "CRM customers"}).json()["members"]
    assert len(members) == 995
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        last = connection.execute(
            "SELECT row, outcome, reason FROM crm.sync_log WHERE attempt = ? ORDER BY row",
            [attempts[-1]],
        ).fetchall()
        first_failed = connection.execute(
            "SELECT count(*) FROM crm.sync_log WHERE attempt = 1 AND outcome = 'failed'"
        ).fetchone()
    assert len(last) == 1000
    rejected = {row: reason for row, outcome, reason in last if outcome == "rejected"}
    assert sorted(rejected) == [3, 4, 5, 6, 7]
    assert "too short" in rejected[3] and "no such day" in rejected[4]
    assert "bad e-mail" in rejected[5] and "holds letters" in rejected[6]
    assert "same number as row 2" in rejected[7]
    assert {outcome for _, outcome, _ in last} <= {"created", "unchanged", "rejected"}
    assert first_failed is not None and deployment.runs[0].dagster_run.tags[ATTEMPT_TAG] == "1"
    assert path.exists()
    # Done: the next tick requests nothing more.
    assert deployment.tick(crm_retry_sensor) == []


def test_a_run_refuses_a_file_swapped_for_a_symlink_and_is_not_retried(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    path = drop_file(drop, ["Anna,0555123456,,"])
    deployment = Deployment(account, tmp_path / "wh.duckdb")
    (request,) = deployment.tick(crm_drop_sensor)
    outside = tmp_path / "outside.csv"
    outside.write_text("First Name,Mobile Phone\nEve,0555999999\n")
    path.unlink()
    path.symlink_to(outside)  # between the sensor's tick and the run
    result = deployment.execute(request)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None and "symbolic link" in failure.message
    assert account.api.get("/contacts").json() == []  # nothing read from outside
    stored = deployment.instance.get_run_by_id(result.dagster_run.run_id)
    assert stored is not None and stored.tags.get(RETRY_TAG) == "no"
    assert deployment.tick(crm_retry_sensor) == []
    assert "not retried, the file itself cannot be synced" in (deployment.skip or "")


class OddAnswers(httpx.HTTPTransport):
    """Real loopback HTTP; every answer's stored birthday 05/05/1997 comes back as
    1997-05-05, a format the contract does not have (a record the client cannot read)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = super().handle_request(request)
        body = answer.read().replace(b'"birthday":"05/05/1997"', b'"birthday":"1997-05-05"')
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-length"]
        return httpx.Response(answer.status_code, headers=headers, content=body)


class OddAccount(OneConnectResource):
    """The account, seen through ``OddAnswers``."""

    @contextmanager
    def client(self) -> Iterator[OneConnect]:
        with OneConnect(self.base_url, EMAIL, API_KEY, transport=OddAnswers()) as client:
            yield client


def test_records_the_client_cannot_read_fail_their_rows_not_the_list_and_every_row_is_logged(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """Anna's stored birthday comes back in a format the client refuses, in the answer to
    her update and in the members of her list. Her row fails with a reason; Bob's row is
    created and joins the list (its membership is read from member ids alone); every row
    is in crm.sync_log; the raw birthday is nowhere in the run; and the run is retried.
    Needs the client to raise its ``ResponseError`` (a ``OneConnectError``) for a record
    it cannot read."""
    anna = account.api.post(
        "/contacts",
        data={"phone_number": "995555000001", "first_name": "Anna", "birthday": "05.05.1997"},
    ).json()
    account.api.post("/lists", data={"name": "CRM customers", "members": str(anna["id"])})
    drop_file(drop, ["Annette,0555000001,,", "Bob,0555000002,,"])
    deployment = Deployment(account, tmp_path / "wh.duckdb")
    deployment.resources["oneconnect"] = OddAccount(base_url=account.base_url)
    (request,) = deployment.tick(crm_drop_sensor)
    result = deployment.execute(request)

    assert not result.success
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as connection:
        log = connection.execute(
            "SELECT row, outcome, reason FROM crm.sync_log ORDER BY row"
        ).fetchall()
    assert [(row, outcome) for row, outcome, _ in log] == [(2, "failed"), (3, "created")]
    assert "ResponseError" in str(log[0][2])
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None
    assert str(failure.description).startswith("export.csv: 1 row(s) failed on the server (")
    members = account.api.get("/lists", params={"name": "CRM customers"}).json()["members"]
    bob = account.api.get("/contacts", params={"phone_number": "995555000002"}).json()
    assert sorted(m["id"] for m in members) == sorted([anna["id"], bob[0]["id"]])
    stored = "\n".join(str(e) for e in deployment.instance.all_logs(result.run_id))
    assert "1997-05-05" not in stored and "1997-05-05" not in str(log)
    assert [r.tags[ATTEMPT_TAG] for r in deployment.tick(crm_retry_sensor)] == ["2"]


def test_a_file_without_its_header_row_fails_without_its_data_and_is_not_retried(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    (drop / "export.csv").write_text(
        "Anna,Smith,0555 12 34 56,05.05.1997,anna.smith@example.com\n"
        "Bob,Jones,0555 12 34 57,06.06.1990,bob@example.com\n"
    )
    (drop / "export.csv.done").write_text("")
    deployment = Deployment(account, tmp_path / "wh.duckdb")
    (request,) = deployment.tick(crm_drop_sensor)
    result = deployment.execute(request)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data
    assert failure.user_failure_data is not None
    assert "line 1 is not a header" in str(failure.user_failure_data.description)
    stored = "\n".join(str(e) for e in deployment.instance.all_logs(result.run_id))
    assert [v for v in ("0555 12 34 56", "05.05.1997", "anna.smith@") if v in stored] == []
    run = deployment.instance.get_run_by_id(result.run_id)
    assert run is not None and run.tags.get(RETRY_TAG) == "no"
    assert deployment.tick(crm_retry_sensor) == []


def test_a_classic_mac_export_syncs_like_any_other(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """Excel's "CSV (Macintosh)": lines end with a lone CR."""
    (drop / "mac.csv").write_bytes(b"First Name,Mobile Phone\rAnna,0555123456\rBob,0555123457\r")
    (drop / "mac.csv.done").write_text("")
    deployment = Deployment(account, tmp_path / "wh.duckdb")
    (request,) = deployment.tick(crm_drop_sensor)
    assert deployment.execute(request).success
    people = sorted(
        (c["first_name"], c["phone_number"]) for c in account.api.get("/contacts").json()
    )
    assert people == [("Anna", "995555123456"), ("Bob", "995555123457")]


def test_a_file_that_changed_after_a_failed_run_is_not_retried_but_synced_anew(
    account: Sim, any_drop: Location, tmp_path: Path
) -> None:
    path = drop_file(any_drop, ["Anna,0555123456,,"])
    account.admin.put("/faults", json={"error_rates": {"503": 1.0}})
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    (request,) = deployment.tick(crm_drop_sensor)
    assert not deployment.execute(request).success  # the API refused everything
    account.admin.put("/faults", json={})
    path.write_text("First Name,Mobile Phone\nAnna,0555123456\nBen,0555123457\n")
    (any_drop / "export.csv.done").write_text("")  # the new version marked done
    assert deployment.tick(crm_retry_sensor) == []
    assert "changed or is gone" in (deployment.skip or "")
    (fresh,) = deployment.tick(crm_drop_sensor)
    assert deployment.execute(fresh).success
    assert len(account.api.get("/contacts").json()) == 2


def test_retries_stop_after_the_configured_attempts(
    account: Sim, drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        crm_retry,
        "SETTINGS",
        dataclasses.replace(SETTINGS, crm_retry_backoff_s=0.0, crm_retry_attempts=3),
    )
    drop_file(drop, ["Anna,0555123456,,"])
    account.admin.put("/faults", json={"error_rates": {"503": 1.0}})
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    for request in deployment.tick(crm_drop_sensor):
        deployment.execute(request)
    for _ in range(6):
        for request in deployment.tick(crm_retry_sensor):
            deployment.execute(request)
    assert [run.dagster_run.tags[ATTEMPT_TAG] for run in deployment.runs] == ["1", "2", "3"]
    assert sum("gave up after 3 attempts" in skip for skip in deployment.skips) == 1


def test_the_retry_waits_out_its_backoff(
    account: Sim, drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        crm_retry, "SETTINGS", dataclasses.replace(SETTINGS, crm_retry_backoff_s=600)
    )
    drop_file(drop, ["Anna,0555123456,,"])
    account.admin.put("/faults", json={"error_rates": {"503": 1.0}})
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    for request in deployment.tick(crm_drop_sensor):
        deployment.execute(request)
    assert deployment.tick(crm_retry_sensor) == []
    assert "attempt 2 in 6" in (deployment.skip or "")  # ~600 s from now
    assert crm_retry.backoff_s(1) == 600 and crm_retry.backoff_s(2) == 1200
    assert crm_retry.backoff_s(10) == crm_retry.MAX_BACKOFF_S


@contextmanager
def unreadable_to_us(path: Path) -> Iterator[None]:
    """``path`` as another user's mode-0600 file: the process gives up root (which reads
    anything) for the block, acting as ``nobody``."""
    path.chmod(0o000)
    root = os.geteuid() == 0
    if root:
        os.seteuid(pwd.getpwnam("nobody").pw_uid)
    try:
        yield
    finally:
        if root:
            os.seteuid(0)
        path.chmod(0o644)


def test_a_file_the_sensor_cannot_read_is_named_and_the_others_still_sync(
    account: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export the sensor may not read skips the tick for nobody else: the readable one
    is synced, the other is named (never a raised tick) and handed out once readable."""
    shared = Path(tempfile.mkdtemp(prefix="oneconnect-drop-"))  # reachable as nobody too
    try:
        shared.chmod(0o755)
        drop = watched(shared / "crm_drop", monkeypatch)
        drop.chmod(0o777)
        locked = drop_file(drop, ["Eve,0555000009,,"], name="locked.csv")
        drop_file(drop, ["Anna,0555123456,,"])
        deployment = Deployment(account, tmp_path / "wh.duckdb")
        with unreadable_to_us(locked):
            (request,) = deployment.tick(crm_drop_sensor)
            assert request.tags[crm_sync.FILE_TAG] == "export.csv"
            assert deployment.tick(crm_drop_sensor) == []
            assert "cannot read locked.csv: Permission denied" in (deployment.skip or "")
        assert deployment.execute(request).success
        (later,) = deployment.tick(crm_drop_sensor)  # readable again: handed out once
        assert later.tags[crm_sync.FILE_TAG] == "locked.csv"
        assert deployment.execute(later).success
        assert deployment.tick(crm_drop_sensor) == []
        names = sorted(c["first_name"] for c in account.api.get("/contacts").json())
        assert names == ["Anna", "Eve"]
    finally:
        shutil.rmtree(shared)


def test_settled_failures_are_reported_once_however_many_settle_in_one_tick(
    account: Sim, drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three files that cannot be synced, the first two settled in one tick, with a window
    of two runs: each is reported once, and later ticks report nothing again."""
    monkeypatch.setattr(crm_retry, "WINDOW", 2)
    deployment = Deployment(account, tmp_path / "wh.duckdb")

    def failed_headerless(name: str) -> None:
        (drop / name).write_text(f"Anna,0555 12 34 56,{name}\n")  # content of its own
        (drop / f"{name}.done").write_text("")
        (request,) = deployment.tick(crm_drop_sensor)
        assert not deployment.execute(request).success

    failed_headerless("a.csv")
    failed_headerless("b.csv")
    assert deployment.tick(crm_retry_sensor) == []
    assert deployment.skip is not None
    assert sorted(deployment.skip.split("; ")) == [
        f"{name}: not retried, the file itself cannot be synced (see the run)"
        for name in ("a.csv", "b.csv")
    ]
    failed_headerless("c.csv")
    assert deployment.tick(crm_retry_sensor) == []
    assert deployment.skip == "c.csv: not retried, the file itself cannot be synced (see the run)"
    for _ in range(2):
        assert deployment.tick(crm_retry_sensor) == []
        assert deployment.skip == "no failed CRM sync to retry"


def test_a_waiting_file_is_retried_however_many_other_syncs_failed_since(
    account: Sim, drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync failed while the API was down; then more files failed for good (no header).
    The sensor looked at the newest failed runs only (200 of them; 2 here): the waiting
    file dropped out of sight and was never retried. Waiting runs are found by their tag."""
    monkeypatch.setattr(crm_retry, "WINDOW", 2)
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    drop_file(drop, ["Anna,0555123456,,"], name="waiting.csv")
    account.admin.put("/faults", json={"error_rates": {"503": 1.0}})
    (request,) = deployment.tick(crm_drop_sensor)
    assert not deployment.execute(request).success
    account.admin.put("/faults", json={})
    for name in ("x.csv", "y.csv", "z.csv"):  # newer failures, settled at once (made as
        path = drop / name  # before the drop sensor waited: it would hold these now)
        path.write_text(f"Anna,0555 12 34 56,{name}\n")
        failing = crm_sync.run_request(ReadyFile(path, content_hash(path), 0, name))
        assert not deployment.execute(failing).success
    retried = []
    for _ in range(3):
        for request in deployment.tick(crm_retry_sensor):
            retried.append(request.tags[FILE_TAG])
            assert deployment.execute(request).success
    assert retried == ["waiting.csv"]
    assert [c["first_name"] for c in account.api.get("/contacts").json()] == ["Anna"]


def first_name(account: Sim, number: str) -> str | None:
    (contact,) = account.api.get("/contacts", params={"phone_number": number}).json()
    name: str | None = contact["first_name"]
    return name


def failed_while_down(deployment: Deployment, account: Sim, folder: L, name: str) -> None:
    """Anna's export ``name`` dropped and synced while the API answers 503 to everything:
    its run failed; the API is back."""
    drop_file(folder, ["Anna,0555123456,,"], name)
    account.admin.put("/faults", json={"error_rates": {"503": 1.0}})
    (request,) = deployment.tick(crm_drop_sensor)
    assert not deployment.execute(request).success
    account.admin.put("/faults", json={})


def sync_every_drop(deployment: Deployment) -> None:
    """Tick the drop sensor and run what it requests until it requests nothing more."""
    while requests := deployment.tick(crm_drop_sensor):
        for request in requests:
            assert deployment.execute(request).success


@pytest.mark.parametrize("names", [("day1.csv", "day2.csv", "day3.csv"), ("export.csv",) * 3])
def test_an_export_back_at_an_earlier_content_is_synced_again(
    account: Sim, drop: Path, tmp_path: Path, names: tuple[str, str, str]
) -> None:
    """A, B, then A again (Anna renamed, then renamed back; dated files or one name
    rewritten): the third export is a drop of its own, and the account ends as it says.
    Keyed by content alone, Dagster never ran it and Anna stayed Annette."""
    deployment = Deployment(account, tmp_path / "wh.duckdb")
    for name, first in zip(names, ["Anna", "Annette", "Anna"], strict=True):
        drop_file(drop, [f"{first},0555123456,,"], name)
        sync_every_drop(deployment)
        assert first_name(account, "995555123456") == first
    assert len(deployment.runs) == 3


def test_a_newer_export_waits_until_the_failed_older_one_settles(
    account: Sim, any_drop: Location, tmp_path: Path
) -> None:
    """Monday's export fails (the API is down); Tuesday's, dropped before Monday's retry,
    waits for it: the retry cannot come after Tuesday's sync and undo it."""
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    failed_while_down(deployment, account, any_drop, "monday.csv")
    drop_file(any_drop, ["Annette,0555123456,,"], "tuesday.csv")

    assert deployment.tick(crm_drop_sensor) == []
    run_id = deployment.runs[0].run_id[:8]
    assert f"1 export(s) wait (tuesday.csv) until run {run_id} for monday.csv settles" in (
        deployment.skip or ""
    )
    (retry,) = deployment.tick(crm_retry_sensor)
    assert retry.tags[ATTEMPT_TAG] == "2" and deployment.execute(retry).success
    assert first_name(account, "995555123456") == "Anna"
    assert deployment.tick(crm_drop_sensor) == []  # attempt 1 is settled at the next retry tick
    assert deployment.tick(crm_retry_sensor) == []
    (tuesday,) = deployment.tick(crm_drop_sensor)
    assert tuesday.tags[FILE_TAG] == "tuesday.csv" and deployment.execute(tuesday).success
    assert first_name(account, "995555123456") == "Annette"
    assert deployment.tick(crm_retry_sensor) == [] and deployment.tick(crm_drop_sensor) == []


def test_exports_ready_at_once_are_synced_one_at_a_time_oldest_written_first(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """Two exports found in one tick, their names in the other order than their writes:
    the older is synced first, the newer only after it, so the newer one's values stay."""
    older = drop_file(drop, ["Old,0555123456,,"], "b.csv")
    newer = drop_file(drop, ["New,0555123456,,"], "a.csv")
    for path, written in ((older, 1_700_000_000), (newer, 1_700_000_100)):
        os.utime(path, (written, written))
        os.utime(drop / f"{path.name}.done", (written + 1, written + 1))
    deployment = Deployment(account, tmp_path / "wh.duckdb")
    sync_every_drop(deployment)
    assert [run.dagster_run.tags[FILE_TAG] for run in deployment.runs] == ["b.csv", "a.csv"]
    assert first_name(account, "995555123456") == "New"


def test_an_export_rewritten_or_removed_before_its_turn_is_not_synced_as_it_was(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """While a failed sync holds the queue, one waiting export is rewritten (its new
    content takes its place) and another removed (dropped from the queue, with a warning:
    its run could only fail)."""
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    failed_while_down(deployment, account, drop, "monday.csv")
    drop_file(drop, ["Bob,0555123457,,"], "tuesday.csv")
    removed = drop_file(drop, ["Carl,0555123458,,"], "wednesday.csv")
    assert deployment.tick(crm_drop_sensor) == []
    assert "2 export(s) wait (tuesday.csv, wednesday.csv)" in (deployment.skip or "")
    drop_file(drop, ["Bea,0555123457,,"], "tuesday.csv")  # rewritten, marked anew
    removed.unlink()
    assert deployment.tick(crm_drop_sensor) == []
    assert "1 export(s) wait (tuesday.csv)" in (deployment.skip or "")
    for request in deployment.tick(crm_retry_sensor):
        assert deployment.execute(request).success
    assert deployment.tick(crm_retry_sensor) == []  # settles the failed attempt
    sync_every_drop(deployment)
    names = sorted(c["first_name"] for c in account.api.get("/contacts").json())
    assert names == ["Anna", "Bea"]


def test_a_failed_export_is_not_read_again_while_its_backoff_runs(
    account: Sim, any_drop: Location, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry sensor reads a failed export (to see it is unchanged) only when its next
    attempt is due: on S3 every tick of an hour's backoff was a download of the file."""
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    failed_while_down(deployment, account, any_drop, "export.csv")
    read: list[str] = []

    def counted(path: Location) -> str:
        read.append(path.name)
        return content_hash(path)

    monkeypatch.setattr(crm_retry, "content_hash", counted)
    waiting = dataclasses.replace(SETTINGS, crm_retry_backoff_s=3600.0, crm_retry_attempts=5)
    monkeypatch.setattr(crm_retry, "SETTINGS", waiting)
    for _ in range(3):
        assert deployment.tick(crm_retry_sensor) == []
        assert "export.csv: attempt 2 in 3" in (deployment.skip or "")
    assert read == []
    monkeypatch.setattr(crm_retry, "SETTINGS", dataclasses.replace(waiting, crm_retry_backoff_s=0))
    (retry,) = deployment.tick(crm_retry_sensor)
    assert read == ["export.csv"] and deployment.execute(retry).success


def test_a_lost_cursor_does_not_hold_a_new_export_behind_the_synced_ones(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """The drop sensor's cursor is lost (reset) over a folder of synced exports: the scan
    hands them all out again; they are not requested again (their run keys are taken),
    and the new export is requested at the first tick, not after one tick per old one."""
    deployment = Deployment(account, tmp_path / "wh.duckdb")
    for index in range(3):
        drop_file(drop, [f"P{index},055512345{index},,"], f"day{index}.csv")
        sync_every_drop(deployment)
    deployment.cursors[crm_drop_sensor.name] = None
    drop_file(drop, ["New,0555123459,,"], "day3.csv")
    (request,) = deployment.tick(crm_drop_sensor)
    assert request.tags[FILE_TAG] == "day3.csv"
    assert deployment.execute(request).success
    assert deployment.tick(crm_drop_sensor) == [] and len(deployment.runs) == 4


def test_a_synced_export_renamed_is_not_synced_again(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """Monday's export synced, then Tuesday's; Monday's file is renamed (archived under
    another name): the same drop, so it is not synced again over Tuesday's values."""
    deployment = Deployment(account, tmp_path / "wh.duckdb")
    monday = drop_file(drop, ["Anna,0555123456,,"], "contacts.csv")
    sync_every_drop(deployment)
    drop_file(drop, ["Annette,0555123456,,"], "contacts-2.csv")
    sync_every_drop(deployment)
    monday.rename(drop / "contacts-1.csv")
    for _ in range(3):
        assert deployment.tick(crm_drop_sensor) == []
    assert first_name(account, "995555123456") == "Annette"


def test_a_failed_run_re_executed_by_hand_does_not_hold_the_queue(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """Attempt 3 was requested while attempt 2 waited; a person re-executes attempt 2 (the
    UI copies its tags, attempt number included) and it fails. Attempt 3 speaks for the
    file: the re-execution is settled, not retried as a third attempt 3 (a run key
    Dagster has taken: nothing would run, and the drop queue would wait forever)."""
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    drop_file(drop, ["Anna,0555123456,,"], "monday.csv")
    account.admin.put("/faults", json={"error_rates": {"503": 1.0}})
    (first,) = deployment.tick(crm_drop_sensor)
    assert not deployment.execute(first).success
    (second,) = deployment.tick(crm_retry_sensor)
    assert not deployment.execute(second).success
    (third,) = deployment.tick(crm_retry_sensor)
    assert third.tags[ATTEMPT_TAG] == "3" and not deployment.execute(third).success
    parent = deployment.runs[1].dagster_run
    copied = {k: v for k, v in parent.tags.items() if not k.startswith("dagster/")}
    assert not deployment.execute(dg.RunRequest(run_config=parent.run_config, tags=copied)).success
    account.admin.put("/faults", json={})
    drop_file(drop, ["Annette,0555123456,,"], "tuesday.csv")
    for _ in range(4):
        for sensor in (crm_retry_sensor, crm_drop_sensor):
            for request in deployment.tick(sensor):
                assert deployment.execute(request).success
    tagged = [run.dagster_run.tags for run in deployment.runs]
    attempts = [(tags[FILE_TAG], tags[ATTEMPT_TAG]) for tags in tagged]
    assert attempts[4:] == [("monday.csv", "4"), ("tuesday.csv", "1")]
    assert first_name(account, "995555123456") == "Annette"


def test_a_failure_from_before_drops_were_tagged_is_settled_by_its_later_attempt(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """After an upgrade: attempt 1 of Monday's export (keyed and tagged by content only, as
    before) failed and its attempt 2 succeeded, but attempt 1 was not settled yet. It is
    settled now (its later attempt found by content), so Tuesday's export goes ahead."""
    deployment = Deployment(account, tmp_path / "wh.duckdb", retry_attempts=1)
    path = drop_file(drop, ["Anna,0555123456,,"], "monday.csv")
    sha = content_hash(path)
    config = {"ops": {"sync_crm_file": {"config": {"path": str(path), "sha256": sha}}}}
    old = {FILE_TAG: path.name, "crm/sha256": sha, ATTEMPT_TAG: "1", "crm/retry_state": "open"}
    account.admin.put("/faults", json={"error_rates": {"503": 1.0}})
    assert not deployment.execute(dg.RunRequest(run_key=sha, run_config=config, tags=old)).success
    account.admin.put("/faults", json={})
    again = dg.RunRequest(run_key=f"{sha}:2", run_config=config, tags={**old, ATTEMPT_TAG: "2"})
    assert deployment.execute(again).success
    deployment.tick(crm_drop_sensor)  # first sight of the folder; monday.csv is marked done
    drop_file(drop, ["Annette,0555123456,,"], "tuesday.csv")
    for _ in range(3):
        for sensor in (crm_retry_sensor, crm_drop_sensor):
            for request in deployment.tick(sensor):
                assert deployment.execute(request).success
    assert first_name(account, "995555123456") == "Annette"
