"""CRM push-back: the drop-folder sensor and the ``crm_contacts_sync`` job it triggers."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow
from dagster_duckdb import DuckDBResource
from pydantic import Field

from oneconnect_pipelines.crm import (
    ColumnMapping,
    NormaliseOptions,
    NumberFormat,
    PlanOptions,
    plan_sync,
    prepare,
)
from oneconnect_pipelines.crm.apply import ApplyOptions, SyncResult, apply_plan, rejected_rows
from oneconnect_pipelines.crm.dropfolder import FolderState, content_hash, scan
from oneconnect_pipelines.exports import write_csv

from .resources import OneConnectResource
from .settings import SETTINGS

SYNC_LOG = "crm.sync_log"


class CrmSyncConfig(dg.Config):
    """What to sync and how; the defaults suit a Georgian account storing 9955... numbers."""

    path: str = Field(description="The CRM export to sync (CSV or JSON Lines)")
    lists: list[str] = Field(
        default_factory=list,
        description="Target list name(s); empty: the lists named in the drop folder's mapping.yaml",
    )
    mapping: dict[str, Any] | None = Field(
        default=None,
        description="Column mapping ({lists, columns, defaults}, as in mapping.yaml); "
        "default: the drop folder's mapping.yaml, else the built-in CRM header defaults",
    )
    dry_run: bool = Field(default=False, description="Plan and report, write nothing")
    mirror: bool = Field(
        default=False, description="Remove list members that are no longer in the export"
    )
    region: str = Field(default="GE", description="Default region for numbers without +")
    number_format: NumberFormat = Field(
        default=NumberFormat.E164_DIGITS, description="How the account stores numbers"
    )
    month_first: bool = Field(default=False, description="Read a/b/YYYY dates as month/day")
    erase_missing: bool = Field(
        default=False, description="An empty CRM cell clears the contact's value"
    )
    contacts_limit: int | None = Field(
        default=None, description="The plan's contacts limit (None: unlimited)"
    )
    concurrency: int = Field(default=4, description="Writes in flight")


@dg.op(
    out=dg.Out(dg.Nothing),
    description="Read, validate and normalise one CRM export, plan it against the account's "
    "contacts, apply the changes (or only plan, in a dry run), make the target lists' "
    "membership right, and record every row's outcome in crm.sync_log.",
)
def sync_crm_file(
    context: dg.OpExecutionContext,
    config: CrmSyncConfig,
    oneconnect: OneConnectResource,
    warehouse: DuckDBResource,
) -> dg.Output[None]:
    path = Path(config.path)
    mapping = (
        ColumnMapping.from_dict(config.mapping)
        if config.mapping is not None
        else ColumnMapping.for_drop_folder(path.parent)
    )
    options = NormaliseOptions(config.region, config.number_format, config.month_first)
    rows, resolved = prepare(path, mapping, options)
    with oneconnect.client() as client:
        contacts = [record for page in client.contacts.pages() for record in page]
        plan = plan_sync(
            rows,
            contacts,
            options.phones(),
            PlanOptions(config.erase_missing, config.contacts_limit),
        )
        lists = tuple(config.lists) or mapping.lists
        result = apply_plan(
            client, plan, ApplyOptions(lists, config.mirror, config.dry_run, config.concurrency)
        )
        fetched = client.stats.snapshot()
    sha256 = content_hash(path)
    record_outcomes(warehouse, result, path, sha256, context.run_id, config.dry_run)
    report = write_report(result, path, context.run_id)
    counts = result.counts
    context.log.info(f"{path.name}: {counts}")
    return dg.Output(
        None,
        metadata={
            **{f"rows/{name}": value for name, value in counts.items()},
            "file": path.name,
            "sha256": sha256,
            "dry_run": config.dry_run,
            "writes": result.writes,
            "lists": dg.MetadataValue.md(lists_markdown(result)),
            "unused_columns": ", ".join(resolved.unused) or "none",
            "rejected_report": str(report) if report else "none",
            "requests": fetched["requests"],
        },
    )


def output_counts(result: dg.ExecuteInProcessResult, node: str, prefix: str) -> dict[str, int]:
    """The counts an op recorded in its output metadata (``prefix/name``), in order. The
    ops output Nothing: counts are metadata, so no IO manager (the warehouse's is the
    code location's default) ever stores them."""
    for event in result.events_for_node(node):
        if event.is_successful_output and event.step_output_data is not None:
            return {
                key[len(prefix) + 1 :]: int(value.value)  # type: ignore[arg-type]
                for key, value in event.step_output_data.metadata.items()
                if key.startswith(prefix + "/")
            }
    raise ValueError(f"{node} recorded no output")


def sync_counts(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    """``{"rows", "created", "updated", "unchanged", "rejected", "failed"}`` of a sync run."""
    return output_counts(result, "sync_crm_file", "rows")


def record_outcomes(
    warehouse: DuckDBResource,
    result: SyncResult,
    path: Path,
    sha256: str,
    run_id: str,
    dry_run: bool,
) -> None:
    """Append every row's outcome to ``crm.sync_log`` (match keys are masked)."""
    log = result.rows.assign(
        file=path.name,
        sha256=sha256,
        run_id=run_id,
        dry_run=dry_run,
        synced_at=pd.Timestamp(datetime.now(UTC)),
    )[
        [
            "file",
            "sha256",
            "row",
            "match_key",
            "outcome",
            "reason",
            "contact_id",
            "run_id",
            "dry_run",
            "synced_at",
        ]
    ]
    table = pyarrow.Table.from_pandas(log.astype({"outcome": "string"}), preserve_index=False)
    with warehouse.get_connection() as connection:
        connection.execute("CREATE SCHEMA IF NOT EXISTS crm")
        connection.register("_log", table)
        connection.execute(f"CREATE TABLE IF NOT EXISTS {SYNC_LOG} AS SELECT * FROM _log LIMIT 0")
        connection.execute(f"INSERT INTO {SYNC_LOG} SELECT * FROM _log")
        connection.unregister("_log")


def write_report(result: SyncResult, path: Path, run_id: str) -> Path | None:
    """Rejected and failed rows (row number, masked key, reason) as a CSV beside the
    exports; None when every row went through."""
    rejected = rejected_rows(result)
    if rejected.empty:
        return None
    target = SETTINGS.export_dir / "crm_reports" / f"{path.stem}.{run_id[:8]}.rejected.csv"
    write_csv(rejected, target)
    return target


def lists_markdown(result: SyncResult) -> str:
    if not result.lists:
        return "_no target list_"
    lines = ["| list | id | created | added | removed |", "| --- | ---: | --- | ---: | ---: |"]
    lines += [
        f"| {c.name} | {c.list_id or '-'} | {'yes' if c.created else 'no'} | {c.added} "
        f"| {c.removed} |"
        for c in result.lists
    ]
    return "\n".join(lines)


@dg.job(
    description="Sync one CRM export into OneConnect: contacts created or updated "
    "(only what changed), target lists made right, every row's outcome logged."
)
def crm_contacts_sync() -> None:
    sync_crm_file()


def run_request(path: Path, sha256: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=sha256,
        run_config={"ops": {"sync_crm_file": {"config": {"path": str(path)}}}},
        tags={"crm/file": path.name, "crm/sha256": sha256[:16]},
    )


@dg.sensor(
    job=crm_contacts_sync,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches the CRM drop folder (ONECONNECT_CRM_DROP_DIR) and starts one sync "
    "per new or changed export, once it is complete (a NAME.done marker, or its size "
    "unchanged since the last tick).",
)
def crm_drop_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    previous = FolderState.from_json(json.loads(context.cursor) if context.cursor else None)
    ready, state = scan(SETTINGS.crm_drop_dir, previous)
    requests = [run_request(file.path, file.sha256) for file in ready]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(state.to_json()))
