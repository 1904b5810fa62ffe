"""A table landing in the warehouse: written as its chunks arrive, validated by its pandera
schema as they pass, counted only when every row passed. What every extract asset does,
and the benchmarks too.

The chunks (Arrow tables in the warehouse's types) go into the warehouse while the
listing that makes them is still running. They are checked by the schema in batches of
``CHECK_ROWS`` rows as they pass (pandera's fixed cost per call spread thin, and no table
ever held whole as a DataFrame); what needs the whole table, the uniqueness of keys, is
checked at the end on the key columns alone. Only a table that passes replaces the old
one: the warehouse's write is atomic, and a failed check raises before it commits, with
every failure of every batch named by its row in the table and never by its value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.errors import SchemaErrors

from .frames import to_frame
from .preview import PREVIEW_ROWS
from .schemas import categories
from .warehouse import Warehouse, Window
from .warehouse.arrow import to_arrow

#: Rows validated in one call, at most: each pandera call costs ~3.5 ms whatever its
#: size, holding the GIL that the listing's downloads wait for (100,000 contacts at 0 ms:
#: 0.481 s against 0.502 s in batches of 16,384). A table whose peak memory counts
#: passes fewer (``land(check_rows=...)``): every batch is held until it is checked.
CHECK_ROWS = 65_536
#: Columns that name a record without personal data: an error shows them for failed rows.
RECORD_IDS = ("id", "list_id", "contact_id")
#: Failed rows an error names per check (it counts them all).
NAMED_ROWS = 5


class TableValidationError(ValueError):
    """A table that failed its schema, named without its values.

    pandera's own message quotes every failing value (a phone number that is not digits,
    a birthday), and Dagster shows an asset's error in the UI and the run's logs.
    ``failures`` has one row per failed check and row: ``column``, ``check``, ``row`` (the
    row's place in the table; null when the check is about the whole table, whose
    ``detail`` then says which column or type) and the row's ``RECORD_IDS``."""

    def __init__(self, table: str, failures: pd.DataFrame) -> None:
        self.table, self.failures = table, failures
        super().__init__(f"{table} failed validation (values not shown): {_described(failures)}")

    @classmethod
    def of(cls, table: str, exc: SchemaErrors, frame: pd.DataFrame) -> TableValidationError:
        """The error for pandera's ``exc``, raised validating ``frame`` (lazily)."""
        return cls(table, _failures(exc, frame))


@dataclass(frozen=True)
class Landed:
    rows: int
    #: The table's first rows as validated (for the preview; the warehouse holds the rest).
    head: pd.DataFrame


def land(
    warehouse: Warehouse,
    table: str,
    chunks: Iterable[pyarrow.Table],
    schema: type[pa.DataFrameModel],
    window: Window | None = None,
    check_rows: int | None = None,
) -> Landed:
    """Write ``chunks`` as ``table`` (or its ``window``), valid under ``schema`` (checked
    in batches of ``check_rows``, default ``CHECK_ROWS``): a ``TableValidationError``
    naming every failed check leaves the old rows."""
    checks = _Checks(schema.to_schema(), categories(schema), check_rows or CHECK_ROWS)
    rows = warehouse.write(table, checks.passed(chunks, table), window)
    return Landed(rows, checks.head)


def land_frame(
    warehouse: Warehouse,
    table: str,
    frame: pd.DataFrame,
    schema: type[pa.DataFrameModel],
    window: Window | None = None,
) -> Landed:
    """``land`` for a table built whole as a DataFrame (the small tables): it is
    checked as built, before it is written."""
    checked = _checked(table, frame, schema)
    rows = warehouse.write(table, [to_arrow(checked)], window)
    return Landed(rows, checked.head(PREVIEW_ROWS))


def land_frames(
    warehouse: Warehouse, tables: Sequence[tuple[str, pd.DataFrame, type[pa.DataFrameModel]]]
) -> list[Landed]:
    """``land_frame`` for tables built together (lists and their members, from one
    listing): every one is checked before any is written, so one that fails validation
    leaves them all as they were, never one new beside one old."""
    checked = [(table, _checked(table, frame, schema)) for table, frame, schema in tables]
    return [
        Landed(warehouse.write(table, [to_arrow(frame)]), frame.head(PREVIEW_ROWS))
        for table, frame in checked
    ]


def _checked(table: str, frame: pd.DataFrame, schema: type[pa.DataFrameModel]) -> pd.DataFrame:
    try:
        return schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        raise TableValidationError.of(table, exc, frame) from None


