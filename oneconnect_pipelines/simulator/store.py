"""SQLite state of the simulated account, and the query engine that pages through it.

Every record keeps its API JSON pre-serialised in a ``doc`` column, rebuilt on write,
so that serving a page is a range read plus a byte join. Paging never uses OFFSET:
each collection keeps its ids in order in memory (and filtered or sorted queries cache
their ordered ids until the table next changes), so page k costs O(per_page).
"""

from __future__ import annotations

import sqlite3
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    email TEXT NOT NULL, api_key TEXT NOT NULL, plan TEXT NOT NULL, timezone TEXT NOT NULL,
    sms_balance INTEGER NOT NULL, callback_url TEXT, ip_allowlist TEXT NOT NULL DEFAULT '[]',
    title_activation_s REAL NOT NULL DEFAULT 3600, seed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT, first_name TEXT, last_name TEXT, phone_number TEXT NOT NULL UNIQUE,
    birthday TEXT, birthday_md TEXT, post_code TEXT, city TEXT, street TEXT,
    additional_numbers TEXT NOT NULL DEFAULT '[]', gender TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_birthday_md ON contacts (birthday_md);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
    noncontact_members TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS list_members (
    list_id INTEGER NOT NULL, contact_id INTEGER NOT NULL, PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS list_members_contact ON list_members (contact_id);
CREATE TABLE IF NOT EXISTS titles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, active INTEGER NOT NULL,
    activate_at REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, active INTEGER NOT NULL,
    recipients TEXT NOT NULL DEFAULT '', recipients_list TEXT NOT NULL DEFAULT '[]',
    title_id INTEGER, content TEXT NOT NULL, job_type INTEGER NOT NULL,
    campaign_type INTEGER NOT NULL, schedule TEXT NOT NULL, next_index INTEGER NOT NULL DEFAULT 0,
    next_run_at REAL, completed INTEGER, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS birthday_campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, active INTEGER NOT NULL,
    content TEXT NOT NULL, recipient_lists TEXT NOT NULL DEFAULT '[]', title_id INTEGER,
    next_run_at REAL NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, final_status TEXT NOT NULL,
    campaign_id INTEGER NOT NULL, birthday_campaign INTEGER NOT NULL,
    destination TEXT NOT NULL, content TEXT NOT NULL, sender TEXT NOT NULL,
    dr_status TEXT NOT NULL, dr_reason TEXT NOT NULL, reference TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, status_due_at REAL, doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_created ON messages (created_at);
CREATE INDEX IF NOT EXISTS messages_pending ON messages (status_due_at)
    WHERE final_status = 'pending';
CREATE TABLE IF NOT EXISTS scheduled_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, due_at REAL NOT NULL, payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scheduled_due ON scheduled_messages (due_at);
CREATE TABLE IF NOT EXISTS delivery_reports (
    message_id INTEGER PRIMARY KEY, due_at REAL NOT NULL, reference TEXT NOT NULL,
    destination TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_reports_due ON delivery_reports (due_at);
"""

#: Collections whose ids the store keeps in order in memory.
COLLECTIONS = (
    "contacts",
    "lists",
    "titles",
    "templates",
    "campaigns",
    "birthday_campaigns",
    "messages",
)

_CACHE_SIZE = 64


class Store:
    """The account's tables, plus ordered id indexes and a per-table change version."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("PRAGMA temp_store = MEMORY")
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(SCHEMA)
        self.versions: dict[str, int] = dict.fromkeys(COLLECTIONS, 0)
        self._ids: dict[str, array[int]] = {}
        self._cache: OrderedDict[tuple[Any, ...], tuple[int, array[int]]] = OrderedDict()
        #: Pre-rendered records already read, by table and id; emptied when the table changes.
        self._doc_cache: dict[str, dict[int, bytes]] = {"contacts": {}, "messages": {}}
        self.reload_ids()

    # ------------------------------------------------------------------ plumbing
    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def reload_ids(self) -> None:
        for table in COLLECTIONS:
            rows = self.db.execute(f"SELECT id FROM {table} ORDER BY id")
            self._ids[table] = array("q", (row[0] for row in rows))
            self.touch(table)

    def touch(self, table: str) -> None:
        """Record that ``table`` changed: cached query results and records are stale."""
        self.versions[table] += 1
        if table in self._doc_cache:
            self._doc_cache[table].clear()

    # ------------------------------------------------------------------ id index
    def inserted(self, table: str, new_id: int) -> None:
        ids = self._ids[table]
        if not ids or new_id > ids[-1]:
            ids.append(new_id)
        else:  # only after a restore of older rows; keep the order anyway
            ids.insert(bisect_left(ids, new_id), new_id)
        self.touch(table)

    def inserted_many(self, table: str, new_ids: Iterable[int]) -> None:
        for new_id in new_ids:
            self.inserted(table, new_id)

    def deleted(self, table: str, old_ids: Iterable[int]) -> None:
        ids = self._ids[table]
        for old_id in sorted(set(old_ids), reverse=True):
            position = bisect_left(ids, old_id)
            if position < len(ids) and ids[position] == old_id:
                del ids[position]
        self.touch(table)

    def count(self, table: str) -> int:
        return len(self._ids[table])

    def newest_ids(self, table: str, keep: int) -> array[int]:
        """Ids older than the ``keep`` newest (what a history limit trims)."""
        ids = self._ids[table]
        return ids[: max(0, len(ids) - keep)]

    # ------------------------------------------------------------------ queries
    def ordered_ids(
        self, table: str, where: str = "", params: Sequence[Any] = (), order: str = ""
    ) -> array[int]:
        """The ids matching ``where`` in ``order`` (default: by id), cached per version."""
        if not where and not order:
            return self._ids[table]
        key = (table, where, tuple(params), order)
        version = self.versions[table]
        hit = self._cache.get(key)
        if hit is not None and hit[0] == version:
            self._cache.move_to_end(key)
            return hit[1]
        sql = f"SELECT id FROM {table}"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order + ', ' if order else ''}id"
        ids = array("q", (row[0] for row in self.db.execute(sql, params)))
        self._cache[key] = (version, ids)
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return ids

    def docs(self, table: str, ids: Sequence[int], in_id_order: bool) -> list[bytes]:
        """The pre-serialised records of ``ids``, in the order given (from memory once read:
        serving a page is then a join of bytes, not a scan)."""
        cache = self._doc_cache[table]
        try:
            return [cache[i] for i in ids]
        except KeyError:
            pass
        if not ids:
            return []
        span = ids[-1] - ids[0] + 1
        if in_id_order and span <= 2 * len(ids):  # (mostly) dense: one range read
            rows = self.db.execute(
                f"SELECT id, doc FROM {table} WHERE id BETWEEN ? AND ? ORDER BY id",
                (ids[0], ids[-1]),
            ).fetchall()
        else:
            rows = []
            for start in range(0, len(ids), 900):
                chunk = list(ids[start : start + 900])
                marks = ",".join("?" * len(chunk))
                rows += self.db.execute(
                    f"SELECT id, doc FROM {table} WHERE id IN ({marks})", chunk
                ).fetchall()
        cache.update(rows)
        return [cache[i] for i in ids]

    def rows_by_id(
        self, table: str, columns: Sequence[str], ids: Sequence[int]
    ) -> dict[int, tuple[Any, ...]]:
        """Rows of ``ids`` keyed by id; ``columns`` must start with ``id``."""
        if not len(ids):
            return {}
        marks = ",".join("?" * len(ids))
        sql = f"SELECT {', '.join(columns)} FROM {table} WHERE id IN ({marks})"
        return {row[0]: row for row in self.db.execute(sql, list(ids))}

    def update_fields(self, table: str, record_id: int, fields: dict[str, Any]) -> None:
        """``UPDATE table SET field = value, ...`` for one record (nothing when empty)."""
        if not fields:
            return
        sets = ", ".join(f"{column} = ?" for column in fields)
        with self.transaction():
            self.db.execute(
                f"UPDATE {table} SET {sets} WHERE id = ?", (*fields.values(), record_id)
            )
        self.touch(table)

    def delete_row(self, table: str, record_id: int) -> None:
        with self.transaction():
            self.db.execute(f"DELETE FROM {table} WHERE id = ?", (record_id,))
        self.deleted(table, [record_id])

    def exists(self, table: str, record_id: int) -> bool:
        ids = self._ids[table]
        position = bisect_left(ids, record_id)
        return position < len(ids) and ids[position] == record_id

    def missing(self, table: str, record_ids: Iterable[int]) -> list[int]:
        return [i for i in record_ids if not self.exists(table, i)]


class _Transaction:
    """``with store.transaction():`` groups writes so a failure leaves no half-change."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
