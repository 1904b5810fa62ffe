"""The code location as Dagster loads it: every asset, job, schedule and check by name,
what the schedules ask for, what the UI shows about each asset, and secret handling."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest

from assets import resources
from assets.definitions import defs
from oneconnect_pipelines import schemas as s
from oneconnect_pipelines.client import OneConnect

from .conftest import TZ

ROOT = Path(__file__).resolve().parent.parent
DAGSTER = str(Path(sys.executable).parent / "dagster")

ASSET_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "oneconnect/contacts": s.ContactsSchema,
    "oneconnect/lists": s.ListsSchema,
    "oneconnect/list_members": s.ListMembersSchema,
    "oneconnect/campaigns": s.CampaignsSchema,
    "oneconnect/birthday_campaigns": s.BirthdayCampaignsSchema,
    "oneconnect/messages": s.MessagesSchema,
    "oneconnect/titles": s.TitlesSchema,
    "oneconnect/templates": s.TemplatesSchema,
    "oneconnect/balance": s.BalanceSchema,
    "oneconnect/pricing": s.PricingSchema,
    "analytics/delivery_rates": s.DeliveryRatesSchema,
    "analytics/campaign_calendar": s.CampaignCalendarSchema,
    "analytics/upcoming_birthdays": s.UpcomingBirthdaysSchema,
    "analytics/sms_forecast": s.SmsForecastSchema,
}
JOBS = ("oneconnect_snapshot", "oneconnect_messages", "analytics_export")
SCHEDULES = ("oneconnect_snapshot_daily", "messages_hourly", "analytics_export_daily")
CHECKS = {
    ("contacts_unique", "oneconnect/contacts"),
    ("list_members_are_contacts", "oneconnect/list_members"),
    ("campaign_lists_exist", "oneconnect/campaigns"),
    ("balance_covers_next_week", "analytics/sms_forecast"),
    *(("freshness_check", name) for name in ASSET_MODELS if name.startswith("oneconnect/")),
}
MESSAGES_ASSETS = {"oneconnect/messages", "analytics/delivery_rates"}


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey.from_user_string(name)


def test_every_asset_job_schedule_and_check_resolves_by_name() -> None:
    graph = defs.resolve_asset_graph()
    assert graph.get_all_asset_keys() == {key(name) for name in ASSET_MODELS} | {
        key("crm/sync_log")
    }
    for name in ASSET_MODELS:
        assert key(name) in defs.resolve_assets_def(key(name)).keys
    for job in JOBS:
        assert defs.resolve_job_def(job).name == job
    for schedule in SCHEDULES:
        assert defs.resolve_schedule_def(schedule).name == schedule
    assert {(c.name, c.asset_key) for c in graph.asset_check_keys} == {
        (check, key(asset)) for check, asset in CHECKS
    }


def test_the_snapshot_and_the_messages_are_two_jobs() -> None:
    """A backfill of N days of messages must not pull contacts and the rest N times."""
    snapshot = defs.resolve_job_def("oneconnect_snapshot")
    assert snapshot.asset_layer.selected_asset_keys == {
        key(name) for name in ASSET_MODELS if name not in MESSAGES_ASSETS
    }
    assert snapshot.partitions_def is None
    daily = defs.resolve_job_def("oneconnect_messages")
    assert daily.asset_layer.selected_asset_keys == {key(name) for name in MESSAGES_ASSETS}
    assert isinstance(daily.partitions_def, dg.TimeWindowPartitionsDefinition)
    assert daily.partitions_def.timezone == "Asia/Tbilisi"


def test_dagster_validates_the_workspace(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run(
        [DAGSTER, "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stdout + done.stderr


def test_a_process_of_the_code_location_hands_freed_arrow_memory_back() -> None:
    """Every process that loads the code location (code server, run workers) puts Arrow
    on jemalloc: a messages partition run peaks ~28 MiB lower."""
    probe = "import pyarrow, assets.definitions; print(pyarrow.default_memory_pool().backend_name)"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["jemalloc"]


def evaluate(schedule: str, at: datetime) -> list[dg.RunRequest]:
    definition = defs.resolve_schedule_def(schedule)
    context = dg.build_schedule_context(
        scheduled_execution_time=at, repository_def=defs.get_repository_def()
    )
    data = definition.evaluate_tick(context)
    assert data.run_requests is not None
    return list(data.run_requests)


@pytest.mark.parametrize(
    ("at", "days"),
    [
        (datetime(2026, 11, 15, 10, 5, tzinfo=TZ), ["2026-11-15", "2026-11-14", "2026-11-13"]),
        # 00:05 in Tbilisi is still the 14th in UTC: the partitions follow the account
        (datetime(2026, 11, 15, 0, 5, tzinfo=TZ), ["2026-11-15", "2026-11-14", "2026-11-13"]),
        (datetime(2026, 11, 14, 23, 5, tzinfo=TZ), ["2026-11-14", "2026-11-13", "2026-11-12"]),
    ],
)
def test_the_hourly_refresh_asks_for_today_and_the_lookback_days(
    at: datetime, days: list[str]
) -> None:
    requests = evaluate("messages_hourly", at)
    assert [r.partition_key for r in requests] == days
    assert len({r.run_key for r in requests}) == len(requests)
    # the next hour asks again (new run keys), so late reports are re-read
    later = evaluate("messages_hourly", at + timedelta(hours=1))
    assert not {r.run_key for r in requests} & {r.run_key for r in later}


def test_the_hourly_refresh_never_asks_for_days_before_the_partitions_start() -> None:
    requests = evaluate("messages_hourly", datetime(2026, 1, 1, 9, 5, tzinfo=TZ))
    assert [r.partition_key for r in requests] == ["2026-01-01"]


@pytest.mark.parametrize(
    ("at", "day"),
    [
        (datetime(2026, 11, 15, 1, 0, tzinfo=TZ), "2026-11-14"),
        (datetime(2026, 3, 1, 1, 0, tzinfo=TZ), "2026-02-28"),
    ],
)
def test_the_nightly_snapshot_runs_once_a_night_in_account_time(at: datetime, day: str) -> None:
    [request] = evaluate("oneconnect_snapshot_daily", at)
    assert request.partition_key is None
    assert request.run_key == f"{at.date().isoformat()}T01:00"  # one run per tick
    schedule = defs.resolve_schedule_def("oneconnect_snapshot_daily")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 1 * * *", "Asia/Tbilisi")
    assert schedule.job_name == "oneconnect_snapshot"
    # the day that just ended is read again by the hourly refresh at 01:05
    assert day in [r.partition_key for r in evaluate("messages_hourly", at)]


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedules_ship_running(name: str) -> None:
    """The README says `make ui` runs them: they are on by default, not a click away."""
    assert defs.resolve_schedule_def(name).default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_nightly_export_runs_in_account_time() -> None:
    schedule = defs.resolve_schedule_def("analytics_export_daily")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 2 * * *", "Asia/Tbilisi")
    [request] = evaluate("analytics_export_daily", datetime(2026, 11, 15, 2, 30, tzinfo=TZ))
    assert request.partition_key is None


@pytest.mark.parametrize("name", sorted(ASSET_MODELS))
def test_every_asset_is_documented_for_the_ui(name: str) -> None:
    graph = defs.resolve_asset_graph()
    node = graph.get(key(name))
    group = name.split("/")[0]
    assert node.group_name == group
    assert node.description and node.description.strip()
    assert {"python", "pandas", "pandera", "duckdb"} <= set(node.kinds)
    assert node.owners and all(owner.startswith("team:") for owner in node.owners)
    table_schema = node.metadata["dagster/column_schema"]
    assert isinstance(table_schema, dg.TableSchema)
    model = ASSET_MODELS[name].to_schema()
    assert [c.name for c in table_schema.columns] == list(model.columns)
    assert all(c.description for c in table_schema.columns), name
    assets_def = defs.resolve_assets_def(key(name))
    step = assets_def.op
    assert step.pool == ("oneconnect_api" if group == "oneconnect" else "oneconnect_warehouse")
    if group == "oneconnect":  # API steps are retried by Dagster too, jittered
        assert step.retry_policy is not None and step.retry_policy.max_retries == 2
        assert step.retry_policy.jitter == dg.Jitter.PLUS_MINUS
    assert [c.description for c in table_schema.columns] == [
        c.description for c in model.columns.values()
    ]
    assert [c.constraints.nullable for c in table_schema.columns] == [
        c.nullable for c in model.columns.values()
    ]


def test_the_resource_never_shows_its_api_key() -> None:
    secret = "k3y-that-must-stay-hidden"
    resource = resources.OneConnectResource(
        base_url="http://127.0.0.1:1/api/v1", email="ops@example.com", api_key=secret
    )
    assert secret not in repr(resource)
    assert secret not in str(resource)
    assert "ops@example.com" in repr(resource)  # the repr is still useful


def test_the_resource_reads_credentials_from_env_vars_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONECONNECT_API_KEY", "from-the-environment")
    monkeypatch.setenv("ONECONNECT_BASE_URL", "http://127.0.0.1:9/api/v1")
    monkeypatch.delenv("ONECONNECT_EMAIL", raising=False)
    resource = resources.oneconnect_resource()
    fields = resource._get_non_default_public_field_values()
    assert isinstance(fields["api_key"], dg.EnvVar)
    assert fields["api_key"].env_var_name == "ONECONNECT_API_KEY"
    assert isinstance(fields["base_url"], dg.EnvVar)
    assert "email" not in fields
    assert "from-the-environment" not in repr(resource)


def test_unset_credentials_are_the_demo_account_only_on_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ONECONNECT_BASE_URL", "ONECONNECT_EMAIL", "ONECONNECT_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    resource = resources.oneconnect_resource()
    # The launchpad shows no key: nothing but the simulator's URL is configured.
    assert resource._get_non_default_public_field_values() == {
        "base_url": "http://127.0.0.1:8765/api/v1"
    }
    assert resource.credentials() == ("demo@example.com", "demo-key")
    assert resources.OneConnectResource(base_url="http://localhost:1/x").credentials()[1] == (
        "demo-key"
    )
    for url in ("https://oneconnect.uno/api/v1", "http://10.0.0.7:8765/api/v1"):
        with pytest.raises(resources.MissingCredentialsError) as raised:
            resources.OneConnectResource(base_url=url, email="ops@example.com").credentials()
        assert str(raised.value).startswith("ONECONNECT_API_KEY not set")
        assert "demo" not in str(raised.value).split(":")[0]
    with pytest.raises(resources.MissingCredentialsError, match="ONECONNECT_EMAIL and"):
        resources.OneConnectResource(base_url="https://oneconnect.uno/api/v1").credentials()


def test_a_real_host_without_a_key_never_receives_demo_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing is sent: the error comes before any request."""
    seen: list[str] = []
    monkeypatch.setattr(OneConnect, "__init__", lambda self, *args, **kwargs: seen.append("sent"))
    resource = resources.OneConnectResource(base_url="https://oneconnect.uno/api/v1")
    with pytest.raises(resources.MissingCredentialsError), resource.client():
        pass
    assert seen == []


