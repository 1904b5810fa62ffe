"""The ``oneconnect`` group: every kind of OneConnect data as a validated DuckDB table."""

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster import AssetExecutionContext

from oneconnect_pipelines import frames
from oneconnect_pipelines import schemas as s
from oneconnect_pipelines.client import OneConnect

from .metadata import (
    API_POOL,
    KINDS,
    AssetDecorator,
    column_schema,
    table_asset,
    table_metadata,
    table_type,
)
from .resources import OneConnectResource
from .settings import SETTINGS

GROUP = "oneconnect"
OWNERS = ["team:data-engineering"]

messages_partitions = dg.DailyPartitionsDefinition(
    start_date=SETTINGS.messages_start, timezone=SETTINGS.timezone, end_offset=1
)


#: A step that failed on the API (after the client's own retries) is tried again twice,
#: a minute apart and then two, jittered: an outage of a few minutes costs no night.
RETRY = dg.RetryPolicy(
    max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def extract_asset(name: str, model: type[pa.DataFrameModel], **options: Any) -> AssetDecorator:
    """``@asset`` ``oneconnect/<name>``, typed and documented by its pandera model."""
    return table_asset(
        name, model, group=GROUP, owners=OWNERS, pool=API_POOL, retry_policy=RETRY, **options
    )


def fetched(client: OneConnect) -> dict[str, Any]:
    return {f"fetched/{k}": v for k, v in client.stats.snapshot().items() if k != "statuses"}


def records(pages: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [record for page in pages for record in page]


def streamed(pages: Iterable[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """Records as their pages arrive: the big tables' frames convert each page while
    the next ones download."""
    return itertools.chain.from_iterable(pages)


def materialize(
    oneconnect: OneConnectResource,
    build: Callable[[OneConnect], pd.DataFrame],
) -> dg.Output[pd.DataFrame]:
    with oneconnect.client() as client:
        frame = build(client)
        stats = fetched(client)
    return dg.Output(frame, metadata={**table_metadata(frame), **stats})


@extract_asset("contacts", s.ContactsSchema)
def contacts(oneconnect: OneConnectResource) -> dg.Output[pd.DataFrame]:
    """Every contact of the account: phone numbers as text, birthdays as dates."""
    return materialize(oneconnect, lambda c: frames.contacts_frame(streamed(c.contacts.pages())))


@dg.multi_asset(
    outs={
        "lists": dg.AssetOut(
            key_prefix=GROUP,
            dagster_type=table_type(s.ListsSchema),
            description="Every list with its member counts.",
            metadata={"dagster/column_schema": column_schema(s.ListsSchema)},
            kinds=KINDS,
            owners=OWNERS,
        ),
        "list_members": dg.AssetOut(
            key_prefix=GROUP,
            dagster_type=table_type(s.ListMembersSchema),
            description="One row per list x member; members that are not contacts "
            "(uploaded from CSV) have member_type 'noncontact' and no contact_id.",
            metadata={"dagster/column_schema": column_schema(s.ListMembersSchema)},
            kinds=KINDS,
            owners=OWNERS,
        ),
    },
    group_name=GROUP,
    retry_policy=RETRY,
    pool=API_POOL,
)
def lists(oneconnect: OneConnectResource) -> Any:
    """Lists and their memberships, from one listing of ``/lists``."""
    with oneconnect.client() as client:
        list_frame, members = frames.lists_frames(records(client.lists.pages()))
        stats = fetched(client)
    yield dg.Output(list_frame, "lists", metadata={**table_metadata(list_frame), **stats})
    yield dg.Output(members, "list_members", metadata=table_metadata(members))


@extract_asset("campaigns", s.CampaignsSchema)
def campaigns(oneconnect: OneConnectResource) -> dg.Output[pd.DataFrame]:
    """Every campaign, its schedule flattened: type, start, end, repeat, certain dates."""
    return materialize(
        oneconnect, lambda c: frames.campaigns_frame(records(c.campaigns.pages()), c.timezone)
    )


@extract_asset("birthday_campaigns", s.BirthdayCampaignsSchema)
def birthday_campaigns(oneconnect: OneConnectResource) -> dg.Output[pd.DataFrame]:
    """Every birthday campaign: the lists it greets, its text and sender."""
    return materialize(
        oneconnect, lambda c: frames.birthday_campaigns_frame(records(c.birthday_campaigns.pages()))
    )


@extract_asset(
    "messages",
    s.MessagesSchema,
    partitions_def=messages_partitions,
    metadata={"partition_expr": "sent_local"},
)
def messages(
    context: AssetExecutionContext, oneconnect: OneConnectResource
) -> dg.Output[pd.DataFrame]:
    """Messages sent on one day of the account's calendar, with their delivery status.
    Recent days are read again by the hourly refresh, so late delivery reports land."""
    window = context.partition_time_window
    start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)

    def build(client: OneConnect) -> pd.DataFrame:
        # end_date is inclusive on the API; the next day's first second belongs to it
        pages = client.messages.pages(start=start, end=end)
        frame = frames.messages_frame(streamed(pages), client.timezone)
        return frame[frame["created_at"] < end].reset_index(drop=True)

    return materialize(oneconnect, build)


@extract_asset("titles", s.TitlesSchema)
def titles(oneconnect: OneConnectResource) -> dg.Output[pd.DataFrame]:
    """Sender names and whether OneConnect has activated them."""
    return materialize(oneconnect, lambda c: frames.titles_frame(records(c.titles.pages())))


@extract_asset("templates", s.TemplatesSchema)
def templates(oneconnect: OneConnectResource) -> dg.Output[pd.DataFrame]:
    """Saved message texts."""
    return materialize(oneconnect, lambda c: frames.templates_frame(records(c.templates.pages())))


@extract_asset("balance", s.BalanceSchema)
def balance(oneconnect: OneConnectResource) -> dg.Output[pd.DataFrame]:
    """SMS left on the account, and when that was read."""
    return materialize(
        oneconnect,
        lambda c: frames.balance_frame({"sms_balance": c.balance()}, datetime.now(UTC)),
    )


@extract_asset("pricing", s.PricingSchema)
def pricing(oneconnect: OneConnectResource) -> dg.Output[pd.DataFrame]:
    """OneConnect's published plans with their limits (prices as exact decimals)."""
    return materialize(oneconnect, lambda c: frames.pricing_frame(c.call("GET", "/pricing")))


EXTRACT_ASSETS = [
    contacts,
    lists,
    campaigns,
    birthday_campaigns,
    messages,
    titles,
    templates,
    balance,
    pricing,
]


def account_timezone() -> ZoneInfo:
    """The timezone the partitions are cut in (the account's)."""
    return ZoneInfo(SETTINGS.timezone)


def recent_partitions(now: datetime, days: int) -> list[str]:
    """Keys of today's messages partition and the ``days`` before it, newest first."""
    today = now.astimezone(account_timezone()).date()
    keys = [(today - timedelta(days=n)).isoformat() for n in range(days + 1)]
    existing = set(messages_partitions.get_partition_keys(current_time=now))
    return [key for key in keys if key in existing]
