"""The ``oneconnect`` console script: the library's commands plus those that run Dagster.

oneconnect simulator [...]       a OneConnect simulator on loopback
oneconnect extract [--date D]    the extraction, in-process (for cron users)
"""

import argparse
import json
import os
import sys
import uuid
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
    """One file through ``crm.sync_file`` (no Dagster run), its outcomes into
    ``crm.sync_log`` and the rejected-rows report, as the sensor's runs do."""
    import duckdb

    from oneconnect_pipelines.crm import SyncOptions, sync_file
    from oneconnect_pipelines.crm.apply import ApplyOptions
    from oneconnect_pipelines.crm.outcomes import record_outcomes, write_report

    from .resources import oneconnect_resource
    from .settings import SETTINGS

    options = SyncOptions(apply=ApplyOptions(tuple(args.lists), args.mirror, args.dry_run))
    with oneconnect_resource(resolve=True).client() as client:
        sync = sync_file(client, args.file, options)
    run_id = f"cli-{uuid.uuid4().hex}"
    SETTINGS.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(SETTINGS.warehouse)) as connection:
        record_outcomes(connection, sync, run_id, 1, args.dry_run)
    report = write_report(sync, SETTINGS.export_dir, run_id)
    counts = sync.result.counts
    if args.json:
        print(json.dumps(counts))
    else:
        print("  ".join(f"{name} {value}" for name, value in counts.items()))
    if report is not None:
        print(f"rejected and failed rows: {report}", file=sys.stderr)
    if not sync.result.complete:
        print(
            f"{counts['failed']} row(s) or a list failed on the server; run the same "
            "command again to retry them (the rest is not written twice)",
            file=sys.stderr,
        )
        return 1
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
