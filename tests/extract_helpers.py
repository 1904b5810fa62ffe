"""Helpers for the Dagster tests: a private simulator (its clock may be moved without
disturbing the session's), materializing the code location into a temporary DuckDB
warehouse, and reading tables back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx

from assets.analytics import ANALYTICS_ASSETS
from assets.checks import CHECKS
from assets.extract import EXTRACT_ASSETS
from assets.resources import OneConnectResource
from assets.warehouse import warehouse_resources
from oneconnect_pipelines.formats import parse_timestamp
from oneconnect_pipelines.simulator import SeedSizes, SimClock, Simulator, SimulatorThread
from oneconnect_pipelines.warehouse import open_warehouse
from oneconnect_pipelines.warehouse.base import is_postgres

from .conftest import API_KEY, EMAIL, SMALL, TZ, Sim, default_account

#: SMALL, with its messages packed into the last three days (several per partition).
RECENT = SeedSizes(
    contacts=60,
    lists=4,
    campaigns=4,
    birthday_campaigns=2,
    messages=150,
    titles=2,
    templates=3,
    message_days=3,
)

ALL_ASSETS: Sequence[Any] = [*EXTRACT_ASSETS, *ANALYTICS_ASSETS]


@contextmanager
def private_sim(sizes: SeedSizes = SMALL, **account: Any) -> Iterator[Sim]:
    """A simulator of its own, frozen at the wall clock when it starts: tests that move
    time far ahead, or that need the simulator's "now" to be the real one (partitions,
    ``datetime.now()`` in the analytics assets), use this instead of the session's."""
    simulator = Simulator.create(default_account(**account), sizes, clock=SimClock(frozen=True))
    with SimulatorThread(simulator) as thread:
        api = httpx.Client(base_url=thread.base_url, auth=(EMAIL, API_KEY), timeout=30)
        admin = httpx.Client(base_url=thread.root_url + "/_sim", timeout=60)
        try:
            yield Sim(thread, api, admin)
        finally:
            api.close()
            admin.close()


def resource(sim: Sim) -> OneConnectResource:
    return OneConnectResource(base_url=sim.base_url, email=EMAIL, api_key=API_KEY)


def materialize(
    sim: Sim,
    warehouse: Path | str,
    instance: dg.DagsterInstance,
    partition_key: str | None,
    assets: Sequence[Any] = ALL_ASSETS,
    selection: Any = None,
    checks: bool = True,
) -> dg.ExecuteInProcessResult:
    """Materialize ``assets`` (and the asset checks) into ``warehouse``; raises on failure."""
    result = dg.materialize(
        [*assets, *(CHECKS if checks else ())],
        partition_key=partition_key,
        selection=selection,
        resources={
            "oneconnect": resource(sim),
            **warehouse_resources(str(warehouse)),
        },
        instance=instance,
    )
    assert result.success
    return result


def rows(warehouse: Path | str, sql: str) -> list[dict[str, Any]]:
    """Rows of a query (DuckDB or PostgreSQL, by ``warehouse``) as dicts of Python values:
    str, int, Decimal, date, aware datetime, lists."""
    return list(open_warehouse(warehouse).query(sql).to_pylist())


def column_types(warehouse: Path | str, table: str) -> dict[str, str]:
    """Each column's type as the backend reports it: DuckDB's DESCRIBE, PostgreSQL's
    ``format_type``."""
    if is_postgres(warehouse):
        schema, name = table.split(".")
        found = rows(
            warehouse,
            "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS kind "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = '{schema}' AND c.relname = '{name}' "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        )
        return {row["name"]: row["kind"] for row in found}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {row[0]: row[1] for row in connection.execute(f"DESCRIBE {table}").fetchall()}


def api_get(sim: Sim, path: str, **params: Any) -> Any:
    """A whole collection (or one resource) raw over HTTP, without paging."""
    answer = sim.api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def local_day(record: dict[str, Any]) -> date:
    """The account-local day a record was created on."""
    return parse_timestamp(record["created_at"]).astimezone(TZ).date()


def sim_now(sim: Sim) -> datetime:
    return datetime.fromtimestamp(sim.now(), UTC)
