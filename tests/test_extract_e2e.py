"""The whole graph materialized against a seeded simulator: every warehouse table holds
exactly what the API serves, typed as an analyst expects, with safe metadata."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pandera.pandas as pa
import pytest

from assets.extract import contacts as contacts_asset
from assets.extract import lists as lists_asset
from assets.extract import messages as messages_asset
from assets.resources import OneConnectResource
from assets.warehouse import warehouse_resources
from oneconnect_pipelines import schemas as s
from oneconnect_pipelines.formats import (
    format_schedule_datetime,
    parse_birthday,
    parse_repeat,
    parse_timestamp,
    split_date_range,
    split_ids,
)
from oneconnect_pipelines.schemas import arrow_schema
from oneconnect_pipelines.warehouse.base import column_types as warehouse_types
from oneconnect_pipelines.warehouse.base import is_postgres

from .conftest import API_KEY, EMAIL, EMPTY, SMALL, TZ, Sim
from .extract_helpers import (
    RECENT,
    api_get,
    column_types,
    local_day,
    materialize,
    private_sim,
    resource,
    rows,
)
from .postgres import create_database, database_copy
from .sim_helpers import store_off_contract

COLLECTIONS = (
    "/contacts",
    "/lists",
    "/campaigns",
    "/birthday_campaigns",
    "/titles",
    "/templates",
    "/balance",
    "/pricing",
)


@dataclass
class Extracted:
    sim: Sim
    #: A DuckDB file or a PostgreSQL database: every test here runs on both backends.
    warehouse: Path | str
    api: dict[str, Any]
    messages: list[dict[str, Any]]
    keys: list[str]
    results: list[dg.ExecuteInProcessResult]


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def extracted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Extracted]:
    """Three days of messages materialized one partition at a time, then the whole graph
    (with its checks) for the newest day, all into one warehouse and one instance."""
    warehouse: Path | str = tmp_path_factory.mktemp("e2e") / "wh.duckdb"
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_url")
        warehouse = create_database(server, "e2e")
    with private_sim(RECENT) as sim:
        api = {path: api_get(sim, path) for path in COLLECTIONS}
        messages = api_get(sim, "/messages")
        keys = sorted({local_day(m).isoformat() for m in messages})[-3:]
        assert len(keys) == 3, keys
        instance = dg.DagsterInstance.ephemeral()
        results = [
            materialize(sim, warehouse, instance, key, assets=[messages_asset], checks=False)
            for key in keys[:-1]
        ]
        results.append(materialize(sim, warehouse, instance, keys[-1]))
        yield Extracted(sim, warehouse, api, messages, keys, results)


def copy_of(warehouse: Path | str, folder: Path) -> Path | str:
    """A warehouse of the test's own with what ``warehouse`` holds."""
    if is_postgres(warehouse):
        return database_copy(str(warehouse))
    copy = folder / "wh.duckdb"
    shutil.copy(warehouse, copy)
    return copy


def by_id(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(r["id"]): r for r in records}


def table(extracted: Extracted, name: str, order: str = "id") -> list[dict[str, Any]]:
    return rows(extracted.warehouse, f"SELECT * FROM {name} ORDER BY {order}")


def blank(value: Any) -> Any:
    """What the warehouse holds for an API text field: empty and null are both NULL."""
    return None if value in ("", None) else value


def instant(text: str) -> datetime:
    return parse_timestamp(text)


# ----------------------------------------------------------------------- tables = API
def test_contacts_match_the_api_field_by_field(extracted: Extracted) -> None:
    api = by_id(extracted.api["/contacts"])
    stored = table(extracted, "oneconnect.contacts")
    assert [r["id"] for r in stored] == sorted(api)
    assert any(r["phone_number"].startswith("0") for r in stored)  # the seed has them
    for row in stored:
        record = api[row["id"]]
        assert row == {
            "id": record["id"],
            "phone_number": record["phone_number"],
            "email": blank(record["email"]),
            "first_name": blank(record["first_name"]),
            "last_name": blank(record["last_name"]),
            "birthday": parse_birthday(record["birthday"]) if record["birthday"] else None,
            "post_code": blank(record["post_code"]),
            "city": blank(record["city"]),
            "street": blank(record["street"]),
            "additional_numbers": ", ".join(record["additional_numbers"]) or None,
            "gender": blank(record["gender"]),
            "created_at": instant(record["created_at"]),
            "updated_at": instant(record["updated_at"]),
        }, record["id"]
        if row["birthday"] is not None:
            assert row["birthday"].strftime("%d/%m/%Y") == record["birthday"]


