"""Metadata every table asset shows in the UI: column schema, row count, masked preview."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_pandera import pandera_schema_to_dagster_type
from pandera.errors import SchemaErrors

from oneconnect_pipelines.landing import TableValidationError
from oneconnect_pipelines.preview import markdown_preview
from oneconnect_pipelines.schemas import arrow_schema
from oneconnect_pipelines.warehouse.base import column_types

from .settings import SETTINGS

#: What ``dg.asset(...)`` returns: a decorator turning a function into an asset.
AssetDecorator = Callable[[Callable[..., Any]], dg.AssetsDefinition]


KINDS = {"python", "pandas", "pandera", "duckdb"}
#: Concurrency pools (a deployment sets their limits): every step that calls the API, so
#: that runs together stay within the account's rate budget; and every step that only
#: reads and writes the warehouse.
API_POOL = "oneconnect_api"
WAREHOUSE_POOL = "oneconnect_warehouse"


def table_type(model: type[pa.DataFrameModel], table: str) -> dg.DagsterType:
    """The Dagster type that validates a table with its pandera model (lazily: every
    failing check in one pass), with dagster-pandera's name and column schema. A failure
    is described as ``landing.TableValidationError`` describes ``table``'s: by row and id,
    never by value (dagster-pandera's description is pandera's message, which quotes them).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # dagster-pandera is "beta"
        pandera_type = pandera_schema_to_dagster_type(model)
    schema = model.to_schema()

    def check(_context: dg.TypeCheckContext, value: object) -> dg.TypeCheck:
        if not isinstance(value, pd.DataFrame):
            return dg.TypeCheck(False, f"a pandas DataFrame, not a {type(value).__name__}")
        try:
            schema.validate(value, lazy=True)
        except SchemaErrors as exc:
            error = TableValidationError.of(table, exc, value)
            return dg.TypeCheck(False, str(error), metadata={"failures": len(error.failures)})
        return dg.TypeCheck(True)

    return dg.DagsterType(
        check,
        name=pandera_type.unique_name,
        description=pandera_type.description,
        metadata=pandera_type.metadata,
        typing_type=pd.DataFrame,
    )


def table_asset(
    name: str,
    model: type[pa.DataFrameModel],
    *,
    group: str,
    owners: list[str],
    pool: str,
    typed: bool = True,
    **options: Any,
) -> AssetDecorator:
    """``@asset`` named ``group/name`` in ``group``: a DuckDB table typed and documented
    (column schema) by its pandera model, its step in concurrency ``pool``."""
    metadata = {"dagster/column_schema": column_schema(model), **options.pop("metadata", {})}
    decorator: AssetDecorator = dg.asset(
        name=name,
        key_prefix=group,
        group_name=group,
        kinds=KINDS,
        owners=owners,
        dagster_type=table_type(model, f"{group}.{name}") if typed else None,
        metadata=metadata,
        pool=pool,
        **options,
    )
    return decorator


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """The pandera model's columns as Dagster shows them on the asset: the type each
    column has in the configured warehouse, and the model's description of it."""
    schema = model.to_schema()
    types = column_types(SETTINGS.warehouse, arrow_schema(model))
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=types[name],
                description=column.description,
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable, unique=column.unique
                ),
            )
            for name, column in schema.columns.items()
        ]
    )


def table_metadata(frame: pd.DataFrame) -> dict[str, Any]:
    """A masked preview; the row count is the IO manager's (``dagster/row_count``, or
    ``dagster/partition_row_count`` for one partition of a partitioned table)."""
    return {"preview": dg.MetadataValue.md(markdown_preview(frame))}


def materialized_rows(result: dg.ExecuteInProcessResult) -> list[tuple[str, str, int | None]]:
    """(asset, partition or "-", row count) of every materialization of a run."""
    rows = []
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        count = materialization.metadata.get("dagster/row_count") or (
            materialization.metadata.get("dagster/partition_row_count")
        )
        value = count.value if count is not None else None
        rows.append(
            (
                materialization.asset_key.to_user_string(),
                materialization.partition or "-",
                value if isinstance(value, int) else None,
            )
        )
    return rows
