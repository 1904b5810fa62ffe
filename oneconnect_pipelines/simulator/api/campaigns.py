"""``/campaigns``: the four schedule types, their validation codes, and occurrence planning."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Platform
from ..http import Form, coded, invalid, json_response, not_found, ok, page_of
from ..records import stamp
from ..wire import (
    RANGE_SEPARATOR,
    Interval,
    WireError,
    read_datetime,
    split_list,
    write_schedule_datetime,
)
from .contacts import PHONE, path_or_form_id
from .messages import MAX_CONTENT

TYPES = {
    (0, 0): "scheduled-recurring",
    (0, 1): "scheduled-certain-dates",
    (1, 0): "permanent-recurring",
    (1, 1): "permanent-certain-dates",
}
_COLUMNS = (
    "id",
    "name",
    "active",
    "recipients",
    "recipients_list",
    "title_id",
    "content",
    "job_type",
    "schedule",
    "completed",
    "created_at",
    "updated_at",
)
_FIXED = ("dates", "repeat", "job_type", "campaign_type")


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    def records(ids: Any) -> list[dict[str, Any]]:
        rows = store.rows_by_id("campaigns", _COLUMNS, ids)
        titles = dict(store.execute("SELECT id, name FROM titles").fetchall())
        return [campaign_record(platform, rows[i], titles) for i in ids]

    def one(campaign_id: int) -> Response:
        if not store.exists("campaigns", campaign_id):
            raise not_found()
        return json_response(records([campaign_id])[0])

    async def list_campaigns(request: Request) -> Response:
        params = request.query_params
        clauses: list[str] = []
        args: list[object] = []
        for name in ("name", "content"):
            if name in params:
                clauses.append(f"{name} = ?")
                args.append(params[name])
        if "job_type" in params:
            clauses.append("job_type = ?")
            args.append(choice(params["job_type"], "job_type"))
        if "title" in params:
            clauses.append("title_id IN (SELECT id FROM titles WHERE name = ?)")
            args.append(params["title"])
        ids = store.ordered_ids("campaigns", " AND ".join(clauses), args)
        return json_response(records(page_of(params, ids)))

    async def get_campaign(request: Request) -> Response:
        return one(request.path_params["id"])

    async def create_campaign(request: Request) -> Response:
        form = await Form.read(request)
        fields = common_fields(platform, form, creating=True)
        job_type = choice(form.text("job_type") or "0", "job_type")
        campaign_type = choice(form.text("campaign_type") or "0", "campaign_type")
        schedule = parse_schedule(platform, job_type, campaign_type, form)
        limit = platform.account.plan.campaigns_limit
        if limit is not None and store.count("campaigns") >= limit:
            raise invalid("Campaigns limit reached")
        now = platform.now()
        fields.setdefault("active", 1)
        with store.transaction():
            campaign_id = store.execute(
                "INSERT INTO campaigns (name, active, recipients, recipients_list, title_id, "
                "content, job_type, campaign_type, schedule, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    fields["name"],
                    fields["active"],
                    fields.get("recipients", ""),
                    fields.get("recipients_list", "[]"),
                    fields.get("title_id"),
                    fields["content"],
                    job_type,
                    campaign_type,
                    orjson.dumps(schedule).decode(),
                    now,
                    now,
                ),
            ).lastrowid
            assert campaign_id is not None
            store.inserted("campaigns", campaign_id)
            # Like a scheduled message, a date in the current minute still goes out.
            platform.schedule_campaign(campaign_id, 0, after=math.floor(now / 60) * 60 - 1)
        platform.changed()
        return one(campaign_id)

    async def update_campaign(request: Request) -> Response:
        form = await Form.read(request)
        campaign_id = path_or_form_id(request, form)
        if not store.exists("campaigns", campaign_id):
            raise not_found()
        if any(name in form for name in _FIXED):
            raise invalid("The type and schedule of a campaign cannot be changed")
        fields = common_fields(platform, form, creating=False)
        if fields:
            store.update_fields("campaigns", campaign_id, {**fields, "updated_at": platform.now()})
        return one(campaign_id)

    async def delete_campaign(request: Request) -> Response:
        campaign_id = request.path_params["id"]
        if not store.exists("campaigns", campaign_id):
            raise not_found()
        store.delete_row("campaigns", campaign_id)
        platform.changed()
        return ok("Campaign deleted.")

    return [
        Route("/campaigns", list_campaigns, methods=["GET"]),
        Route("/campaigns", create_campaign, methods=["POST"]),
        Route("/campaigns", update_campaign, methods=["PATCH"]),
        Route("/campaigns/{id:int}", get_campaign, methods=["GET"]),
        Route("/campaigns/{id:int}", update_campaign, methods=["PATCH"]),
        Route("/campaigns/{id:int}", delete_campaign, methods=["DELETE"]),
    ]


def campaign_record(platform: Platform, row: Any, titles: dict[int, str]) -> dict[str, Any]:
    record = dict(zip(_COLUMNS, row, strict=True))
    tz = platform.tz
    plan = orjson.loads(record.pop("schedule"))
    if "repeat" in plan:
        parts = [plan["start"]] + ([plan["end"]] if plan.get("end") is not None else [])
        schedule = {
            "type": plan["type"],
            "date-range": RANGE_SEPARATOR.join(
                write_schedule_datetime(platform.local(p), tz) for p in parts
            ),
            "repeat": plan["repeat"],
        }
    else:
        schedule = {
            "type": plan["type"],
            "dates": [write_schedule_datetime(platform.local(p), tz) for p in plan["dates"]],
        }
    title_id = record.pop("title_id")
    record.update(
        active=bool(record["active"]),
        recipients_list=orjson.loads(record["recipients_list"]),
        title=titles.get(title_id) if title_id is not None else None,
        schedule=schedule,
        completed=None if record["completed"] is None else bool(record["completed"]),
        created_at=stamp(record["created_at"], tz),
        updated_at=stamp(record["updated_at"], tz),
    )
    return {
        key: record[key]
        for key in (
            "id",
            "name",
            "active",
            "recipients",
            "recipients_list",
            "title",
            "content",
            "job_type",
            "schedule",
            "completed",
            "created_at",
            "updated_at",
        )
    }


def choice(value: str, name: str) -> int:
    if value.strip() not in ("0", "1"):
        raise invalid(f"{name} must be 0 or 1")
    return int(value)


def shared_fields(
    platform: Platform, form: Form, creating: bool
) -> tuple[dict[str, Any], list[str]]:
    """``name``, ``content``, ``active``, ``title``: what campaigns and birthday campaigns
    share, as stored, with every validation error found."""
    errors: list[str] = []
    fields: dict[str, Any] = {}
    for name in ("name", "content"):
        value = form.text(name)
        if (value is None and creating) or value == "":
            errors.append(f"{name.capitalize()} can't be blank")
        elif value is not None:
            fields[name] = value
    if len(fields.get("content", "")) > MAX_CONTENT:
        errors.append(f"Content is too long (maximum is {MAX_CONTENT} characters)")
    active = form.boolean("active")
    if active is not None:
        fields["active"] = int(active)
    title = form.integer("title", invalid("title must be the id of a title"))
    if title is not None:
        if not platform.store.exists("titles", title):
            errors.append("Title not found")
        fields["title_id"] = title
    return fields, errors


def common_fields(platform: Platform, form: Form, creating: bool) -> dict[str, Any]:
    """The fields of a campaign create or update, as stored; all errors reported together."""
    fields, errors = shared_fields(platform, form, creating)
    recipients = form.text("recipients")
    if recipients is not None:
        numbers = split_list(recipients)
        if not all(PHONE.match(number) for number in numbers):
            errors.append("Recipients must be comma-separated phone numbers")
        fields["recipients"] = ",".join(numbers)
    if errors:
        raise invalid(*errors)
    list_ids = form.ids("recipients_list", coded(3020))
    if list_ids is not None:
        if platform.store.missing("lists", list_ids):
            raise coded(3020)
        fields["recipients_list"] = orjson.dumps(list_ids).decode()
    return fields


def parse_schedule(
    platform: Platform, job_type: int, campaign_type: int, form: Form
) -> dict[str, Any]:
    """The ``dates``/``repeat`` fields of a new campaign -> its stored schedule (epochs)."""
    kind = TYPES[(job_type, campaign_type)]
    permanent = job_type == 1
    dates, repeat = form.text("dates"), form.text("repeat")
    if campaign_type == 1:
        if not dates:
            raise coded(3010)
        moments = sorted({when(platform, part) for part in split_list(dates)})
        if not moments:
            raise coded(3011)
        return {"type": kind, "permanent": permanent, "dates": moments}
    if not dates or not repeat:
        raise coded(3010)
    try:
        interval = Interval.read(repeat)
    except WireError:
        raise coded(3013) from None
    parts = [part.strip() for part in dates.split(RANGE_SEPARATOR)]
    if permanent:
        if len(parts) != 1:
            raise coded(3011)
        return {
            "type": kind,
            "permanent": True,
            "start": when(platform, parts[0]),
            "end": None,
            "repeat": str(interval),
        }
    if len(parts) != 2:
        raise coded(3012)
    start, end = when(platform, parts[0]), when(platform, parts[1])
    if end <= start:
        raise coded(3011)
    return {"type": kind, "permanent": False, "start": start, "end": end, "repeat": str(interval)}


def when(platform: Platform, text: str) -> float:
    try:
        return read_datetime(text, platform.tz).timestamp()
    except WireError:
        raise coded(3011) from None
