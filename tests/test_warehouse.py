"""The warehouse as analysts see it: one type mapping for every table, and an empty
account still gives every table (so analytics and exports have something to read)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from assets.extract import account_timezone

from .conftest import EMPTY
from .extract_helpers import column_types, materialize, private_sim, rows

TABLES = (
    "contacts",
    "lists",
    "list_members",
    "campaigns",
    "birthday_campaigns",
    "messages",
    "titles",
    "templates",
    "balance",
    "pricing",
)
ANALYTICS = ("delivery_rates", "campaign_calendar", "upcoming_birthdays", "sms_forecast")


def today() -> str:
    return datetime.now(UTC).astimezone(account_timezone()).date().isoformat()


def test_an_empty_account_gives_every_table_empty_but_typed(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    with private_sim(EMPTY) as sim:
        materialize(sim, warehouse, dg.DagsterInstance.ephemeral(), today())
    for table in TABLES:
        assert rows(warehouse, f"SELECT count(*) AS n FROM oneconnect.{table}")[0]["n"] == (
            3 if table == "pricing" else 1 if table == "balance" else 0
        )
    for table in ANALYTICS:
        expected = 2 if table == "sms_forecast" else 0
        assert rows(warehouse, f"SELECT count(*) AS n FROM analytics.{table}")[0]["n"] == expected
    assert column_types(warehouse, "oneconnect.contacts")["birthday"] == "DATE"
    assert column_types(warehouse, "oneconnect.campaigns")["recipients_list"] == "BIGINT[]"


def test_every_table_uses_the_same_types_for_the_same_kind_of_value(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    with private_sim() as sim:
        materialize(sim, warehouse, dg.DagsterInstance.ephemeral(), today())
    seen: dict[str, set[str]] = {"created_at": set(), "categorical": set()}
    categorical = {
        "gender",
        "final_status",
        "sender_type",
        "schedule_type",
        "repeat_period",
        "member_type",
    }
    for schema, names in (("oneconnect", TABLES), ("analytics", ANALYTICS)):
        for table in names:
            for column, kind in column_types(warehouse, f"{schema}.{table}").items():
                if column in ("created_at", "updated_at", "send_at", "fetched_at"):
                    seen["created_at"].add(kind)
                if column in categorical:
                    seen["categorical"].add(kind)
    assert seen == {"created_at": {"TIMESTAMP WITH TIME ZONE"}, "categorical": {"VARCHAR"}}
