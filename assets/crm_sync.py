"""CRM push-back: the drop-folder sensor and the ``crm_contacts_sync`` job it triggers."""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from pydantic import Field

from oneconnect_pipelines.crm import (
    ColumnMapping,
    CrmFileError,
    MappingError,
    NormaliseOptions,
    NumberFormat,
    PlanOptions,
    SyncOptions,
    sync_file,
)
from oneconnect_pipelines.crm.apply import ApplyOptions, SyncResult
from oneconnect_pipelines.crm.dropfolder import FolderState, ReadyFile, scan
from oneconnect_pipelines.crm.outcomes import SYNC_LOG, record_outcomes, write_report
from oneconnect_pipelines.storage import location, shown

from .metadata import API_POOL
from .resources import OneConnectResource
from .settings import SETTINGS
from .warehouse import WarehouseResource


class CrmSyncConfig(dg.Config):
    """What to sync and how; the defaults suit a Georgian account storing 9955... numbers."""

    path: str = Field(description="The CRM export to sync (CSV or JSON Lines)")
    sha256: str | None = Field(
        default=None,
        description="The content the file must have (set by crm_drop_sensor: the run "
        "refuses a file that changed or was swapped for a symlink since)",
    )
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
    month_first: bool | None = Field(
        default=None,
        description="Read a/b/YYYY birthdays as month/day (true) or day/month (false); "
        "empty: the mapping's month_first, else decided from the file's own dates",
    )
    erase_missing: bool = Field(
        default=False, description="An empty CRM cell clears the contact's value"
    )
    contacts_limit: int | None = Field(
        default=None, description="The plan's contacts limit (None: unlimited)"
    )
    concurrency: int = Field(default=4, description="Writes in flight")


#: Run tags: the file's name and full SHA-256, which attempt this is, and (set by the op)
#: that a whole-file error makes retrying pointless.
FILE_TAG, SHA_TAG, ATTEMPT_TAG, RETRY_TAG = "crm/file", "crm/sha256", "crm/attempt", "crm/retry"
#: The drop a run is an attempt at (``ReadyFile.drop``); retries carry it on.
DROP_TAG = "crm/drop"
#: A sensor's run, failed, is ``open`` (its file may get another attempt) until the retry
#: sensor settles it: the retry sensor finds what waits by this tag, whatever else failed.
RETRY_STATE_TAG, OPEN, SETTLED = "crm/retry_state", "open", "settled"


#: Output metadata: the names of the lists the run filled (read by the birthday sensor).
TARGET_LISTS = "target_lists"


#: ``crm.sync_log`` in the catalog: the table every sync appends its rows' outcomes to.
SYNC_LOG_ASSET = dg.AssetSpec(
    key=["crm", "sync_log"],
    group_name="crm",
    description="Every CRM row's outcome, one row per file row and attempt: file, sha256, "
    "row, masked match key, outcome (created, updated, unchanged, rejected, failed), "
    "reason, contact id, run id, attempt, dry_run, synced_at. Appended by "
    "crm_contacts_sync (and by `oneconnect sync`).",
    kinds={"duckdb"},
    owners=["team:marketing-ops"],
    metadata={"dagster/table_name": SYNC_LOG},
)


def sync_options(config: CrmSyncConfig) -> SyncOptions:
    return SyncOptions(
        mapping=ColumnMapping.from_dict(config.mapping) if config.mapping is not None else None,
        normalise=NormaliseOptions(config.region, config.number_format, config.month_first),
        plan=PlanOptions(config.erase_missing, config.contacts_limit),
        apply=ApplyOptions(tuple(config.lists), config.mirror, config.dry_run, config.concurrency),
        expected_sha256=config.sha256,
    )


