"""Landing a table from chunks (``landing.land``): written as the chunks pass, checked in
batches, the keys' uniqueness checked across batches, every failure named by its row in
the table, and a table that fails leaving the old rows as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandera.errors
import pyarrow
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines import frames, landing
from oneconnect_pipelines.client.models import CONTACT_WIRE
from oneconnect_pipelines.landing import land
from oneconnect_pipelines.preview import PREVIEW_ROWS
from oneconnect_pipelines.schemas import ContactsSchema
from oneconnect_pipelines.warehouse.duckdb import DuckDBWarehouse

from .frame_records import contact

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
    with pytest.raises(pandera.errors.SchemaErrors) as caught:
        land(warehouse, TABLE, pages, ContactsSchema)
    cases = caught.value.failure_cases
    phones = cases[cases["column"] == "phone_number"]
    assert sorted(zip(phones["index"], phones["failure_case"], strict=True)) == [
        (1, "+995 555"),
        (10, "n/a"),
    ]
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
    with pytest.raises(pandera.errors.SchemaErrors) as caught:
        land(warehouse, TABLE, chunks_of(ids, sizes), ContactsSchema)
    cases = caught.value.failure_cases
    duplicated = cases[(cases["column"] == "id") & (cases["check"] == "field_uniqueness")]
    expected = [(row, n) for row, n in enumerate(ids) if n in twice]
    assert sorted(zip(duplicated["index"], duplicated["failure_case"], strict=True)) == expected
    assert len(cases) == len(expected)  # named once, not once per batch as well
    assert stored_ids(warehouse) == [1000]
