"""``/templates``: saved message texts (``title`` is the template's name)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Platform
from ..http import Form, invalid, json_response, not_found, ok, page_of
from ..records import stamp

_COLUMNS = ("id", "title", "body", "created_at", "updated_at")


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    def records(ids: Any) -> list[dict[str, Any]]:
        rows = store.rows_by_id("templates", _COLUMNS, ids)
        tz = platform.tz
        return [
            {
                "id": i,
                "title": rows[i][1],
                "body": rows[i][2],
                "created_at": stamp(rows[i][3], tz),
                "updated_at": stamp(rows[i][4], tz),
            }
            for i in ids
        ]

    async def list_templates(request: Request) -> Response:
        ids = store.ordered_ids("templates")
        return json_response(records(page_of(request.query_params, ids)))

    async def get_template(request: Request) -> Response:
        template_id = request.path_params["id"]
        if not store.exists("templates", template_id):
            raise not_found()
        return json_response(records([template_id])[0])

    async def create_template(request: Request) -> Response:
        form = await Form.read(request)
        title, body = form.text("title"), form.text("body")
        errors = [
            f"{name} can't be blank"
            for name, value in (("Title", title), ("Body", body))
            if not value
        ]
        if errors:
            raise invalid(*errors)
        now = platform.now()
        with store.transaction():
            template_id = store.execute(
                "INSERT INTO templates (title, body, created_at, updated_at) VALUES (?,?,?,?)",
                (title, body, now, now),
            ).lastrowid
        assert template_id is not None
        store.inserted("templates", template_id)
        return json_response(records([template_id])[0])

    async def delete_template(request: Request) -> Response:
        template_id = request.path_params["id"]
        if not store.exists("templates", template_id):
            raise not_found()
        store.delete_row("templates", template_id)
        return ok("Template deleted.")

    return [
        Route("/templates", list_templates, methods=["GET"]),
        Route("/templates", create_template, methods=["POST"]),
        Route("/templates/{id:int}", get_template, methods=["GET"]),
        Route("/templates/{id:int}", delete_template, methods=["DELETE"]),
    ]
