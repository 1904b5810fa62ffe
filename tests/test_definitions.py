"""The code location as Dagster loads it: every asset, job, schedule and check by name,
what the schedules ask for, what the UI shows about each asset, and secret handling."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pandera.pandas as pa
import pytest

from assets import resources
from assets.definitions import defs
from oneconnect_pipelines import schemas as s

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
JOBS = ("oneconnect_extract", "messages_refresh", "analytics_export")
SCHEDULES = ("oneconnect_extract_daily", "messages_hourly", "analytics_export_daily")
CHECKS = {
    "contacts_unique": "oneconnect/contacts",
    "list_members_are_contacts": "oneconnect/list_members",
    "campaign_lists_exist": "oneconnect/campaigns",
    "messages_fresh": "oneconnect/messages",
    "balance_covers_next_week": "analytics/sms_forecast",
}


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey.from_user_string(name)


def test_every_asset_job_schedule_and_check_resolves_by_name() -> None:
    graph = defs.resolve_asset_graph()
    assert graph.get_all_asset_keys() == {key(name) for name in ASSET_MODELS}
    for name in ASSET_MODELS:
        assert key(name) in defs.resolve_assets_def(key(name)).keys
    for job in JOBS:
        assert defs.resolve_job_def(job).name == job
    for schedule in SCHEDULES:
        assert defs.resolve_schedule_def(schedule).name == schedule
    assert {(c.name, c.asset_key) for c in graph.asset_check_keys} == {
        (check, key(asset)) for check, asset in CHECKS.items()
    }


def test_jobs_select_what_their_description_promises() -> None:
    extract = defs.resolve_job_def("oneconnect_extract")
    assert extract.asset_layer.selected_asset_keys == {key(name) for name in ASSET_MODELS}
    refresh = defs.resolve_job_def("messages_refresh")
    assert refresh.asset_layer.selected_asset_keys == {
        key("oneconnect/messages"),
        key("analytics/delivery_rates"),
    }
    assert refresh.partitions_def is not None


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
def test_the_nightly_extraction_asks_for_the_day_that_just_ended(at: datetime, day: str) -> None:
    [request] = evaluate("oneconnect_extract_daily", at)
    assert request.partition_key == day
    schedule = defs.resolve_schedule_def("oneconnect_extract_daily")
    assert schedule.execution_timezone == "Asia/Tbilisi"
    assert schedule.job_name == "oneconnect_extract"


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
    assert {"python", "pandas", "duckdb"} <= set(node.kinds)
    assert node.owners and all(owner.startswith("team:") for owner in node.owners)
    table_schema = node.metadata["dagster/column_schema"]
    assert isinstance(table_schema, dg.TableSchema)
    model = ASSET_MODELS[name].to_schema()
    assert [c.name for c in table_schema.columns] == list(model.columns)
    assert [c.type for c in table_schema.columns] == [str(c.dtype) for c in model.columns.values()]
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
    assert fields["email"] == resources.SIMULATOR_DEFAULTS["ONECONNECT_EMAIL"]
    assert "from-the-environment" not in repr(resource)


def test_the_resource_defaults_to_the_local_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in resources.SIMULATOR_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    fields = resources.oneconnect_resource()._get_non_default_public_field_values()
    assert fields == {
        "base_url": "http://127.0.0.1:8765/api/v1",
        "email": "demo@example.com",
        "api_key": "demo-key",
    }
    assert not any(isinstance(value, dg.EnvVar) for value in fields.values())
