"""``make demo``: the whole extraction against a freshly seeded simulator, then a summary.

Starts a simulator on a free loopback port, points the code location at it, runs the
``oneconnect_extract`` job for the last three days of messages exactly as the daemon
would (same job, same resources, a persistent instance under ``data/dagster_home``),
exports every table, prints what landed where, and stops the simulator. Exits non-zero
when any step fails. Running it again replaces what the last run wrote.
"""

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
    print(f"\nWarehouse: {SETTINGS.warehouse.resolve()}")
    print(f"Exports:   {SETTINGS.export_dir.resolve()}")
    print(f"Runs:      DAGSTER_HOME={DAGSTER_HOME.resolve()} dagster dev -w workspace.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
