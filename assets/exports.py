"""The ``analytics_export`` job: every warehouse table to Parquet and CSV for analysts."""

from typing import Any

import dagster as dg

from oneconnect_pipelines.exports import write_table
from oneconnect_pipelines.storage import location, shown

from .metadata import WAREHOUSE_POOL
from .settings import SETTINGS
from .warehouse import WarehouseResource

SCHEMAS = ("oneconnect", "analytics")


class ExportConfig(dg.Config):
    export_dir: str = str(SETTINGS.export_dir)


@dg.op(
    out=dg.Out(dg.Nothing),
    pool=WAREHOUSE_POOL,
    description="Write every oneconnect/* and analytics/* table under the export dir: "
    "<schema>/<table>.parquet and .csv; messages one pair of files per day.",
)
def export_tables(
    context: dg.OpExecutionContext, config: ExportConfig, warehouse: WarehouseResource
) -> dg.Output[None]:
    root = location(config.export_dir)
    counts: dict[str, Any] = {}
    store = warehouse.open()
    for schema, table in store.tables(SCHEMAS):
        frame = store.read_frame(f"{schema}.{table}")
        if schema == "oneconnect" and table == "messages":
            days = frame["sent_local"].dt.date
            for day, part in frame.groupby(days, sort=True):
                write_table(part, root / schema / table / str(day))
            counts[f"{schema}/{table}"] = f"{len(frame)} rows in {days.nunique()} days"
        else:
            write_table(frame, root / schema / table)
            counts[f"{schema}/{table}"] = len(frame)
        context.log.info(f"exported {schema}.{table}: {len(frame)} rows")
    return dg.Output(None, metadata={"export_dir": shown(root), **counts})


@dg.job(
    description="Export every OneConnect and analytics table to Parquet and CSV "
    "(formula-safe) for analysts."
)
def analytics_export() -> None:
    export_tables()