class _Checks:
    """One table's validation as its chunks pass: batches checked by the schema without
    its uniqueness rules, the key columns kept to check those at the end."""

    def __init__(
        self, schema: pa.DataFrameSchema, categories: Mapping[str, Sequence[str]], rows: int
    ) -> None:
        together = set(schema.unique or ())
        keys = [name for name, c in schema.columns.items() if c.unique or name in together]
        self._categories, self._key_columns, self._rows = categories, keys, rows
        self._batch = schema.update_columns({name: {"unique": False} for name in keys})
        self._batch.unique = None
        self._uniqueness = pa.DataFrameSchema(
            {
                name: pa.Column(unique=bool(schema.columns[name].unique), nullable=True)
                for name in keys
            },
            unique=schema.unique,
            name=schema.name,
        )
        self.head = pd.DataFrame()
        self._pending: list[pyarrow.Table] = []
        self._keys: list[pyarrow.Table] = []
        self._checked_rows = 0
        self._failures: list[pd.DataFrame] = []

    def passed(self, chunks: Iterable[pyarrow.Table], table: str) -> Iterator[pyarrow.Table]:
        """``chunks``, each handed on at once; raises at the end (before the writer can
        commit) when any row failed."""
        seen = False
        for chunk in chunks:
            seen = True
            self._pending.append(chunk)
            self._keys.append(chunk.select(self._key_columns))
            yield chunk
            if sum(piece.num_rows for piece in self._pending) >= self._rows:
                self._check_pending()
        if not seen:
            raise ValueError(f"{table}: no chunk, not even an empty one")
        if self._pending:
            self._check_pending()
        if self._key_columns:
            keys = pyarrow.concat_tables(self._keys, promote_options="permissive")
            self._keys.clear()
            self._check(self._uniqueness, to_frame(keys, {}), start=0)
        if self._failures:
            raise TableValidationError(table, pd.concat(self._failures, ignore_index=True))

    def _check_pending(self) -> None:
        whole = pyarrow.concat_tables(self._pending, promote_options="permissive")
        self._pending.clear()
        frame = to_frame(whole, self._categories)
        checked = self._check(self._batch, frame, start=self._checked_rows)
        if not self._checked_rows and checked is not None:
            self.head = checked.head(PREVIEW_ROWS)
        self._checked_rows += len(frame)

    def _check(
        self, schema: pa.DataFrameSchema, frame: pd.DataFrame, start: int
    ) -> pd.DataFrame | None:
        """``frame`` validated (its index the rows' places in the table), or None with
        its failures kept."""
        frame.index = pd.RangeIndex(start, start + len(frame))
        try:  # in place: the frame is this check's own, and pandera's copy is 20% of a call
            return schema.validate(frame, lazy=True, inplace=True)
        except SchemaErrors as exc:
            self._failures.append(_failures(exc, frame))
            return None


def _failures(exc: SchemaErrors, frame: pd.DataFrame) -> pd.DataFrame:
    """``TableValidationError.failures`` of ``exc``, raised validating ``frame``: the
    failing values left out, each row's record ids looked up instead."""
    cases = exc.failure_cases
    whole = cases["index"].isna().to_numpy()
    failures = pd.DataFrame(
        {
            "column": cases["column"].astype(str).to_numpy(),
            "check": cases["check"].astype(str).to_numpy(),
            "row": pd.array(cases["index"], dtype="Int64"),
            # a whole-table failure's case is a column's name or a type, never data
            "detail": cases["failure_case"].astype(str).where(whole, None).to_numpy(),
        }
    )
    together = failures["check"] == "multiple_fields_uniqueness"  # reported per field
    if together.any():
        named = set(failures.loc[together, "column"])
        fields = ", ".join(c for c in frame.columns if c in named)
        failures.loc[together, "column"] = f"({fields})"
        failures = failures.drop_duplicates(["column", "check", "row"])
    failures = failures.sort_values("row", kind="stable", ignore_index=True)
    places = pd.Index(failures["row"].fillna(-1).astype(int))
    first = ~frame.index.duplicated()  # a label twice: the first row's ids
    for name in RECORD_IDS:
        if name in frame.columns:
            ids = pd.to_numeric(frame.loc[first, name], errors="coerce")  # never a value
            failures[name] = pd.array(ids.reindex(places), dtype="Int64")
    return failures


def _described(failures: pd.DataFrame) -> str:
    """Each failed check with its count of rows and the first rows by place and ids."""
    parts = []
    for (column, check), group in failures.groupby(["column", "check"], sort=False):
        rows = group.dropna(subset=["row"])
        if rows.empty:
            parts.append(f"{column} {check}: {', '.join(sorted(set(group['detail'])))}")
            continue
        ids = [name for name in RECORD_IDS if name in rows.columns]
        named = []
        for _, row in rows.head(NAMED_ROWS).iterrows():
            known = ", ".join(f"{n} {int(row[n])}" for n in ids if pd.notna(row[n]))
            named.append(f"row {int(row['row'])}" + (f" ({known})" if known else ""))
        more = len(rows) - len(named)
        named += [f"{more} more"] if more else []
        count = f"{len(rows)} row" + ("s" if len(rows) > 1 else "")
        parts.append(f"{column} {check}: {count}: {'; '.join(named)}")
    return "; and ".join(parts)
