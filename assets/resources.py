"""The resources every asset shares: the OneConnect account and the DuckDB warehouse."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from dagster_duckdb_pandas import DuckDBPandasIOManager, DuckDBPandasTypeHandler
from pydantic import Field

from oneconnect_pipelines.client import DEFAULT_CONCURRENCY, OneConnect, RetryPolicy, Timeouts
from oneconnect_pipelines.warehouse import append_frame

from .settings import SETTINGS

#: Where ``oneconnect simulator`` (and ``make demo``/``make ui``) serve, with its demo login.
SIMULATOR_DEFAULTS = {
    "ONECONNECT_BASE_URL": "http://127.0.0.1:8765/api/v1",
    "ONECONNECT_EMAIL": "demo@example.com",
    "ONECONNECT_API_KEY": "demo-key",
}


class OneConnectResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """A OneConnect account. Credentials come from ``EnvVar``; the defaults are the local
    simulator's demo account."""

    base_url: str = Field(description="API base URL, e.g. https://oneconnect.uno/api/v1")
    email: str = Field(description="The account's e-mail (HTTP Basic user)")
    api_key: str = Field(description="The account's API key (HTTP Basic password)", repr=False)
    timezone: str | None = Field(
        default=None,
        description="The account's timezone, e.g. Asia/Tbilisi; default: read off the "
        "UTC offset of the account's own timestamps",
    )
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, description="Requests in flight")
    rate_limit: float | None = Field(
        default=None, description="Requests per second across all threads (None: no cap)"
    )
    retry_attempts: int = Field(
        default=RetryPolicy.max_attempts,
        description="Attempts per request before a call fails (reads; writes only where "
        "the server cannot have acted)",
    )
    read_timeout_s: float = Field(
        default=Timeouts.read, description="Seconds to wait for an answer, per attempt"
    )

    @contextmanager
    def client(self) -> Iterator[OneConnect]:
        with OneConnect(
            self.base_url,
            self.email,
            self.api_key,
            timezone=self.timezone,
            fallback_timezone=SETTINGS.timezone,
            concurrency=self.concurrency,
            rate_limit=self.rate_limit,
            retry=RetryPolicy(max_attempts=self.retry_attempts),
            timeouts=Timeouts(read=self.read_timeout_s),
        ) as client:
            yield client


def from_env(name: str, resolve: bool = False) -> Any:
    """``EnvVar(name)`` when the variable is set (read at run time, never stored in the
    definitions), or with ``resolve`` its value; the simulator's default otherwise."""
    if name not in os.environ:
        return SIMULATOR_DEFAULTS[name]
    return os.environ[name] if resolve else dg.EnvVar(name)


def oneconnect_resource(resolve: bool = False) -> OneConnectResource:
    """The account from ``ONECONNECT_*``; ``resolve`` for code that runs outside Dagster
    (``oneconnect sync``), where nothing would resolve an ``EnvVar``."""
    return OneConnectResource(
        base_url=from_env("ONECONNECT_BASE_URL", resolve),
        email=from_env("ONECONNECT_EMAIL", resolve),
        api_key=from_env("ONECONNECT_API_KEY", resolve),
    )


class ArrowPandasTypeHandler(DuckDBPandasTypeHandler):
    """Writes every DataFrame through Arrow, so that every table gets the same types
    (categoricals as VARCHAR, timestamps as TIMESTAMPTZ, Arrow dates, lists and decimals
    as DATE, LIST and DECIMAL) and an empty frame still creates its (empty) table, which
    the stock handler skips, leaving downstream assets nothing to read."""

    def handle_output(
        self, context: dg.OutputContext, table_slice: Any, obj: pd.DataFrame, connection: Any
    ) -> None:
        append_frame(connection, f"{table_slice.schema}.{table_slice.table}", obj)
        rows = {
            "dagster/partition_row_count"
            if context.has_partition_key
            else "dagster/row_count": len(obj)
        }
        context.add_output_metadata(rows)


class WarehouseIOManager(DuckDBPandasIOManager):
    """DuckDB through dagster-duckdb-pandas: tables written through Arrow (see
    ``ArrowPandasTypeHandler``), the database's folder created on first use."""

    @staticmethod
    def type_handlers() -> Sequence[Any]:
        return [ArrowPandasTypeHandler()]

    def create_io_manager(self, context: dg.InitResourceContext) -> Any:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        return super().create_io_manager(context)


def warehouse_io_manager(database: Path = SETTINGS.warehouse) -> WarehouseIOManager:
    return WarehouseIOManager(database=str(database))
