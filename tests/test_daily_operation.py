"""What a team running the code location every day relies on: backfills that re-read only
the messages, freshness that turns red on a missed day, one timezone for partitions and
``sent_local`` (across a daylight-saving change), and the two jobs' split."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import httpx
import pytest
from dagster._core.test_utils import freeze_time
from dagster._utils.schedules import cron_string_iterator, reverse_cron_string_iterator

from assets.checks import FRESHNESS, FRESHNESS_DEADLINE, freshness_checks, snapshot_max_age
from assets.definitions import defs
from assets.extract import EXTRACT_ASSETS, contacts
from assets.resources import OneConnectResource
from assets.warehouse import warehouse_resources
from oneconnect_pipelines.simulator import SeedSizes, SimClock, Simulator, SimulatorThread

from .conftest import API_KEY, EMAIL, TZ, Sim, default_account
from .extract_helpers import RECENT, local_day, private_sim, resource, rows

ROOT = Path(__file__).resolve().parent.parent


def run_job(sim: Sim, warehouse: Path, job: str, **options: object) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def(job).execute_in_process(
        resources={
            "oneconnect": resource(sim),
            **warehouse_resources(str(warehouse)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        **options,  # type: ignore[arg-type]
    )
    assert result.success
    return result


def test_a_backfill_of_n_days_lists_the_messages_n_times_and_nothing_else(
    tmp_path: Path,
) -> None:
    """What a backfill of oneconnect_messages launches: one run per day, each reading
    that day's messages (one page here) and no contact, list or campaign."""
    with private_sim(RECENT) as sim:
        days = sorted({local_day(m).isoformat() for m in sim.api.get("/messages").json()})[-3:]
        sim.admin.delete("/stats")
        warehouse = tmp_path / "wh.duckdb"
        for day in days:
            run_job(sim, warehouse, "oneconnect_messages", partition_key=day)
        routes = sim.stats()["routes"]
        assert routes == {"GET /messages": len(days)}
        stored = rows(
            warehouse, "SELECT count(DISTINCT sent_local::DATE) AS n FROM oneconnect.messages"
        )
        assert stored[0]["n"] == len(days)
        rates = rows(warehouse, "SELECT count(DISTINCT day) AS n FROM analytics.delivery_rates")
        assert rates[0]["n"] == len(days)
        sim.admin.delete("/stats")
        run_job(sim, warehouse, "oneconnect_snapshot")
        once = sim.stats()["routes"]
        assert once["GET /contacts"] == 1 and "GET /messages" not in once


def expected_partition(now: datetime) -> str:
    """The messages day whose partition must be in by the latest 02:00 (account time)."""
    tick = next(reverse_cron_string_iterator(now.timestamp(), FRESHNESS_DEADLINE, str(TZ)))
    return tick.astimezone(TZ).date().isoformat()


def freshness(
    instance: dg.DagsterInstance,
    warehouse: Path,
    checks: list[dg.AssetChecksDefinition] = FRESHNESS,
) -> dict[str, bool]:
    """Every freshness check evaluated as the sensor would: asset -> passed."""
    result = dg.materialize(
        [*EXTRACT_ASSETS, *checks],
        selection=dg.AssetSelection.checks(*checks),
        instance=instance,
        resources={"oneconnect": resource_placeholder(), **warehouse_resources(str(warehouse))},
    )
    return {e.asset_key.to_user_string(): e.passed for e in result.get_asset_check_evaluations()}


def resource_placeholder() -> OneConnectResource:
    return OneConnectResource(base_url="http://127.0.0.1:9/api/v1")  # never called


