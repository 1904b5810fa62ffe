"""The ``oneconnect`` console script: the library's commands plus those that run Dagster.

oneconnect simulator [...]       a OneConnect simulator on loopback
oneconnect extract [--date D]    the extraction, in-process (for cron users)
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from oneconnect_pipelines.cli import add_simulator_command, run_simulator


def instance() -> dg.DagsterInstance:
    """The persistent instance when ``DAGSTER_HOME`` is set (runs show up in the UI)."""
    return (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else (dg.DagsterInstance.ephemeral())
    )


def print_failures(result: dg.ExecuteInProcessResult) -> None:
    """Each failed step and its error, on stderr."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "failed"
            print(f"failed: {event.step_key}: {message}", file=sys.stderr)


def run_extract(args: argparse.Namespace) -> int:
    from .analytics import ANALYTICS_ASSETS
    from .checks import CHECKS
    from .extract import EXTRACT_ASSETS, account_timezone
    from .metadata import materialized_rows
    from .resources import oneconnect_resource, warehouse_io_manager

    day = args.date or datetime.now(UTC).astimezone(account_timezone()).date().isoformat()
    resources = {"oneconnect": oneconnect_resource(), "io_manager": warehouse_io_manager()}
    result = dg.materialize(
        [*EXTRACT_ASSETS, *ANALYTICS_ASSETS, *CHECKS],
        partition_key=day,
        resources=resources,
        instance=instance(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    print(f"{'asset':<32} {'partition':<11} {'rows':>9}")
    for key, partition, rows in materialized_rows(result):
        print(f"{key:<32} {partition:<11} {'?' if rows is None else f'{rows:,}':>9}")
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed]
    print(
        f"checks: {len(checks) - len(failed)} passed, {len(failed)} failed"
        + "".join(
            f"\n  failed: {c.asset_key.to_user_string()} {c.check_name} ({c.severity.value})"
            for c in failed
        )
    )
    if not result.success:
        print_failures(result)
        return 1
    return 0


def run_sync(args: argparse.Namespace) -> int:
    from dagster_duckdb import DuckDBResource

    from .crm_sync import crm_contacts_sync, sync_counts
    from .resources import oneconnect_resource
    from .settings import SETTINGS

    config = {
        "path": str(args.file),
        "lists": args.lists,
        "dry_run": args.dry_run,
        "mirror": args.mirror,
    }
    result = crm_contacts_sync.execute_in_process(
        run_config={
            "ops": {"sync_crm_file": {"config": config}},
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        },
        resources={
            "oneconnect": oneconnect_resource(),
            "warehouse": DuckDBResource(database=str(SETTINGS.warehouse)),
        },
        instance=instance(),
        raise_on_error=False,
    )
    if not result.success:
        print_failures(result)
        return 1
    counts: dict[str, int] = sync_counts(result)
    if args.json:
        print(json.dumps(counts))
    else:
        print("  ".join(f"{name} {value}" for name, value in counts.items()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="oneconnect", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_simulator_command(commands)
    extract = commands.add_parser(
        "extract",
        help="materialize the extraction and analytics in-process",
        description="Run every oneconnect/* and analytics/* asset (one day of messages) "
        "and print what was materialized. Uses ONECONNECT_* like the code location.",
    )
    extract.add_argument(
        "--date", help="the messages day, YYYY-MM-DD (default: today, account time)"
    )
    sync = commands.add_parser(
        "sync",
        help="sync one CRM export into OneConnect in-process",
        description="Run the crm_contacts_sync job on FILE and print the outcome counts.",
    )
    sync.add_argument("file", help="a CSV or JSON Lines export")
    sync.add_argument(
        "--list",
        dest="lists",
        action="append",
        default=[],
        metavar="NAME",
        help="target list (repeatable; default: the folder's mapping.yaml)",
    )
    sync.add_argument("--dry-run", action="store_true", help="plan only, write nothing")
    sync.add_argument(
        "--mirror", action="store_true", help="remove list members that are not in the export"
    )
    sync.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    if args.command == "simulator":
        return run_simulator(args)
    if args.command == "sync":
        return run_sync(args)
    return run_extract(args)


if __name__ == "__main__":
    sys.exit(main())
