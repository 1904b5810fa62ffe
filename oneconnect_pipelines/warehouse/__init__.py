"""The warehouse the tables land in: DuckDB (one file, the embedded default) or PostgreSQL
(``postgresql://...``: a warehouse more than one machine can write), behind one
interface, chosen by one setting (``open_warehouse``).

Every table is written through Arrow, so each kind of value has one type in every
table and both backends (``arrow.py``). A write replaces a whole table, or the rows of
one partition ``Window``, atomically: readers see the old rows or the new ones, never
half. Batches may be handed over while they are still being made (a listing that is
still downloading): the write takes them as they come and commits after the last.
"""

from __future__ import annotations

from .base import Warehouse, Window, open_warehouse

__all__ = ["Warehouse", "Window", "open_warehouse"]
