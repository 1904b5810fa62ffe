"""``/titles``: sender names, their naming rules, plan limit and (simulated) staff activation."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Platform
from ..http import Form, invalid, json_response, not_found, ok, page_of
from ..records import stamp

NAME = re.compile(r"^[A-Za-z0-9 .\-]{1,11}$")
_COLUMNS = ("id", "active", "name", "created_at", "updated_at")


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    def records(ids: Any) -> list[dict[str, Any]]:
        rows = store.rows_by_id("titles", _COLUMNS, ids)
        tz = platform.tz
        return [
            {
                "id": i,
                "active": bool(rows[i][1]),
                "name": rows[i][2],
                "created_at": stamp(rows[i][3], tz),
                "updated_at": stamp(rows[i][4], tz),
            }
            for i in ids
        ]

    async def list_titles(request: Request) -> Response:
        return json_response(records(page_of(request.query_params, store.ordered_ids("titles"))))

    async def titles_csv(request: Request) -> Response:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_COLUMNS)
        for record in records(store.ordered_ids("titles")):
            writer.writerow(
                [str(record[c]).lower() if c == "active" else record[c] for c in _COLUMNS]
            )
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    async def get_title(request: Request) -> Response:
        title_id = request.path_params["id"]
        if not store.exists("titles", title_id):
            raise not_found()
        return json_response(records([title_id])[0])

    async def create_title(request: Request) -> Response:
        name = (await Form.read(request)).text("name")
        if not name:
            raise invalid("Name can't be blank")
        if not NAME.match(name):
            raise invalid(
                "Name must be at most 11 characters of letters, digits, dash, dot and space"
            )
        if store.one("SELECT id FROM titles WHERE name = ?", (name,)) is not None:
            raise invalid("Name has already been taken")
        limit = platform.account.plan.titles_limit
        if limit is not None and store.count("titles") >= limit:
            raise invalid("Titles limit reached")
        now = platform.now()
        delay = platform.account.title_activation_s
        with store.transaction():
            title_id = store.execute(
                "INSERT INTO titles (name, active, activate_at, created_at, updated_at) "
                "VALUES (?, 0, ?, ?, ?)",
                (name, now + delay if delay >= 0 else None, now, now),
            ).lastrowid
        assert title_id is not None
        store.inserted("titles", title_id)
        platform.changed()
        return json_response(records([title_id])[0])

    async def delete_title(request: Request) -> Response:
        title_id = request.path_params["id"]
        if not store.exists("titles", title_id):
            raise not_found()
        with store.transaction():
            store.execute("DELETE FROM titles WHERE id = ?", (title_id,))
            for table in ("campaigns", "birthday_campaigns"):
                store.execute(f"UPDATE {table} SET title_id = NULL WHERE title_id = ?", (title_id,))
                store.touch(table)
        store.deleted("titles", [title_id])
        return ok("Title deleted.")

    return [
        Route("/titles", list_titles, methods=["GET"]),
        Route("/titles", create_title, methods=["POST"]),
        Route("/titles_csv", titles_csv, methods=["GET"]),
        Route("/titles/{id:int}", get_title, methods=["GET"]),
        Route("/titles/{id:int}", delete_title, methods=["DELETE"]),
    ]
