"""Settings the code location needs when it loads (partitions, paths), from the environment.

These are structure, not secrets: the messages partitions must exist before any run,
so their timezone and first day are read here, once, when Dagster loads the code.
Credentials never pass through here; they reach the resource as ``EnvVar`` (see
``assets.resources``), read only when a run starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from oneconnect_pipelines.storage import Location, location
from oneconnect_pipelines.warehouse import open_warehouse

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    #: The account's timezone: messages are partitioned by its calendar days.
    timezone: str = "Asia/Tbilisi"
    #: The first day of the messages partitions.
    messages_start: str = "2026-01-01"
    #: Days before today that the hourly refresh re-reads, for late delivery reports.
    messages_lookback_days: int = 2
    #: A DuckDB file (a path, or ``duckdb://PATH``), or ``postgresql://...``.
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
        defaults = cls()
        return cls(
            timezone=_parsed("ONECONNECT_TIMEZONE", defaults.timezone, _zone, ZONE),
            messages_start=_parsed("ONECONNECT_MESSAGES_START", defaults.messages_start, _day, DAY),
            messages_lookback_days=_parsed(
                "ONECONNECT_MESSAGES_LOOKBACK_DAYS", defaults.messages_lookback_days, _count, COUNT
            ),
            warehouse=_parsed("ONECONNECT_WAREHOUSE", defaults.warehouse, _warehouse, WAREHOUSE),
            export_dir=_parsed("ONECONNECT_EXPORT_DIR", defaults.export_dir, _folder, FOLDER),
            crm_drop_dir=_parsed("ONECONNECT_CRM_DROP_DIR", defaults.crm_drop_dir, _folder, FOLDER),
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
WAREHOUSE = (
    "a warehouse: postgresql://... (or postgres://...), duckdb://PATH, or the path of a "
    "DuckDB file (./NAME if the name has a colon)"
)
FOLDER = "a folder: a local path (./NAME if the name has a colon) or a URL like s3://bucket/prefix"

#: How a URL starts: its scheme and the slashes after it (a one-letter scheme is a drive).
_URL_START = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):(/*)")


def _warehouse(text: str) -> str:
    # anything else was taken for the path of a DuckDB file: postgresql+psycopg2://...,
    # mysql://..., postgres:/host/db (one slash) each became an empty warehouse of that name
    open_warehouse(_written(text))  # refuses a scheme that is no warehouse's (opens nothing)
    return text


def _folder(text: str) -> Location:
    # '' was Path('.'), wherever the process started; s3:/bucket/x (one slash), a folder
    # named 's3:' in it
    return location(_written(text))  # a scheme no fsspec filesystem has: a ValueError too


def _written(text: str) -> str:
    """``text``, unless it is blank or a URL whose scheme has fewer than two slashes."""
    if not text.strip() or ((start := _URL_START.match(text)) and len(start[2]) < 2):
        raise ValueError(text)
    return text


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
        raise SettingsError(f"{name}={_shown(text)!r} is not {expected}") from None


def _shown(text: str) -> str:
    """A refused value as the message shows it: a URL cut after its scheme (what was
    wrong with it), so that no password written into it is printed."""
    if (start := _URL_START.match(text)) and text[start.end() :]:
        return text[: start.end()] + "..."
    return text


SETTINGS = Settings.from_environment()