@dg.op(
    out=dg.Out(dg.Nothing),
    pool=API_POOL,
    description="Read, validate and normalise one CRM export, plan it against the account's "
    "contacts, apply the changes (or only plan, in a dry run), make the target lists' "
    "membership right, and record every row's outcome in crm.sync_log. Fails when rows "
    "or lists failed on the server (crm_retry_sensor then tries again).",
)
def sync_crm_file(
    context: dg.OpExecutionContext,
    config: CrmSyncConfig,
    oneconnect: OneConnectResource,
    warehouse: WarehouseResource,
) -> dg.Output[None]:
    path = location(config.path)
    attempt = int(context.run.tags.get(ATTEMPT_TAG, "1"))
    try:
        with oneconnect.client() as client:
            sync = sync_file(client, path, sync_options(config))
    except (CrmFileError, MappingError) as exc:
        context.instance.add_run_tags(context.run_id, {RETRY_TAG: "no"})  # bad data stays bad
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    record_outcomes(warehouse.open(), sync, context.run_id, attempt, config.dry_run)
    context.log_event(
        dg.AssetMaterialization(
            asset_key=SYNC_LOG_ASSET.key,
            description=f"{len(sync.result.rows)} outcome(s) of {path.name} appended",
            metadata={
                "file": path.name,
                "attempt": attempt,
                "rows_appended": len(sync.result.rows),
            },
        )
    )
    report = write_report(sync, SETTINGS.export_dir, context.run_id)
    counts = sync.result.counts
    context.log.info(f"{path.name}: {counts}")
    metadata: dict[str, Any] = {
        **{f"rows/{name}": value for name, value in counts.items()},
        "file": path.name,
        "sha256": sync.sha256,
        "attempt": attempt,
        "dry_run": config.dry_run,
        "writes": sync.result.writes,
        "lists": dg.MetadataValue.md(lists_markdown(sync.result)),
        TARGET_LISTS: dg.MetadataValue.json(list(sync.lists)),
        "unused_columns": ", ".join(sync.unused_columns) or "none",
        "rejected_report": str(report) if report else "none",
    }
    if not sync.result.complete:
        broken = [f"list {c.name}: {c.error}" for c in sync.result.lists if c.error]
        raise dg.Failure(
            description=f"{path.name}: {counts['failed']} row(s) failed on the server"
            + "".join(f"; {problem}" for problem in broken)
            + " (their reasons are in crm.sync_log; crm_retry_sensor tries again)",
            metadata=metadata,
            allow_retries=False,
        )
    return dg.Output(None, metadata=metadata)


def output_counts(result: dg.ExecuteInProcessResult, node: str, prefix: str) -> dict[str, int]:
    """The counts an op recorded in its metadata (``prefix/name``), in order: the output's,
    or those of the failure it raised. The ops output Nothing: counts are metadata, so no
    IO manager (the warehouse's is the code location's default) ever stores them."""
    for event in result.events_for_node(node):
        metadata: Mapping[str, Any] | None = None
        if event.is_successful_output and event.step_output_data is not None:
            metadata = event.step_output_data.metadata
        elif event.is_step_failure and event.step_failure_data is not None:
            failure = event.step_failure_data.user_failure_data
            metadata = failure.metadata if failure is not None else None
        if metadata:
            return {
                key[len(prefix) + 1 :]: int(value.value)
                for key, value in metadata.items()
                if key.startswith(prefix + "/")
            }
    raise ValueError(f"{node} recorded no counts")


def op_config(run_config: Mapping[str, Any] | None, op: str) -> dict[str, Any]:
    """``run_config["ops"][op]["config"]``, or {} where any level is missing."""
    config: Any = run_config or {}
    for key in ("ops", op, "config"):
        config = config.get(key) if isinstance(config, Mapping) else None
    return dict(config) if isinstance(config, Mapping) else {}


