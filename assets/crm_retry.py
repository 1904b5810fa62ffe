"""Failed CRM syncs are tried again without a person: ``crm_retry_sensor``.

A sync run fails when the API was down or rows or lists failed on the server (rows
rejected for bad data never fail it). The sensor requests the next attempt at that
file, with a backoff that doubles from ``ONECONNECT_CRM_RETRY_BACKOFF_S``, until an
attempt succeeds or ``ONECONNECT_CRM_RETRY_ATTEMPTS`` were made. Each attempt re-plans
the whole file against the account, so it writes only what is still missing. Not
retried: a file whose content changed or that is gone (the drop sensor hands out new
content itself; the file is read to tell only when the next attempt is due), a
whole-file error (bad data stays bad), and runs started by hand.

The failed runs still waiting carry ``crm/retry_state=open``; a run the sensor settles
(retried by a later attempt, given up, not retriable) is tagged ``settled``. So each
tick looks at the waiting ones only, oldest first, however many other syncs failed: a
window of the newest failed runs let a waiting file drop out of sight for good once 200
newer failures (settled ones included) had come. While a failed run is open, the drop
sensor starts no later export (``crm_sync.unsettled_sync``): a retry never comes after,
and undoes, a newer export.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import dagster as dg

from oneconnect_pipelines.crm.dropfolder import content_hash
from oneconnect_pipelines.storage import location

from .crm_sync import (
    ATTEMPT_TAG,
    DROP_TAG,
    FILE_TAG,
    OPEN,
    RETRY_STATE_TAG,
    RETRY_TAG,
    SETTLED,
    SHA_TAG,
    crm_contacts_sync,
    op_config,
)
from .settings import SETTINGS

#: The longest wait between two attempts.
MAX_BACKOFF_S = 3600.0
#: Waiting failed runs looked at per tick, oldest first (the rest at later ticks, as
#: these settle).
WINDOW = 1000


def backoff_s(attempt: int) -> float:
    """The wait after attempt ``attempt`` (1-based) failed, before the next one."""
    return float(min(MAX_BACKOFF_S, SETTINGS.crm_retry_backoff_s * 2 ** (attempt - 1)))


@dg.sensor(
    job=crm_contacts_sync,
    minimum_interval_seconds=SETTINGS.crm_sensor_interval_s,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Tries a failed CRM sync again (API down, rows or lists failed on the "
    "server), with a doubling backoff and a bounded number of attempts "
    "(ONECONNECT_CRM_RETRY_ATTEMPTS, ONECONNECT_CRM_RETRY_BACKOFF_S).",
)
def crm_retry_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    instance = context.instance
    waiting = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=crm_contacts_sync.name,
            statuses=[dg.DagsterRunStatus.FAILURE],
            tags={RETRY_STATE_TAG: OPEN},
        ),
        limit=WINDOW,
        ascending=True,
    )
    requests: list[dg.RunRequest] = []
    notes: list[str] = []
    now = time.time()
    for record in waiting:
        run = record.dagster_run
        sha, name = run.tags.get(SHA_TAG), run.tags.get(FILE_TAG, "?")
        if not sha:
            continue
        attempt = int(run.tags.get(ATTEMPT_TAG, "1"))
        drop = run.tags.get(DROP_TAG, sha)  # a run made before drops were tagged: its content
        ended = record.end_time or record.update_timestamp.timestamp()
        due = ended + backoff_s(attempt)
        verdict = None
        if _speaker(instance, sha, drop) != run.run_id:
            verdict = ""  # a later attempt exists: it speaks for the file
        elif run.tags.get(RETRY_TAG) == "no":
            verdict = f"{name}: not retried, the file itself cannot be synced (see the run)"
        elif attempt >= SETTINGS.crm_retry_attempts:
            verdict = (
                f"{name}: gave up after {attempt} attempts; its failed rows are in "
                f"crm.sync_log (run {run.run_id[:8]})"
            )
        elif now >= due and not _unchanged(run.run_config, sha):  # read only when due
            verdict = f"{name}: not retried, it changed or is gone since attempt {attempt}"
        if verdict is not None:
            instance.add_run_tags(run.run_id, {RETRY_STATE_TAG: SETTLED})
            if verdict:
                context.log.warning(verdict)
                notes.append(verdict)
            continue
        if now < due:
            notes.append(f"{name}: attempt {attempt + 1} in {due - now:.0f} s")
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{drop}:{attempt + 1}",
                run_config=run.run_config,
                tags={
                    FILE_TAG: name,
                    SHA_TAG: sha,
                    DROP_TAG: drop,
                    ATTEMPT_TAG: str(attempt + 1),
                    RETRY_STATE_TAG: OPEN,
                },
            )
        )
    return dg.SensorResult(
        run_requests=requests,
        skip_reason=None if requests else ("; ".join(notes) or "no failed CRM sync to retry"),
    )


def _speaker(instance: dg.DagsterInstance, sha: str, drop: str) -> str:
    """The run that speaks for a drop: its highest attempt, the latest of equals (a run
    re-executed by hand carries its parent's tags, attempt number included). Its next
    attempt's run key is the only one not taken; asking for a taken one, Dagster runs
    nothing, and the run would wait forever."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=crm_contacts_sync.name, tags={SHA_TAG: sha})
    )
    attempts = [r for r in records if r.dagster_run.tags.get(DROP_TAG, sha) == drop]
    best = max(
        attempts,
        key=lambda r: (int(r.dagster_run.tags.get(ATTEMPT_TAG, "1")), r.create_timestamp),
    )
    return best.dagster_run.run_id


def _unchanged(run_config: Mapping[str, Any], sha: str) -> bool:
    """The file the run was for still holds the content it was for."""
    path = location(str(op_config(run_config, "sync_crm_file").get("path", "")))
    try:
        return path.is_file() and not path.is_symlink() and content_hash(path) == sha
    except OSError:
        return False