def test_lists_and_members_match_the_api(extracted: Extracted) -> None:
    api = by_id(extracted.api["/lists"])
    stored = table(extracted, "oneconnect.lists")
    assert [r["id"] for r in stored] == sorted(api)
    expected_members: set[tuple[Any, ...]] = set()
    for row in stored:
        record = api[row["id"]]
        extra = record["noncontact_members"] or {}
        numbers = extra.get("phone_number") or []
        assert row == {
            "id": record["id"],
            "name": record["name"],
            "member_count": len(record["members"]),
            "noncontact_count": len(numbers),
            "created_at": instant(record["created_at"]),
            "updated_at": instant(record["updated_at"]),
        }
        for member in record["members"]:
            expected_members.add(
                (
                    record["id"],
                    "contact",
                    member["id"],
                    member["phone_number"],
                    blank(member["first_name"]),
                    blank(member["last_name"]),
                )
            )
        for i, number in enumerate(numbers):
            expected_members.add(
                (
                    record["id"],
                    "noncontact",
                    None,
                    number,
                    blank(extra["first_name"][i]),
                    blank(extra["last_name"][i]),
                )
            )
    assert any(row["noncontact_count"] for row in stored)  # the seed has some
    members = table(extracted, "oneconnect.list_members", "list_id, contact_id")
    assert len(members) == len(expected_members)
    assert {tuple(m.values()) for m in members} == expected_members


def test_campaign_schedules_match_the_api(extracted: Extracted) -> None:
    api = by_id(extracted.api["/campaigns"])
    stored = table(extracted, "oneconnect.campaigns")
    assert [r["id"] for r in stored] == sorted(api)
    assert {r["schedule_type"] for r in stored} == set(s.SCHEDULE_TYPES)
    for row in stored:
        record = api[row["id"]]
        schedule = record["schedule"]
        numbers = split_ids(record["recipients"] or "")
        assert row["name"] == record["name"]
        assert row["active"] is record["active"]
        assert row["recipients"] == (",".join(numbers) or None)
        assert row["recipient_count"] == len(numbers)
        assert row["recipients_list"] == record["recipients_list"]
        assert row["title"] == record["title"]
        assert row["content"] == record["content"]
        assert row["job_type"] == record["job_type"]
        assert row["completed"] == record["completed"]
        assert row["schedule_type"] == schedule["type"]
        assert row["created_at"] == instant(record["created_at"])
        assert row["updated_at"] == instant(record["updated_at"])
        if "dates" in schedule:
            shown = [format_schedule_datetime(d, TZ) for d in row["dates"]]
            assert sorted(shown, key=lambda d: datetime.strptime(d, "%d/%m/%Y %H:%M")) == sorted(
                schedule["dates"], key=lambda d: datetime.strptime(d, "%d/%m/%Y %H:%M")
            )
            assert (row["start_at"], row["end_at"], row["repeat_every"]) == (None, None, None)
        else:
            parts = split_date_range(schedule["date-range"])
            assert format_schedule_datetime(row["start_at"], TZ) == parts[0]
            ends = [format_schedule_datetime(row["end_at"], TZ)] if row["end_at"] else []
            assert ends == parts[1:]
            repeat = parse_repeat(schedule["repeat"])
            assert (row["repeat_every"], row["repeat_period"]) == (repeat.count, repeat.period)
            assert row["dates"] == []


