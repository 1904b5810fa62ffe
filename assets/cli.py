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
from oneconnect_pipelines.warehouse import Warehouse

#: Where ``extract`` keeps its runs when DAGSTER_HOME is not set: ``make ui``'s instance.
DEFAULT_DAGSTER_HOME = Path("data/dagster_home")


class CliError(Exception):
    """A failure the user can act on; its message is the one line shown."""


def explain(exc: BaseException) -> str | None:
    """The one line for a failure a user can fix, or None for a bug (shown in full)."""
    if isinstance(exc, CliError):  # before the imports below: they read the settings
        return str(exc)
    import duckdb

    from oneconnect_pipelines.crm import CrmFileError, MappingError

    from .resources import SIMULATOR_URL, MissingCredentialsError
    from .settings import SETTINGS

    base_url = os.environ.get("ONECONNECT_BASE_URL", SIMULATOR_URL)

    if isinstance(exc, CrmFileError | MappingError | MissingCredentialsError):
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


def read_settings() -> None:
    """The ``ONECONNECT_*`` settings read first, so that a bad value is one line: a
    module whose import failed cannot be named in an ``except`` later."""
    try:
        from . import settings  # noqa: F401
    except ValueError as exc:  # settings.SettingsError, naming the variable and its value
        raise CliError(str(exc)) from exc


def dagster_home() -> Path | None:
    """``DAGSTER_HOME`` when set, checked here: Dagster's own refusal is a traceback."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return None
    if not Path(home).is_absolute():
        raise CliError(
            f"DAGSTER_HOME={home!r} is a relative path; Dagster needs an absolute one "
            f"(e.g. {Path(home).resolve()}), or unset it to use {DEFAULT_DAGSTER_HOME}"
        )
    if not Path(home).is_dir():
        raise CliError(f"DAGSTER_HOME={home!r} is not a directory: create it, or unset it")
    return Path(home)


def instance() -> dg.DagsterInstance:
    """The persistent instance of ``DAGSTER_HOME``, by default ``make ui``'s: the runs
    show up in the UI."""
    home = dagster_home()
    if home is None:
        DEFAULT_DAGSTER_HOME.mkdir(parents=True, exist_ok=True)
        config = DEFAULT_DAGSTER_HOME / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        home = DEFAULT_DAGSTER_HOME.resolve()
        os.environ["DAGSTER_HOME"] = str(home)
    print(f"runs are kept in {home} (DAGSTER_HOME)", file=sys.stderr)
    return dg.DagsterInstance.get()


def failures(result: dg.ExecuteInProcessResult, verbose: bool) -> list[str]:
    """Each failed step with the first line of what made it fail (the whole error if
    verbose): Dagster's retries wrap it ("Exceeded max_retries of 2"), so the innermost
    cause is the one to show."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            if error is None:
                lines.append(f"failed: {event.step_key}")
                continue
            root = error
            while root.cause is not None:
                root = root.cause
            text = (error.to_string() if verbose else root.message).strip()
            shown = text if verbose else (text.splitlines() or ["failed"])[0]
            lines.append(f"failed: {event.step_key}: {shown}")
    return lines


def writable_warehouse() -> Warehouse:
    """``ONECONNECT_WAREHOUSE``, opened for writing once before anything else is done: an
    unreachable server or a path that cannot be a file is one line at once, not a run
    retried for minutes or a sync that wrote to the account and then could not log it."""
    from oneconnect_pipelines.masking import mask_text
    from oneconnect_pipelines.warehouse import open_warehouse

    from .settings import SETTINGS

    warehouse = open_warehouse(SETTINGS.warehouse)
    try:
        warehouse.check()
    except Exception as exc:  # the backends' own errors: duckdb, ADBC/libpq, OSError
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CliError(
            f"the warehouse {warehouse.url} cannot be written ({mask_text(said)}): check "
            "ONECONNECT_WAREHOUSE"
        ) from exc
    return warehouse


def messages_day(text: str) -> date:
    """``--date``: an ISO day (argparse turns a ValueError into a usage error)."""
    return date.fromisoformat(text)


def extract_days(chosen: date | None) -> list[str]:
    """The messages partitions to extract, newest first: ``--date``, else what the
    ``messages_hourly`` schedule re-reads (today and the lookback days, for late
    delivery reports)."""
    from .extract import account_timezone, recent_partitions
    from .settings import SETTINGS

    now = datetime.now(UTC)
    today = now.astimezone(account_timezone()).date()
    start = date.fromisoformat(SETTINGS.messages_start)
    day = chosen or today
    named = "--date" if chosen else "today"
    if day < start:
        raise CliError(
            f"{named} {day} is before ONECONNECT_MESSAGES_START ({start}), where the messages "
            "partitions begin: pick a later day, or set ONECONNECT_MESSAGES_START earlier"
        )
    if day > today:
        raise CliError(
            f"--date {day} is after today ({today}, {SETTINGS.timezone}): no messages yet"
        )
    if chosen:
        return [chosen.isoformat()]
    return recent_partitions(now, SETTINGS.messages_lookback_days)


