"""``make demo``: the whole extraction against a freshly seeded simulator, then a summary.

Starts a simulator on a free loopback port, points the code location at it, runs the
``oneconnect_extract`` job for the last three days of messages exactly as the daemon
would (same job, same resources, a persistent instance under ``data/dagster_home``),
exports every table, prints what landed where, and stops the simulator. Exits non-zero
when any step fails. Running it again replaces what the last run wrote.
"""

import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from oneconnect_pipelines.client import OneConnect
from oneconnect_pipelines.simulator import Account, SeedSizes, Simulator, SimulatorThread
from oneconnect_pipelines.simulator.plans import plan_named

DAGSTER_HOME = Path("data/dagster_home")
DAYS = 3
SIZES = SeedSizes(contacts=5_000, lists=8, campaigns=8, birthday_campaigns=3, messages=20_000)


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main() -> int:
    DAGSTER_HOME.mkdir(parents=True, exist_ok=True)
    (DAGSTER_HOME / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(DAGSTER_HOME.resolve())
    timezone = os.environ.setdefault("ONECONNECT_TIMEZONE", "Asia/Tbilisi")
    account = Account(
        "demo@example.com",
        "demo-key",
        plan_named("business"),
        ZoneInfo(timezone),
        sms_balance=100_000,
        seed=1,
    )
    step(
        f"seeding a simulated OneConnect account: {SIZES.contacts:,} contacts, "
        f"{SIZES.messages:,} messages over {SIZES.message_days} days"
    )
    with SimulatorThread(Simulator.create(account, SIZES)) as simulator:
        os.environ.update(
            ONECONNECT_BASE_URL=simulator.base_url,
            ONECONNECT_EMAIL=account.email,
            ONECONNECT_API_KEY=account.api_key,
        )
        step(f"simulator ready at {simulator.base_url}")
        return run(simulator.base_url)


def run(base_url: str) -> int:
    import dagster as dg

    from .definitions import defs
    from .extract import account_timezone
    from .metadata import materialized_rows
    from .settings import SETTINGS

    instance = dg.DagsterInstance.get()
    today = datetime.now(UTC).astimezone(account_timezone()).date()
    extract = defs.get_job_def("oneconnect_extract")
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    rows: dict[str, int] = {}
    for offset in reversed(range(DAYS)):
        day = (today - timedelta(days=offset)).isoformat()
        step(f"running oneconnect_extract for {day}")
        result = extract.execute_in_process(
            partition_key=day, instance=instance, run_config=quiet, raise_on_error=False
        )
        if not result.success:
            step(f"oneconnect_extract failed for {day}: see the run in the Dagster UI")
            return 1
        for key, _, count in materialized_rows(result):
            # messages add up over the days; every other table is replaced each run
            rows[key] = rows.get(key, 0) + (count or 0) if key.endswith("messages") else count or 0
    if not sync_sample(defs, instance, quiet):
        return 1
    step("running analytics_export")
    export = defs.get_job_def("analytics_export").execute_in_process(
        instance=instance, run_config=quiet, raise_on_error=False
    )
    if not export.success:
        step("analytics_export failed: see the run in the Dagster UI")
        return 1
    print("\nTables in the warehouse (rows):")
    for key, count in sorted(rows.items()):
        print(f"  {key:<32} {count:>8,}")
    print(f"\nCRM sync of {SAMPLE.name}: " + ", ".join(f"{k} {v}" for k, v in SYNCED.items()))
    print(f"  rejected rows report: {REPORT[0] if REPORT else 'none'}")
    print("Birthday campaigns now in place:")
    for line in GREETINGS:
        print(f"  {line}")
    print(f"\nWarehouse: {SETTINGS.warehouse.resolve()}")
    print(f"Exports:   {SETTINGS.export_dir.resolve()}")
    print(f"Runs:      {DAGSTER_HOME.resolve()} (see them with `make ui`)")
    return 0


SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "crm_export.csv"
SYNCED: dict[str, int] = {}
REPORT: list[str] = []
GREETINGS: list[str] = []


def sync_sample(defs: Any, instance: Any, quiet: dict[str, Any]) -> bool:
    """Drop the sample export, tick the sensor, run the sync and the birthday sync."""
    import dagster as dg

    from .birthday import birthday_after_crm_sync
    from .crm_sync import crm_drop_sensor, sync_counts
    from .settings import SETTINGS

    SETTINGS.crm_drop_dir.mkdir(parents=True, exist_ok=True)
    for name in (SAMPLE.name, "mapping.yaml"):
        shutil.copyfile(SAMPLE.parent / name, SETTINGS.crm_drop_dir / name)
    (SETTINGS.crm_drop_dir / f"{SAMPLE.name}.done").write_text("")
    step(f"dropped {SAMPLE.name} into {SETTINGS.crm_drop_dir}; evaluating crm_drop_sensor")
    tick = crm_drop_sensor(dg.build_sensor_context(instance=instance))
    requests = tick.run_requests if isinstance(tick, dg.SensorResult) else None
    if not requests:
        step("crm_drop_sensor requested no run")
        return False
    step("running crm_contacts_sync")
    crm = defs.get_job_def("crm_contacts_sync").execute_in_process(
        run_config={**requests[0].run_config, **quiet},
        instance=instance,
        raise_on_error=False,
        tags=requests[0].tags,
    )
    if not crm.success:
        step("crm_contacts_sync failed: see the run in the Dagster UI")
        return False
    SYNCED.update(sync_counts(crm))
    reports = sorted(
        (SETTINGS.export_dir / "crm_reports").glob("*.csv"), key=lambda p: p.stat().st_mtime
    )
    REPORT.extend(str(p) for p in reports[-1:])
    follow = birthday_after_crm_sync(
        dg.build_run_status_sensor_context(
            sensor_name=birthday_after_crm_sync.name,
            dagster_instance=instance,
            dagster_run=crm.dagster_run,
            dagster_event=crm.get_run_success_event(),
        )
    )
    if not isinstance(follow, dg.RunRequest):
        step(f"birthday_after_crm_sync requested no run: {follow}")
        return False
    step("running birthday_campaigns_sync")
    greet = defs.get_job_def("birthday_campaigns_sync").execute_in_process(
        run_config={**follow.run_config, **quiet}, instance=instance, raise_on_error=False
    )
    if not greet.success:
        step("birthday_campaigns_sync failed: see the run in the Dagster UI")
        return False
    env = os.environ
    with OneConnect(
        env["ONECONNECT_BASE_URL"], env["ONECONNECT_EMAIL"], env["ONECONNECT_API_KEY"]
    ) as client:
        GREETINGS.extend(
            f"{c.name} (active: {c.active}) -> lists {list(c.recipient_lists)}: {c.content!r}"
            for c in client.birthday_campaigns.list()
        )
    return True


if __name__ == "__main__":
    sys.exit(main())
