"""The warehouse in Dagster: a resource for the steps that write it themselves (the
extraction streams its tables in while listing, the CRM sync appends its log, the
export reads every table) and the IO manager that stores and loads the DataFrames of
the analytics assets. Both go through ``oneconnect_pipelines.warehouse``: one writer,
one setting (``ONECONNECT_WAREHOUSE``, a DuckDB path or ``postgresql://...``)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from oneconnect_pipelines.warehouse import Warehouse, Window, open_warehouse

from .settings import SETTINGS


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The warehouse the tables land in."""

    url: str = Field(
        default=SETTINGS.warehouse,
        description="A DuckDB file, or postgresql://user@host/db with the password in "
        "PGPASSWORD, never in the URL (ONECONNECT_WAREHOUSE)",
    )

    def open(self) -> Warehouse:
        return open_warehouse(self.url)


def table_name(key: dg.AssetKey) -> str:
    """``oneconnect/contacts`` is the table ``oneconnect.contacts``."""
    return ".".join(key.path)


def window(
    context: dg.InputContext | dg.OutputContext, metadata: dg.RawMetadataMapping
) -> Window | None:
    """The rows of the partitions a step reads or writes, by the asset's partition column
    (its ``partition_expr`` metadata) and the partitions' own timezone: naive local wall
    times, as the partition columns hold them."""
    if not context.has_asset_partitions:
        return None
    column = str(metadata["partition_expr"])
    span = context.asset_partitions_time_window
    return Window(column, span.start.replace(tzinfo=None), span.end.replace(tzinfo=None))


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores an asset's DataFrame as its table (a partitioned asset: the partition's
    rows), and loads it back for the assets downstream."""

    url: str = Field(default=SETTINGS.warehouse, description="As WarehouseResource.url")

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        metadata = context.definition_metadata or {}
        rows = open_warehouse(self.url).write(
            table_name(context.asset_key), obj, window(context, metadata)
        )
        count = (
            "dagster/partition_row_count" if context.has_asset_partitions else "dagster/row_count"
        )
        context.add_output_metadata({count: rows})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        assert upstream is not None and upstream.asset_key is not None
        metadata: Any = upstream.definition_metadata or {}
        return open_warehouse(self.url).read_frame(
            table_name(upstream.asset_key), window(context, metadata)
        )


def warehouse_resources(url: str = SETTINGS.warehouse) -> dict[str, Any]:
    """The two resource keys the code location's steps use, on one warehouse."""
    return {"io_manager": WarehouseIOManager(url=url), "warehouse": WarehouseResource(url=url)}
