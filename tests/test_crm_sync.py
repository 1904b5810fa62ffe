"""CRM sync end to end: a file dropped, the sensor evaluated, the run executed, the
account checked in the simulator; then the same file again writes nothing."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

import dagster as dg
import duckdb
import httpx
import pytest

import assets.crm_sync as crm_sync
from assets.crm_sync import crm_contacts_sync, crm_drop_sensor, sync_counts
from assets.settings import SETTINGS
from assets.warehouse import WarehouseResource
from oneconnect_pipelines.client import OneConnect
from oneconnect_pipelines.crm import (
    ColumnMapping,
    MappingError,
    NormaliseOptions,
    SyncOptions,
    SyncPlan,
    plan_sync,
    prepare,
    sync_file,
)
from oneconnect_pipelines.crm.apply import ApplyOptions, apply_plan
from oneconnect_pipelines.crm.dropfolder import content_hash
from oneconnect_pipelines.crm.outcomes import write_report
from oneconnect_pipelines.storage import Location, shown

from .conftest import API_KEY, EMAIL, EMPTY, Sim
from .extract_helpers import private_sim, resource
from .objectstore import drop_folder
from .sim_helpers import store_off_contract, wait_for

EXPORT = (
    "\ufeffFirst Name;Last Name;Mobile Phone;Date of Birth;Email\n"
    "Anna;Smith;0555 12 34 56;05.05.1997;anna@example.com\n"
    "Giorgi;Beridze;+995 555 123457;29/02/2000;g@example.com\n"
    "Bad;Phone;12;01.01.1980;\n"
    "Anna;Twice;0555123456;;\n"
    "Nino;Kapanadze;555123458;1985-07-14;nino@example.com\n"
)
MAPPING = "lists: [CRM customers]\n"
L = TypeVar("L", bound=Location)


@pytest.fixture
def account() -> Iterator[Sim]:
    with private_sim(EMPTY) as sim:
        yield sim


def watched(folder: L, monkeypatch: pytest.MonkeyPatch) -> L:
    """``folder`` as the drop folder the sensor watches (with a mapping.yaml); the reports
    go to the ``exports`` folder beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mapping.yaml").write_text(MAPPING)
    settings = dataclasses.replace(
        SETTINGS, crm_drop_dir=folder, export_dir=folder.parent / "exports"
    )
    monkeypatch.setattr(crm_sync, "SETTINGS", settings)
    return folder


@pytest.fixture
def drop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return watched(tmp_path / "crm_drop", monkeypatch)


