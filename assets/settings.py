"""Settings the code location needs when it loads (partitions, paths), from the environment.

These are structure, not secrets: the messages partitions must exist before any run,
so their timezone and first day are read here, once, when Dagster loads the code.
Credentials never pass through here; they reach the resource as ``EnvVar`` (see
``assets.resources``), read only when a run starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from oneconnect_pipelines.storage import Location, location

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    #: The account's timezone: messages are partitioned by its calendar days.
    timezone: str = "Asia/Tbilisi"
    #: The first day of the messages partitions.
    messages_start: str = "2026-01-01"
    #: Days before today that the hourly refresh re-reads, for late delivery reports.
    messages_lookback_days: int = 2
    #: A DuckDB file, or ``postgresql://...``.
    warehouse: str = "data/warehouse.duckdb"
    #: A local folder or an object-store URL (``s3://bucket/exports``).
    export_dir: Location = Path("data/exports")
    #: Where the CRM drops its exports (watched by ``crm_drop_sensor``): a local folder or
    #: an object-store URL (``s3://bucket/crm``).
    crm_drop_dir: Location = Path("data/crm_drop")
    #: Attempts at one file in all (the first included) before ``crm_retry_sensor`` gives up.
    crm_retry_attempts: int = 5
    #: Wait before the second attempt; it doubles for each later one (at most an hour).
    crm_retry_backoff_s: float = 60.0
    #: Seconds between the CRM sensors' ticks (the drop folder and the retries).
    crm_sensor_interval_s: int = 30
    #: When the nightly snapshot runs (cron, account time).
    snapshot_cron: str = "0 1 * * *"

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        defaults = cls()
        return cls(
            timezone=_parsed("ONECONNECT_TIMEZONE", defaults.timezone, _zone, ZONE),
            messages_start=_parsed("ONECONNECT_MESSAGES_START", defaults.messages_start, _day, DAY),
            messages_lookback_days=_parsed(
                "ONECONNECT_MESSAGES_LOOKBACK_DAYS", defaults.messages_lookback_days, _count, COUNT
            ),
            warehouse=env.get("ONECONNECT_WAREHOUSE", defaults.warehouse),
            export_dir=location(env.get("ONECONNECT_EXPORT_DIR", str(defaults.export_dir))),
            crm_drop_dir=location(env.get("ONECONNECT_CRM_DROP_DIR", str(defaults.crm_drop_dir))),
            crm_retry_attempts=_parsed(
                "ONECONNECT_CRM_RETRY_ATTEMPTS", defaults.crm_retry_attempts, _positive, POSITIVE
            ),
            crm_retry_backoff_s=_parsed(
                "ONECONNECT_CRM_RETRY_BACKOFF_S", defaults.crm_retry_backoff_s, _seconds, SECONDS
            ),
            crm_sensor_interval_s=_parsed(
                "ONECONNECT_CRM_SENSOR_INTERVAL_S",
                defaults.crm_sensor_interval_s,
                _positive,
                POSITIVE,
            ),
            snapshot_cron=_parsed("ONECONNECT_SNAPSHOT_CRON", defaults.snapshot_cron, _cron, CRON),
        )


class SettingsError(ValueError):
    """A variable whose value cannot be used: the message names both and says why, so
    the code location and ``oneconnect`` show one line, not a traceback from deep inside."""


ZONE = "a timezone name (an IANA name like Europe/Berlin)"
DAY = "a day (YYYY-MM-DD)"
COUNT = "a whole number, 0 or more"
POSITIVE = "a whole number, 1 or more"
SECONDS = "a number of seconds, 0 or more"
CRON = "a cron schedule Dagster takes (five fields, e.g. '0 1 * * *')"


def _zone(text: str) -> str:
    ZoneInfo(text)  # a folder of tzdata ("America") is an OSError: below
    return text


def _cron(text: str) -> str:
    from dagster._utils.schedules import is_valid_cron_string  # what the schedule requires

    if not is_valid_cron_string(text):
        raise ValueError(text)
    return text


def _day(text: str) -> str:
    # the shape Dagster's partitions take: date.fromisoformat also reads 20260101
    if date.fromisoformat(text).isoformat() != text:
        raise ValueError(text)
    return text


def _count(text: str) -> int:
    if (number := int(text)) < 0:  # -1 days of lookback: no partition ever extracted
        raise ValueError(text)
    return number


def _positive(text: str) -> int:
    if (number := int(text)) < 1:
        raise ValueError(text)
    return number


def _seconds(text: str) -> float:
    if not (seconds := float(text)) >= 0 or seconds == float("inf"):  # nan, inf
        raise ValueError(text)
    return seconds


def _parsed(name: str, default: T, parse: Callable[[str], T], expected: str) -> T:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return parse(text)
    except (ValueError, KeyError, OSError):  # an unknown zone: ZoneInfoNotFoundError (KeyError)
        raise SettingsError(f"{name}={text!r} is not {expected}") from None


SETTINGS = Settings.from_environment()
