"""The Dagster UI in a real browser: the asset groups are shown, and a materialization
launched from the UI succeeds. Headless Debian Chromium driven by Playwright; screenshots
are kept under ``artifacts/screenshots`` (not committed)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from oneconnect_pipelines.simulator import SimClock, Simulator, SimulatorThread

from .conftest import SMALL, default_account

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCATION = "oneconnect"  # workspace.yaml names the code location


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n"
        "  class: DefaultRunCoordinator\n"  # runs start at once, no daemon needed
    )
    simulator = Simulator.create(default_account(), SMALL, clock=SimClock(frozen=True))
    with SimulatorThread(simulator) as sim:
        port = free_port()
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "ONECONNECT_BASE_URL": sim.base_url,
            "ONECONNECT_WAREHOUSE": str(home / "warehouse.duckdb"),
            "ONECONNECT_EXPORT_DIR": str(home / "exports"),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dagster_webserver",
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            else:
                raise RuntimeError("the Dagster webserver did not start")
            yield url, home
        finally:
            process.terminate()
            process.wait(30)


@pytest.fixture(scope="module")
def webserver(served: tuple[str, Path]) -> str:
    return served[0]


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1600, "height": 2400})
        yield context.new_page()
        browser.close()


def dismiss_welcome(page: Page) -> None:
    """A fresh instance greets with "Join the Dagster community": skip it."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()


def test_the_asset_groups_and_their_assets_are_shown(webserver: str, page: Page) -> None:
    page.goto(f"{webserver}/asset-groups/oneconnect@__repository__@{LOCATION}/lineage")
    page.wait_for_load_state("networkidle")
    dismiss_welcome(page)
    for group in ("oneconnect", "analytics"):  # the lineage graph's two group nodes
        expect(page.get_by_text(group, exact=True).first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "lineage.png"), full_page=True)
    page.goto(f"{webserver}/assets")
    page.wait_for_load_state("networkidle")
    dismiss_welcome(page)
    for key in (
        "oneconnect/contacts",
        "oneconnect/list_members",
        "oneconnect/messages",
        "oneconnect/pricing",
        "analytics/delivery_rates",
        "analytics/sms_forecast",
        "crm/sync_log",
    ):  # long names are shown truncated: find each by its link
        expect(page.locator(f'a[href="/assets/{key}"]').first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "catalog.png"), full_page=True)


def test_a_materialization_launched_from_the_ui_succeeds(webserver: str, page: Page) -> None:
    page.goto(f"{webserver}/assets/oneconnect/pricing")
    page.wait_for_load_state("networkidle")
    dismiss_welcome(page)
    page.get_by_role("button", name=re.compile(r"(^| )Materialize$")).first.click()
    # the run appears and finishes: wait for the asset to show a materialization
    deadline = time.monotonic() + 120
    status = ""
    while time.monotonic() < deadline:
        answer = httpx.post(f"{webserver}/graphql", json={"query": RUNS}, timeout=10).json()
        runs = answer["data"]["runsOrError"]["results"]
        status = runs[0]["status"] if runs else ""
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    page.reload()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / "pricing-materialized.png"), full_page=True)
    assert status == "SUCCESS"
    expect(page.get_by_text("Row count", exact=True).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Never materialized")).to_have_count(0)


RUNS = "{ runsOrError(limit: 1) { ... on Runs { results { runId status } } } }"


def test_the_catalog_shows_warehouse_types_descriptions_and_the_sync_log(
    webserver: str, page: Page
) -> None:
    page.goto(f"{webserver}/assets/oneconnect/contacts")
    page.wait_for_load_state("networkidle")
    dismiss_welcome(page)
    page.screenshot(path=str(SHOTS / "contacts-columns.png"), full_page=True)
    expect(page.get_by_text("phone_number", exact=True).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("TIMESTAMP WITH TIME ZONE").first).to_be_visible()
    expect(
        page.get_by_text("Phone number as the account stores it (text: leading zeros kept)").first
    ).to_be_visible()
    page.screenshot(path=str(SHOTS / "contacts-columns.png"), full_page=True)
    page.goto(f"{webserver}/assets/crm/sync_log")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Every CRM row's outcome").first).to_be_visible(timeout=30_000)


def test_schedules_and_sensors_are_running_out_of_the_box(webserver: str, page: Page) -> None:
    page.goto(f"{webserver}/automation")
    page.wait_for_load_state("networkidle")
    dismiss_welcome(page)
    for name in (
        "oneconnect_snapshot_daily",
        "messages_hourly",
        "analytics_export_daily",
        "crm_drop_sensor",
        "crm_retry_sensor",
        "freshness_checks_sensor",
    ):
        expect(page.get_by_text(name, exact=True).first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "automation.png"), full_page=True)
    answer = httpx.post(f"{webserver}/graphql", json={"query": INSTIGATORS}, timeout=30).json()
    assert "errors" not in answer, answer
    nodes = answer["data"]["repositoriesOrError"]["nodes"]
    states = {s["name"]: s["scheduleState"]["status"] for repo in nodes for s in repo["schedules"]}
    states |= {s["name"]: s["sensorState"]["status"] for repo in nodes for s in repo["sensors"]}
    assert states["oneconnect_snapshot_daily"] == "RUNNING"
    assert states["messages_hourly"] == "RUNNING"
    assert states["freshness_checks_sensor"] == "RUNNING"
    assert states["crm_retry_sensor"] == "RUNNING"


def test_a_missed_day_shows_red_in_the_ui(served: tuple[str, Path], page: Page) -> None:
    """The freshness checks, evaluated on this instance where nothing was materialized
    (as the daemon's sensor does), show as failed on the asset's page."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    from assets.checks import FRESHNESS
    from assets.extract import EXTRACT_ASSETS
    from assets.resources import OneConnectResource
    from assets.warehouse import warehouse_resources

    webserver, home = served
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    result = dg.materialize(
        [*EXTRACT_ASSETS, *FRESHNESS],
        selection=dg.AssetSelection.checks(*FRESHNESS),
        instance=instance,
        resources={
            "oneconnect": OneConnectResource(base_url="http://127.0.0.1:9/api/v1"),
            **warehouse_resources(str(home / "unused.duckdb")),  # the checks read no table
        },
    )
    failed = {e.asset_key.to_user_string() for e in result.get_asset_check_evaluations()}
    assert "oneconnect/messages" in failed
    page.goto(f"{webserver}/assets/oneconnect/messages?view=checks")
    page.wait_for_load_state("networkidle")
    dismiss_welcome(page)
    expect(page.get_by_text("freshness_check", exact=True).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Failed").first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "messages-freshness.png"), full_page=True)


INSTIGATORS = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  schedules { name scheduleState { status } }
  sensors { name sensorState { status } } } } } }"""