@pytest.fixture(params=["local", "s3"])
def any_drop(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Location:
    """A local drop folder, or one in an S3 bucket (reports to the same bucket): runs that
    execute on other machines share files through object storage."""
    return watched(drop_folder(request, tmp_path), monkeypatch)


def run(sim: Sim, warehouse: Path, run_config: Mapping[str, Any]) -> dict[str, int]:
    result = crm_contacts_sync.execute_in_process(
        run_config=run_config,
        resources={
            "oneconnect": resource(sim),
            "warehouse": WarehouseResource(url=str(warehouse)),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    counts: dict[str, int] = sync_counts(result)
    return counts


def dropped(folder: L, name: str = "export.csv", text: str = EXPORT) -> L:
    path = cast(L, folder / name)  # a Path in a Path, a UPath in a UPath
    path.write_text(text, encoding="utf-8")
    (folder / f"{name}.done").write_text("")
    return path


def config(path: Location, **options: Any) -> dict[str, Any]:
    return {"ops": {"sync_crm_file": {"config": {"path": str(path), **options}}}}


def contacts(sim: Sim) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sim.api.get("/contacts").json()
    return found


def test_a_dropped_file_becomes_contacts_a_list_and_a_log(
    account: Sim, any_drop: Location, tmp_path: Path
) -> None:
    drop = any_drop
    path = dropped(drop)
    instance = dg.DagsterInstance.ephemeral()
    tick = crm_drop_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(tick, dg.SensorResult)
    assert [r.tags["crm/file"] for r in tick.run_requests or []] == ["export.csv"]
    request = (tick.run_requests or [])[0]
    warehouse = tmp_path / "wh.duckdb"
    counts = run(account, warehouse, request.run_config)
    assert counts == {
        "rows": 5,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
        "failed": 0,
    }
    numbers = {c["phone_number"]: c for c in contacts(account)}
    assert set(numbers) == {"995555123456", "995555123457", "995555123458"}
    assert numbers["995555123456"]["birthday"] == "05/05/1997"
    assert numbers["995555123457"]["birthday"] == "29/02/2000"
    crm_list = account.api.get("/lists", params={"name": "CRM customers"}).json()
    assert sorted(m["phone_number"] for m in crm_list["members"]) == sorted(numbers)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        log = connection.execute(
            "SELECT row, outcome, reason, contact_id, match_key FROM crm.sync_log ORDER BY row"
        ).fetchall()
    assert [(row, outcome) for row, outcome, *_ in log] == [
        (2, "created"),
        (3, "created"),
        (4, "rejected"),
        (5, "rejected"),
        (6, "created"),
    ]
    assert all("995555" not in str(key) or "*" in str(key) for *_, key in log)
    assert "same number as row 2" in str(log[3][2])
    reports: list[Location] = list(
        (drop.parent / "exports" / "crm_reports").glob("export.*.rejected.csv")
    )
    assert len(reports) == 1 and "row" in reports[0].read_text()
    # the next tick: the file is known, nothing is requested again
    again = crm_drop_sensor(dg.build_sensor_context(instance=instance, cursor=tick.cursor))
    assert isinstance(again, dg.SensorResult)
    assert again.run_requests == []
    assert again.skip_reason is not None
    assert f"no new complete export in {shown(drop)}" in str(again.skip_reason.skip_message)
    assert request.run_key == request.tags["crm/drop"]
    assert request.run_key.startswith(f"{content_hash(path)}:")  # and its write time


def test_the_same_file_again_writes_nothing(
    account: Sim, any_drop: Location, tmp_path: Path
) -> None:
    drop = any_drop
    path = dropped(drop)
    warehouse = tmp_path / "wh.duckdb"
    run(account, warehouse, config(path))
    account.admin.delete("/stats")
    counts = run(account, warehouse, config(path))
    assert counts["created"] == counts["updated"] == 0
    assert counts["unchanged"] == 3
    assert account.stats()["writes"] == 0


def test_the_same_file_again_writes_nothing_on_a_german_account(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """A German account stores 4915123456789; read as a German national number that
    would be 494915123456789, and every row would be created again."""
    path = dropped(
        drop,
        text="Mobile Phone,First Name\n+49 151 23456789,Anna\n0170 1234567,Ben\n"
        "+49 30 1234567,Clara\n",
    )
    warehouse = tmp_path / "wh.duckdb"
    assert run(account, warehouse, config(path, region="DE"))["created"] == 3
    account.admin.delete("/stats")
    assert run(account, warehouse, config(path, region="DE"))["unchanged"] == 3
    assert account.stats()["writes"] == 0


def test_a_dry_run_plans_the_same_and_writes_nothing(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    path = dropped(drop)
    counts = run(account, tmp_path / "wh.duckdb", config(path, dry_run=True))
    assert counts["created"] == 3
    assert account.stats()["writes"] == 0
    assert contacts(account) == []


def test_only_changed_fields_are_written_and_empty_cells_erase_nothing(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    path = dropped(drop)
    warehouse = tmp_path / "wh.duckdb"
    run(account, warehouse, config(path))
    changed = EXPORT.replace(
        "Anna;Smith;0555 12 34 56;05.05.1997;anna@example.com",
        "Anna;Smith-Jones;0555 12 34 56;;anna@example.com",
    )
    account.admin.delete("/stats")
    counts = run(account, warehouse, config(dropped(drop, text=changed)))
    assert counts["updated"] == 1 and counts["unchanged"] == 2
    assert account.stats()["routes"] == {
        "PATCH /contacts/:id": 1,
        "GET /contacts": 1,
        "GET /lists": 1,
    }
    anna = next(c for c in contacts(account) if c["phone_number"] == "995555123456")
    assert anna["last_name"] == "Smith-Jones"
    assert anna["birthday"] == "05/05/1997"  # the empty cell did not erase it
    # exactly the changed field went over the wire: no other field, no empty birthday
    assert account.admin.get("/writes").json() == [
        {
            "method": "PATCH",
            "route": "/contacts/:id",
            "path": f"/contacts/{anna['id']}",
            "form": {"last_name": "Smith-Jones"},
        }
    ]


def test_mirror_mode_removes_members_no_longer_in_the_export(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh.duckdb"
    run(account, warehouse, config(dropped(drop)))
    shorter = "\n".join(EXPORT.splitlines()[:2]) + "\n"
    run(account, warehouse, config(dropped(drop, "shorter.csv", shorter), mirror=True))
    members = account.api.get("/lists", params={"name": "CRM customers"}).json()["members"]
    assert [m["phone_number"] for m in members] == ["995555123456"]
    assert len(contacts(account)) == 3  # mirror empties the list, never deletes contacts


class RefusingUpdates(httpx.HTTPTransport):
    """Real loopback HTTP, except that updates of the given contacts are refused."""

    def __init__(self, contact_ids: set[int]) -> None:
        super().__init__()
        self.paths = {f"/contacts/{contact_id}" for contact_id in contact_ids}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and any(request.url.path.endswith(p) for p in self.paths):
            return httpx.Response(422, json={"errors": ["First name is invalid"]})
        return super().handle_request(request)


def vip_list(sim: Sim, people: dict[str, str]) -> dict[str, int]:
    """A list VIP of new contacts (name -> number); their ids by name."""
    ids = {
        name: sim.api.post("/contacts", data={"phone_number": number, "first_name": name}).json()[
            "id"
        ]
        for name, number in people.items()
    }
    sim.api.post("/lists", data={"name": "VIP", "members": ",".join(map(str, ids.values()))})
    return ids


def vip_members(sim: Sim) -> list[str]:
    members = sim.api.get("/lists", params={"name": "VIP"}).json()["members"]
    return sorted(m["first_name"] for m in members)


MIRROR = ApplyOptions(lists=("VIP",), mirror=True)


def test_mirror_mode_keeps_the_members_whose_rows_were_rejected_or_failed(
    account: Sim, tmp_path: Path
) -> None:
    """Bob's row has a typo in the e-mail, Cara's update is refused by the server: both
    stay in the list (their rows are in the file); only Dan, whom no row names, goes."""
    numbers = {"Anna": "995555000001", "Bob": "995555000002", "Cara": "995555000003"}
    ids = vip_list(account, {**numbers, "Dan": "995555000004"})
    path = tmp_path / "vip.csv"
    path.write_text(
        "Mobile Phone,First Name,Email\n"
        "0555000001,Anna,\n"
        "0555000002,Bob,bob(at)example.com\n"
        "0555000003,Carla,\n"
    )
    transport = RefusingUpdates({ids["Cara"]})
    with OneConnect(account.base_url, EMAIL, API_KEY, transport=transport) as client:
        sync = sync_file(client, path, SyncOptions(mapping=ColumnMapping(), apply=MIRROR))
    outcomes = dict(zip(sync.result.rows["row"], sync.result.rows["outcome"], strict=True))
    assert outcomes == {2: "unchanged", 3: "rejected", 4: "failed"}
    assert vip_members(account) == ["Anna", "Bob", "Cara"]
    (change,) = sync.result.lists
    assert (change.removed, change.kept, change.note) == (1, 2, None)
    assert not sync.result.complete  # Cara's row is retried by the next attempt


@pytest.mark.parametrize(
    ("text", "kept", "note"),
    [
        (
            "Mobile Phone;First Name\n0555000001;Anna\n0555000004;Dan;VIP\n",
            1,
            "no member removed: row(s) 3 could not be read",
        ),
        # a CRM export job that fails after writing its header would empty the list
        ("Mobile Phone,First Name\n", 2, "no member removed: the file has no rows"),
        # saved again by a spreadsheet, every number in scientific notation: rejected
        # rows naming nobody emptied the list, and the run reported success
        (
            "Mobile Phone,First Name\n9.95555E+11,Anna\n9.95555E+11,Dan\n",
            2,
            "no member removed: row(s) 2, 3 have a phone number that could not be read "
            "(whose they are is unknown)",
        ),
        # one cell with a note in it cost Dan the list
        (
            "Mobile Phone,First Name\n0555000001,Anna\n0555 00 00 04 (mobile),Dan\n",
            1,
            "no member removed: row(s) 3 have a phone number that could not be read "
            "(whose they are is unknown)",
        ),
    ],
    ids=["a row could not be read", "no rows", "numbers in scientific notation", "a note"],
)
def test_mirror_mode_removes_nobody_while_it_cannot_tell_who_left(
    account: Sim, tmp_path: Path, text: str, kept: int, note: str
) -> None:
    vip_list(account, {"Anna": "995555000001", "Dan": "995555000004"})
    path = tmp_path / "vip.csv"
    path.write_text(text)
    with OneConnect(account.base_url, EMAIL, API_KEY) as client:
        sync = sync_file(client, path, SyncOptions(mapping=ColumnMapping(), apply=MIRROR))
    assert vip_members(account) == ["Anna", "Dan"]
    (change,) = sync.result.lists
    assert (change.removed, change.kept, change.note) == (0, kept, note)


def test_a_dry_run_counts_the_contacts_it_would_create_as_added_to_the_lists(
    account: Sim, tmp_path: Path
) -> None:
    vip_list(account, {"Anna": "995555000001"})
    path = tmp_path / "vip.csv"
    path.write_text("Mobile Phone,First Name\n0555000001,Anna\n0555000002,Bob\n0555000003,Cy\n")
    with OneConnect(account.base_url, EMAIL, API_KEY) as client:
        planned, done = (
            sync_file(
                client,
                path,
                SyncOptions(ColumnMapping(), apply=ApplyOptions(("VIP",), dry_run=dry)),
            ).result.lists
            for dry in (True, False)
        )
    assert (planned[0].added, done[0].added) == (2, 2)


def test_a_list_named_with_spaces_around_is_the_same_list_on_every_run(
    account: Sim, tmp_path: Path
) -> None:
    """OneConnect keeps a created list's name stripped: looked up as given (" VIP "), it
    was missing on the second run, whose create was refused, forever."""
    path = tmp_path / "vip.csv"
    path.write_text("Mobile Phone,First Name\n0555000001,Anna\n")
    options = SyncOptions(mapping=ColumnMapping(), apply=ApplyOptions(lists=(" VIP ", "VIP")))
    with OneConnect(account.base_url, EMAIL, API_KEY) as client:
        first, again = (sync_file(client, path, options).result for _ in range(2))
    assert [(c.name, c.created, c.error) for c in first.lists] == [("VIP", True, None)]
    assert [(c.name, c.created, c.error) for c in again.lists] == [("VIP", False, None)]
    assert again.complete and vip_members(account) == ["Anna"]


def test_a_blank_list_name_is_refused_naming_it() -> None:
    with pytest.raises(MappingError, match=r"a target list's name is blank \(lists\)"):
        ApplyOptions(lists=("VIP", "  "))


def test_faults_during_apply_end_in_the_state_of_a_clean_run(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    rows = ["First Name,Mobile Phone"] + [f"P{i},0555{i:06d}" for i in range(60)]
    path = dropped(drop, text="\n".join(rows) + "\n")
    account.admin.put(
        "/faults",
        json={
            "error_rates": {"500": 0.15, "429": 0.1},
            "drop_rate": 0.1,
            "retry_after_s": 0,
            "seed": 5,
        },
    )
    warehouse = tmp_path / "wh.duckdb"
    first = run(account, warehouse, config(path))
    assert first["rows"] == 60 == sum(v for k, v in first.items() if k != "rows")
    account.admin.put("/faults", json={})
    run(account, warehouse, config(path))  # the next run retries whatever failed
    numbers = [c["phone_number"] for c in contacts(account)]
    assert sorted(numbers) == [f"995555{i:06d}" for i in range(60)]
    assert len(numbers) == len(set(numbers)) == 60
    members = account.api.get("/lists", params={"name": "CRM customers"}).json()["members"]
    assert len(members) == 60


def cli_env(sim: Sim, tmp_path: Path) -> dict[str, str]:
    """The command's whole environment: the account, the warehouse, and the object
    store's variables (set while the session's S3-compatible server runs)."""
    return {
        **{name: value for name, value in os.environ.items() if name.startswith("AWS_")},
        "ONECONNECT_BASE_URL": sim.base_url,
        "ONECONNECT_WAREHOUSE": str(tmp_path / "w.db"),
        "ONECONNECT_EXPORT_DIR": str(tmp_path / "exports"),
        "PATH": "/usr/bin:/bin",
    }


def oneconnect(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "assets.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_oneconnect_sync_prints_counts_that_add_up(
    account: Sim, any_drop: Location, tmp_path: Path
) -> None:
    path = dropped(any_drop)  # an s3:// URL for the bucket's
    process = oneconnect("sync", str(path), "--dry-run", "--json", env=cli_env(account, tmp_path))
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    counts = json.loads(out.strip().splitlines()[-1])
    assert set(counts) == {"rows", "created", "updated", "unchanged", "rejected", "failed"}
    assert counts["rows"] == sum(v for k, v in counts.items() if k != "rows") == 5
    with duckdb.connect(str(tmp_path / "w.db"), read_only=True) as connection:
        logged = connection.execute("SELECT count(*), min(run_id) FROM crm.sync_log").fetchone()
    assert logged is not None and logged[0] == 5 and str(logged[1]).startswith("cli-")


def test_two_cli_runs_of_one_file_keep_two_reports(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    """``oneconnect sync`` names its runs ``cli-`` and 32 hex digits; the report was named
    by the first 8 characters, ``cli-`` and 4 hex digits, so two runs of one file could
    share a report and the later overwrote the earlier."""
    path = dropped(drop)
    options = SyncOptions(mapping=ColumnMapping(), apply=ApplyOptions(dry_run=True))
    with OneConnect(account.base_url, EMAIL, API_KEY) as client:
        sync = sync_file(client, path, options)
    exports = tmp_path / "exports"
    # two runs whose ids share their first 4 hex digits (a year of daily runs: likely)
    reports = [write_report(sync, exports, f"cli-abcd{uuid.uuid4().hex[4:]}") for _ in "ab"]
    written = sorted((exports / "crm_reports").iterdir())
    assert len(written) == 2 and sorted(str(report) for report in reports) == list(
        map(str, written)
    )
    for report in written:
        assert [line.split(",")[0] for line in report.read_text().splitlines()] == [
            "row",
            "4",
            "5",
        ]
    dagster_run = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"  # as Dagster's UI shows it
    dagster_report = write_report(sync, exports, dagster_run)
    assert dagster_report is not None and dagster_report.name == "export.1a2b3c4d.rejected.csv"


def test_oneconnect_sync_killed_halfway_then_again_ends_like_one_clean_run(
    drop: Path, tmp_path: Path
) -> None:
    """``kill -9`` in the middle of the writes; the rerun makes only the writes that are
    left (the creates not yet made, the list, its one membership batch)."""
    rows = 400
    lines = ["First Name,Mobile Phone"] + [f"P{i},0555{i:06d}" for i in range(rows)]
    path = dropped(drop, text="\n".join(lines) + "\n")
    with private_sim(EMPTY) as clean, private_sim(EMPTY) as killed:
        env = cli_env(clean, tmp_path / "clean")
        assert oneconnect("sync", str(path), env=env).wait(180) == 0
        killed.admin.put("/faults", json={"latency_ms": 25})
        env = cli_env(killed, tmp_path / "killed")
        process = oneconnect("sync", str(path), env=env)
        assert wait_for(lambda: killed.stats()["writes"] >= rows // 3, timeout_s=120)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        killed.admin.put("/faults", json={})
        time.sleep(0.5)  # requests already sent when it died are still answered
        made = len(contacts(killed))
        assert 0 < made < rows
        killed.admin.delete("/stats")
        rerun = oneconnect("sync", str(path), "--json", env=env)
        out, err = rerun.communicate(timeout=180)
        assert rerun.returncode == 0, err
        counts = json.loads(out.strip().splitlines()[-1])
        assert (counts["created"], counts["unchanged"]) == (rows - made, made)
        assert killed.stats()["writes"] == (rows - made) + 1 + 1  # creates, list, batch

        def state(sim: Sim) -> tuple[list[tuple[str, str]], list[str]]:
            people = sorted((c["phone_number"], c["first_name"]) for c in contacts(sim))
            members = sim.api.get("/lists", params={"name": "CRM customers"}).json()["members"]
            return people, sorted(m["phone_number"] for m in members)

        assert state(killed) == state(clean)
        assert len(state(killed)[1]) == rows


def test_a_run_killed_halfway_then_run_again_ends_like_one_clean_run(
    drop: Path, tmp_path: Path
) -> None:
    lines = ["First Name,Mobile Phone,Email"] + [
        f"P{i},0555{i:06d},p{i}@example.com" for i in range(40)
    ]
    path = dropped(drop, text="\n".join(lines) + "\n")
    with private_sim(EMPTY) as clean, private_sim(EMPTY) as killed:
        run(clean, tmp_path / "clean.duckdb", config(path))
        options = NormaliseOptions()
        rows, _ = prepare(path, ColumnMapping.for_drop_folder(drop), options)
        with OneConnect(killed.base_url, EMAIL, API_KEY) as client:
            plan = plan_sync(rows, [], options.phones())
            # the process dies after half the writes, before any list membership
            apply_plan(client, SyncPlan(plan.rows.iloc[:20]), ApplyOptions())
        run(killed, tmp_path / "killed.duckdb", config(path))

        def state(sim: Sim) -> tuple[list[tuple[str, str]], list[str]]:
            people = sorted((c["phone_number"], c["first_name"]) for c in contacts(sim))
            members = sim.api.get("/lists", params={"name": "CRM customers"}).json()["members"]
            return people, sorted(m["phone_number"] for m in members)

        assert state(killed) == state(clean)
        assert len(state(killed)[0]) == 40


def test_the_job_and_the_sensor_are_in_the_code_location() -> None:
    from assets.definitions import defs

    assert defs.resolve_job_def("crm_contacts_sync").name == "crm_contacts_sync"
    assert defs.resolve_sensor_def("crm_drop_sensor").job_name == "crm_contacts_sync"
    assert defs.resolve_sensor_def("crm_retry_sensor").job_name == "crm_contacts_sync"


def test_drop_sense_sync_greet_then_the_same_file_again_writes_nothing(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    from assets.birthday import birthday_after_crm_sync, birthday_campaigns_sync

    instance = dg.DagsterInstance.ephemeral()
    resources = {
        "oneconnect": resource(account),
        "warehouse": WarehouseResource(url=str(tmp_path / "wh.duckdb")),
    }

    def sync_and_greet(run_config: Mapping[str, Any]) -> None:
        crm = crm_contacts_sync.execute_in_process(
            run_config=run_config, resources=resources, instance=instance
        )
        follow = birthday_after_crm_sync(
            dg.build_run_status_sensor_context(
                sensor_name=birthday_after_crm_sync.name,
                dagster_instance=instance,
                dagster_run=crm.dagster_run,
                dagster_event=crm.get_run_success_event(),
            )
        )
        assert isinstance(follow, dg.RunRequest)
        greet = birthday_campaigns_sync.execute_in_process(
            run_config=follow.run_config,
            resources={"oneconnect": resource(account)},
            instance=instance,
        )
        assert greet.success

    dropped(drop)
    tick = crm_drop_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(tick, dg.SensorResult) and tick.run_requests
    sync_and_greet(tick.run_requests[0].run_config)
    crm_list = account.api.get("/lists", params={"name": "CRM customers"}).json()
    assert len(crm_list["members"]) == 3
    greetings = account.api.get("/birthday_campaigns").json()
    assert [(g["active"], g["recipient_lists"]) for g in greetings] == [(True, [crm_list["id"]])]

    account.admin.delete("/stats")
    sync_and_greet(tick.run_requests[0].run_config)
    assert account.stats()["writes"] == 0


def test_a_mapping_in_run_config_names_columns_and_lists(
    account: Sim, drop: Path, tmp_path: Path
) -> None:
    path = dropped(drop, "odd.csv", "Handy;Vorname\n0555 11 22 33;Lena\n")
    mapping = {
        "lists": ["Run config list"],
        "columns": {"phone_number": "Handy", "first_name": "Vorname"},
    }
    counts = run(account, tmp_path / "wh.duckdb", config(path, mapping=mapping))
    assert counts["created"] == 1
    (lena,) = contacts(account)
    assert (lena["phone_number"], lena["first_name"]) == ("995555112233", "Lena")
    members = account.api.get("/lists", params={"name": "Run config list"}).json()["members"]
    assert [m["first_name"] for m in members] == ["Lena"]


def test_a_drop_folder_that_is_not_there_is_named_in_the_skip_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "not-mounted"
    settings = dataclasses.replace(SETTINGS, crm_drop_dir=missing)
    monkeypatch.setattr(crm_sync, "SETTINGS", settings)
    tick = crm_drop_sensor(dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral()))
    assert isinstance(tick, dg.SensorResult) and tick.skip_reason is not None
    assert tick.skip_reason.skip_message == (
        f"the drop folder {missing} does not exist or is empty (ONECONNECT_CRM_DROP_DIR)"
    )


def test_a_list_with_a_member_the_client_cannot_read_is_still_synced(
    account: Sim, tmp_path: Path
) -> None:
    """Dan's birthday is stored in a form no reader knows: the list's membership is read
    from its ids alone, so Bea still joins it (the whole list record failed to read, on
    every attempt)."""
    ids = vip_list(account, {"Anna": "995555000001", "Dan": "995555000004"})
    store_off_contract(account, ids["Dan"], birthday="sometime in May")
    path = tmp_path / "vip.csv"
    path.write_text("Mobile Phone;First Name\n0555000001;Anna\n0555000002;Bea\n")
    options = SyncOptions(mapping=ColumnMapping(), apply=ApplyOptions(lists=("VIP",)))
    with OneConnect(account.base_url, EMAIL, API_KEY) as client:
        sync = sync_file(client, path, options)
    (change,) = sync.result.lists
    assert (change.error, change.added, change.removed) == (None, 1, 0)
    assert sync.result.complete
    assert vip_members(account) == ["Anna", "Bea", "Dan"]
