"""dlt as a contender in our benchmarks: the same extractions as ours (every contact; one
daily partition of messages), written the way dlt's documentation says to write them,
with dlt's fastest settings, loading into DuckDB as our warehouse does.

Both contenders use dlt's declarative ``rest_api`` source: HTTP basic auth, pages of
``per_page=1000`` (the API's maximum), ``page`` from 1. The API sends no totals and no
next links, and its last page is the first one shorter than ``per_page``. dlt's
``PageNumberPaginator`` (``total_path=None``) only knows "stop after an empty page", which
costs one extra request after every short last page; ``ShortPageNumberPaginator`` is that
paginator plus the stop on a short page (``update_state`` clearing ``_has_next_page``, as
dlt documents for custom paginators), so dlt sends the fewest requests possible: the full
pages and the one short (or empty) page after them. ``stock_paginator=True`` measures
dlt's own paginator instead.

Why these settings are dlt's best here (dlt's "Optimizing dlt" page lists the knobs).
Each was measured on this 2-core machine against the simulator: 20,000 contacts at 0 ms
latency, dlt 1.31, one change at a time from the chosen settings, interleaved rounds,
median seconds of ``pipeline.run`` (chosen: 1.18 s warm, 1.17 s as a process's first run):

- ``loader_file_format="jsonl"``: DuckDB's default, ``insert_values`` (SQL text), takes
  6.5 s. ``parquet`` is 1.33 s warm and 1.78 s as a first run, which imports pyarrow
  (a messages partition in its own process: 1.9 s and 281 MiB peak RSS with parquet,
  1.4 s and 183 MiB with jsonl).
- ``data_writer.disable_compression=true``: dlt gzips its intermediary files by default;
  on loopback that is pure CPU (1.87 s with gzip).
- ``normalize.workers=1`` (dlt's default, pinned): a pool of 2 processes took 1.43 s;
  its workers are fresh interpreters that import dlt again.
- ``parallelized`` off, ``extract.workers`` and ``load.workers`` at their defaults: one
  paginated resource is one sequence of requests (the paginator learns that the listing
  is over from the page before), so a thread only adds dlt's futures polling (1.20 s);
  there is one file per table to load.
- ``data_writer.buffer_max_items`` at its default, 5000 (1000: 1.20 s; 10000: 1.47 s).
- ``max_table_nesting``: contacts 0, so ``additional_numbers`` stays in its row (as JSON)
  as our table keeps it in one column, instead of a child table keyed by ``_dlt_id``;
  messages 1, so ``sms`` and ``delivery_report`` are flattened into columns as ours are
  (messages hold no arrays). The child table costs time too (1.39 s).
- ``runtime.dlthub_telemetry=false`` (nothing leaves the machine); no progress collector
  (dlt's default ``progress=None``).
- ``write_disposition``: contacts ``replace`` (a full snapshot; dlt's default replace
  strategy ``truncate-and-insert`` is its fastest); messages ``merge`` on ``id`` by
  default, which is what our partition run does (a re-read day replaces its rows);
  ``append`` is about 7% faster on a fresh table, and duplicates a re-read day.
- Each run gets its own pipeline (``pipelines_dir`` and DuckDB file under ``workdir``):
  give each run a fresh ``workdir`` to time it from nothing, as dlt runs in a new
  deployment; dev_mode is not needed for that.

Settings reach dlt as environment variables (dlt's ``SECTION__KEY`` names), set by
``configured`` around each run and restored afterwards.

    python -m bench.dlt_contenders contacts WORKDIR BASE_URL
    python -m bench.dlt_contenders messages START END WORKDIR BASE_URL

prints one JSON line, ``{"rows", "seconds", "peak_rss_mib"}`` (peak RSS of the whole
process, as ``bench.partition_run`` reports ours). START/END are ISO dates or datetimes;
naive ones are read in the account's time zone, ``ONECONNECT_TIMEZONE`` (default
``Asia/Tbilisi``), so ``messages 2026-11-29 2026-11-30 ...`` is that day's partition.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import dlt
import duckdb
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from dlt.sources.rest_api import rest_api_source
from dlt.sources.rest_api.typing import RESTAPIConfig
from requests import Response

EMAIL = "demo@example.com"
API_KEY = "demo-key"
TIMEZONE = "Asia/Tbilisi"
PER_PAGE = 1000
DATASET = "oneconnect"
#: How request datetimes are written (``start_date``/``end_date``).
REQUEST_DATETIME = "%d.%m.%Y %H:%M"
LoaderFileFormat = Literal["parquet", "jsonl", "insert_values"]

#: dlt configuration for every contender run, as dlt's environment variables.
SETTINGS: dict[str, str] = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DATA_WRITER__DISABLE_COMPRESSION": "true",
    "NORMALIZE__WORKERS": "1",
}


class ShortPageNumberPaginator(PageNumberPaginator):  # type: ignore[misc, unused-ignore]
    """dlt's page-number paginator that also stops after a page shorter than ``per_page``."""

    def __init__(self, per_page: int = PER_PAGE) -> None:
        super().__init__(base_page=1, page_param="page", total_path=None)
        self.per_page = per_page

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if data is not None and len(data) < self.per_page:
            self._has_next_page = False


