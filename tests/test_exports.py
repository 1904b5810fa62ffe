"""The ``analytics_export`` job: one Parquet and one CSV per table (messages per day) that
round-trip to the warehouse, with CSV cells a spreadsheet cannot run as formulas; from
either warehouse backend, into a local folder or an S3 bucket."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import dagster as dg
import pandas as pd
import pytest

from assets.exports import analytics_export, message_days
from assets.extract import messages as messages_asset
from assets.warehouse import WarehouseResource
from oneconnect_pipelines.exports import FORMULA_STARTS, csv_safe, write_csv, write_table
from oneconnect_pipelines.schemas import TEXT
from oneconnect_pipelines.storage import Location, location, shown, write_whole
from oneconnect_pipelines.warehouse import open_warehouse

from .extract_helpers import RECENT, api_get, local_day, materialize, private_sim
from .objectstore import new_bucket
from .postgres import create_database

RISKY = {
    "first_name": '=HYPERLINK("http://evil.example","click")',
    "last_name": "+SUM(A1:A9)",
    "city": "-2+3",
    "street": "@cmd",
    "post_code": "0179",
}


@dataclass
class Exported:
    #: A DuckDB file or a PostgreSQL database: every test here runs on both backends.
    warehouse: Path | str
    #: A local folder, or a prefix in a bucket of a real S3-compatible server.
    root: Location
    risky_id: int
    days: list[str]
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="module", params=["duckdb", "postgresql", "duckdb-to-s3"])
def exported(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Exported]:
    tmp = tmp_path_factory.mktemp("exports")
    warehouse: Path | str = tmp / "wh.duckdb"
    root: Location = tmp / "out"
    if request.param == "postgresql":
        warehouse = create_database(request.getfixturevalue("postgres_url"), "exports")
    if request.param == "duckdb-to-s3":
        request.getfixturevalue("s3_endpoint")
        root = new_bucket() / "exports"
    with private_sim(RECENT) as sim:
        answer = sim.api.post("/contacts", data={"phone_number": "0555000777", **RISKY})
        assert answer.status_code == 200, answer.text
        risky_id = int(answer.json()["id"])
        answer = sim.api.post("/templates", data={"title": "=1+1", "body": "-50% today"})
        assert answer.status_code == 200, answer.text
        days = sorted({local_day(m).isoformat() for m in api_get(sim, "/messages")})[-2:]
        instance = dg.DagsterInstance.ephemeral()
        materialize(sim, warehouse, instance, days[0], [messages_asset], checks=False)
        materialize(sim, warehouse, instance, days[1], checks=False)
    result = analytics_export.execute_in_process(
        run_config={"ops": {"export_tables": {"config": {"export_dir": str(root)}}}},
        resources={"warehouse": WarehouseResource(url=str(warehouse))},
    )
    assert result.success
    yield Exported(warehouse, root, risky_id, days, result)


def warehouse_tables(warehouse: Path | str) -> list[tuple[str, str]]:
    return open_warehouse(warehouse).tables(("analytics", "crm", "oneconnect"))


def warehouse_frame(warehouse: Path | str, sql: str) -> pd.DataFrame:
    """Rows through Arrow, as the export reads them (DATE stays a date)."""
    frame: pd.DataFrame = open_warehouse(warehouse).query(sql).to_pandas()
    return frame


def read_parquet(path: Location) -> pd.DataFrame:
    with path.open("rb") as handle:
        return pd.read_parquet(handle)


def read_csv(path: Location) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_one_parquet_and_one_csv_per_table_and_per_message_day(exported: Exported) -> None:
    expected: set[str] = set()
    for schema, name in warehouse_tables(exported.warehouse):
        if (schema, name) == ("oneconnect", "messages"):
            expected |= {
                f"{schema}/{name}/{day}{ext}"
                for day in exported.days
                for ext in (".parquet", ".csv")
            }
        else:
            expected |= {f"{schema}/{name}.parquet", f"{schema}/{name}.csv"}
    files = {
        str(p).removeprefix(f"{exported.root}/") for p in exported.root.rglob("*") if p.is_file()
    }
    assert files == expected
    assert len(expected) == 2 * (13 + len(exported.days))  # 14 tables, messages split by day
    assert not list(exported.root.rglob("*.partial"))


def test_parquet_round_trips_to_the_warehouse_rows(exported: Exported) -> None:
    for schema, name in warehouse_tables(exported.warehouse):
        stored = warehouse_frame(exported.warehouse, f'SELECT * FROM "{schema}"."{name}"')
        if name == "messages":
            parts: list[Location] = sorted(
                (exported.root / schema / name).glob("*.parquet"), key=str
            )
            read = pd.concat([read_parquet(p) for p in parts], ignore_index=True)
        else:
            read = read_parquet(exported.root / schema / f"{name}.parquet")
        key = [
            c
            for c in ("id", "list_id", "contact_id", "phone_number", "day", "send_at")
            if c in stored
        ]
        order = key or list(stored.columns[:1])
        pd.testing.assert_frame_equal(
            read.sort_values(order).reset_index(drop=True),
            stored.sort_values(order).reset_index(drop=True),
            check_dtype=False,
            check_categorical=False,
        )


def test_each_message_day_file_holds_only_that_day(exported: Exported) -> None:
    for day in exported.days:
        frame = read_parquet(exported.root / "oneconnect" / "messages" / f"{day}.parquet")
        assert len(frame) > 0
        assert {str(d) for d in pd.to_datetime(frame["sent_local"]).dt.date} == {day}


def test_messages_are_read_one_day_at_a_time(exported: Exported) -> None:
    """The export never holds the whole messages history (821 MiB at a million): the
    warehouse hands it one day's rows at a time, and the run says the most it held."""
    counts = warehouse_frame(
        exported.warehouse,
        "SELECT CAST(sent_local AS DATE) AS day, count(*) AS n FROM oneconnect.messages GROUP BY 1",
    )
    per_day = {str(day): int(n) for day, n in zip(counts["day"], counts["n"], strict=True)}
    pieces = list(message_days(open_warehouse(exported.warehouse)))
    assert [day.isoformat() for day, _ in pieces] == sorted(per_day) == exported.days
    for day, frame in pieces:
        assert len(frame) == per_day[day.isoformat()]
        assert {d.isoformat() for d in frame["sent_local"].dt.date} == {day.isoformat()}
    held = max(len(frame) for _, frame in pieces)
    assert held < sum(per_day.values())
    [output] = [e for e in exported.result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata: Any = output.event_specific_data.metadata  # type: ignore[union-attr]
    assert metadata["oneconnect/messages"].value == (
        f"{sum(per_day.values())} rows in {len(per_day)} days (at most {held} at once)"
    )


def test_csv_cells_that_would_run_as_formulas_are_quoted(exported: Exported) -> None:
    contacts = {r["id"]: r for r in read_csv(exported.root / "oneconnect" / "contacts.csv")}
    risky = contacts[str(exported.risky_id)]
    assert risky["first_name"] == "'" + RISKY["first_name"]
    assert risky["last_name"] == "'+SUM(A1:A9)"
    assert risky["city"] == "'-2+3"
    assert risky["street"] == "'@cmd"
    assert risky["post_code"] == "0179"  # a harmless text stays as it is
    assert risky["phone_number"] == "0555000777"  # leading zero intact
    templates = read_csv(exported.root / "oneconnect" / "templates.csv")
    template = max(templates, key=lambda r: int(r["id"]))  # the one made above
    assert (template["title"], template["body"]) == ("'=1+1", "'-50% today")


def test_no_csv_text_cell_starts_a_formula_and_numbers_are_untouched(exported: Exported) -> None:
    for path in exported.root.rglob("*.csv"):
        for row in read_csv(path):
            for column, cell in row.items():
                assert not cell.startswith(FORMULA_STARTS), (path.name, column, cell)
    rates = read_csv(exported.root / "analytics" / "sms_forecast.csv")
    stored = warehouse_frame(exported.warehouse, "SELECT * FROM analytics.sms_forecast")
    assert [int(r["sms_balance"]) for r in rates] == stored["sms_balance"].tolist()
    pricing = read_csv(exported.root / "oneconnect" / "pricing.csv")
    assert {r["name"]: r["price"] for r in pricing} == {
        "Basic": "9.98",
        "Premium": "19.98",
        "Business": "39.98",
    }


def test_the_export_reports_what_it_wrote(exported: Exported) -> None:
    [materialization] = [
        e for e in exported.result.all_events if e.event_type_value == "STEP_OUTPUT"
    ]
    metadata: Any = materialization.event_specific_data.metadata  # type: ignore[union-attr]
    contacts = warehouse_frame(exported.warehouse, "SELECT count(*) AS n FROM oneconnect.contacts")
    assert metadata["oneconnect/contacts"].value == int(contacts["n"][0])
    assert metadata["export_dir"].value == shown(exported.root)


def test_csv_safe_quotes_tab_and_carriage_return_and_leaves_numbers() -> None:
    frame = pd.DataFrame(
        {
            "text": pd.Series(["\tcmd", "\rcmd", "plain", None, "-1"], dtype=TEXT),
            "number": [-1, 2, 3, 4, 5],
            "amount": [-1.5, 0.0, 1.0, 2.0, 3.0],
        }
    )
    safe = csv_safe(frame)
    assert safe["text"].tolist()[:3] == ["'\tcmd", "'\rcmd", "plain"]
    assert pd.isna(safe["text"].iloc[3])
    assert safe["text"].iloc[4] == "'-1"  # text that looks like a number is still text
    assert safe["number"].tolist() == [-1, 2, 3, 4, 5]
    assert safe["amount"].tolist() == [-1.5, 0.0, 1.0, 2.0, 3.0]
    assert frame["text"].iloc[0] == "\tcmd"  # the input is not modified


class Interrupted(BaseException):
    """What a run terminated from the UI raises inside a step (not an Exception)."""


def test_overlapping_exports_of_one_file_never_mix(tmp_path: Path) -> None:
    """Two runs writing one file at once (a schedule and a launch by hand): each writes
    its own temporary file, so a reader sees one whole version, never both mixed, and
    neither run fails or removes the other's file."""
    target = tmp_path / "oneconnect" / "messages" / "2026-12-01.csv"
    both_half_written, first_done = threading.Barrier(2), threading.Event()
    seen: list[bytes] = []

    def write_a(handle: IO[bytes]) -> None:
        handle.write(b"A" * 500)
        both_half_written.wait(timeout=10)
        handle.write(b"A" * 500)

    def write_b(handle: IO[bytes]) -> None:
        handle.write(b"B" * 500)
        handle.flush()
        both_half_written.wait(timeout=10)
        assert first_done.wait(timeout=10)  # A renamed its file while B still writes
        seen.append(target.read_bytes())
        handle.write(b"B" * 500)

    def first() -> None:
        write_whole(target, write_a)
        first_done.set()

    threads = [
        threading.Thread(target=first),
        threading.Thread(target=write_whole, args=(target, write_b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert seen == [b"A" * 1000]  # A's whole file, not A's half under B's bytes
    assert target.read_bytes() == b"B" * 1000  # the last to finish wins, whole
    assert [p.name for p in target.parent.iterdir()] == ["2026-12-01.csv"]


@pytest.mark.parametrize("store", ["local", "s3"])
def test_an_interrupted_export_leaves_the_previous_file_whole(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    root: Location = tmp_path
    if store == "s3":
        request.getfixturevalue("s3_endpoint")
        root = new_bucket() / "exports"
    target = root / "oneconnect" / "messages" / "2026-12-01.csv"
    good = b"id,content\n" + b"".join(b"%d,hello\n" % i for i in range(1000))
    write_whole(target, lambda handle: handle.write(good))

    def interrupted(handle: IO[bytes]) -> None:
        handle.write(b"id,content\n1,hel")
        raise Interrupted("terminated while writing")

    with pytest.raises(Interrupted):
        write_whole(target, interrupted)
    assert target.read_bytes() == good
    assert [p.name for p in target.parent.iterdir()] == ["2026-12-01.csv"]  # no leftover


def test_csv_cells_starting_a_formula_after_leading_whitespace_are_quoted(tmp_path: Path) -> None:
    """LibreOffice and Google Sheets drop leading spaces, line breaks and no-break spaces
    before they read a cell, so " =HYPERLINK(...)" runs as a formula there."""
    cells = [
        ' =HYPERLINK("http://evil.example","click")',
        "\n=1+1",
        "\u00a0=1+1",
        "  +SUM(A1:A9)",
        "\u3000-2+3",
        " \t@cmd",
        " plain",
        "\u00a0",
        "0179",
    ]
    frame = pd.DataFrame({"text": pd.Series(cells, dtype=TEXT), "number": range(-1, 8)})
    rows = read_csv(write_csv(frame, tmp_path / "campaigns.csv"))
    assert [row["text"] for row in rows] == [
        '\' =HYPERLINK("http://evil.example","click")',
        "'\n=1+1",
        "'\u00a0=1+1",
        "'  +SUM(A1:A9)",
        "'\u3000-2+3",
        "' \t@cmd",
        " plain",
        "\u00a0",
        "0179",
    ]
    assert [row["number"] for row in rows] == [str(n) for n in range(-1, 8)]


@pytest.mark.parametrize("scheme", ["file", "local"])
def test_a_file_url_export_dir_gets_its_folders_made(scheme: str, tmp_path: Path) -> None:
    """ONECONNECT_EXPORT_DIR=file:///...: the first export into a new folder failed with
    FileNotFoundError, as no folder was made for it."""
    root = location(f"{scheme}://{tmp_path}/exports")
    frame = pd.DataFrame({"id": [1, 2], "name": pd.Series(["=1+1", "Anna"], dtype=TEXT)})
    written = write_table(frame, root / "oneconnect" / "contacts")
    folder = tmp_path / "exports" / "oneconnect"
    assert [(str(file.path), file.rows) for file in written] == [
        (str(folder / "contacts.parquet"), 2),
        (str(folder / "contacts.csv"), 2),
    ]
    assert read_csv(folder / "contacts.csv") == [
        {"id": "1", "name": "'=1+1"},
        {"id": "2", "name": "Anna"},
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["contacts.csv", "contacts.parquet"]


def test_a_file_url_export_killed_while_put_in_place_leaves_a_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was written into a local temporary file, then copied into the final name: a run
    terminated during the copy left half a file there. Now it is renamed into place."""
    target = location(f"file://{tmp_path}") / "contacts.csv"
    good = b"id,content\n" + b"".join(b"%d,hello\n" % i for i in range(1000))
    write_whole(target, lambda handle: handle.write(good))
    new = good.replace(b"hello", b"howdy")

    def killed_while_copying(source: str, destination: str, *args: Any, **kwargs: Any) -> None:
        with open(source, "rb") as whole, open(destination, "wb") as half:
            half.write(whole.read(len(new) // 3))
        raise Interrupted("terminated while the file was put in place")

    monkeypatch.setattr(shutil, "copyfile", killed_while_copying)
    with contextlib.suppress(Interrupted):
        write_whole(target, lambda handle: handle.write(new))
    assert (tmp_path / "contacts.csv").read_bytes() in (good, new)
    assert [p.name for p in tmp_path.iterdir()] == ["contacts.csv"]


def test_a_file_whose_name_is_as_long_as_the_folder_allows_is_written(tmp_path: Path) -> None:
    """A CRM report is named after the dropped export (<stem>.<run>.rejected.csv); with
    the export's name in its temporary name too, a long one was "File name too long"."""
    longest = os.pathconf(tmp_path, "PC_NAME_MAX")
    name = "contacts_export_" + "x" * (longest - len("contacts_export_.1a2b3c4d.rejected.csv"))
    target = tmp_path / "crm_reports" / f"{name}.1a2b3c4d.rejected.csv"
    assert len(os.fsencode(target.name)) == longest
    write_csv(pd.DataFrame({"row": [2], "reason": pd.Series(["no phone"], dtype=TEXT)}), target)
    assert read_csv(target) == [{"row": "2", "reason": "no phone"}]

    def interrupted(handle: IO[bytes]) -> None:
        handle.write(b"row,reason\n3,")
        raise Interrupted("terminated while writing")

    with pytest.raises(Interrupted):
        write_whole(target, interrupted)
    assert read_csv(target) == [{"row": "2", "reason": "no phone"}]
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no leftover