def test_an_analytics_table_failing_its_type_is_described_without_its_values() -> None:
    """The analytics assets' Dagster type validates with the pandera model; its failure
    (shown in the UI) names rows and ids, never values such as a birthday's day."""
    assets_def = defs.resolve_assets_def(key("analytics/upcoming_birthdays"))
    dagster_type = assets_def.op.outs["result"].dagster_type
    assert isinstance(dagster_type, dg.DagsterType)
    assert dagster_type.metadata["schema"] is not None  # dagster-pandera's column schema
    frame = pd.DataFrame(
        {
            "greet_on": pd.array(
                [date(2027, 5, 5), date(2027, 5, 6)], dtype=pd.ArrowDtype(pyarrow.date32())
            ),
            "birthday_campaign_id": pd.array([3, 3], dtype="Int64"),
            "campaign_name": pd.array(["Happy birthday"] * 2, dtype="string[pyarrow]"),
            "contact_id": pd.array([17, 18], dtype="Int64"),
            "turns": pd.array([29, -1], dtype="Int64"),
        }
    )
    result = dg.check_dagster_type(dagster_type, frame)
    assert not result.success
    assert result.description == (
        "analytics.upcoming_birthdays failed validation (values not shown): "
        "turns greater_than_or_equal_to(0): 1 row: row 1 (contact_id 18)"
    )
    assert dg.check_dagster_type(dagster_type, frame.iloc[:1]).success
