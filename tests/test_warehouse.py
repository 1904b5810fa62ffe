"""The warehouse as analysts see it: one type mapping for every table, and an empty
account still gives every table (so analytics and exports have something to read)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
import pytest

from assets.extract import account_timezone
from oneconnect_pipelines import schemas
from oneconnect_pipelines.warehouse import Warehouse, Window
from oneconnect_pipelines.warehouse import duckdb as duckdb_backend
from oneconnect_pipelines.warehouse import postgres as postgres_backend
from oneconnect_pipelines.warehouse.base import column_types as warehouse_types
from oneconnect_pipelines.warehouse.base import open_warehouse
from oneconnect_pipelines.warehouse.duckdb import ROW_GROUP_ROWS, DuckDBWarehouse
from oneconnect_pipelines.warehouse.postgres import PostgresWarehouse

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


# ----------------------------------------------------------------------- the writer itself
def frame(ids: list[int], day: str = "2026-12-01") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.array(ids, dtype="Int64"),
            "name": pd.Series([f"n{i}" for i in ids], dtype="string[pyarrow]"),
            "kind": pd.Categorical(["a"] * len(ids), categories=["a", "b"]),
            "day": pd.Series(
                [date.fromisoformat(day)] * len(ids), dtype=pd.ArrowDtype(pa.date32())
            ),
            "ids": pd.Series([[i] for i in ids], dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
        }
    )


def test_a_write_replaces_the_table_whole_or_not_at_all(tmp_path: Path) -> None:
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    assert store.write("s.t", frame([1, 2, 3])) == 3

    def failing() -> Iterator[pd.DataFrame]:
        yield frame([7])
        raise RuntimeError("the source broke halfway")

    with pytest.raises(RuntimeError):
        store.write("s.t", failing())
    assert store.read("s.t").column("id").to_pylist() == [1, 2, 3]  # the old rows, whole
    assert store.write("s.t", (frame([i]) for i in (4, 5))) == 2  # batches as they come
    assert store.read("s.t").column("id").to_pylist() == [4, 5]


def test_pieces_of_a_write_need_not_bring_every_column_but_no_new_one(tmp_path: Path) -> None:
    """A write's pieces go in as one stream: a piece without one of the table's columns
    leaves it null (the first piece too, in a window of an existing table); one with a
    column the table does not have is named, and the old rows stay."""
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    store.write("s.t", [frame([1, 2]), frame([3]).drop(columns=["name"])])
    assert store.read("s.t").column("name").to_pylist() == ["n1", "n2", None]
    window = Window("day", date(2026, 12, 2), date(2026, 12, 3))
    day = [frame([4], "2026-12-02").drop(columns=["name"]), frame([5], "2026-12-02")]
    assert store.write("s.t", day, window) == 2
    assert store.read("s.t", window).column("name").to_pylist() == [None, "n5"]
    with pytest.raises(ValueError, match=r"^s\.t has no column extra$"):
        store.write("s.t", [frame([6]), frame([7]).assign(extra=1)])
    assert store.read("s.t").column("id").to_pylist() == [1, 2, 3, 4, 5]


def test_a_failed_insert_stops_the_source_and_keeps_the_old_table(tmp_path: Path) -> None:
    """The source runs on a thread of its own, ahead of the inserts: when a piece cannot
    be written, the write raises at once and that thread stops, even from a source that
    never ends and a queue that is full."""
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    store.write("s.t", frame([1, 2, 3]))
    made = 0

    def endless() -> Iterator[pd.DataFrame]:
        nonlocal made
        yield frame(list(range(ROW_GROUP_ROWS)))
        while True:  # a day that is not a date cannot be inserted into the date column
            made += 1
            yield frame(list(range(ROW_GROUP_ROWS))).assign(day="not a day")

    started = time.monotonic()
    with pytest.raises(
        TypeError, match=r"^s\.t\.day holds date32\[day\]; this write brings string"
    ):
        store.write("s.t", endless())
    assert time.monotonic() - started < 10
    assert store.read("s.t").column("id").to_pylist() == [1, 2, 3]
    assert not [t for t in threading.enumerate() if t.name == "warehouse-source"]
    assert made < 10  # the source was stopped, not drained to the end


def test_a_write_left_while_its_source_waits_does_not_wait_with_it(tmp_path: Path) -> None:
    """A write that fails (or a run terminated) while its source waits out a page's
    retries: it raises within ``STOP_WAIT_S``, the file free, not once the source's wait
    is over; the source's thread ends when the source yields again."""
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    store.write("s.t", frame([1, 2, 3]))
    waiting = threading.Event()

    def retrying() -> Iterator[pd.DataFrame]:
        yield frame(list(range(ROW_GROUP_ROWS)))
        yield frame(list(range(ROW_GROUP_ROWS))).assign(day="not a day")  # cannot be written
        waiting.wait(30)  # the next page's retries
        yield frame([4])

    started = time.monotonic()
    with pytest.raises(TypeError, match="this write brings string"):
        store.write("s.t", retrying())
    assert time.monotonic() - started < duckdb_backend.STOP_WAIT_S + 2
    assert store.read("s.t").column("id").to_pylist() == [1, 2, 3]
    DuckDBWarehouse(tmp_path / "w.duckdb", lock_wait_s=0).write("s.u", frame([1]))  # free
    waiting.set()  # the client closes: the source's wait ends, and its thread with it
    deadline = time.monotonic() + 5
    while [t for t in threading.enumerate() if t.name == "warehouse-source"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_window_replaces_only_its_rows(tmp_path: Path) -> None:
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    store.write("s.t", pd.concat([frame([1, 2], "2026-12-01"), frame([3], "2026-12-02")]))
    window = Window("day", date(2026, 12, 2), date(2026, 12, 3))
    store.write("s.t", frame([4, 5], "2026-12-02"), window)
    assert sorted(store.read("s.t").column("id").to_pylist()) == [1, 2, 4, 5]
    assert store.read("s.t", window).column("id").to_pylist() == [4, 5]

    def failing() -> Iterator[pd.DataFrame]:
        yield frame([6], "2026-12-02")
        raise RuntimeError("the listing broke halfway")

    with pytest.raises(RuntimeError, match="broke halfway"):
        store.write("s.t", failing(), window)
    assert sorted(store.read("s.t").column("id").to_pylist()) == [1, 2, 4, 5]  # as it was


def test_frames_read_back_with_the_types_they_were_written_with(tmp_path: Path) -> None:
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    store.write("s.t", frame([1]))
    back = store.read_frame("s.t")
    assert {name: str(dtype) for name, dtype in back.dtypes.items()} == {
        "id": "Int64",
        "name": "string",
        "kind": "string",
        "day": "date32[day][pyarrow]",
        "ids": "list<item: int64>[pyarrow]",
    }


def test_an_append_adds_the_columns_an_older_table_lacks(tmp_path: Path) -> None:
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    store.append("crm.log", frame([1]))
    store.append("crm.log", frame([2]).assign(attempt=pd.array([2], dtype="Int32")))
    table = store.read("crm.log")
    assert table.column("attempt").to_pylist() == [None, 2]


def test_a_writer_waits_while_another_process_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(1.5); c.close()",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    assert DuckDBWarehouse(path).write("s.t", frame([1])) == 1
    assert time.monotonic() - started > 0.5  # it waited for the lock, then wrote
    holder.wait(10)
    with pytest.raises(duckdb.IOException):  # a lock held past the wait is an error
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
                " print('held', flush=True); time.sleep(5)",
                str(path),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        try:
            DuckDBWarehouse(path, lock_wait_s=0.5).write("s.t", frame([2]))
        finally:
            holder.kill()


def row_group_sizes(path: Path, table: str) -> list[int]:
    with duckdb.connect(str(path), read_only=True) as connection:
        found = connection.execute(
            "SELECT row_group_id, max(count) FROM pragma_storage_info(?) "
            "GROUP BY row_group_id ORDER BY row_group_id",
            [table],
        ).fetchall()
    return [int(count) for _, count in found]


def test_every_write_goes_into_whole_small_row_groups(tmp_path: Path) -> None:
    """DuckDB rewrites a table's partly filled last row group whole when rows are added:
    small groups keep that rewrite (and the memory it takes) small however long the table
    grows, and each insert fills whole groups, so only a write's last group is partial."""
    path = tmp_path / "w.duckdb"
    store = DuckDBWarehouse(path)
    many = 50_000
    pages = (frame(list(range(i, i + 1_000)), "2026-12-01") for i in range(0, many, 1_000))
    store.write("s.t", pages)
    whole = row_group_sizes(path, "s.t")
    assert sum(whole) == many
    assert whole[:-1] == [ROW_GROUP_ROWS] * (len(whole) - 1)  # DuckDB's own: 122,880
    for day in (2, 3):
        ids = list(range(day * many, (day + 1) * many))
        window = Window("day", date(2026, 12, day), date(2026, 12, day + 1))
        store.write("s.t", frame(ids, f"2026-12-0{day}"), window)
    store.append("s.t", frame([10**9], "2026-12-04"))
    sizes = row_group_sizes(path, "s.t")
    assert sum(sizes) == 3 * many + 1
    assert max(sizes) <= ROW_GROUP_ROWS


def test_a_notebook_holding_the_file_open_can_still_use_the_library(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    store = DuckDBWarehouse(path, lock_wait_s=0.3)
    store.write("s.t", frame([1], "2026-12-01"))
    window = Window("day", date(2026, 12, 2), date(2026, 12, 3))
    with duckdb.connect(str(path)) as notebook:
        assert store.read("s.t").column("id").to_pylist() == [1]
        store.write("s.t", frame([2], "2026-12-02"), window)  # shares the notebook's file
        store.append("s.log", frame([3]))
        assert notebook.execute("SELECT count(*) FROM w.s.t").fetchone() == (2,)
    # held read-only in this process, the file cannot be written: an error, not a hang
    with duckdb.connect(str(path), read_only=True), pytest.raises(duckdb.Error):
        store.write("s.t", frame([4]))
    assert sorted(store.read("s.t").column("id").to_pylist()) == [1, 2]


def test_reads_go_on_beside_an_analysts_read_only_session(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    store = DuckDBWarehouse(path, lock_wait_s=0.3)
    store.write("s.t", frame([1, 2]))
    analyst = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True);"
            " print('reading', flush=True); time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert analyst.stdout is not None and analyst.stdout.readline().strip() == "reading"
        assert store.read("s.t").column("id").to_pylist() == [1, 2]
        assert store.tables(["s"]) == [("s", "t")]
        assert store.query("SELECT count(*) AS n FROM s.t").column("n").to_pylist() == [2]
    finally:
        analyst.kill()
        analyst.wait(10)


def test_data_spilled_by_a_big_query_goes_beside_the_file(tmp_path: Path) -> None:
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    with store.connect(writing=True) as connection:
        found = connection.execute("SELECT current_setting('temp_directory')").fetchone()
    assert found is not None and found[0] == f"{tmp_path / 'w.duckdb'}.tmp"


def test_a_staging_table_left_by_a_killed_write_is_no_table_of_the_warehouse(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb"
    store = DuckDBWarehouse(path)
    store.write("s.t", frame([1, 2]))
    with duckdb.connect(str(path)) as connection:  # what a SIGKILL mid-write leaves behind
        connection.execute("CREATE TABLE s.t__incoming AS SELECT 7 AS id")
    assert store.tables(["s"]) == [("s", "t")]  # so the export never publishes it
    store.write("s.t", frame([3]))
    assert store.read("s.t").column("id").to_pylist() == [3]
    assert store.tables(["s"]) == [("s", "t")]


def new_postgres(postgres_url: str) -> PostgresWarehouse:
    return PostgresWarehouse(new_database(postgres_url))


def new_database(postgres_url: str) -> str:
    from .postgres import create_database

    return create_database(postgres_url, f"wh_{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_a_keyed_window_keeps_the_rows_its_source_no_longer_has(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A day of messages read again after OneConnect trimmed its history (a plan keeps its
    last 100 or 1,000, listed by id): the rows that come back replace theirs, new ones are
    added, and the older ones the API no longer has stay (they were deleted: the day
    emptied). Rows come in id order; the day is replaced from the lowest id back up."""
    store: DuckDBWarehouse | PostgresWarehouse = (
        DuckDBWarehouse(tmp_path / "w.duckdb")
        if backend == "duckdb"
        else new_postgres(request.getfixturevalue("postgres_url"))
    )
    window = Window("day", date(2026, 12, 2), date(2026, 12, 3), key="id")
    store.write("s.t", pd.concat([frame([1, 2], "2026-12-01"), frame([3, 4, 5], "2026-12-02")]))
    again = frame([4, 5, 6], "2026-12-02")
    again["name"] = again["name"].str.upper()  # changed since (a late delivery report)
    assert store.write("s.t", [again.iloc[:2], again.iloc[2:]], window) == 4
    held = store.read("s.t").to_pandas().sort_values("id")
    assert held["id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert held["name"].tolist() == ["n1", "n2", "n3", "N4", "N5", "N6"]
    assert store.write("s.t", frame([], "2026-12-02"), window) == 4  # nothing back: all kept
    with pytest.raises(ValueError, match="brings its rows in ascending id order"):
        store.write("s.t", [frame([7], "2026-12-02"), frame([6], "2026-12-02")], window)
    # from the lowest id back up the day is as the source has it: 5 is gone from the day
    # (it moved to the next one, say), and a 7 no longer listed is not kept either
    store.write("s.t", frame([4, 5, 6, 7], "2026-12-02"), window)
    assert store.write("s.t", frame([4, 6], "2026-12-02"), window) == 3
    # a listing's last page may be empty (a day of exactly so many full pages), or be
    # filtered empty (its messages are the next day's): pieces without rows, anywhere
    empty = frame([], "2026-12-02")
    pieces = [empty, frame([4], "2026-12-02"), empty, frame([6], "2026-12-02"), empty]
    assert store.write("s.t", pieces, window) == 3

    def failing() -> Iterator[pd.DataFrame]:
        yield frame([3], "2026-12-02")
        raise RuntimeError("the listing broke halfway")

    with pytest.raises(RuntimeError, match="broke halfway"):
        store.write("s.t", failing(), window)
    assert store.read("s.t").to_pandas().sort_values("id")["id"].tolist() == [1, 2, 3, 4, 6]


def slow_day(ids: list[int], day: str, pause: float) -> Iterator[pd.DataFrame]:
    """A day's rows in two pieces with a listing's pause between them."""
    yield frame(ids[:1], day)
    time.sleep(pause)
    yield frame(ids[1:], day)


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_two_runs_writing_one_window_at_once_leave_its_rows_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A backfill overlapping the hourly refresh of the same day: the writers take turns."""
    store: DuckDBWarehouse | PostgresWarehouse = (
        DuckDBWarehouse(tmp_path / "w.duckdb")
        if backend == "duckdb"
        else new_postgres(request.getfixturevalue("postgres_url"))
    )
    store.write("s.t", frame([1, 2, 3], "2026-12-01"))
    window = Window("day", date(2026, 12, 1), date(2026, 12, 2))
    runs = [
        threading.Thread(
            target=store.write, args=("s.t", slow_day([1, 2, 3], "2026-12-01", 0.8), window)
        )
        for _ in range(2)
    ]
    for run in runs:
        run.start()
        time.sleep(0.3)
    for run in runs:
        run.join(30)
    assert sorted(store.read("s.t", window).column("id").to_pylist()) == [1, 2, 3]


def test_a_postgres_writer_waits_its_turn_only_so_long(postgres_url: str) -> None:
    """Another writer holds the table (a run stuck mid-write): the next write fails
    after ``lock_wait_s``, naming the table, and leaves the rows; once the other lets
    go, writes go in again."""
    import adbc_driver_postgresql.dbapi

    url = new_database(postgres_url)
    store = PostgresWarehouse(url, lock_wait_s=0.5)
    store.write("s.t", frame([1]))
    with adbc_driver_postgresql.dbapi.connect(url) as other, other.cursor() as cursor:
        postgres_backend._hold(cursor, "s.t", 1)
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"^s\.t: another writer has held it for 0\.5 s"):
            store.write("s.t", frame([2]))
        assert 0.4 < time.monotonic() - started < 5
        other.rollback()
    assert store.read("s.t").column("id").to_pylist() == [1]
    assert store.write("s.t", frame([3])) == 1
    # the wait bounds the turn only: the rest of a write keeps the database's own setting
    with adbc_driver_postgresql.dbapi.connect(url) as admin, admin.cursor() as cursor:
        cursor.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET lock_timeout = '3s'")
        admin.commit()
    with adbc_driver_postgresql.dbapi.connect(url) as other, other.cursor() as cursor:
        postgres_backend._hold(cursor, "s.t", 1)
        cursor.execute("SELECT current_setting($1)", ("lock_timeout",))
        assert cursor.fetchone() == ("3s",)


def test_first_writes_of_two_tables_into_a_new_schema_at_once_both_land(
    postgres_url: str,
) -> None:
    store = new_postgres(postgres_url)
    errors: list[BaseException] = []

    def write(table: str) -> None:
        try:
            store.write(table, slow_day([1, 2], "2026-12-01", 0.3))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    runs = [threading.Thread(target=write, args=(f"analytics.t{n}",)) for n in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(30)
    assert errors == []
    assert store.tables(["analytics"]) == [("analytics", f"t{n}") for n in range(3)]


def test_a_nightly_replace_keeps_the_views_and_grants_on_a_postgres_table(
    postgres_url: str,
) -> None:
    store = new_postgres(postgres_url)
    store.write("s.t", frame([1, 2]))
    with store.connect() as connection, connection.cursor() as cursor:
        cursor.execute("CREATE VIEW s.recent AS SELECT id FROM s.t WHERE id > 1")
        cursor.execute("CREATE ROLE analyst_view_test")
        cursor.execute("GRANT USAGE ON SCHEMA s TO analyst_view_test")
        cursor.execute("GRANT SELECT ON s.t TO analyst_view_test")
    store.write("s.t", frame([5, 6, 7]))  # same columns: the table stays, its rows change
    assert store.query("SELECT id FROM s.recent ORDER BY id").column("id").to_pylist() == [5, 6, 7]
    granted = store.query("SELECT has_table_privilege('analyst_view_test', 's.t', 'SELECT') AS ok")
    assert granted.column("ok").to_pylist() == [True]
    with pytest.raises(Exception, match="depend"):  # columns changed: PostgreSQL says why
        store.write("s.t", frame([8]).drop(columns=["name"]))
    assert store.read("s.t").column("id").to_pylist() == [5, 6, 7]


def a_store(backend: str, request: pytest.FixtureRequest, path: Path) -> Warehouse:
    if backend == "duckdb":
        return DuckDBWarehouse(path)
    return new_postgres(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_a_column_whose_type_changed_takes_what_converts_and_names_what_does_not(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A table an older version made keeps its types: an int32 count goes into its bigint
    column converted (PostgreSQL's binary COPY failed on it), and 1.6 into an integer
    column is refused naming table, column and types (PostgreSQL stored the float's bits
    as an integer, 4609884578576439706; DuckDB rounded it to 2)."""
    store = a_store(backend, request, tmp_path / "w.duckdb")
    day = Window("day", date(2026, 12, 1), date(2026, 12, 2))
    next_day = Window("day", date(2026, 12, 2), date(2026, 12, 3))
    on = {"day": pa.array([date(2026, 12, 1)]), "v": pa.array([1], pa.int64())}
    store.write("s.e", pa.table(on), day)
    later = {"day": pa.array([date(2026, 12, 2)]), "v": pa.array([7], pa.int32())}
    store.write("s.e", pa.table(later), next_day)
    with pytest.raises(TypeError, match=r"^s\.e\.v holds int64; this write brings double"):
        store.write("s.e", pa.table({**later, "v": pa.array([1.6])}), next_day)
    assert sorted(store.read("s.e").column("v").to_pylist()) == [1, 7]
    store.append("crm.log", pa.table({"attempt": pa.array([3], pa.int64())}))
    store.append("crm.log", pa.table({"attempt": pa.array([4], pa.int32())}))
    assert store.read("crm.log").column("attempt").to_pylist() == [3, 4]


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_a_column_with_no_value_yet_can_take_text_later(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """DuckDB made a column of only nulls of type NULL, which no later write could fill."""
    store = a_store(backend, request, tmp_path / "w.duckdb")
    first = pd.DataFrame({"day": [date(2026, 12, 1)], "note": [None]})
    store.write("s.n", first, Window("day", date(2026, 12, 1), date(2026, 12, 2)))
    second = pd.DataFrame({"day": [date(2026, 12, 2)], "note": ["hello"]})
    store.write("s.n", second, Window("day", date(2026, 12, 2), date(2026, 12, 3)))
    assert store.read("s.n").column("note").to_pylist() == [None, "hello"]


#: Every Arrow type the tables have (``schemas``), in the forms frames bring them, and the
#: other scalars and units a write may meet.
KINDS = (
    *{
        field.type
        for model in vars(schemas).values()
        if isinstance(model, type) and issubclass(model, pandera.DataFrameModel)
        for field in schemas.arrow_schema(model)
    },
    *(pa.int8(), pa.int16(), pa.int32(), pa.float32(), pa.binary(), pa.null()),
    *(pa.timestamp(unit, tz) for unit in ("s", "ms", "us", "ns") for tz in (None, "UTC")),
    *(pa.list_(pa.string()), pa.large_list(pa.date32())),
)


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_the_catalog_shows_each_column_with_the_type_its_table_gets(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The catalog's types are said by the code (DuckDB is not asked when the code location
    loads); a table of every kind of column, made by the warehouse's writer, must have them."""
    url = (
        str(tmp_path / "w.duckdb")
        if backend == "duckdb"
        else new_database(request.getfixturevalue("postgres_url"))
    )
    schema = pa.schema([pa.field(f"c{number}", kind) for number, kind in enumerate(KINDS)])
    open_warehouse(url).write("s.kinds", schema.empty_table())
    assert warehouse_types(url, schema) == column_types(url, "s.kinds")


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_any_column_name_is_one_identifier(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = a_store(backend, request, tmp_path / "w.duckdb")
    store.append("s.f", pa.table({"a": [1]}))
    store.append("s.f", pa.table({"a": [2], 'we"ird': [3], "a.b": [4]}))
    assert store.read("s.f").to_pylist() == [
        {"a": 1, 'we"ird': None, "a.b": None},
        {"a": 2, 'we"ird': 3, "a.b": 4},
    ]


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_a_window_write_refuses_rows_outside_its_window(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Only the window's rows are deleted first: a row outside it (or without a day)
    would be added again by every rerun. The write fails instead, leaving the rows."""
    store = a_store(backend, request, tmp_path / "w.duckdb")
    window = Window("day", date(2026, 12, 2), date(2026, 12, 3))
    store.write("s.t", frame([1], "2026-12-02"), window)
    stray = pd.concat([frame([2], "2026-12-02"), frame([3], "2026-12-03")])
    with pytest.raises(ValueError, match=r"^s\.t: 1 row\(s\) of this write are outside"):
        store.write("s.t", stray, window)
    no_day = frame([4], "2026-12-02").assign(
        day=pd.Series([None], dtype=pd.ArrowDtype(pa.date32()))
    )
    with pytest.raises(ValueError, match="outside its window"):
        store.write("s.t", no_day, window)
    assert store.read("s.t").column("id").to_pylist() == [1]


@pytest.mark.parametrize("stem", ["main", "temp", "system", "memory"])
def test_a_warehouse_file_may_have_any_name(tmp_path: Path, stem: str) -> None:
    """DuckDB keeps these names for its own catalogs; the file is attached as stem_db."""
    store = DuckDBWarehouse(tmp_path / f"{stem}.duckdb")
    store.write("s.t", frame([1]))
    assert store.read("s.t").column("id").to_pylist() == [1]


def test_reading_a_warehouse_that_is_not_there_says_so_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.duckdb"
    with pytest.raises(FileNotFoundError, match=r"no warehouse at .*missing\.duckdb"):
        DuckDBWarehouse(path).read("s.t")
    assert not path.exists()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://etl@127.0.0.1:{port}/warehouse?password=s3cret",
        "postgresql:///warehouse?host=127.0.0.1&port={port}&user=etl&password=s3cret",
        "postgresql://etl:s3cret@127.0.0.1:{port}/warehouse?sslmode=disable",
    ],
)
def test_a_password_in_the_warehouse_url_is_not_shown_in_its_error(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq takes the password as ?password= too, which was printed whole."""
    import socket

    from assets import cli, settings

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = url.format(port=port)
    monkeypatch.setattr(settings, "SETTINGS", settings.Settings(warehouse=url))
    with pytest.raises(cli.CliError) as raised:
        cli.writable_warehouse()
    assert "s3cret" not in str(raised.value)
    assert str(raised.value).startswith(
        f"the warehouse {url.replace('s3cret', '***')} cannot be written ("
    )
    assert repr(open_warehouse(url)) == f"PostgresWarehouse({url.replace('s3cret', '***')!r})"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://etl:s3cret@127.0.0.1/warehouse",
        "mysql://etl:s3cret@127.0.0.1/warehouse",
        "sqlite:///warehouse.db",
    ],
)
def test_a_url_that_is_no_warehouse_is_refused_not_made_a_file(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given in the warehouse resource's configuration, each was the path of a new DuckDB
    file (postgresql+psycopg2:/etl:s3cret@...) that the run wrote its tables to."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as raised:
        open_warehouse(url).write("s.t", frame([1]))
    assert str(raised.value) == (
        f"{url.replace('s3cret', '***')} is not a warehouse: postgresql://... "
        "(or postgres://...), duckdb://PATH, or the path of a DuckDB file"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_warehouse_url_scheme_may_be_written_in_any_case(tmp_path: Path) -> None:
    store = open_warehouse("PostgreSQL://etl@db.internal/warehouse")
    assert repr(store) == "PostgresWarehouse('postgresql://etl@db.internal/warehouse')"
    duck = open_warehouse(f"DuckDB://{tmp_path}/w.duckdb")
    duck.write("s.t", frame([1]))
    assert duck.read("s.t").column("id").to_pylist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["w.duckdb"]
