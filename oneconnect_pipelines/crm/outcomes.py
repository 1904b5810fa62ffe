"""Where a sync's outcomes go: every row into ``crm.sync_log``, rejected and failed rows
into a CSV report for the CRM's owners. Match keys are masked; no cell value is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from ..exports import write_csv
from ..storage import Location
from ..warehouse import Warehouse
from .apply import rejected_rows
from .sync import FileSync

SYNC_LOG = "crm.sync_log"
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
    ``export_dir/crm_reports``; None when every row went through."""
    rejected = rejected_rows(sync.result)
    if rejected.empty:
        return None
    target = export_dir / "crm_reports" / f"{sync.path.stem}.{run_id[:8]}.rejected.csv"
    return write_csv(rejected, target)
