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
LOCATION = "assets.definitions"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
            yield url
        finally:
            process.terminate()
            process.wait(30)


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
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
        "oneconnect / contacts",
        "oneconnect / list_members",
        "oneconnect / messages",
        "oneconnect / pricing",
        "analytics / delivery_rates",
        "analytics / sms_forecast",
    ):
        expect(page.get_by_text(key, exact=True).first).to_be_visible(timeout=30_000)
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
