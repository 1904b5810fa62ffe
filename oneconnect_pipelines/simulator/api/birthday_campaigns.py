"""``/birthday_campaigns``: greetings the platform sends to list members on their birthdays."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Platform
from ..http import Form, coded, invalid, json_response, not_found, ok, page_of
from ..records import stamp
from ..timetable import next_birthday_run
from .campaigns import shared_fields
from .contacts import path_or_form_id

_COLUMNS = (
    "id",
    "name",
    "active",
    "content",
    "recipient_lists",
    "title_id",
    "created_at",
    "updated_at",
)


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    def records(ids: Any) -> list[dict[str, Any]]:
        rows = store.rows_by_id("birthday_campaigns", _COLUMNS, ids)
        titles = dict(store.execute("SELECT id, name FROM titles").fetchall())
        tz = platform.tz
        out = []
        for i in ids:
            record = dict(zip(_COLUMNS, rows[i], strict=True))
            title_id = record.pop("title_id")
            record.update(
                active=bool(record["active"]),
                recipient_lists=orjson.loads(record["recipient_lists"]),
                title=titles.get(title_id, "") if title_id is not None else "",
                created_at=stamp(record["created_at"], tz),
                updated_at=stamp(record["updated_at"], tz),
            )
            out.append(
                {
                    key: record[key]
                    for key in (
                        "id",
                        "name",
                        "active",
                        "content",
                        "recipient_lists",
                        "title",
                        "created_at",
                        "updated_at",
                    )
                }
            )
        return out

    def one(campaign_id: int) -> Response:
        if not store.exists("birthday_campaigns", campaign_id):
            raise not_found()
        return json_response(records([campaign_id])[0])

    def fields_of(form: Form, creating: bool) -> dict[str, Any]:
        fields, errors = shared_fields(platform, form, creating)
        if errors:
            raise invalid(*errors)
        list_ids = form.ids("recipient_lists", coded(4020))
        if list_ids is not None:
            if store.missing("lists", list_ids):
                raise coded(4020)
            fields["recipient_lists"] = orjson.dumps(list_ids).decode()
        return fields

    async def list_campaigns(request: Request) -> Response:
        params = request.query_params
        where, args = "", []
        if "active" in params:
            where, args = "active = ?", [int(Form(params).boolean("active") or False)]
        ids = store.ordered_ids("birthday_campaigns", where, args)
        return json_response(records(page_of(params, ids)))

    async def get_campaign(request: Request) -> Response:
        return one(request.path_params["id"])

    async def create_campaign(request: Request) -> Response:
        fields = fields_of(await Form.read(request), creating=True)
        now = platform.now()
        with store.transaction():
            campaign_id = store.execute(
                "INSERT INTO birthday_campaigns (name, active, content, recipient_lists, "
                "title_id, next_run_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    fields["name"],
                    fields.get("active", 1),
                    fields["content"],
                    fields.get("recipient_lists", "[]"),
                    fields.get("title_id"),
                    next_birthday_run(now, platform.tz),
                    now,
                    now,
                ),
            ).lastrowid
        assert campaign_id is not None
        store.inserted("birthday_campaigns", campaign_id)
        platform.changed()
        return one(campaign_id)

    async def update_campaign(request: Request) -> Response:
        form = await Form.read(request)
        campaign_id = path_or_form_id(request, form)
        if not store.exists("birthday_campaigns", campaign_id):
            raise not_found()
        fields = fields_of(form, creating=False)
        if fields:
            store.update_fields(
                "birthday_campaigns", campaign_id, {**fields, "updated_at": platform.now()}
            )
        return one(campaign_id)

    async def delete_campaign(request: Request) -> Response:
        campaign_id = request.path_params["id"]
        if not store.exists("birthday_campaigns", campaign_id):
            raise not_found()
        store.delete_row("birthday_campaigns", campaign_id)
        platform.changed()
        return ok("Birthday Campaign deleted.")

    return [
        Route("/birthday_campaigns", list_campaigns, methods=["GET"]),
        Route("/birthday_campaigns", create_campaign, methods=["POST"]),
        Route("/birthday_campaigns", update_campaign, methods=["PATCH"]),
        Route("/birthday_campaigns/{id:int}", get_campaign, methods=["GET"]),
        Route("/birthday_campaigns/{id:int}", update_campaign, methods=["PATCH"]),
        Route("/birthday_campaigns/{id:int}", delete_campaign, methods=["DELETE"]),
    ]
