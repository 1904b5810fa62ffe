"""Jobs and the schedules that run them.

The extraction is two jobs: ``oneconnect_snapshot`` (every unpartitioned table and the
analytics built on them) and ``oneconnect_messages`` (one day of messages and its
delivery rates). A backfill of N days of messages is then N messages listings and no
re-download of contacts, lists and the rest.
"""

from datetime import UTC
from typing import TYPE_CHECKING

import dagster as dg

from .analytics import delivery_rates
from .exports import analytics_export
from .extract import messages, recent_partitions
from .settings import SETTINGS

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

MESSAGES = dg.AssetSelection.assets(messages, delivery_rates)

oneconnect_snapshot = dg.define_asset_job(
    "oneconnect_snapshot",
    selection=dg.AssetSelection.groups("oneconnect", "analytics") - MESSAGES,
    description="Every unpartitioned OneConnect table (contacts, lists and members, "
    "campaigns, birthday campaigns, titles, templates, balance, pricing) and the "
    "analytics built on them.",
)

oneconnect_messages = dg.define_asset_job(
    "oneconnect_messages",
    selection=MESSAGES,
    description="One account-local day of messages, with their delivery status, and that "
    "day's delivery rates. Backfill it for past days.",
)


@dg.schedule(
    job=oneconnect_snapshot,
    cron_schedule=SETTINGS.snapshot_cron,
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 01:00 account time (ONECONNECT_SNAPSHOT_CRON): the "
    "snapshot tables and analytics.",
)
def oneconnect_snapshot_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"{context.scheduled_execution_time:%Y-%m-%dT%H:%M}")


@dg.schedule(
    job=oneconnect_messages,
    cron_schedule="5 * * * *",
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Hourly: today's messages, and the {SETTINGS.messages_lookback_days} days "
    "before again, so delivery reports that arrive late are picked up (the day that "
    "just ended is re-read at 00:05, 01:05, ...).",
)
def messages_hourly(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    now = context.scheduled_execution_time.astimezone(UTC)
    return [
        dg.RunRequest(run_key=f"{key}@{now:%Y-%m-%dT%H}", partition_key=key)
        for key in recent_partitions(now, SETTINGS.messages_lookback_days)
    ]


analytics_export_daily = dg.ScheduleDefinition(
    name="analytics_export_daily",
    job=analytics_export,
    cron_schedule="30 2 * * *",
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:30 account time: Parquet and CSV files for analysts.",
)

JOBS: "list[dg.JobDefinition | UnresolvedAssetJobDefinition]" = [
    oneconnect_snapshot,
    oneconnect_messages,
    analytics_export,
]
SCHEDULES = [oneconnect_snapshot_daily, messages_hourly, analytics_export_daily]
