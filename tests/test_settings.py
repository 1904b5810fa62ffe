"""The code location's settings from the environment: a value that cannot be used is one
line naming the variable, never a traceback from deep inside Dagster, nor a silent default."""

from __future__ import annotations

import pytest

from assets.settings import CRON, ZONE, Settings, SettingsError


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
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment()
    assert str(raised.value) == f"{name}={value!r} is not {expected}"


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