@contextmanager
def configured(overrides: Mapping[str, str] | None = None) -> Iterator[None]:
    """``SETTINGS`` (then ``overrides``) in the environment while dlt runs; restored after."""
    wanted = {**SETTINGS, **(overrides or {})}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def client_config(base_url: str, stock_paginator: bool) -> Any:
    """``rest_api``'s ``client``: basic auth and the page-number paginator."""
    paginator: Any = (
        {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": None}
        if stock_paginator
        else ShortPageNumberPaginator()
    )
    return {
        "base_url": base_url,
        "auth": {"type": "http_basic", "username": EMAIL, "password": API_KEY},
        "paginator": paginator,
    }


def pipeline(name: str, workdir: Path) -> Any:
    """A dlt pipeline of its own under ``workdir``, loading into ``workdir/NAME.duckdb``."""
    workdir.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(workdir / "dlt"),
        destination=dlt.destinations.duckdb(str(workdir / f"{name}.duckdb")),
        dataset_name=DATASET,
    )


def resource_defaults(max_table_nesting: int | None, parallelized: bool) -> Any:
    """``rest_api``'s ``resource_defaults``: nesting (None: dlt's default) and threads."""
    defaults: dict[str, Any] = {"parallelized": parallelized}
    if max_table_nesting is not None:
        defaults["max_table_nesting"] = max_table_nesting
    return defaults


