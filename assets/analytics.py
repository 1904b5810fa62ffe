"""The ``analytics`` group: what the extracted tables say about sends, plans and balance."""

from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from oneconnect_pipelines import analytics as a
from oneconnect_pipelines import schemas as s
from oneconnect_pipelines.preview import PREVIEW_ROWS

from .extract import account_timezone, messages_partitions
from .metadata import WAREHOUSE_POOL, AssetDecorator, table_asset, table_metadata

GROUP = "analytics"
OWNERS = ["team:marketing-analytics"]


def upstream(*names: str) -> dict[str, dg.AssetIn]:
    return {name: dg.AssetIn(key=["oneconnect", name]) for name in names}


def analytics_asset(name: str, model: type[pa.DataFrameModel], **options: Any) -> AssetDecorator:
    """``@asset`` ``analytics/<name>``, typed and documented by its pandera model."""
    return table_asset(name, model, group=GROUP, owners=OWNERS, pool=WAREHOUSE_POOL, **options)


def output(frame: pd.DataFrame, **extra: Any) -> dg.Output[pd.DataFrame]:
    return dg.Output(frame, metadata={**table_metadata(frame), **extra})


@analytics_asset(
    "delivery_rates",
    s.DeliveryRatesSchema,
    ins=upstream("messages"),
    partitions_def=messages_partitions,
    metadata={"partition_expr": "day"},
)
def delivery_rates(messages: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """Per day and per campaign, birthday campaign or ad-hoc sends: sent, delivered,
    undelivered, pending and the delivery rate (delivered / messages with a final status).
    Partitioned like the messages: each day's rates come from that day's messages."""
    frame = a.delivery_rates(messages, account_timezone())
    return output(frame, chart=dg.MetadataValue.md(rate_chart(frame)))


def rate_chart(frame: pd.DataFrame, days: int = 14) -> str:
    """The last ``days`` days' overall delivery rate as a Markdown bar chart."""
    if frame.empty:
        return "_no messages yet_"
    daily = frame.groupby("day")[["delivered", "undelivered"]].sum().tail(days)
    lines = ["| day | delivery rate | |", "| --- | ---: | --- |"]
    for day, row in daily.iterrows():
        finished = int(row["delivered"]) + int(row["undelivered"])
        if not finished:  # every message still pending: no rate yet, as in the table
            lines.append(f"| {day} | n/a (pending) | |")
            continue
        rate = row["delivered"] / finished
        lines.append(f"| {day} | {rate:.1%} | {'█' * round(rate * 20)} |")
    return "\n".join(lines)


@analytics_asset(
    "campaign_calendar", s.CampaignCalendarSchema, ins=upstream("campaigns", "list_members")
)
def campaign_calendar(
    campaigns: pd.DataFrame, list_members: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Every send of every active campaign over the next 90 days, expanded from its
    schedule, with the recipients it would reach today."""
    frame = a.campaign_calendar(campaigns, list_members, account_timezone(), datetime.now(UTC))
    return output(frame)


@analytics_asset(
    "upcoming_birthdays",
    s.UpcomingBirthdaysSchema,
    ins=upstream("contacts", "list_members", "birthday_campaigns"),
)
def upcoming_birthdays(
    contacts: pd.DataFrame, list_members: pd.DataFrame, birthday_campaigns: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Who each active birthday campaign greets in the next 30 days (29 February
    birthdays on 28 February in non-leap years)."""
    today = datetime.now(UTC).astimezone(account_timezone()).date()
    frame = a.upcoming_birthdays(contacts, list_members, birthday_campaigns, today)
    return output(frame, preview=dg.MetadataValue.md(greetings_per_day(frame)))


def greetings_per_day(frame: pd.DataFrame) -> str:
    """The preview: greetings per day and campaign. A row of the table (a contact, the day
    and the age reached) would give away that contact's birthday."""
    if frame.empty:
        return "_no greetings in the next 30 days_"
    counts = frame.groupby(["greet_on", "campaign_name"]).size().rename("greetings")
    return str(counts.reset_index().head(PREVIEW_ROWS).to_markdown(index=False))


@analytics_asset(
    "sms_forecast",
    s.SmsForecastSchema,
    ins={
        "campaign_calendar": dg.AssetIn(key=["analytics", "campaign_calendar"]),
        "upcoming_birthdays": dg.AssetIn(key=["analytics", "upcoming_birthdays"]),
        **upstream("balance"),
    },
)
def sms_forecast(
    campaign_calendar: pd.DataFrame, upcoming_birthdays: pd.DataFrame, balance: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """SMS needed over the next 7 and 30 days (campaign sends plus birthday greetings)
    against the current balance."""
    sms_balance = int(balance["sms_balance"].iloc[0]) if len(balance) else 0
    frame = a.sms_forecast(
        campaign_calendar, upcoming_birthdays, sms_balance, datetime.now(UTC), account_timezone()
    )
    return output(frame)


ANALYTICS_ASSETS = [delivery_rates, campaign_calendar, upcoming_birthdays, sms_forecast]
