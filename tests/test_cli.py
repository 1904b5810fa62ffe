"""The ``oneconnect simulator`` command as a user runs it: a subprocess on a free port."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from oneconnect_pipelines.simulator import SimClock, Simulator, SimulatorThread

from .conftest import API_KEY, EMAIL, SMALL, TZ, default_account
from .objectstore import new_bucket

ROOT = Path(__file__).resolve().parent.parent

READY = re.compile(r"^OneConnect simulator ready at (http://127\.0\.0\.1:\d+/api/v1)$")


def command() -> list[str]:
    script = Path(sys.executable).parent / "oneconnect"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "oneconnect_pipelines.cli"]


def first_line(process: subprocess.Popen[str], timeout_s: float = 30.0) -> str:
    """The first stdout line, or fail after ``timeout_s`` (the process is killed then)."""
    lines: list[str] = []
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    if not lines:
        process.kill()
        pytest.fail("the simulator printed nothing")
    return lines[0].rstrip("\n")


@pytest.fixture
def simulator() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [*command(), "simulator", "--port", "0", "--contacts", "20", "--messages", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = first_line(process)
        match = READY.match(line)
        assert match, line
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_prints_its_base_url_and_serves_the_demo_account(
    simulator: tuple[subprocess.Popen[str], str],
) -> None:
    _, base_url = simulator
    with httpx.Client(base_url=base_url, auth=(EMAIL, API_KEY), timeout=10) as client:
        assert client.get("/balance").status_code == 200
        assert len(client.get("/contacts").json()) == 20
        assert len(client.get("/messages").json()) == 50
    wrong = httpx.get(base_url + "/balance", auth=(EMAIL, "wrong"), timeout=10)
    assert wrong.status_code == 401


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly(
    simulator: tuple[subprocess.Popen[str], str], signum: signal.Signals
) -> None:
    process, base_url = simulator
    assert httpx.get(base_url + "/balance", auth=(EMAIL, API_KEY), timeout=10).status_code == 200
    process.send_signal(signum)
    try:
        code = process.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 10 s after {signum.name}")
    assert process.stderr is not None
    assert code == 0, process.stderr.read()
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/balance", timeout=2)


@pytest.mark.parametrize(
    ("rate", "explains"),
    [
        ("500=2", "more than 1"),
        ("404=0.1", "404"),
        ("500", "STATUS=RATE, not '500'"),
        ("five=0.1", "STATUS=RATE, not 'five=0.1'"),
    ],
)
def test_bad_error_rates_are_refused_with_exit_code_2(rate: str, explains: str) -> None:
    result = subprocess.run(
        [*command(), "simulator", "--port", "0", "--error-rate", rate],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""  # never announced as ready
    assert "bad fault settings" in result.stderr
    assert explains in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("options", "explains"),
    [
        (["--timezone", "Europe/Tbilsi"], "argument --timezone: 'Europe/Tbilsi' is not a timezone"),
        (["--port", "70000"], "argument --port: '70000' is not a port number (0 to 65535)"),
        (["--contacts", "-5"], "argument --contacts: '-5' is not a whole number, 0 or more"),
    ],
)
def test_malformed_simulator_arguments_are_usage_errors(options: list[str], explains: str) -> None:
    result = subprocess.run(
        [*command(), "simulator", "--port", "0", *options],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert explains in result.stderr


def test_a_taken_port_or_an_unusable_db_is_one_line(tmp_path: Path) -> None:
    """Both were tracebacks (uvicorn's, after seeding; sqlite's)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        taken = subprocess.run(
            [*command(), "simulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    missing = tmp_path / "no-such-folder" / "sim.db"
    unusable = subprocess.run(
        [*command(), "simulator", "--port", "0", "--db", str(missing)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    for result in (taken, unusable):
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stdout == ""  # never announced as ready
    assert taken.stderr.strip() == (
        f"oneconnect simulator: port {port} on 127.0.0.1 is taken (a running `make ui` or "
        "simulator?): stop it, or pass another --port"
    )
    assert unusable.stderr.strip().startswith(
        f"oneconnect simulator: --db {missing} cannot be used ("
    )


# ------------------------------------------------------------------ errors, as a user sees them
def oneconnect(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ONECONNECT_", "DAGSTER_"))}
    return subprocess.run(
        [sys.executable, "-m", "assets.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd or ROOT,
        timeout=180,
    )


def one_line(result: subprocess.CompletedProcess[str], command: str) -> str:
    """The error: exit code 1, no traceback, one line starting with the command."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [
        line for line in result.stderr.splitlines() if line.startswith(f"oneconnect {command}:")
    ]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def account() -> Iterator[str]:
    simulator = Simulator.create(default_account(), SMALL, clock=SimClock(frozen=True))
    with SimulatorThread(simulator) as thread:
        yield thread.base_url


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    line = one_line(oneconnect("sync", "nope.csv", cwd=tmp_path), "sync")
    assert line == "oneconnect sync: nope.csv: no such file"


def test_a_missing_object_in_a_bucket_is_one_line(s3_endpoint: str, tmp_path: Path) -> None:
    missing = new_bucket() / "crm_drop" / "nope.csv"
    line = one_line(oneconnect("sync", str(missing), cwd=tmp_path), "sync")
    assert line == f"oneconnect sync: {missing}: no such file"


def test_a_wrong_api_key_is_one_line(account: str, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("Mobile Phone\n0555123456\n")
    env = {"ONECONNECT_BASE_URL": account, "ONECONNECT_API_KEY": "not-the-key"}
    for command in (("sync", str(export)), ("extract",)):
        line = one_line(oneconnect(*command, env=env, cwd=tmp_path), command[0])
        assert "refused the credentials (401)" in line
        assert "check ONECONNECT_EMAIL and ONECONNECT_API_KEY" in line
        assert "not-the-key" not in line


def test_an_unreachable_base_url_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"ONECONNECT_BASE_URL": f"http://127.0.0.1:{port}/api/v1"}
    line = one_line(oneconnect("extract", env=env, cwd=tmp_path), "extract")
    assert f"nothing answers at http://127.0.0.1:{port}/api/v1" in line
    assert "ONECONNECT_BASE_URL" in line


def test_a_real_host_without_credentials_is_refused_before_any_request(tmp_path: Path) -> None:
    env = {"ONECONNECT_BASE_URL": "https://oneconnect.uno/api/v1"}
    line = one_line(oneconnect("extract", env=env, cwd=tmp_path), "extract")
    assert "ONECONNECT_EMAIL and ONECONNECT_API_KEY not set" in line


def test_a_date_that_is_no_date_is_a_usage_error(tmp_path: Path) -> None:
    result = oneconnect("extract", "--date", "2026-13-01", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --date: invalid messages_day value: '2026-13-01'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_date_before_the_partitions_start_is_one_line(tmp_path: Path) -> None:
    env = {"ONECONNECT_MESSAGES_START": "2026-06-01"}
    line = one_line(oneconnect("extract", "--date", "2026-05-31", env=env, cwd=tmp_path), "extract")
    assert "before ONECONNECT_MESSAGES_START (2026-06-01)" in line


def test_verbose_adds_the_traceback(tmp_path: Path) -> None:
    result = oneconnect("--verbose", "sync", "nope.csv", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "FileNotFoundError" in result.stderr
    assert "oneconnect sync: nope.csv: no such file" in result.stderr


def test_extract_keeps_its_runs_in_the_stated_instance(account: str, tmp_path: Path) -> None:
    result = oneconnect("extract", env={"ONECONNECT_BASE_URL": account}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    home = tmp_path / "data" / "dagster_home"
    assert f"runs are kept in {home}" in result.stderr
    runs = [p for p in (home / "history" / "runs").glob("*.db") if p.name != "index.db"]
    # in make ui's instance, not a throwaway one: one run, and one per lookback day (2)
    assert len(runs) == 3
    assert "oneconnect/contacts" in result.stdout


def printed_partitions(stdout: str, asset: str) -> list[str]:
    return [line.split()[1] for line in stdout.splitlines() if line.startswith(asset + " ")]


def test_extract_without_a_date_rereads_the_lookback_days_like_the_hourly_schedule(
    account: str, tmp_path: Path
) -> None:
    """Late delivery reports change yesterday's messages: without --date, the days the
    messages_hourly schedule re-reads (ONECONNECT_MESSAGES_LOOKBACK_DAYS) are extracted."""
    env = {"ONECONNECT_BASE_URL": account, "ONECONNECT_MESSAGES_LOOKBACK_DAYS": "1"}
    result = oneconnect("extract", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    today = datetime.now(TZ).date()
    both = [today.isoformat(), (today - timedelta(days=1)).isoformat()]
    assert printed_partitions(result.stdout, "oneconnect/messages") == both
    assert printed_partitions(result.stdout, "analytics/delivery_rates") == both
    assert printed_partitions(result.stdout, "oneconnect/contacts") == ["-"]  # once
    dated = oneconnect("extract", "--date", both[1], env=env, cwd=tmp_path)
    assert dated.returncode == 0, dated.stderr[-3000:]
    assert printed_partitions(dated.stdout, "oneconnect/messages") == [both[1]]


def test_a_relative_dagster_home_is_one_line(tmp_path: Path) -> None:
    line = one_line(
        oneconnect("extract", env={"DAGSTER_HOME": "runs/home"}, cwd=tmp_path), "extract"
    )
    assert "DAGSTER_HOME='runs/home' is a relative path" in line
    assert str(tmp_path / "runs" / "home") in line  # the absolute one to use instead


@pytest.mark.parametrize("command", [("extract",), ("sync", "export.csv")])
def test_an_unknown_timezone_is_one_line(command: tuple[str, ...], tmp_path: Path) -> None:
    env = {"ONECONNECT_TIMEZONE": "Europe/Tbilisi"}
    line = one_line(oneconnect(*command, env=env, cwd=tmp_path), command[0])
    assert line == (
        f"oneconnect {command[0]}: ONECONNECT_TIMEZONE='Europe/Tbilisi' is not a timezone "
        "name (an IANA name like Europe/Berlin)"
    )


def test_sync_reads_numbers_in_the_region_and_writes_them_in_the_format_given(
    tmp_path: Path,
) -> None:
    """--region and --number-format are the sync job's options of the same names: a
    German CRM's 0170 number becomes 491701234567, or 01701234567 on an account that
    stores national digits."""
    export = tmp_path / "export.csv"
    export.write_text("Mobile Phone,First Name\n0170 1234567,Anna\n")
    simulator = Simulator.create(default_account(), SMALL, clock=SimClock(frozen=True))
    with SimulatorThread(simulator) as thread:
        env = {"ONECONNECT_BASE_URL": thread.base_url}
        as_georgian = oneconnect("sync", str(export), "--json", env=env, cwd=tmp_path)
        assert json.loads(as_georgian.stdout)["created"] == 0, as_georgian.stderr
        for options, stored in (
            (["--region", "de"], "491701234567"),
            (["--region", "DE", "--number-format", "national_digits"], "01701234567"),
        ):
            done = oneconnect("sync", str(export), *options, "--json", env=env, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["created"] == 1
            with httpx.Client(base_url=thread.base_url, auth=(EMAIL, API_KEY)) as client:
                phones = {c["phone_number"] for c in client.get("/contacts").json()}
            assert stored in phones


def test_a_region_the_normaliser_does_not_know_is_a_usage_error(tmp_path: Path) -> None:
    result = oneconnect("sync", "export.csv", "--region", "XX", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --region: 'XX' is not a region" in result.stderr


def test_a_failed_step_is_shown_by_what_made_it_fail_not_by_its_retries() -> None:
    """Dagster's retries wrap the error ("Exceeded max_retries of 2"): that line was all
    `oneconnect extract` printed, after minutes of retrying."""
    import dagster as dg

    from assets.cli import failures

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def broken() -> None:
        raise ValueError("the real cause")

    result = dg.materialize([broken], raise_on_error=False)
    assert failures(result, verbose=False) == ["failed: broken: ValueError: the real cause"]


def test_a_warehouse_that_cannot_be_written_is_one_line_before_any_run(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"ONECONNECT_WAREHOUSE": f"postgresql://nobody:secret@127.0.0.1:{port}/db"}
    result = oneconnect("extract", env=env, cwd=tmp_path)
    line = one_line(result, "extract")
    assert line.startswith(
        f"oneconnect extract: the warehouse postgresql://nobody:***@127.0.0.1:{port}/db "
        "cannot be written ("
    )
    assert line.endswith("): check ONECONNECT_WAREHOUSE") and "secret" not in result.stderr
    assert not (tmp_path / "data" / "dagster_home").exists()  # no run was started


@pytest.mark.parametrize("setting", ["ONECONNECT_WAREHOUSE", "ONECONNECT_EXPORT_DIR"])
def test_sync_checks_where_its_outcomes_go_before_it_writes_to_the_account(
    setting: str, tmp_path: Path
) -> None:
    """It created the contacts, then failed to log them (a traceback), so the next run
    could not tell what the last one did."""
    export = tmp_path / "export.csv"
    export.write_text("Mobile Phone,First Name\n0555123456,Anna\n")
    blocker = tmp_path / "in-the-way"
    blocker.mkdir() if setting == "ONECONNECT_WAREHOUSE" else blocker.write_text("a file")
    simulator = Simulator.create(default_account(), SMALL, clock=SimClock(frozen=True))
    with SimulatorThread(simulator) as thread:
        env = {"ONECONNECT_BASE_URL": thread.base_url, setting: str(blocker)}
        line = one_line(oneconnect("sync", str(export), env=env, cwd=tmp_path), "sync")
        with httpx.Client(base_url=thread.base_url, auth=(EMAIL, API_KEY)) as client:
            phones = {c["phone_number"] for c in client.get("/contacts").json()}
    assert line.endswith(f"check {setting}")
    assert "995555123456" not in phones