def test_a_missed_day_turns_the_freshness_checks_red(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    warehouse = tmp_path / "wh.duckdb"
    missed = freshness(instance, warehouse)
    assert missed and not any(missed.values())  # nothing ran: every table is overdue
    with private_sim(RECENT) as sim:
        day = expected_partition(datetime.now(UTC))
        for job, options in (
            ("oneconnect_snapshot", {}),
            ("oneconnect_messages", {"partition_key": day}),
        ):
            defs.resolve_job_def(job).execute_in_process(
                resources={
                    "oneconnect": resource(sim),
                    **warehouse_resources(str(warehouse)),
                },
                instance=instance,
                **options,  # type: ignore[arg-type]
            )
    fresh = freshness(instance, warehouse)
    assert set(fresh) == set(missed)
    assert all(fresh.values()), fresh
    sensor = defs.resolve_sensor_def("freshness_checks_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_missed_snapshot_run_turns_red_at_the_next_deadline(tmp_path: Path) -> None:
    """ONECONNECT_SNAPSHOT_CRON at midnight: the snapshot tables are fresh until 02:00
    after the next midnight, and red then if that midnight's run did not happen (a
    fixed 26 hours let them pass on the night before)."""
    cron = "0 0 * * *"
    checks = freshness_checks(cron)
    instance = dg.DagsterInstance.ephemeral()
    warehouse = tmp_path / "wh.duckdb"
    with private_sim(RECENT) as sim:
        defs.resolve_job_def("oneconnect_snapshot").execute_in_process(
            resources={"oneconnect": resource(sim), **warehouse_resources(str(warehouse))},
            instance=instance,
        )
    event = instance.get_latest_materialization_event(contacts.key)
    assert event is not None
    made = event.timestamp
    next_run = next(cron_string_iterator(made, cron, str(TZ)))
    snapshot_tables = {k.to_user_string() for a in EXTRACT_ASSETS for k in a.keys} - {
        "oneconnect/messages"
    }

    def snapshot_freshness(at: datetime) -> dict[str, bool]:
        with freeze_time(at):
            found = freshness(instance, warehouse, checks)
        return {key: passed for key, passed in found.items() if key in snapshot_tables}

    assert snapshot_freshness(datetime.fromtimestamp(made, UTC)) == dict.fromkeys(
        snapshot_tables, True
    )
    after_the_missed_run = next_run + timedelta(hours=2, minutes=1)
    assert snapshot_freshness(after_the_missed_run) == dict.fromkeys(snapshot_tables, False)


def test_only_yesterdays_partition_is_not_enough_for_today(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    with private_sim(RECENT) as sim:
        yesterday = (
            datetime.fromisoformat(expected_partition(datetime.now(UTC))) - timedelta(days=1)
        ).date()
        defs.resolve_job_def("oneconnect_messages").execute_in_process(
            partition_key=yesterday.isoformat(),
            resources={
                "oneconnect": resource(sim),
                **warehouse_resources(str(tmp_path / "w.duckdb")),
            },
            instance=instance,
        )
    assert freshness(instance, tmp_path / "w.duckdb")["oneconnect/messages"] is False


BERLIN = ZoneInfo("Europe/Berlin")
#: Around the change to summer time on 29 March 2026 (02:00 CET -> 03:00 CEST): each
#: label with its local moment and the messages partition it belongs in.
DST_MESSAGES = [
    ("A", datetime(2026, 3, 28, 23, 59, 59), "2026-03-28"),
    ("B", datetime(2026, 3, 29, 0, 0, 0), "2026-03-29"),  # the next day's first second
    ("C", datetime(2026, 3, 29, 1, 59, 30), "2026-03-29"),
    ("D", datetime(2026, 3, 29, 3, 0, 30), "2026-03-29"),  # an hour later in UTC: 01:00:30
    ("E", datetime(2026, 3, 29, 23, 59, 59), "2026-03-29"),
    ("F", datetime(2026, 3, 30, 0, 0, 0), "2026-03-30"),  # 22:00 UTC: the 29th at +01:00
]


def test_partitions_and_sent_local_follow_the_configured_zone_across_dst(tmp_path: Path) -> None:
    """``oneconnect extract`` for three days around a DST change, with the account and
    ONECONNECT_TIMEZONE in Europe/Berlin: every message lands in its local day's
    partition (a fixed offset read off the records would put F on the 29th), and the
    next day's first second is not in the previous day's partition."""
    first = DST_MESSAGES[0][1].replace(tzinfo=BERLIN)
    account = default_account(timezone=BERLIN)
    simulator = Simulator.create(
        account,
        SeedSizes(0, 0, 0, 0, 0, 0, 0),
        clock=SimClock(start=first.timestamp() - 60, frozen=True),
    )
    with SimulatorThread(simulator) as thread:
        sim = Sim(thread, *clients(thread))
        for label, moment, _ in DST_MESSAGES:
            sim.admin.post("/clock", json={"set": moment.replace(tzinfo=BERLIN).isoformat()})
            sent = sim.api.post(
                "/messages", data={"content": f"msg {label}", "destination": "995555000111"}
            )
            assert sent.status_code == 200, sent.text
        env = {
            **os.environ,
            "ONECONNECT_BASE_URL": thread.base_url,
            "ONECONNECT_TIMEZONE": "Europe/Berlin",
            "ONECONNECT_MESSAGES_START": "2026-03-01",
            "ONECONNECT_WAREHOUSE": str(tmp_path / "wh.duckdb"),
            "DAGSTER_HOME": str(tmp_path / "home"),
        }
        (tmp_path / "home").mkdir()
        for day in ("2026-03-28", "2026-03-29", "2026-03-30"):
            done = subprocess.run(
                [sys.executable, "-m", "assets.cli", "extract", "--date", day],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr[-3000:]
    stored = rows(
        tmp_path / "wh.duckdb",
        "SELECT content, sent_local, created_at FROM oneconnect.messages ORDER BY created_at",
    )
    assert [(r["content"], r["sent_local"]) for r in stored] == [
        (f"msg {label}", moment) for label, moment, _ in DST_MESSAGES
    ]
    by_day = rows(
        tmp_path / "wh.duckdb",
        "SELECT sent_local::DATE::VARCHAR AS day, list(content ORDER BY created_at) AS labels "
        "FROM oneconnect.messages GROUP BY 1 ORDER BY 1",
    )
    expected: dict[str, list[str]] = {}
    for label, _, day in DST_MESSAGES:
        expected.setdefault(day, []).append(f"msg {label}")
    assert {r["day"]: r["labels"] for r in by_day} == expected
    rates = rows(
        tmp_path / "wh.duckdb",
        "SELECT day::VARCHAR AS day, sum(sent) AS sent FROM analytics.delivery_rates "
        "GROUP BY 1 ORDER BY 1",
    )
    assert {r["day"]: r["sent"] for r in rates} == {d: len(v) for d, v in expected.items()}


def clients(thread: SimulatorThread) -> tuple[httpx.Client, httpx.Client]:
    return (
        httpx.Client(base_url=thread.base_url, auth=(EMAIL, API_KEY), timeout=30),
        httpx.Client(base_url=thread.root_url + "/_sim", timeout=30),
    )


def nights_a_missed_snapshot_passes(cron: str, zone: str) -> list[str]:
    """The nights of a year at whose deadline a snapshot table whose last run was missed
    (it was made by the run before) would still pass its freshness check."""
    max_age = snapshot_max_age(cron, timezone=zone).total_seconds()
    deadlines = cron_string_iterator(
        datetime(2026, 1, 1, tzinfo=UTC).timestamp(), FRESHNESS_DEADLINE, zone
    )
    passing = []
    for _ in range(366):
        due = next(deadlines)
        ticks = reverse_cron_string_iterator(due.timestamp() - 1, cron, zone)
        next(ticks)  # the run that was missed
        made = next(ticks).timestamp() + 60  # the one before, done a minute after its tick
        if made >= due.timestamp() - max_age:
            passing.append(due.date().isoformat())
    return passing


@pytest.mark.parametrize(
    "zone", ["Europe/London", "America/New_York", "Asia/Tbilisi", "Australia/Lord_Howe"]
)
@pytest.mark.parametrize("cron", ["0 1 * * *", "0 0 * * *", "30 1 * * *"])
def test_a_missed_snapshot_is_red_at_the_next_deadline_whatever_the_zones_clock_changes(
    cron: str, zone: str
) -> None:
    """In Europe/London the allowed age was taken in wall-clock hours (25 on the night the
    clocks go back), so a missed night passed on every night of the year. One night stays
    blind where a clock change puts the run on the deadline (London's run of the night the
    clocks go forward happens at 02:00, the deadline; its age at the next deadline is the
    allowed 24 hours)."""
    assert len(nights_a_missed_snapshot_passes(cron, zone)) <= 1