def filled_lists(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The target lists a successful ``crm_contacts_sync`` run filled, as its op recorded
    them: whichever way they were chosen (``lists``, the ``mapping`` config, the
    folder's mapping.yaml), and as they were at the time of the run."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_OUTPUT):
        event = entry.dagster_event
        output = event.step_output_data if event is not None else None
        names = output.metadata.get(TARGET_LISTS) if output is not None else None
        if names is not None and isinstance(names.value, list):
            return [str(name) for name in names.value]
    return []


def sync_counts(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    """``{"rows", "created", "updated", "unchanged", "rejected", "failed"}`` of a sync run."""
    return output_counts(result, "sync_crm_file", "rows")


def lists_markdown(result: SyncResult) -> str:
    if not result.lists:
        return "_no target list_"
    lines = [
        "| list | id | created | added | removed | kept | note | error |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- | --- |",
    ]
    lines += [
        f"| {c.name} | {c.list_id or '-'} | {'yes' if c.created else 'no'} | {c.added} "
        f"| {c.removed} | {c.kept} | {c.note or ''} | {c.error or ''} |"
        for c in result.lists
    ]
    return "\n".join(lines)


@dg.job(
    description="Sync one CRM export into OneConnect: contacts created or updated "
    "(only what changed), target lists made right, every row's outcome logged."
)
def crm_contacts_sync() -> None:
    sync_crm_file()


def run_request(file: ReadyFile) -> dg.RunRequest:
    """The first attempt at a drop: keyed by the drop (content, name, write time), so the
    same drop is never run twice, and the content checked again by the run."""
    config = {"path": str(file.path), "sha256": file.sha256}
    return dg.RunRequest(
        run_key=file.drop,
        run_config={"ops": {"sync_crm_file": {"config": config}}},
        tags={
            FILE_TAG: file.path.name,
            SHA_TAG: file.sha256,
            DROP_TAG: file.drop,
            ATTEMPT_TAG: "1",
            RETRY_STATE_TAG: OPEN,
        },
    )


#: A sensor's sync that has not settled: on its way or running, or failed with
#: ``crm/retry_state=open`` (crm_retry_sensor may try it again).
UNSETTLED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
    dg.DagsterRunStatus.FAILURE,
]
#: Open runs looked at for one that has not settled (those failed for good settle at the
#: retry sensor's next tick).
OPEN_RUNS = 1000


def unsettled_sync(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    """The oldest sync of a dropped export that has not settled, if any. A failure that is
    not to be retried (bad data stays bad) has settled, whether or not crm_retry_sensor
    has reported it yet."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=crm_contacts_sync.name, statuses=UNSETTLED, tags={RETRY_STATE_TAG: OPEN}
        ),
        limit=OPEN_RUNS,
        ascending=True,
    )
    final = dg.DagsterRunStatus.FAILURE
    runs = (record.dagster_run for record in records)
    return next((r for r in runs if r.status != final or r.tags.get(RETRY_TAG) != "no"), None)


@dg.sensor(
    job=crm_contacts_sync,
    minimum_interval_seconds=SETTINGS.crm_sensor_interval_s,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches the CRM drop folder (ONECONNECT_CRM_DROP_DIR) and syncs each new "
    "or changed export once it is complete (a NAME.done marker, or unchanged since the "
    "last tick): one at a time, in the order they were written, each after the one "
    "before has settled (succeeded, or failed for good), so an older export never "
    "undoes a newer one.",
)
def crm_drop_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    folder = SETTINGS.crm_drop_dir
    cursor = json.loads(context.cursor) if context.cursor else {}
    ready, state = scan(folder, FolderState.from_json(cursor))
    waiting = _queued(cursor.get("waiting", []), ready, state, context.log)
    unreadable = "; ".join(f"{name}: {why}" for name, why in sorted(state.unreadable.items()))
    if unreadable:  # the other files went ahead; these are tried again every tick
        context.log.warning(f"cannot read, tried again next tick: {unreadable}")
    busy = unsettled_sync(context.instance) if waiting else None
    if waiting and busy is None:  # drops run before (a lost cursor hands them out again)
        waiting = _not_run(waiting, context.instance, context.log)
    requests = [run_request(waiting.pop(0))] if waiting and busy is None else []
    skip = None
    if busy is not None:
        skip = (
            f"{len(waiting)} export(s) wait ({_named(waiting)}) until run {busy.run_id[:8]} "
            f"for {busy.tags.get(FILE_TAG, '?')} settles: exports are synced one at a time, "
            "in the order they were written"
        )
    elif not requests:
        where = shown(folder)
        skip = (
            f"no new complete export in {where} ({len(state.files)} file(s) known)"
            if state.files or folder.is_dir()
            else f"the drop folder {where} does not exist or is empty (ONECONNECT_CRM_DROP_DIR)"
        )
    elif waiting:
        context.log.info(f"{len(waiting)} more export(s) wait their turn: {_named(waiting)}")
    if skip is not None and unreadable:
        skip += f"; cannot read {unreadable}"
    cursor = {**state.to_json(), "waiting": [file.to_json() for file in waiting]}
    return dg.SensorResult(run_requests=requests, skip_reason=skip, cursor=json.dumps(cursor))


def _queued(
    known: list[list[Any]], ready: list[ReadyFile], state: FolderState, log: Any
) -> list[ReadyFile]:
    """The exports waiting their turn, in order: those of earlier ticks, then ``ready``. A
    waiting export whose file has new content gives way to it; one whose content is gone
    (rewritten, removed) is dropped, with a warning: its run could only fail."""
    renewed = {file.path.name for file in ready}
    waiting = []
    for file in map(ReadyFile.from_json, known):
        if file.path.name in renewed:
            continue
        if state.holds(file):
            waiting.append(file)
        else:
            log.warning(f"{file.path.name} changed or went away before its turn: not synced")
    return waiting + ready


def _not_run(waiting: list[ReadyFile], instance: dg.DagsterInstance, log: Any) -> list[ReadyFile]:
    """``waiting`` without the drops that have a run already: Dagster would not run them
    again (their run key is taken), and one such request per tick would hold the queue."""
    ran = {value for _, values in instance.get_run_tags([DROP_TAG]) for value in values}
    fresh = [file for file in waiting if file.drop not in ran]
    if len(fresh) < len(waiting):
        log.info(f"{len(waiting) - len(fresh)} export(s) synced before: not requested again")
    return fresh


def _named(files: list[ReadyFile], first: int = 5) -> str:
    names = ", ".join(file.path.name for file in files[:first])
    return names + (f" and {len(files) - first} more" if len(files) > first else "")
