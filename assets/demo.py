"""``make demo``: the whole extraction against the local sandbox account, then a summary.

Serves the sandbox simulator (``data/simulator.db``, the account ``make ui`` shows too)
on a free loopback port, points the code location at it, and runs what the daemon
would, with the same jobs, resources and a persistent instance (``data/dagster_home``):
``oneconnect_snapshot``, ``oneconnect_messages`` for the last three days, the CRM sync of
a sample export dropped into the drop folder (taken out again afterwards, so no later
sensor finds it; its mapping in the run config, so nothing of the user's there is
written over) with its birthday campaigns, and ``analytics_export``. Prints what
landed where; exits non-zero when a step fails. Running it again continues the account.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DAGSTER_HOME = Path("data/dagster_home")
DAYS = 3
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "crm_export.csv"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class StepFailed(Exception):
    """A run of the demo failed; the message says which and where to look."""


@dataclass
class Summary:
    rows: dict[str, int] = field(default_factory=dict)
    synced: dict[str, int] = field(default_factory=dict)
    report: str = "none"
    greetings: list[str] = field(default_factory=list)


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main() -> int:
    from oneconnect_pipelines.simulator import SimulatorThread

    try:
        from .sandbox import SIMULATOR_DB, SIZES, SandboxBusy, sandbox, sandbox_environment
    except ValueError as unusable:  # settings.SettingsError: one line naming the variable
        print(f"make demo: {unusable}", file=sys.stderr)
        return 1

    prepare_instance()
    step(
        f"opening the sandbox account {SIMULATOR_DB} (made on first use: {SIZES.contacts:,} "
        f"contacts, {SIZES.messages:,} messages over {SIZES.message_days} days)"
    )
    try:
        with sandbox() as simulator, SimulatorThread(simulator) as thread:
            os.environ.update(sandbox_environment(thread.base_url))
            step(f"simulator ready at {thread.base_url}")
            summary = run()
    except (SandboxBusy, StepFailed) as failed:
        step(str(failed))
        return 1
    print_summary(summary)
    return 0


def prepare_instance() -> None:
    DAGSTER_HOME.mkdir(parents=True, exist_ok=True)
    config = DAGSTER_HOME / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(DAGSTER_HOME.resolve())


def run() -> Summary:
    import dagster as dg

    from .definitions import defs
    from .extract import account_timezone
    from .metadata import materialized_rows

    instance = dg.DagsterInstance.get()
    summary = Summary()
    step("running oneconnect_snapshot")
    snapshot = execute(defs, "oneconnect_snapshot", instance)
    summary.rows.update({key: count or 0 for key, _, count in materialized_rows(snapshot)})
    today = datetime.now(UTC).astimezone(account_timezone()).date()
    for offset in reversed(range(DAYS)):
        day = (today - timedelta(days=offset)).isoformat()
        step(f"running oneconnect_messages for {day}")
        result = execute(defs, "oneconnect_messages", instance, partition_key=day)
        for key, _, count in materialized_rows(result):
            summary.rows[key] = summary.rows.get(key, 0) + (count or 0)  # days add up
    sync_sample(defs, instance, summary)
    step("running analytics_export")
    execute(defs, "analytics_export", instance)
    return summary


def execute(defs: Any, job: str, instance: Any, **options: Any) -> Any:
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        raise_on_error=False,
        **{**options, "run_config": {**options.get("run_config", {}), **QUIET}},
    )
    if not result.success:
        raise StepFailed(f"{job} failed: see run {result.run_id[:8]} in the Dagster UI")
    return result


def sync_sample(defs: Any, instance: Any, summary: Summary) -> None:
    """Drop the sample export, tick the sensor, run the sync and the birthday sync; then
    take the export out of the folder, so that the daemon's own sensor never finds it.
    The sample's mapping goes in the run config: the folder may hold the user's own
    ``mapping.yaml`` (and exports), which the demo never writes over."""
    import dagster as dg
    import yaml

    from oneconnect_pipelines.client import OneConnect

    from .birthday import birthday_after_crm_sync
    from .crm_sync import crm_drop_sensor, op_config, sync_counts
    from .settings import SETTINGS

    folder = SETTINGS.crm_drop_dir
    folder.mkdir(parents=True, exist_ok=True)
    dropped = folder / SAMPLE.name
    written = [dropped, folder / f"{SAMPLE.name}.done"]
    for path in written:
        if path.exists():
            raise StepFailed(
                f"{path} is already in the drop folder: the demo does not replace it; "
                "move it away, or set ONECONNECT_CRM_DROP_DIR to another folder"
            )
    dropped.write_bytes(SAMPLE.read_bytes())
    written[1].write_text("")
    try:
        step(f"dropped {SAMPLE.name} into {folder}; evaluating crm_drop_sensor")
        tick = crm_drop_sensor(dg.build_sensor_context(instance=instance))
        requests = tick.run_requests if isinstance(tick, dg.SensorResult) else None
        ours = [
            r
            for r in requests or []
            if op_config(r.run_config, "sync_crm_file").get("path") == str(dropped)
        ]
        if not ours:
            raise StepFailed(f"crm_drop_sensor requested no run for {SAMPLE.name}")
        mapping = yaml.safe_load((SAMPLE.parent / "mapping.yaml").read_text(encoding="utf-8"))
        config = {**op_config(ours[0].run_config, "sync_crm_file"), "mapping": mapping}
        step("running crm_contacts_sync")
        crm = execute(
            defs,
            "crm_contacts_sync",
            instance,
            run_config={"ops": {"sync_crm_file": {"config": config}}},
            tags=ours[0].tags,
        )
    finally:
        for path in written:
            path.unlink(missing_ok=True)
    summary.synced = sync_counts(crm)
    reports = sorted(
        (SETTINGS.export_dir / "crm_reports").glob("*.csv"), key=lambda p: p.stat().st_mtime
    )
    summary.report = str(reports[-1]) if reports else "none"
    follow = birthday_after_crm_sync(
        dg.build_run_status_sensor_context(
            sensor_name=birthday_after_crm_sync.name,
            dagster_instance=instance,
            dagster_run=crm.dagster_run,
            dagster_event=crm.get_run_success_event(),
        )
    )
    if not isinstance(follow, dg.RunRequest):
        raise StepFailed(f"birthday_after_crm_sync requested no run: {follow}")
    step("running birthday_campaigns_sync")
    execute(defs, "birthday_campaigns_sync", instance, run_config=follow.run_config)
    env = os.environ
    with OneConnect(
        env["ONECONNECT_BASE_URL"], env["ONECONNECT_EMAIL"], env["ONECONNECT_API_KEY"]
    ) as client:
        summary.greetings = [
            f"{c.name} (active: {c.active}) -> lists {list(c.recipient_lists)}: {c.content!r}"
            for c in client.birthday_campaigns.list()
        ]


def print_summary(summary: Summary) -> None:
    from .settings import SETTINGS

    print("\nTables in the warehouse (rows written by this run):")
    for key, count in sorted(summary.rows.items()):
        print(f"  {key:<32} {count:>8,}")
    print(
        f"\nCRM sync of {SAMPLE.name}: " + ", ".join(f"{k} {v}" for k, v in summary.synced.items())
    )
    print(f"  rejected rows report: {summary.report}")
    print("Birthday campaigns now in place:")
    for line in summary.greetings:
        print(f"  {line}")
    print(f"\nWarehouse: {SETTINGS.warehouse}")
    print(f"Exports:   {SETTINGS.export_dir.resolve()}")
    print(f"Runs:      {DAGSTER_HOME.resolve()} (see them with `make ui`)")


if __name__ == "__main__":
    sys.exit(main())