def test_birthday_campaigns_titles_templates_match_the_api(extracted: Extracted) -> None:
    birthday = by_id(extracted.api["/birthday_campaigns"])
    assert table(extracted, "oneconnect.birthday_campaigns") == [
        {
            "id": r["id"],
            "name": r["name"],
            "active": r["active"],
            "content": r["content"],
            "recipient_lists": r["recipient_lists"],
            "title": blank(r["title"]),
            "created_at": instant(r["created_at"]),
            "updated_at": instant(r["updated_at"]),
        }
        for _, r in sorted(birthday.items())
    ]
    assert table(extracted, "oneconnect.titles") == [
        {
            "id": r["id"],
            "name": r["name"],
            "active": r["active"],
            "created_at": instant(r["created_at"]),
            "updated_at": instant(r["updated_at"]),
        }
        for _, r in sorted(by_id(extracted.api["/titles"]).items())
    ]
    assert table(extracted, "oneconnect.templates") == [
        {
            "id": r["id"],
            "title": r["title"],
            "body": r["body"],
            "created_at": instant(r["created_at"]),
            "updated_at": instant(r["updated_at"]),
        }
        for _, r in sorted(by_id(extracted.api["/templates"]).items())
    ]


def test_balance_and_pricing_match_the_api_with_exact_decimals(extracted: Extracted) -> None:
    [balance] = table(extracted, "oneconnect.balance", "fetched_at")
    assert balance["sms_balance"] == extracted.api["/balance"]["sms_balance"]
    assert abs(balance["fetched_at"] - datetime.now(UTC)) < timedelta(minutes=10)
    pricing = {r["name"]: r for r in table(extracted, "oneconnect.pricing", "name")}
    assert set(pricing) == {plan["name"] for plan in extracted.api["/pricing"]}
    for plan in extracted.api["/pricing"]:
        row = pricing[plan["name"]]
        assert row == {
            **plan,
            "price": Decimal(str(plan["price"])),
            "price_yearly": Decimal(str(plan["price_yearly"])),
        }
    assert pricing["Basic"]["price"] == Decimal("9.98")
    assert pricing["Business"]["price_yearly"] == Decimal("399.80")


# ----------------------------------------------------------------------- types
DUCKDB_TYPES = {
    "Int64": "BIGINT",
    "string": "VARCHAR",
    "string[pyarrow]": "VARCHAR",
    "category": "VARCHAR",
    "boolean": "BOOLEAN",
    "datetime64[ns, UTC]": "TIMESTAMPTZ",
    "datetime64[ns]": "TIMESTAMP",
    "date32[day][pyarrow]": "DATE",
    "list<item: int64>[pyarrow]": "BIGINT[]",
    "list<item: timestamp[ns, tz=UTC]>[pyarrow]": "TIMESTAMPTZ[]",
    "decimal128(12, 2)[pyarrow]": "DECIMAL(12,2)",
    "float64": "DOUBLE",
}


POSTGRES_TYPES = {
    "Int64": "bigint",
    "string": "text",
    "string[pyarrow]": "text",
    "category": "text",
    "boolean": "boolean",
    "datetime64[ns, UTC]": "timestamp with time zone",
    "datetime64[ns]": "timestamp without time zone",
    "date32[day][pyarrow]": "date",
    "list<item: int64>[pyarrow]": "bigint[]",
    "list<item: timestamp[ns, tz=UTC]>[pyarrow]": "timestamp with time zone[]",
    "decimal128(12, 2)[pyarrow]": "numeric(12,2)",
    "float64": "double precision",
}


def duckdb_kind(name: str) -> str:
    """DuckDB's spelling folded: TIMESTAMPTZ_NS is TIMESTAMPTZ; an ENUM is text."""
    kind = name.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ").replace(
        "TIMESTAMPTZ_NS", "TIMESTAMPTZ"
    )
    kind = kind.replace("TIMESTAMP_NS", "TIMESTAMP")
    return "VARCHAR" if kind.startswith("ENUM(") else kind


