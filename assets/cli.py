"""The ``oneconnect`` console script: the library's commands plus those for the pipelines.

oneconnect simulator [...]               a OneConnect simulator on loopback
oneconnect extract [--date D]            the extraction in-process (for cron users)
oneconnect sync FILE [...]               one CRM export into OneConnect

What goes wrong is said in one line on stderr (the cause, then what to do) with exit
code 1; ``--verbose`` adds the traceback.
"""

import argparse
import json
import os
import sys
import traceback
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from oneconnect_pipelines.cli import add_simulator_command, run_simulator
from oneconnect_pipelines.client import errors

#: Where ``extract`` keeps its runs when DAGSTER_HOME is not set: ``make ui``'s instance.
DEFAULT_DAGSTER_HOME = Path("data/dagster_home")


class CliError(Exception):
    """A failure the user can act on; its message is the one line shown."""


def explain(exc: BaseException, base_url: str) -> str | None:
    """The one line for a failure a user can fix, or None for a bug (shown in full)."""
    import duckdb

    from oneconnect_pipelines.crm import CrmFileError, MappingError

    from .resources import MissingCredentialsError
    from .settings import SETTINGS

    if isinstance(exc, CliError | CrmFileError | MappingError | MissingCredentialsError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: no such file"
    if isinstance(exc, IsADirectoryError | PermissionError):
        return f"{exc.filename}: cannot be read ({exc.strerror})"
    if isinstance(exc, errors.AuthenticationError):
        return (
            f"{base_url} refused the credentials (401): check ONECONNECT_EMAIL and "
            "ONECONNECT_API_KEY"
        )
    if isinstance(exc, errors.PermissionDeniedError):
        return (
            f"{base_url} refused this machine's address (403): add it to the account's "
            "IP allow-list"
        )
    if isinstance(exc, errors.ConnectError):
        return (
            f"nothing answers at {base_url} ({exc.message}): start it (`make simulator` "
            "for the local one) or check ONECONNECT_BASE_URL"
        )
    if isinstance(exc, errors.RequestTimeout):
        return f"{base_url} did not answer in time ({exc.message}): try again later"
    if isinstance(exc, errors.OneConnectError):
        return str(exc)
    if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
        return (
            f"the warehouse {SETTINGS.warehouse} is open in another process (a running "
            "dagster dev, a notebook): close it, or set ONECONNECT_WAREHOUSE"
        )
    return None


def instance() -> dg.DagsterInstance:
    """The persistent instance of ``DAGSTER_HOME``, by default ``make ui``'s: the runs
    show up in the UI."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        DEFAULT_DAGSTER_HOME.mkdir(parents=True, exist_ok=True)
        config = DEFAULT_DAGSTER_HOME / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        home = os.environ["DAGSTER_HOME"] = str(DEFAULT_DAGSTER_HOME.resolve())
    print(f"runs are kept in {home} (DAGSTER_HOME)", file=sys.stderr)
    return dg.DagsterInstance.get()


def failures(result: dg.ExecuteInProcessResult, verbose: bool) -> list[str]:
    """Each failed step with the first line of its error (the whole error if verbose)."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            text = (error.to_string() if verbose else error.message).strip() if error else ""
            shown = text if verbose else (text.splitlines() or ["failed"])[0]
            lines.append(f"failed: {event.step_key}: {shown}")
    return lines


def messages_day(text: str) -> date:
    """``--date``: an ISO day (argparse turns a ValueError into a usage error)."""
    return date.fromisoformat(text)


def run_extract(args: argparse.Namespace) -> int:
    from .analytics import ANALYTICS_ASSETS
    from .checks import CHECKS
    from .extract import EXTRACT_ASSETS, account_timezone
    from .metadata import materialized_rows
    from .resources import oneconnect_resource
    from .settings import SETTINGS
    from .warehouse import warehouse_resources

    today = datetime.now(UTC).astimezone(account_timezone()).date()
    day = args.date or today
    start = date.fromisoformat(SETTINGS.messages_start)
    if day < start:
        raise CliError(
            f"--date {day} is before ONECONNECT_MESSAGES_START ({start}), where the messages "
            "partitions begin: pick a later day, or set ONECONNECT_MESSAGES_START earlier"
        )
    if day > today:
        raise CliError(
            f"--date {day} is after today ({today}, {SETTINGS.timezone}): no messages yet"
        )
    resource = oneconnect_resource(resolve=True)
    with resource.client() as client:
        client.balance()  # the account answers, with these credentials, before any run
    result = dg.materialize(
        [*EXTRACT_ASSETS, *ANALYTICS_ASSETS, *CHECKS],
        partition_key=day.isoformat(),
        resources={"oneconnect": oneconnect_resource(), **warehouse_resources()},
        instance=instance(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
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
        for line in failures(result, args.verbose):
            print(line, file=sys.stderr)
        print(
            f"oneconnect extract: run {result.run_id} failed; `make ui` shows it", file=sys.stderr
        )
        return 1
    return 0


def run_sync(args: argparse.Namespace) -> int:
    """One file through ``crm.sync_file`` (no Dagster run), its outcomes into
    ``crm.sync_log`` and the rejected-rows report, as the sensor's runs do."""
    from oneconnect_pipelines.crm import SyncOptions, sync_file
    from oneconnect_pipelines.crm.apply import ApplyOptions
    from oneconnect_pipelines.crm.outcomes import record_outcomes, write_report
    from oneconnect_pipelines.warehouse import open_warehouse

    from .resources import oneconnect_resource
    from .settings import SETTINGS

    options = SyncOptions(apply=ApplyOptions(tuple(args.lists), args.mirror, args.dry_run))
    with oneconnect_resource(resolve=True).client() as client:
        sync = sync_file(client, args.file, options)
    run_id = f"cli-{uuid.uuid4().hex}"
    record_outcomes(open_warehouse(SETTINGS.warehouse), sync, run_id, 1, args.dry_run)
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
    parser.add_argument(
        "--verbose", action="store_true", help="show the traceback of what went wrong"
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
        "--date",
        type=messages_day,
        help="the messages day, YYYY-MM-DD (default: today, account time)",
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
    try:
        return run_sync(args) if args.command == "sync" else run_extract(args)
    except Exception as exc:
        from .resources import SIMULATOR_URL

        line = explain(exc, os.environ.get("ONECONNECT_BASE_URL", SIMULATOR_URL))
        if line is None or args.verbose:
            traceback.print_exc()
        if line is not None:
            print(f"oneconnect {args.command}: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
