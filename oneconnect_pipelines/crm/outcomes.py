"""Where a sync's outcomes go: every row into ``crm.sync_log``, rejected and failed rows
into a CSV report for the CRM's owners. Match keys are masked; no cell value is kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd

from ..exports import write_csv
from ..storage import Location
from ..warehouse import Warehouse
from .apply import rejected_rows
from .sync import FileSync

SYNC_LOG = "crm.sync_log"
_DAGSTER_RUN_ID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
LOG_COLUMNS = (
    "file",
    "sha256",
    "row",
    "match_key",
    "outcome",
    "reason",
    "contact_id",
    "run_id",
    "attempt",
    "dry_run",
    "synced_at",
)


def outcome_log(sync: FileSync, run_id: str, attempt: int, dry_run: bool) -> pd.DataFrame:
    """One row per file row, as ``crm.sync_log`` holds it."""
    rows = sync.result.rows.assign(
        file=sync.path.name,
        sha256=sync.sha256,
        run_id=run_id,
        attempt=attempt,
        dry_run=dry_run,
        synced_at=pd.Timestamp(datetime.now(UTC)),
    )
    return rows.astype({"outcome": "string", "attempt": "int32"})[list(LOG_COLUMNS)]


def record_outcomes(
    warehouse: Warehouse, sync: FileSync, run_id: str, attempt: int, dry_run: bool
) -> None:
    """Append every row's outcome to ``crm.sync_log``."""
    warehouse.append(SYNC_LOG, outcome_log(sync, run_id, attempt, dry_run))


def write_report(sync: FileSync, export_dir: Location, run_id: str) -> Location | None:
    """Rejected and failed rows (row number, masked key, outcome, reason) as a CSV under
    ``export_dir/crm_reports``, named by the file and the run (``_report_run_name``); None
    when every row went through."""
    rejected = rejected_rows(sync.result)
    if rejected.empty:
        return None
    name = f"{sync.path.stem}.{_report_run_name(run_id)}.rejected.csv"
    return write_csv(rejected, export_dir / "crm_reports" / name)


def _report_run_name(run_id: str) -> str:
    """A Dagster run id (a UUID) by its first 8 characters, as Dagster's UI shows runs;
    any other (``oneconnect sync``'s ``cli-`` and 32 hex digits) whole, as ``crm.sync_log``
    holds it. Its first 8 characters are ``cli-`` and 4 hex digits: among a year of daily
    runs of one file two shared a name more likely than not, one report overwriting the
    other."""
    return run_id[:8] if _DAGSTER_RUN_ID.fullmatch(run_id) else run_id
