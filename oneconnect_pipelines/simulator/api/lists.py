"""``/lists``: records with their members embedded, lookup by name, membership writes."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Platform
from ..http import Form, invalid, json_response, not_found, ok, page_of
from ..records import stamp
from .contacts import path_or_form_id

_BAD_IDS = invalid("ids must be comma-separated contact ids")


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    def records(list_ids: Sequence[int]) -> list[dict[str, Any]]:
        if not list_ids:
            return []
        marks = ",".join("?" * len(list_ids))
        members: dict[int, list[orjson.Fragment]] = {i: [] for i in list_ids}
        for list_id, doc in store.execute(
            "SELECT m.list_id, c.doc FROM list_members m JOIN contacts c "
            f"ON c.id = m.contact_id WHERE m.list_id IN ({marks}) ORDER BY m.list_id, c.id",
            list(list_ids),
        ):
            members[list_id].append(orjson.Fragment(doc))
        rows = {
            row[0]: row
            for row in store.execute(
                "SELECT id, name, noncontact_members, created_at, updated_at FROM lists "
                f"WHERE id IN ({marks})",
                list(list_ids),
            )
        }
        tz = platform.tz
        return [
            {
                "id": i,
                "name": rows[i][1],
                "members": members[i],
                "noncontact_members": orjson.loads(rows[i][2]) if rows[i][2] else None,
                "created_at": stamp(rows[i][3], tz),
                "updated_at": stamp(rows[i][4], tz),
            }
            for i in list_ids
        ]

    def one(list_id: int) -> Response:
        if not store.exists("lists", list_id):
            raise not_found()
        return json_response(records([list_id])[0])

    def check_members(ids: list[int]) -> list[int]:
        missing = store.missing("contacts", ids)
        if missing:
            raise invalid(f"Contacts not found: {', '.join(map(str, missing))}")
        return ids

    def check_name(name: str | None, list_id: int | None) -> str:
        if not name:
            raise invalid("Name can't be blank")
        if (
            store.one("SELECT id FROM lists WHERE name = ? AND id IS NOT ?", (name, list_id))
            is not None
        ):
            raise invalid("Name has already been taken")
        return name

    def set_members(
        list_id: int, add: Sequence[int] = (), remove: Sequence[int] = (), replace: bool = False
    ) -> None:
        if replace:
            store.execute("DELETE FROM list_members WHERE list_id = ?", (list_id,))
        store.db.executemany(
            "INSERT OR IGNORE INTO list_members VALUES (?, ?)", [(list_id, i) for i in add]
        )
        store.db.executemany(
            "DELETE FROM list_members WHERE list_id = ? AND contact_id = ?",
            [(list_id, i) for i in remove],
        )
        store.execute("UPDATE lists SET updated_at = ? WHERE id = ?", (platform.now(), list_id))
        store.touch("lists")

    async def list_lists(request: Request) -> Response:
        name = request.query_params.get("name")
        if name is not None:
            list_id = store.one("SELECT id FROM lists WHERE name = ?", (name,))
            if list_id is None:
                raise not_found()
            return one(list_id)
        page = page_of(request.query_params, store.ordered_ids("lists"))
        return json_response(records(page))

    async def lists_csv(request: Request) -> Response:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("id", "name", "members", "noncontact_members", "created_at", "updated_at"))
        for record in records(store.ordered_ids("lists")):
            # Members are pre-serialised fragments, which orjson can write but not read back.
            ids = [member["id"] for member in orjson.loads(orjson.dumps(record["members"]))]
            extra = record["noncontact_members"]
            writer.writerow(
                (
                    record["id"],
                    record["name"],
                    ", ".join(map(str, ids)),
                    orjson.dumps(extra).decode() if extra else "",
                    record["created_at"],
                    record["updated_at"],
                )
            )
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    async def get_list(request: Request) -> Response:
        return one(request.path_params["id"])

    async def create_list(request: Request) -> Response:
        form = await Form.read(request)
        name = check_name(form.text("name"), None)
        members = check_members(form.ids("members", _BAD_IDS) or [])
        limit = platform.account.plan.lists_limit
        if limit is not None and store.count("lists") >= limit:
            raise invalid("Lists limit reached")
        now = platform.now()
        with store.transaction():
            list_id = store.execute(
                "INSERT INTO lists (name, created_at, updated_at) VALUES (?, ?, ?)",
                (name, now, now),
            ).lastrowid
            assert list_id is not None
            set_members(list_id, add=members)
        store.inserted("lists", list_id)
        return one(list_id)

    async def update_list(request: Request) -> Response:
        form = await Form.read(request)
        list_id = path_or_form_id(request, form)
        if not store.exists("lists", list_id):
            raise not_found()
        name = check_name(form.text("name"), list_id) if "name" in form else None
        members = form.ids("members", _BAD_IDS)
        if members is not None:
            check_members(members)
        with store.transaction():
            if name is not None:
                store.execute("UPDATE lists SET name = ? WHERE id = ?", (name, list_id))
            set_members(list_id, add=members or [], replace=members is not None)
        return one(list_id)

    def membership(adding: bool) -> Any:
        """``add_members`` (unknown contacts refused) or ``remove_members`` (non-members
        ignored): both take ``ids`` and answer the list."""

        async def change(request: Request) -> Response:
            list_id = request.path_params["id"]
            if not store.exists("lists", list_id):
                raise not_found()
            ids = (await Form.read(request)).ids("ids", _BAD_IDS) or []
            if not ids:
                raise invalid("ids must be given")
            with store.transaction():
                if adding:
                    set_members(list_id, add=check_members(ids))
                else:
                    set_members(list_id, remove=ids)
            return one(list_id)

        return change

    async def delete_list(request: Request) -> Response:
        list_id = request.path_params["id"]
        if not store.exists("lists", list_id):
            raise not_found()
        with store.transaction():
            store.execute("DELETE FROM lists WHERE id = ?", (list_id,))
            store.execute("DELETE FROM list_members WHERE list_id = ?", (list_id,))
            forget_list(platform, list_id)
        store.deleted("lists", [list_id])
        return ok("List deleted.")

    return [
        Route("/lists", list_lists, methods=["GET"]),
        Route("/lists", create_list, methods=["POST"]),
        Route("/lists", update_list, methods=["PATCH"]),
        Route("/lists_csv", lists_csv, methods=["GET"]),
        Route("/lists/{id:int}", get_list, methods=["GET"]),
        Route("/lists/{id:int}", update_list, methods=["PATCH"]),
        Route("/lists/{id:int}", delete_list, methods=["DELETE"]),
        Route("/lists/{id:int}/add_members", membership(adding=True), methods=["POST"]),
        Route("/lists/{id:int}/remove_members", membership(adding=False), methods=["POST"]),
    ]


def forget_list(platform: Platform, list_id: int) -> None:
    """A deleted list disappears from the campaigns and birthday campaigns that targeted it."""
    store = platform.store
    for table, column in (
        ("campaigns", "recipients_list"),
        ("birthday_campaigns", "recipient_lists"),
    ):
        for record_id, ids in store.execute(f"SELECT id, {column} FROM {table}").fetchall():
            kept = [i for i in orjson.loads(ids) if i != list_id]
            if len(kept) != len(orjson.loads(ids)):
                store.execute(
                    f"UPDATE {table} SET {column} = ? WHERE id = ?",
                    (orjson.dumps(kept).decode(), record_id),
                )
                store.touch(table)