def count_rows(workdir: Path, name: str, table: str) -> int:
    """Rows of ``DATASET.table``; 0 when dlt created no table (it loaded nothing)."""
    with duckdb.connect(str(workdir / f"{name}.duckdb"), read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema = ? AND table_name = ?",
            [DATASET, table],
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        found = con.execute(f'SELECT count(*) FROM {DATASET}."{table}"').fetchone()
    return int(found[0]) if found else 0


def load(
    name: str,
    config: RESTAPIConfig,
    workdir: Path,
    table: str,
    loader_file_format: LoaderFileFormat,
    settings: Mapping[str, str] | None,
) -> tuple[float, int]:
    """Run ``config``'s source into DuckDB: (seconds of ``pipeline.run``, rows in ``table``)."""
    with configured(settings):
        source = rest_api_source(config, name="oneconnect")
        loader = pipeline(name, workdir)
        started = time.perf_counter()
        loader.run(source, loader_file_format=loader_file_format)
        seconds = time.perf_counter() - started
    return seconds, count_rows(workdir, name, table)


def dlt_contacts(
    base_url: str,
    workdir: Path,
    *,
    loader_file_format: LoaderFileFormat = "jsonl",
    max_table_nesting: int | None = 0,
    parallelized: bool = False,
    stock_paginator: bool = False,
    settings: Mapping[str, str] | None = None,
) -> tuple[float, int]:
    """Every contact of the account into DuckDB (``workdir/dlt_contacts.duckdb``, table
    ``oneconnect.contacts``, ``replace``) with ``rest_api``: GET /contacts in pages of
    ``per_page=1000`` from ``page=1`` until the first short or empty page.

    Configuration: ``SETTINGS`` as environment variables (``RUNTIME__DLTHUB_TELEMETRY``,
    ``DATA_WRITER__DISABLE_COMPRESSION``, ``NORMALIZE__WORKERS``), ``settings`` on top
    (any other dlt variable, e.g. ``DATA_WRITER__BUFFER_MAX_ITEMS``); the file format,
    nesting and ``parallelized`` are given to dlt directly. The defaults are the best
    settings above; the keywords exist to measure the others.
    Returns (seconds of ``pipeline.run``, rows in the DuckDB table).
    """
    name = "dlt_contacts"
    config: RESTAPIConfig = {
        "client": client_config(base_url, stock_paginator),
        "resource_defaults": resource_defaults(max_table_nesting, parallelized),
        "resources": [
            {
                "name": "contacts",
                "primary_key": "id",
                "write_disposition": "replace",
                "endpoint": {"path": "contacts", "params": {"per_page": PER_PAGE}},
            }
        ],
    }
    return load(name, config, workdir, "contacts", loader_file_format, settings)


def created_at(record: dict[str, Any]) -> dict[str, Any]:
    """``created_at`` as an aware datetime (``2019-06-17 11:16:55 +0400``), so that dlt's
    incremental compares instants, not text whose UTC offset may change with DST."""
    record["created_at"] = datetime.fromisoformat(record["created_at"])
    return record


def request_datetime(zone: tzinfo) -> Any:
    """dlt's ``convert`` for the window's bounds: ``DD.MM.YYYY HH:MM`` in ``zone``."""

    def convert(moment: datetime) -> str:
        return moment.astimezone(zone).strftime(REQUEST_DATETIME)

    return convert


def dlt_messages_window(
    base_url: str,
    start: datetime,
    end: datetime,
    workdir: Path,
    *,
    timezone: str = TIMEZONE,
    write_disposition: Literal["merge", "append"] = "merge",
    loader_file_format: LoaderFileFormat = "jsonl",
    max_table_nesting: int | None = 1,
    parallelized: bool = False,
    stock_paginator: bool = False,
    settings: Mapping[str, str] | None = None,
) -> tuple[float, int]:
    """The messages sent in [start, end) (aware datetimes: one daily partition) into
    DuckDB (``workdir/dlt_messages.duckdb``, table ``oneconnect.messages``, ``merge`` on
    ``id`` by default) with ``rest_api``'s incremental date window.

    The window: ``incremental`` with ``cursor_path="created_at"``,
    ``initial_value=start``, ``end_value=end`` (with an ``end_value`` dlt keeps no state:
    the same window loads the same rows however often it runs), ``start_param`` /
    ``end_param`` = ``start_date`` / ``end_date`` and a ``convert`` writing both as
    ``DD.MM.YYYY HH:MM`` in the account's time zone. The API's ``end_date`` includes its
    minute, so ``end`` itself is sent; a ``processing_steps`` map parses ``created_at``
    (rest_api runs processing steps before the incremental step), and dlt's incremental,
    whose range is closed at the start and open at the end by default, drops
    ``created_at >= end``: what our extraction does client-side. (A ``start`` between
    minutes is sent rounded down, and the incremental drops ``created_at < start``.)

    Configuration as ``dlt_contacts``. Returns (seconds of ``pipeline.run``, rows in the
    DuckDB table).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    name = "dlt_messages"
    config: RESTAPIConfig = {
        "client": client_config(base_url, stock_paginator),
        "resource_defaults": resource_defaults(max_table_nesting, parallelized),
        "resources": [
            {
                "name": "messages",
                "primary_key": "id",
                "write_disposition": write_disposition,
                "endpoint": {
                    "path": "messages",
                    "params": {"per_page": PER_PAGE},
                    "incremental": {
                        "start_param": "start_date",
                        "end_param": "end_date",
                        "cursor_path": "created_at",
                        "initial_value": start,
                        "end_value": end,
                        "convert": request_datetime(ZoneInfo(timezone)),
                    },
                },
                "processing_steps": [{"map": created_at}],
            }
        ],
    }
    return load(name, config, workdir, "messages", loader_file_format, settings)


def parse_bound(text: str, zone: tzinfo) -> datetime:
    """An ISO date or datetime; naive ones in ``zone``."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def main(argv: list[str]) -> None:
    usage = (
        "python -m bench.dlt_contenders contacts WORKDIR BASE_URL\n"
        "python -m bench.dlt_contenders messages START END WORKDIR BASE_URL"
    )
    if argv[:1] == ["contacts"] and len(argv) == 3:
        seconds, rows = dlt_contacts(argv[2], Path(argv[1]))
    elif argv[:1] == ["messages"] and len(argv) == 5:
        timezone = os.environ.get("ONECONNECT_TIMEZONE", TIMEZONE)
        zone = ZoneInfo(timezone)
        start, end = parse_bound(argv[1], zone), parse_bound(argv[2], zone)
        seconds, rows = dlt_messages_window(argv[4], start, end, Path(argv[3]), timezone=timezone)
    else:
        raise SystemExit(usage)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {"rows": rows, "seconds": round(seconds, 3), "peak_rss_mib": round(peak_kib / 1024, 1)}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