def run_extract(args: argparse.Namespace) -> int:
    """One run of everything with the newest messages day, then one run of the messages
    and their delivery rates per earlier day (as the schedules split them)."""
    from .analytics import ANALYTICS_ASSETS, delivery_rates
    from .checks import CHECKS
    from .extract import EXTRACT_ASSETS, messages
    from .metadata import materialized_rows
    from .resources import oneconnect_resource
    from .warehouse import warehouse_resources

    dagster_home()
    days = extract_days(args.date)
    writable_warehouse()
    resource = oneconnect_resource(resolve=True)
    with resource.client() as client:
        client.balance()  # the account answers, with these credentials, before any run
    runs = instance()
    results = [
        dg.materialize(
            [*EXTRACT_ASSETS, *ANALYTICS_ASSETS, *CHECKS] if n == 0 else [messages, delivery_rates],
            partition_key=day,
            resources={"oneconnect": oneconnect_resource(), **warehouse_resources()},
            instance=runs,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
        for n, day in enumerate(days)
    ]
    print(f"{'asset':<32} {'partition':<11} {'rows':>9}")
    for result in results:
        for key, partition, rows in materialized_rows(result):
            print(f"{key:<32} {partition:<11} {'?' if rows is None else f'{rows:,}':>9}")
    checks = [c for result in results for c in result.get_asset_check_evaluations()]
    failed = [c for c in checks if not c.passed]
    print(
        f"checks: {len(checks) - len(failed)} passed, {len(failed)} failed"
        + "".join(
            f"\n  failed: {c.asset_key.to_user_string()} {c.check_name} ({c.severity.value})"
            for c in failed
        )
    )
    code = 0
    for result in results:
        if not result.success:
            for line in failures(result, args.verbose):
                print(line, file=sys.stderr)
            print(
                f"oneconnect extract: run {result.run_id} failed; `make ui` shows it",
                file=sys.stderr,
            )
            code = 1
    return code


def run_sync(args: argparse.Namespace) -> int:
    """One file through ``crm.sync_file`` (no Dagster run), its outcomes into
    ``crm.sync_log`` and the rejected-rows report, as the sensor's runs do."""
    from oneconnect_pipelines.crm import sync_file
    from oneconnect_pipelines.crm.outcomes import record_outcomes, write_report

    from .crm_sync import CrmSyncConfig, sync_options
    from .resources import oneconnect_resource
    from .settings import SETTINGS

    # the job's own config and mapping, so the command and the job cannot drift apart
    options = sync_options(
        CrmSyncConfig(
            path=str(args.file),
            lists=args.lists,
            dry_run=args.dry_run,
            mirror=args.mirror,
            region=args.region,
            number_format=args.number_format,
        )
    )
    # where the outcomes go, checked before the account is written to
    warehouse = writable_warehouse()
    reports = SETTINGS.export_dir / "crm_reports"
    try:
        reports.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(
            f"the report folder {reports} cannot be made ({exc.strerror}): check "
            "ONECONNECT_EXPORT_DIR"
        ) from exc
    with oneconnect_resource(resolve=True).client() as client:
        sync = sync_file(client, args.file, options)
    run_id = f"cli-{uuid.uuid4().hex}"
    record_outcomes(warehouse, sync, run_id, 1, args.dry_run)
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


def region(text: str) -> str:
    """``--region``: a region the phone normaliser knows (else a usage error)."""
    from oneconnect_pipelines.crm.phones import PhoneNormaliser

    try:
        return PhoneNormaliser(text).region
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_normalise_options(sync: argparse.ArgumentParser) -> None:
    """``--region`` and ``--number-format``: the sync job's options of the same names,
    with the library's defaults (the settings are not read yet: no ``crm_sync`` here)."""
    from oneconnect_pipelines.crm import NormaliseOptions, NumberFormat

    defaults = NormaliseOptions()
    sync.add_argument(
        "--region",
        type=region,
        default=defaults.region,
        help="region of numbers written without + (default: %(default)s)",
    )
    sync.add_argument(
        "--number-format",
        type=NumberFormat,
        choices=list(NumberFormat),
        default=defaults.number_format,
        help="how the account stores numbers: 995555123456 (e164_digits) or 0555123456 "
        "(national_digits) (default: %(default)s)",
    )


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
    add_normalise_options(sync)
    sync.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    if args.command == "simulator":
        return run_simulator(args)
    try:
        read_settings()
        return run_sync(args) if args.command == "sync" else run_extract(args)
    except Exception as exc:
        line = explain(exc)
        if line is None or args.verbose:
            traceback.print_exc()
        if line is not None:
            print(f"oneconnect {args.command}: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
