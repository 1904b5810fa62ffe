"""A table landing in the warehouse: written as its chunks arrive, validated whole by its
pandera schema before it counts. What every extract asset does, and the benchmarks too.

The chunks (Arrow tables in the warehouse's types) go into the warehouse while the
listing that makes them is still running; after the last one the whole table is checked
by its schema, and only a table that passes replaces the old one (the warehouse's write
is atomic, and a failed check aborts it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
import pyarrow

from .frames import to_frame
from .warehouse import Warehouse, Window
from .warehouse.arrow import to_arrow


@dataclass(frozen=True)
class Landed:
    rows: int
    #: The table as validated (for previews and counts; not kept by the warehouse).
    frame: pd.DataFrame


def land(
    warehouse: Warehouse,
    table: str,
    chunks: Iterable[pyarrow.Table],
    schema: type[pa.DataFrameModel],
    categories: Mapping[str, Sequence[str]] | None = None,
    window: Window | None = None,
) -> Landed:
    """Write ``chunks`` as ``table`` (or its ``window``), valid under ``schema``: a
    ``pandera.errors.SchemaErrors`` naming every failed check leaves the old rows."""
    kept: list[pyarrow.Table] = []
    checked: list[pd.DataFrame] = []

    def validated() -> Iterator[pyarrow.Table]:
        for chunk in chunks:
            kept.append(chunk)
            yield chunk
        if not kept:
            raise ValueError(f"{table}: no chunk, not even an empty one")
        whole = pyarrow.concat_tables(kept, promote_options="permissive")
        checked.append(schema.validate(to_frame(whole, categories or {}), lazy=True))

    rows = warehouse.write(table, validated(), window)
    return Landed(rows, checked[0])


def land_frame(
    warehouse: Warehouse,
    table: str,
    frame: pd.DataFrame,
    schema: type[pa.DataFrameModel],
    window: Window | None = None,
) -> Landed:
    """``land`` for a table built whole as a DataFrame (the small tables): it is
    checked as built, before it is written."""
    checked = schema.validate(frame, lazy=True)
    return Landed(warehouse.write(table, [to_arrow(checked)], window), checked)
