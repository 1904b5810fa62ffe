"""Jobs and the schedules that run them."""

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

oneconnect_extract = dg.define_asset_job(
    "oneconnect_extract",
    selection=dg.AssetSelection.groups("oneconnect", "analytics"),
    description="Pull every kind of OneConnect data (one day of messages) into the "
    "warehouse and rebuild the analytics tables.",
)

messages_refresh = dg.define_asset_job(
    "messages_refresh",
    selection=dg.AssetSelection.assets(messages, delivery_rates),
    description="Re-read one day of messages (late delivery reports) and the delivery rates.",
)


@dg.schedule(
    job=oneconnect_extract,
    cron_schedule="0 1 * * *",
    execution_timezone=SETTINGS.timezone,
    description="Every night at 01:00 account time: the full extraction for the day "
    "that just ended.",
)
def oneconnect_extract_daily(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    # Not build_schedule_from_partitioned_job: the partitions end a day ahead (end_offset=1,
    # so the hourly refresh can read today), and it would ask for today instead.
    now = context.scheduled_execution_time.astimezone(UTC)
    return [dg.RunRequest(run_key=key, partition_key=key) for key in recent_partitions(now, 1)[1:]]


@dg.schedule(
    job=messages_refresh,
    cron_schedule="5 * * * *",
    execution_timezone=SETTINGS.timezone,
    description=f"Hourly: today's messages, and the {SETTINGS.messages_lookback_days} days "
    "before again, so delivery reports that arrive late are picked up.",
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
    description="Every night at 02:30 account time: Parquet and CSV files for analysts.",
)

JOBS: "list[dg.JobDefinition | UnresolvedAssetJobDefinition]" = [
    oneconnect_extract,
    messages_refresh,
    analytics_export,
]
SCHEDULES = [oneconnect_extract_daily, messages_hourly, analytics_export_daily]
