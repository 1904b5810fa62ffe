"""The ``oneconnect`` group: every kind of OneConnect data as a validated DuckDB table."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute
from dagster import AssetExecutionContext

from oneconnect_pipelines import frames
from oneconnect_pipelines import schemas as s
from oneconnect_pipelines.client import OneConnect
from oneconnect_pipelines.client.errors import (
    AuthenticationError,
    PermissionDeniedError,
    ResponseError,
)
from oneconnect_pipelines.landing import Landed, TableValidationError, land, land_frame, land_frames
from oneconnect_pipelines.warehouse import Window

from .metadata import (
    API_POOL,
    KINDS,
    AssetDecorator,
    column_schema,
    table_asset,
    table_metadata,
)
from .resources import MissingCredentialsError, OneConnectResource
from .settings import SETTINGS
from .warehouse import WarehouseResource

GROUP = "oneconnect"
OWNERS = ["team:data-engineering"]

messages_partitions = dg.DailyPartitionsDefinition(
    start_date=SETTINGS.messages_start, timezone=SETTINGS.timezone, end_offset=1
)


#: Rows of a day of messages validated at once: its peak memory is a target, and every
#: batch is held until it is checked (the network is the limit of its run, not pandera).
DAY_CHECK_ROWS = 16_384

#: A step that failed on the API (after the client's own retries) is tried again twice,
#: a minute apart and then two, jittered: an outage of a few minutes costs no night.
RETRY = dg.RetryPolicy(
    max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


@contextmanager
def failing_at_once() -> Iterator[None]:
    """A table that fails its schema, a value off its format, a record the client cannot
    read, a wrong API key, an IP off the account's allow-list, no credentials at all:
    each fails its step at once, not after the retry policy's three minutes and two more
    tries: a retry in this run meets the same data and the same settings (the next
    scheduled run reads both again). An unreadable answer that is no record's (a cut
    body) and an outage are retried."""
    try:
        yield
    except (AuthenticationError, PermissionDeniedError, MissingCredentialsError) as exc:
        raise dg.Failure(f"{type(exc).__name__}: {exc}", allow_retries=False) from None
    except TableValidationError as exc:
        metadata: dict[str, Any] = {"table": exc.table, "failures": len(exc.failures)}
        raise dg.Failure(str(exc), metadata=metadata, allow_retries=False) from None
    except frames.FrameError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    except ResponseError as exc:
        if exc.resource is None:
            raise
        metadata = {"resource": exc.resource, "field": str(exc.field)}
        raise dg.Failure(str(exc), metadata=metadata, allow_retries=False) from None


def extract_asset(name: str, model: type[pa.DataFrameModel], **options: Any) -> AssetDecorator:
    """``@asset`` ``oneconnect/<name>``, documented by its pandera model. It lands its
    table itself (``landing.land``: written while the listing runs, validated by the
    model before it counts), so it carries no Dagster type of its own."""
    return table_asset(
        name,
        model,
        group=GROUP,
        owners=OWNERS,
        pool=API_POOL,
        retry_policy=RETRY,
        typed=False,
        **options,
    )


def fetched(client: OneConnect) -> dict[str, Any]:
    return {f"fetched/{k}": v for k, v in client.stats.snapshot().items() if k != "statuses"}


def landed(result: Landed, client: OneConnect, partitioned: bool = False) -> dict[str, Any]:
    count = "dagster/partition_row_count" if partitioned else "dagster/row_count"
    return {count: result.rows, **table_metadata(result.head), **fetched(client)}


def land_small(
    oneconnect: OneConnectResource,
    warehouse: WarehouseResource,
    name: str,
    model: type[pa.DataFrameModel],
    build: Callable[[OneConnect], pd.DataFrame],
) -> dg.MaterializeResult[None]:
    """A small table, built whole from its records."""
    with failing_at_once(), oneconnect.client() as client:
        result = land_frame(warehouse.open(), f"{GROUP}.{name}", build(client), model)
        return dg.MaterializeResult(metadata=landed(result, client))


@extract_asset("contacts", s.ContactsSchema)
def contacts(
    oneconnect: OneConnectResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    """Every contact of the account: phone numbers as text, birthdays as dates. Pages are
    decoded in native code as they download, converted a few at a time, and written to
    the warehouse while the listing runs."""
    with failing_at_once(), oneconnect.client() as client:
        chunks = frames.tables(client.contacts.arrow_pages(), frames.contact_chunk)
        result = land(
            warehouse.open(),
            f"{GROUP}.contacts",
            chunks,
            s.ContactsSchema,
        )
        return dg.MaterializeResult(metadata=landed(result, client))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            [GROUP, "lists"],
            description="Every list with its member counts.",
            metadata={"dagster/column_schema": column_schema(s.ListsSchema)},
            kinds=KINDS,
            owners=OWNERS,
            group_name=GROUP,
        ),
        dg.AssetSpec(
            [GROUP, "list_members"],
            description="One row per list x member; members that are not contacts "
            "(uploaded from CSV) have member_type 'noncontact' and no contact_id.",
            metadata={"dagster/column_schema": column_schema(s.ListMembersSchema)},
            kinds=KINDS,
            owners=OWNERS,
            group_name=GROUP,
        ),
    ],
    retry_policy=RETRY,
    pool=API_POOL,
)
def lists(oneconnect: OneConnectResource, warehouse: WarehouseResource) -> Any:
    """Lists and their memberships, from one listing of ``/lists``."""
    with failing_at_once(), oneconnect.client() as client:
        list_frame, members = frames.lists_frames(client.lists.list())
        tables = {
            "lists": (list_frame, s.ListsSchema),
            "list_members": (members, s.ListMembersSchema),
        }
        results = land_frames(
            warehouse.open(),
            [(f"{GROUP}.{name}", frame, model) for name, (frame, model) in tables.items()],
        )
        for name, result in zip(tables, results, strict=True):
            yield dg.MaterializeResult(asset_key=[GROUP, name], metadata=landed(result, client))


@extract_asset("campaigns", s.CampaignsSchema)
def campaigns(
    oneconnect: OneConnectResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    """Every campaign, its schedule flattened: type, start, end, repeat, certain dates."""
    return land_small(
        oneconnect,
        warehouse,
        "campaigns",
        s.CampaignsSchema,
        lambda c: frames.campaigns_frame(c.campaigns.list()),
    )


@extract_asset("birthday_campaigns", s.BirthdayCampaignsSchema)
def birthday_campaigns(
    oneconnect: OneConnectResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    """Every birthday campaign: the lists it greets, its text and sender."""
    return land_small(
        oneconnect,
        warehouse,
        "birthday_campaigns",
        s.BirthdayCampaignsSchema,
        lambda c: frames.frame_of(
            s.BirthdayCampaignsSchema, c.birthday_campaigns.list(), "birthday_campaigns"
        ),
    )


@extract_asset(
    "messages",
    s.MessagesSchema,
    partitions_def=messages_partitions,
    metadata={"partition_expr": "sent_local"},
)
def messages(
    context: AssetExecutionContext,
    oneconnect: OneConnectResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult[None]:
    """Messages sent on one day of the account's calendar, with their delivery status.
    Recent days are read again by the hourly refresh, so late delivery reports land.
    Streamed like the contacts: a day of a million-message account stays small."""
    span = context.partition_time_window
    start, end = span.start.astimezone(UTC), span.end.astimezone(UTC)
    start_local, end_local = span.start.replace(tzinfo=None), span.end.replace(tzinfo=None)
    # by id: a day OneConnect no longer holds whole (a plan keeps its last messages) keeps
    # the rows it had
    day = Window("sent_local", start_local, end_local, key="id")
    with failing_at_once(), oneconnect.client() as client:
        pages = client.messages.arrow_pages(start=start, end=end)
        # end_date is inclusive on the API; the next day's first second belongs to it
        before_end = pyarrow.scalar(end, pyarrow.timestamp("us", "UTC"))
        # a page at a time: a day is a few dozen pages, its run is bound by the network,
        # and its peak memory is a target (pages joined eight at a time: +3 MiB, no faster)
        convert = frames.message_chunk(client.timezone)
        chunks = (
            table.filter(pyarrow.compute.less(table["created_at"], before_end))
            for table in frames.tables(pages, convert, most=0)
        )
        result = land(
            warehouse.open(),
            f"{GROUP}.messages",
            chunks,
            s.MessagesSchema,
            day,
            check_rows=DAY_CHECK_ROWS,
        )
        return dg.MaterializeResult(metadata=landed(result, client, partitioned=True))


@extract_asset("titles", s.TitlesSchema)
def titles(
    oneconnect: OneConnectResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    """Sender names and whether OneConnect has activated them."""
    return land_small(
        oneconnect,
        warehouse,
        "titles",
        s.TitlesSchema,
        lambda c: frames.frame_of(s.TitlesSchema, c.titles.list(), "titles"),
    )


@extract_asset("templates", s.TemplatesSchema)
def templates(
    oneconnect: OneConnectResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    """Saved message texts."""
    return land_small(
        oneconnect,
        warehouse,
        "templates",
        s.TemplatesSchema,
        lambda c: frames.frame_of(s.TemplatesSchema, c.templates.list(), "templates"),
    )


@extract_asset("balance", s.BalanceSchema)
def balance(
    oneconnect: OneConnectResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    """SMS left on the account, and when that was read."""
    return land_small(
        oneconnect,
        warehouse,
        "balance",
        s.BalanceSchema,
        lambda c: frames.balance_frame(c.balance(), datetime.now(UTC)),
    )


@extract_asset("pricing", s.PricingSchema)
def pricing(
    oneconnect: OneConnectResource, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    """OneConnect's published plans with their limits (prices as exact decimals)."""
    return land_small(
        oneconnect,
        warehouse,
        "pricing",
        s.PricingSchema,
        lambda c: frames.frame_of(s.PricingSchema, c.pricing(), "pricing"),
    )


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
