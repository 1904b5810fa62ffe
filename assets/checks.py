"""Asset checks: uniqueness, referential integrity, freshness, and whether the balance
covers the coming week."""

import time
import warnings
from datetime import timedelta

import dagster as dg
import numpy as np
import pandas as pd
from dagster._utils.schedules import cron_string_iterator, reverse_cron_string_iterator

from .analytics import sms_forecast
from .extract import EXTRACT_ASSETS, birthday_campaigns, campaigns, contacts, messages
from .schedules import oneconnect_snapshot_daily
from .settings import SETTINGS


def _ids(values: pd.Series) -> set[int]:
    return {int(v) for v in values.dropna()}


def _list_ids(values: pd.Series) -> set[int]:
    return {int(i) for v in values if v is not None for i in np.asarray(v).ravel()}


@dg.asset_check(asset=contacts, description="Contact ids and phone numbers are unique.")
def contacts_unique(contacts: pd.DataFrame) -> dg.AssetCheckResult:
    duplicate_ids = int(contacts["id"].duplicated().sum())
    duplicate_phones = int(contacts["phone_number"].duplicated().sum())
    return dg.AssetCheckResult(
        passed=duplicate_ids == 0 and duplicate_phones == 0,
        metadata={"duplicate_ids": duplicate_ids, "duplicate_phone_numbers": duplicate_phones},
    )


@dg.asset_check(
    asset=dg.AssetKey(["oneconnect", "list_members"]),
    additional_ins={"contacts": dg.AssetIn(key=contacts.key)},
    description="Every contact member of a list is a contact of the account.",
)
def list_members_are_contacts(
    list_members: pd.DataFrame, contacts: pd.DataFrame
) -> dg.AssetCheckResult:
    members = _ids(
        list_members.loc[list_members["member_type"].astype(str) == "contact", "contact_id"]
    )
    missing = sorted(members - _ids(contacts["id"]))
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={"missing_contact_ids": len(missing), "sample": str(missing[:10])},
    )


@dg.asset_check(
    asset=campaigns,
    additional_ins={
        "lists": dg.AssetIn(key=dg.AssetKey(["oneconnect", "lists"])),
        "birthday_campaigns": dg.AssetIn(key=birthday_campaigns.key),
    },
    description="Every list a campaign or birthday campaign targets exists.",
)
def campaign_lists_exist(
    campaigns: pd.DataFrame, lists: pd.DataFrame, birthday_campaigns: pd.DataFrame
) -> dg.AssetCheckResult:
    known = _ids(lists["id"])
    missing = sorted(
        (_list_ids(campaigns["recipients_list"]) | _list_ids(birthday_campaigns["recipient_lists"]))
        - known
    )
    return dg.AssetCheckResult(passed=not missing, metadata={"missing_list_ids": str(missing[:20])})


@dg.asset_check(
    asset=sms_forecast,
    description="Warns when the SMS balance does not cover the next 7 days of sends.",
)
def balance_covers_next_week(sms_forecast: pd.DataFrame) -> dg.AssetCheckResult:
    week = sms_forecast[sms_forecast["horizon_days"].astype(int) == 7].iloc[0]
    return dg.AssetCheckResult(
        passed=bool(week["covered"]),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "sms_needed_7_days": int(week["sms_needed"]),
            "sms_balance": int(week["sms_balance"]),
            "shortfall": int(week["shortfall"]),
        },
    )


CHECKS = [
    contacts_unique,
    list_members_are_contacts,
    campaign_lists_exist,
    balance_covers_next_week,
]

#: Freshness, judged by Dagster's own checks (evaluated by ``freshness_checks_sensor``,
#: outside any materialization, so a day the jobs did not run shows red): by 02:00
#: account time each day the messages partition of that day must be in, and every
#: snapshot table must have been rebuilt by the snapshot schedule's last run before then.
FRESHNESS_DEADLINE = "0 2 * * *"


def snapshot_max_age(
    cron: str, deadline: str = FRESHNESS_DEADLINE, timezone: str = SETTINGS.timezone
) -> timedelta:
    """How far before a deadline the snapshot's last scheduled run may lie: the longest
    span, over a year of deadlines, back to the latest ``cron`` tick before one. A fixed
    age (it was 26 h) let a missed night pass on yesterday's run; this one does not.
    Spans are elapsed time: two datetimes of one zone subtract as wall clocks, which made
    London's night of the clock going back (25 h) every night's allowance."""
    deadlines = cron_string_iterator(time.time(), deadline, timezone)
    spans = []
    for _ in range(366):
        due = next(deadlines)
        # the tick at the deadline itself cannot have finished by then: the one before
        last_run = next(reverse_cron_string_iterator(due.timestamp() - 1, cron, timezone))
        spans.append(due.timestamp() - last_run.timestamp())
    return timedelta(seconds=max(spans))


def freshness_checks(
    snapshot_cron: str = str(oneconnect_snapshot_daily.cron_schedule),
) -> list[dg.AssetChecksDefinition]:
    """The messages partition and snapshot freshness checks, for the snapshot's cron."""
    with warnings.catch_warnings():
        # Dagster 1.13 calls these superseded by FreshnessPolicy, which is still a preview
        # (off unless dagster.yaml enables it) and judges an asset, not its partitions: a
        # backfill of an old day would make a missed today look fresh.
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return [
            *dg.build_time_partition_freshness_checks(
                assets=[messages],
                deadline_cron=FRESHNESS_DEADLINE,
                timezone=SETTINGS.timezone,
                severity=dg.AssetCheckSeverity.ERROR,
            ),
            *dg.build_last_update_freshness_checks(
                assets=[a for a in EXTRACT_ASSETS if a is not messages],
                lower_bound_delta=snapshot_max_age(snapshot_cron),
                deadline_cron=FRESHNESS_DEADLINE,
                timezone=SETTINGS.timezone,
                severity=dg.AssetCheckSeverity.ERROR,
            ),
        ]


FRESHNESS = freshness_checks()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    freshness_checks_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=FRESHNESS, default_status=dg.DefaultSensorStatus.RUNNING
    )
