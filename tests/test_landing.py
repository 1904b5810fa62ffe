"""Landing a table from chunks (``landing.land``): written as the chunks pass, checked in
batches, the keys' uniqueness checked across batches, every failure named by its row in
the table, and a table that fails leaving the old rows as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pandera.errors
import pyarrow
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines import frames, landing
from oneconnect_pipelines.client.models import CONTACT_WIRE
from oneconnect_pipelines.frames import to_frame
from oneconnect_pipelines.landing import TableValidationError, land, land_frame, land_frames
from oneconnect_pipelines.preview import PREVIEW_ROWS
from oneconnect_pipelines.schemas import (
    ContactsSchema,
    ListMembersSchema,
    ListsSchema,
    categories,
)
from oneconnect_pipelines.warehouse.duckdb import DuckDBWarehouse

from .frame_records import a_list, contact, lists_of

TABLE = "oneconnect.contacts"


def chunk(ids: list[int], phones: dict[int, str] | None = None) -> pyarrow.Table:
    """Contacts ``ids`` as the listing converts a page (Arrow wire -> warehouse types)."""
    records = [contact(n, (phones or {}).get(n, f"99555{n:06d}")) for n in ids]
    return frames.contact_chunk(pyarrow.RecordBatch.from_pylist(records, schema=CONTACT_WIRE))


def chunks_of(ids: list[int], sizes: list[int]) -> Iterator[pyarrow.Table]:
    start = 0
    for size in sizes:
        yield chunk(ids[start : start + size])
        start += size
    if start < len(ids):
        yield chunk(ids[start:])


def stored_ids(warehouse: DuckDBWarehouse) -> list[int]:
    return sorted(warehouse.query(f"SELECT id FROM {TABLE}").column("id").to_pylist())


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    """Batches of 4 rows, so a few chunks make several batches."""
    monkeypatch.setattr(landing, "CHECK_ROWS", 4)
    return 4


def test_a_table_lands_from_many_chunks_checked_in_batches(
    tmp_path: Path, small_batches: int
) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    ids = list(range(1, 24))
    landed = land(warehouse, TABLE, chunks_of(ids, [3, 0, 5, 7]), ContactsSchema)
    assert landed.rows == 23
    assert stored_ids(warehouse) == ids
    assert landed.head["id"].tolist() == ids[:PREVIEW_ROWS]
    assert landed.head["phone_number"].iloc[0] == "99555000001"


def test_an_empty_listing_lands_an_empty_table_and_no_chunk_is_an_error(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    landed = land(warehouse, TABLE, [chunk([])], ContactsSchema)
    assert (landed.rows, len(landed.head), stored_ids(warehouse)) == (0, 0, [])
    with pytest.raises(ValueError, match=f"{TABLE}: no chunk, not even an empty one"):
        land(warehouse, TABLE, [], ContactsSchema)


def test_failures_in_several_batches_are_all_named_by_their_row(
    tmp_path: Path, small_batches: int
) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    land(warehouse, TABLE, [chunk([100, 101])], ContactsSchema)
    bad = {2: "+995 555", 11: "n/a"}  # rows 1 and 10 of the table: batches 0 and 2
    pages = [chunk(list(range(1, 7)), bad), chunk(list(range(7, 13)), bad)]
    with pytest.raises(TableValidationError) as caught:
        land(warehouse, TABLE, pages, ContactsSchema)
    failures = caught.value.failures
    phones = failures[failures["column"] == "phone_number"]
    assert sorted(zip(phones["row"], phones["id"], strict=True)) == [(1, 2), (10, 11)]
    assert str(caught.value) == (
        f"{TABLE} failed validation (values not shown): phone_number "
        "str_matches('^\\d+$'): 2 rows: row 1 (id 2); row 10 (id 11)"
    )
    assert stored_ids(warehouse) == [100, 101]  # the old table, untouched


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(st.integers(1, 30), min_size=1, max_size=40),
    sizes=st.lists(st.integers(0, 9), max_size=8),
)
@example(ids=[1, 2, 3, 4, 5, 1], sizes=[5])  # the same id in two batches
def test_an_id_twice_anywhere_fails_the_table_naming_each_row_of_it(
    tmp_path: Path, small_batches: int, ids: list[int], sizes: list[int]
) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    land(warehouse, TABLE, [chunk([1000])], ContactsSchema)
    twice = {n for n in ids if ids.count(n) > 1}
    if not twice:
        assert land(warehouse, TABLE, chunks_of(ids, sizes), ContactsSchema).rows == len(ids)
        assert stored_ids(warehouse) == sorted(ids)
        return
    with pytest.raises(TableValidationError) as caught:
        land(warehouse, TABLE, chunks_of(ids, sizes), ContactsSchema)
    failures = caught.value.failures
    duplicated = failures[(failures["column"] == "id") & (failures["check"] == "field_uniqueness")]
    expected = [(row, n) for row, n in enumerate(ids) if n in twice]
    assert sorted(zip(duplicated["row"], duplicated["id"], strict=True)) == expected
    assert len(failures) == len(expected)  # named once, not once per batch as well
    assert f"id field_uniqueness: {len(expected)} rows: row {expected[0][0]} " in str(caught.value)
    assert stored_ids(warehouse) == [1000]


def test_a_small_table_failing_names_rows_by_their_ids_and_the_count_beyond(
    tmp_path: Path,
) -> None:
    """``land_frame``: list members that are there twice are named by list and contact,
    never by phone number; beyond ``NAMED_ROWS`` rows only the count is said; a column
    missing is named as such (a whole-table failure has no row)."""
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    people = [contact(n, f"99559{n:07d}") for n in range(1, 5)]
    noncontact = {"phone_number": ["995598765430", "995598765430"]}
    _, members = frames.lists_frames(lists_of([a_list(7, people + people, noncontact)]))
    with pytest.raises(TableValidationError) as caught:
        land_frame(warehouse, "oneconnect.list_members", members, ListMembersSchema)
    message = str(caught.value)
    assert "995598765430" not in message and "99559" not in message
    assert message == (
        "oneconnect.list_members failed validation (values not shown): "
        "(list_id, member_type, contact_id, phone_number) multiple_fields_uniqueness: "
        "10 rows: row 0 (list_id 7, contact_id 1); row 1 (list_id 7, contact_id 2); "
        "row 2 (list_id 7, contact_id 3); row 3 (list_id 7, contact_id 4); "
        "row 4 (list_id 7, contact_id 1); 5 more"
    )
    failures = caught.value.failures
    assert failures["contact_id"].isna().sum() == 2  # the noncontact rows, by row alone

    with pytest.raises(TableValidationError, match=r"column_in_dataframe: city$"):
        no_city = to_frame(chunk([1]), categories(ContactsSchema)).drop(columns="city")
        land_frame(warehouse, TABLE, no_city, ContactsSchema)


def test_tables_built_together_are_all_checked_before_any_is_written(tmp_path: Path) -> None:
    """Lists and their members come from one listing: members that fail leave the lists
    as they were too (the new lists beside the old members disagreed on every count)."""
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    people = [contact(n, f"99559{n:07d}") for n in range(1, 5)]
    lists, members = frames.lists_frames(lists_of([a_list(7, people)]))
    tables = [("s.lists", lists, ListsSchema), ("s.list_members", members, ListMembersSchema)]
    assert [landed.rows for landed in land_frames(warehouse, tables)] == [1, 4]
    lists, members = frames.lists_frames(lists_of([a_list(7, people + people), a_list(8, [])]))
    tables = [("s.lists", lists, ListsSchema), ("s.list_members", members, ListMembersSchema)]
    with pytest.raises(TableValidationError, match=r"^s\.list_members failed validation"):
        land_frames(warehouse, tables)
    assert warehouse.read("s.lists").column("id").to_pylist() == [7]
    assert len(warehouse.read("s.list_members")) == 4


def test_ids_that_are_not_numbers_or_rows_with_one_label_still_make_the_error() -> None:
    """The error is made from whatever frame failed: an id column of text (the failure
    itself) or an index with a label twice must not raise in its place."""
    frame = to_frame(chunk([1, 2]), categories(ContactsSchema))
    frame["phone_number"] = ["n/a", "+995 599"]
    frame["id"] = ["x1", "2"]
    frame.index = pd.Index([0, 0])
    with pytest.raises(pandera.errors.SchemaErrors) as caught:
        ContactsSchema.validate(frame, lazy=True)
    error = TableValidationError.of(TABLE, caught.value, frame)
    assert "+995" not in str(error) and "x1" not in str(error)
    assert "phone_number str_matches('^\\d+$'): 2 rows: row 0; row 0" in str(error)