TABLES: dict[str, type[pa.DataFrameModel]] = {
    "oneconnect.contacts": s.ContactsSchema,
    "oneconnect.lists": s.ListsSchema,
    "oneconnect.list_members": s.ListMembersSchema,
    "oneconnect.campaigns": s.CampaignsSchema,
    "oneconnect.birthday_campaigns": s.BirthdayCampaignsSchema,
    "oneconnect.messages": s.MessagesSchema,
    "oneconnect.titles": s.TitlesSchema,
    "oneconnect.templates": s.TemplatesSchema,
    "oneconnect.balance": s.BalanceSchema,
    "oneconnect.pricing": s.PricingSchema,
    "analytics.delivery_rates": s.DeliveryRatesSchema,
    "analytics.campaign_calendar": s.CampaignCalendarSchema,
    "analytics.upcoming_birthdays": s.UpcomingBirthdaysSchema,
    "analytics.sms_forecast": s.SmsForecastSchema,
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_warehouse_columns_have_the_models_types(extracted: Extracted, name: str) -> None:
    schema = TABLES[name].to_schema()
    postgres = is_postgres(extracted.warehouse)
    spelling = POSTGRES_TYPES if postgres else DUCKDB_TYPES
    expected = {column: spelling[str(c.dtype)] for column, c in schema.columns.items()}
    stored = {
        column: kind if postgres else duckdb_kind(kind)
        for column, kind in column_types(extracted.warehouse, name).items()
    }
    assert stored == expected
    assert list(stored) == list(expected)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_the_catalog_shows_each_columns_warehouse_type(extracted: Extracted, name: str) -> None:
    """What the UI's column schema says is what the backend says of the table (the code
    location here is configured for DuckDB; on PostgreSQL, what the catalog would show)."""
    from assets.definitions import defs

    if is_postgres(extracted.warehouse):
        shown = warehouse_types(extracted.warehouse, arrow_schema(TABLES[name]))
    else:
        node = defs.resolve_asset_graph().get(dg.AssetKey(name.split(".")))
        shown = {c.name: c.type for c in node.metadata["dagster/column_schema"].columns}
    assert shown == column_types(extracted.warehouse, name)


def test_the_types_a_user_relies_on(extracted: Extracted) -> None:
    contacts = column_types(extracted.warehouse, "oneconnect.contacts")
    price = column_types(extracted.warehouse, "oneconnect.pricing")["price"]
    if is_postgres(extracted.warehouse):
        assert (contacts["phone_number"], contacts["birthday"], price) == (
            *("text", "date", "numeric(12,2)"),
        )
    else:
        assert (contacts["phone_number"], contacts["birthday"], price) == (
            *("VARCHAR", "DATE", "DECIMAL(12,2)"),
        )


# ----------------------------------------------------------------------- messages
def expected_message(record: dict[str, Any]) -> dict[str, Any]:
    created = instant(record["created_at"])
    campaign = record["campaign_id"]
    sender = "birthday" if record["birthday_campaign"] else "campaign" if campaign else "adhoc"
    return {
        "id": record["id"],
        "final_status": record["final_status"],
        "sender_type": sender,
        "campaign_id": campaign or None,
        "destination": record["sms"]["destination"],
        "content": record["sms"]["content"],
        "delivery_status": blank(record["delivery_report"]["status"]),
        "delivery_reason": blank(record["delivery_report"]["reason"]),
        "created_at": created,
        "updated_at": instant(record["updated_at"]),
        "sent_local": created.astimezone(TZ).replace(tzinfo=None),
    }


def partition(warehouse: Path | str, key: str) -> list[dict[str, Any]]:
    return rows(
        warehouse,
        f"SELECT * FROM oneconnect.messages WHERE sent_local::DATE = DATE '{key}' ORDER BY id",
    )


def test_each_partition_holds_exactly_that_local_days_messages(extracted: Extracted) -> None:
    everything = rows(extracted.warehouse, "SELECT id FROM oneconnect.messages")
    assert len(everything) == len({r["id"] for r in everything})  # none twice
    total = 0
    for key in extracted.keys:
        day = date.fromisoformat(key)
        wanted = [m for m in extracted.messages if local_day(m) == day]
        stored = partition(extracted.warehouse, key)
        assert stored == [expected_message(m) for m in sorted(wanted, key=lambda m: m["id"])]
        assert wanted
        total += len(stored)
    assert len(everything) == total  # nothing outside the materialized days
    assert any(m["birthday_campaign"] for m in extracted.messages)


def test_rematerializing_a_partition_replaces_its_rows(
    extracted: Extracted, tmp_path: Path
) -> None:
    warehouse = copy_of(extracted.warehouse, tmp_path)
    key = extracted.keys[-1]
    before = partition(warehouse, key)
    assert any(r["final_status"] == "pending" for r in before)
    # the module's account moves on here; the other tests read only what the fixture kept
    sim = extracted.sim
    sim.advance(120)
    settled = [m for m in api_get(sim, "/messages") if local_day(m).isoformat() == key]
    materialize(sim, warehouse, dg.DagsterInstance.ephemeral(), key, [messages_asset], checks=False)
    after = partition(warehouse, key)
    assert [r["id"] for r in after] == [r["id"] for r in before]
    assert {r["final_status"] for r in after} <= {"delivered", "undelivered"}
    assert after == [expected_message(m) for m in sorted(settled, key=lambda m: m["id"])]
    others = rows(
        warehouse, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM oneconnect.messages"
    )
    assert others[0]["n"] == others[0]["d"]


def test_a_day_read_again_after_the_plan_trimmed_the_history_keeps_its_messages(
    extracted: Extracted, tmp_path: Path
) -> None:
    """The account moves to the Basic plan (its last 100 messages kept) and the oldest
    day is read again: the messages the API no longer has stay in the warehouse, and the
    partition's row count says so (the day was emptied, the run a success)."""
    warehouse = copy_of(extracted.warehouse, tmp_path)
    key = extracted.keys[0]
    before = [r["id"] for r in partition(warehouse, key)]
    sim = extracted.sim  # moves on here too; the other tests read what the fixture kept
    sim.admin.put("/account", json={"plan": "basic"}).raise_for_status()
    sim.advance(1)
    kept = [m for m in api_get(sim, "/messages") if local_day(m).isoformat() == key]
    assert len(kept) < len(before)  # the history was trimmed under the day
    result = materialize(sim, warehouse, dg.DagsterInstance.ephemeral(), key, [messages_asset])
    assert [r["id"] for r in partition(warehouse, key)] == before
    [event] = result.get_asset_materialization_events()
    counted = event.step_materialization_data.materialization.metadata
    assert counted["dagster/partition_row_count"].value == len(before)


# ----------------------------------------------------------------------- metadata
def account_secrets(extracted: Extracted) -> set[str]:
    """Every phone number, e-mail and birthday of the account, as the API writes them."""
    secrets: set[str] = set()
    for contact in extracted.api["/contacts"]:
        secrets.add(contact["phone_number"])
        secrets.update(contact["additional_numbers"])
        if contact["email"]:
            secrets.add(contact["email"])
        if contact["birthday"]:
            secrets.add(contact["birthday"])
            secrets.add(parse_birthday(contact["birthday"]).isoformat())
    for record in extracted.api["/lists"]:
        secrets.update((record["noncontact_members"] or {}).get("phone_number") or [])
    for campaign in extracted.api["/campaigns"]:
        secrets.update(split_ids(campaign["recipients"] or ""))
    secrets.update(m["sms"]["destination"] for m in extracted.messages)
    return secrets


def materializations(extracted: Extracted) -> dict[str, list[dg.AssetMaterialization]]:
    found: dict[str, list[dg.AssetMaterialization]] = {}
    for result in extracted.results:
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization  # type: ignore[union-attr]
            found.setdefault(mat.asset_key.to_user_string(), []).append(mat)
    return found


def test_metadata_counts_rows_and_fetches(extracted: Extracted) -> None:
    found = materializations(extracted)
    assert set(found) == {name.replace(".", "/") for name in TABLES}
    for name, mats in found.items():
        if name == "oneconnect/messages":
            assert len(mats) == 3
            counts = [int(m.metadata["dagster/partition_row_count"].value) for m in mats]  # type: ignore[arg-type]
            assert sorted(counts) == sorted(
                len(partition(extracted.warehouse, k)) for k in extracted.keys
            )
            assert all("dagster/row_count" not in m.metadata for m in mats)
            continue
        [mat] = mats
        if name != "analytics/delivery_rates":  # whole tables, though the run was partitioned
            assert "dagster/partition_row_count" not in mat.metadata, name
        if name == "analytics/delivery_rates":
            day = rows(
                extracted.warehouse,
                f"SELECT count(*) AS n FROM analytics.delivery_rates "
                f"WHERE day = DATE '{extracted.keys[-1]}'",
            )
            assert mat.metadata["dagster/partition_row_count"].value == day[0]["n"]
            continue
        rows_now = rows(extracted.warehouse, f"SELECT count(*) AS n FROM {name.replace('/', '.')}")
        assert mat.metadata["dagster/row_count"].value == rows_now[0]["n"], name
        assert isinstance(mat.metadata["preview"], dg.MarkdownMetadataValue), name
        if name.startswith("oneconnect/") and name != "oneconnect/list_members":
            assert int(mat.metadata["fetched/requests"].value) >= 1, name  # type: ignore[arg-type]
            assert "fetched/pages" in mat.metadata, name


def test_metadata_never_shows_personal_data(extracted: Extracted) -> None:
    secrets = account_secrets(extracted)
    assert len(secrets) > 100
    found = materializations(extracted)
    contacts_preview = str(found["oneconnect/contacts"][0].metadata["preview"].value)
    assert contacts_preview.startswith("|") and "*" in contacts_preview
    greetings = str(found["analytics/upcoming_birthdays"][0].metadata["preview"].value)
    assert greetings.startswith("| greet_on") and "greetings" in greetings
    assert "contact_id" not in greetings and "turns" not in greetings
    shown = [
        (name, key, str(value.value))
        for name, mats in found.items()
        for mat in mats
        for key, value in mat.metadata.items()
    ]
    leaks = [
        (name, key, secret) for name, key, text in shown for secret in secrets if secret in text
    ]
    assert leaks == []


def test_a_table_failing_its_schema_is_named_by_row_and_id_never_by_value(
    tmp_path: Path,
) -> None:
    """A phone number the account stores formatted fails ``ContactsSchema``; the run's
    error (what the UI and the logs show) names the column, the check, the row and the
    contact's id, not the number; the step fails at once (no retry would change the
    data), and the table landed before stays."""
    formatted = "+995 599 87 65 43"
    warehouse = tmp_path / "wh.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    with private_sim(SMALL) as sim:
        contacts = [contacts_asset]
        materialize(sim, warehouse, instance, None, contacts, checks=False)
        victim = sim.simulator.platform.store.one(
            "SELECT id FROM contacts ORDER BY id LIMIT 1 OFFSET 3"
        )
        store_off_contract(sim, victim, phone_number=formatted)
        result = dg.materialize(
            contacts,
            resources={"oneconnect": resource(sim), **warehouse_resources(str(warehouse))},
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert not [e for e in result.all_events if e.is_step_up_for_retry]  # failed at once
    error = failure.step_failure_data.error
    assert error is not None
    shown = str(error.to_string())
    assert "oneconnect.contacts failed validation (values not shown)" in shown
    assert f"phone_number str_matches('^\\d+$'): 1 row: row 3 (id {victim})" in shown
    logged = "\n".join(str(e) for e in instance.all_logs(result.run_id))
    for text in (shown, logged):
        for digits in ("599 87 65 43", "599876543"):
            assert digits not in text
    assert len(rows(warehouse, "SELECT id FROM oneconnect.contacts")) == SMALL.contacts


def fails_at_once(
    sim: Sim,
    asset: Any,
    warehouse: Path,
    instance: dg.DagsterInstance,
    oneconnect: OneConnectResource | None = None,
) -> str:
    """Materialize ``asset``, which fails without a retry: its error as the UI shows it."""
    account = oneconnect or resource(sim)
    result = dg.materialize(
        [asset],
        resources={"oneconnect": account, **warehouse_resources(str(warehouse))},
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert not [e for e in result.all_events if e.is_step_up_for_retry]
    error = failure.step_failure_data.error
    assert error is not None
    return str(error.to_string())


@pytest.mark.parametrize(
    ("account", "named"),
    [
        ({"api_key": "not-the-key"}, "AuthenticationError"),
        (
            {"base_url": "https://oneconnect.example/api/v1"},  # no simulator: no demo account
            "MissingCredentialsError",
        ),
    ],
    ids=["a wrong API key", "no credentials for a real host"],
)
def test_a_step_whose_settings_cannot_work_fails_at_once(
    tmp_path: Path, account: dict[str, Any], named: str
) -> None:
    """A retry within the run meets the same key: not two more logins and three minutes."""
    with private_sim(EMPTY) as sim:
        settings = {"base_url": sim.base_url, "email": EMAIL, "api_key": API_KEY}
        if "base_url" in account:
            settings = {}
        oneconnect = OneConnectResource(**{**settings, **account})
        instance = dg.DagsterInstance.ephemeral()
        shown = fails_at_once(sim, contacts_asset, tmp_path / "wh.duckdb", instance, oneconnect)
    assert named in shown and "not-the-key" not in shown


@pytest.mark.parametrize(
    ("stored", "named"),
    [
        (
            {"birthday": "sometime in May"},
            "contacts.birthday is not a date for 1 record(s), ids [{id}]",
        ),
        (
            {"additional_numbers": "599876543"},
            "cannot read contact {id} at additional_numbers: Expected `array | null`, got `str`",
        ),
        ({"id": 1.5}, "cannot read a contact at id: Expected `int`, got `float`"),
    ],
    ids=["off its format", "text for a list", "not a whole number"],
)
def test_a_record_the_contract_cannot_hold_fails_the_step_at_once_naming_it(
    tmp_path: Path, stored: dict[str, Any], named: str
) -> None:
    """Not landed as something else (a list of the number's digits, id 1), not retried
    (the data will not change in three minutes), the table landed before stays."""
    warehouse = tmp_path / "wh.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    with private_sim(SMALL) as sim:
        materialize(sim, warehouse, instance, None, [contacts_asset], checks=False)
        victim = sim.simulator.platform.store.one(
            "SELECT id FROM contacts ORDER BY id LIMIT 1 OFFSET 3"
        )
        store_off_contract(sim, victim, **stored)
        shown = fails_at_once(sim, contacts_asset, warehouse, instance)
    assert named.format(id=victim) in shown
    assert len(rows(warehouse, "SELECT id FROM oneconnect.contacts")) == SMALL.contacts


def test_a_list_whose_noncontact_members_break_the_contract_fails_its_step_naming_it(
    tmp_path: Path,
) -> None:
    """The small tables are read through the client's wire structs: a number given as
    text where the contract has an array is refused (it used to land as one member per
    character), at once, and the tables landed before stay."""
    warehouse = tmp_path / "wh.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    with private_sim(SMALL) as sim:
        materialize(sim, warehouse, instance, None, [lists_asset], checks=False)
        store = sim.simulator.platform.store
        victim = store.one("SELECT id FROM lists ORDER BY id LIMIT 1 OFFSET 1")
        store.execute(
            "UPDATE lists SET noncontact_members = ? WHERE id = ?",
            (json.dumps({"phone_number": "995559990002"}), victim),
        )
        store.touch("lists")
        shown = fails_at_once(sim, lists_asset, warehouse, instance)
    assert f"cannot read list {victim} at noncontact_members[...]: Expected `array" in shown
    assert "995559990002" not in shown
    assert len(rows(warehouse, "SELECT id FROM oneconnect.lists")) == SMALL.lists


# ----------------------------------------------------------------------- checks
def test_asset_checks_pass_on_a_healthy_account(extracted: Extracted) -> None:
    evaluations = extracted.results[-1].get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {
        "contacts_unique",
        "list_members_are_contacts",
        "campaign_lists_exist",
        "balance_covers_next_week",
    }
    assert [(e.check_name, e.metadata) for e in evaluations if not e.passed] == []


def test_a_tiny_balance_warns_that_next_week_is_not_covered(tmp_path: Path) -> None:
    with private_sim(SMALL, sms_balance=1) as sim:
        answer = sim.api.post(
            "/campaigns",
            data={
                "name": "Daily promo",
                "recipients": "995551000001,0555100002",
                "content": "Promo",
                "active": "true",
                "job_type": "1",
                "campaign_type": "0",
                "dates": (datetime.now(TZ) + timedelta(hours=2)).strftime("%d.%m.%Y %H:%M"),
                "repeat": "1 day",
            },
        )
        assert answer.status_code == 200, answer.text
        today = datetime.now(TZ).date().isoformat()
        result = materialize(sim, tmp_path / "wh.duckdb", dg.DagsterInstance.ephemeral(), today)
    [check] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "balance_covers_next_week"
    ]
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["sms_balance"].value == 1
    needed = check.metadata["sms_needed_7_days"].value
    assert isinstance(needed, int) and needed >= 14  # two numbers a day for a week
    assert check.metadata["shortfall"].value == needed - 1
