"""The code location's settings from the environment: a value that cannot be used is one
line naming the variable, never a traceback from deep inside Dagster, nor a silent default."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.settings import CRON, FOLDER, WAREHOUSE, ZONE, Settings, SettingsError
from oneconnect_pipelines.warehouse import open_warehouse


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ONECONNECT_TIMEZONE", "Europe/Tbilisi", ZONE),
        ("ONECONNECT_TIMEZONE", "America", ZONE),  # a folder of tzdata
        ("ONECONNECT_MESSAGES_START", "20260101", "a day (YYYY-MM-DD)"),  # Dagster refuses it
        ("ONECONNECT_MESSAGES_START", "2026-W01-1", "a day (YYYY-MM-DD)"),
        ("ONECONNECT_MESSAGES_LOOKBACK_DAYS", "-1", "a whole number, 0 or more"),
        ("ONECONNECT_MESSAGES_LOOKBACK_DAYS", "two", "a whole number, 0 or more"),
        ("ONECONNECT_CRM_RETRY_ATTEMPTS", "0", "a whole number, 1 or more"),
        ("ONECONNECT_CRM_SENSOR_INTERVAL_S", "0", "a whole number, 1 or more"),
        ("ONECONNECT_CRM_RETRY_BACKOFF_S", "nan", "a number of seconds, 0 or more"),
        ("ONECONNECT_CRM_RETRY_BACKOFF_S", "-5", "a number of seconds, 0 or more"),
        ("ONECONNECT_SNAPSHOT_CRON", "0 25 * * *", CRON),  # was a traceback from Dagster
        ("ONECONNECT_SNAPSHOT_CRON", "nightly", CRON),
    ],
)
def test_a_value_that_cannot_be_used_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    assert refusal(monkeypatch, name, value) == f"{name}={value!r} is not {expected}"


def refusal(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    """The ``SettingsError`` of the settings read with ``name`` set to ``value``."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment()
    return str(raised.value)


def test_usable_values_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "ONECONNECT_TIMEZONE": "America/New_York",
        "ONECONNECT_MESSAGES_START": "2026-03-01",
        "ONECONNECT_MESSAGES_LOOKBACK_DAYS": "0",
        "ONECONNECT_CRM_RETRY_ATTEMPTS": "1",
        "ONECONNECT_CRM_RETRY_BACKOFF_S": "0",
        "ONECONNECT_SNAPSHOT_CRON": "30 2 * * 1-5",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_environment()
    assert (settings.timezone, settings.messages_start) == ("America/New_York", "2026-03-01")
    assert (settings.messages_lookback_days, settings.crm_retry_attempts) == (0, 1)
    assert settings.crm_retry_backoff_s == 0.0
    assert settings.snapshot_cron == "30 2 * * 1-5"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (
            "postgresql+psycopg2://etl:s3cret@db.internal:5432/warehouse",
            "postgresql+psycopg2://...",
        ),
        ("mysql://etl:s3cret@db.internal/warehouse", "mysql://..."),
        ("postgres:/etl:s3cret@db.internal/warehouse", "postgres:/..."),  # one slash
        ("duckdb://", "duckdb://"),
        ("", ""),
        ("  ", "  "),
    ],
)
def test_a_warehouse_that_is_no_database_url_nor_a_path_is_refused_without_its_password(
    monkeypatch: pytest.MonkeyPatch, value: str, shown: str
) -> None:
    """Each became the path of a new, empty DuckDB file (named postgresql+psycopg2:/...),
    and the extract wrote there instead of to the server."""
    message = refusal(monkeypatch, "ONECONNECT_WAREHOUSE", value)
    assert message == f"ONECONNECT_WAREHOUSE={shown!r} is not {WAREHOUSE}"
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("value", "warehouse"),
    [
        ("PostgreSQL://etl@db.internal/warehouse", "postgresql://etl@db.internal/warehouse"),
        ("POSTGRES://db.internal/warehouse", "postgres://db.internal/warehouse"),
        (
            "postgresql:///warehouse?host=/run/postgresql",
            "postgresql:///warehouse?host=/run/postgresql",
        ),
        ("DuckDB:///srv/warehouse.duckdb", "/srv/warehouse.duckdb"),
        ("data/warehouse.duckdb", "data/warehouse.duckdb"),
        ("./2026:warehouse.duckdb", "2026:warehouse.duckdb"),
    ],
)
def test_a_warehouse_url_scheme_is_taken_in_any_case(
    monkeypatch: pytest.MonkeyPatch, value: str, warehouse: str
) -> None:
    """libpq reads only a lower-case scheme: PostgreSQL://... was a DuckDB file of that name."""
    monkeypatch.setenv("ONECONNECT_WAREHOUSE", value)
    assert open_warehouse(Settings.from_environment().warehouse).url == warehouse


@pytest.mark.parametrize("name", ["ONECONNECT_EXPORT_DIR", "ONECONNECT_CRM_DROP_DIR"])
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("", ""),
        (" ", " "),
        ("s3:/bucket/crm", "s3:/..."),
        ("s3:bucket", "s3:..."),
        ("s4://b", "s4://..."),
    ],
)
def test_an_empty_folder_or_a_url_with_one_slash_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, shown: str
) -> None:
    """'' was the folder the process started in, and s3:/bucket/crm a local folder 's3:'."""
    assert refusal(monkeypatch, name, value) == f"{name}={shown!r} is not {FOLDER}"


def test_file_urls_and_local_paths_are_local_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONECONNECT_EXPORT_DIR", "file:///srv/exports")
    monkeypatch.setenv("ONECONNECT_CRM_DROP_DIR", "crm:2026/drop")
    with pytest.raises(SettingsError):
        Settings.from_environment()
    monkeypatch.setenv("ONECONNECT_CRM_DROP_DIR", "./crm:2026/drop")
    settings = Settings.from_environment()
    assert (settings.export_dir, settings.crm_drop_dir) == (
        Path("/srv/exports"),
        Path("crm:2026/drop"),
    )
