"""``/_sim/``: the simulator's own admin API (not part of OneConnect), JSON in and out.

Unauthenticated by design: the simulator only listens on loopback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from .app import Simulator
from .faults import Faults
from .http import ApiError, invalid, json_response, not_found
from .plans import plan_named
from .seed import SeedSizes


def admin_router(sim: Simulator) -> Router:
    platform = sim.platform

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            data = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise invalid("body must be a JSON object") from None
        if not isinstance(data, dict):
            raise invalid("body must be a JSON object")
        return data

    def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[..., Any]:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return json_response(error.payload, error.status)
            except (ValueError, TypeError) as error:
                return json_response({"errors": [str(error)]}, 422)

        return run

    async def health(request: Request) -> Response:
        return json_response({"ok": True, "now": clock_json()["now"]})

    async def stats(request: Request) -> Response:
        if request.method == "DELETE":
            sim.stats.reset()
            sim.writes.clear()
        return json_response(sim.stats.to_json())

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            sim.faults = Faults.from_json(await body(request))
        return json_response(sim.faults.to_json())

    def clock_json() -> dict[str, Any]:
        now = platform.local(platform.now())
        return {"now": now.isoformat(), "epoch": platform.now(), "frozen": platform.clock.frozen}

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            data = await body(request)
            if "frozen" in data:
                platform.clock.freeze(bool(data["frozen"]))
            if "set" in data:
                moment = datetime.fromisoformat(str(data["set"]))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=platform.tz)
                platform.clock.set(moment.timestamp())
            if "advance_s" in data:
                platform.clock.advance(float(data["advance_s"]))
            before = platform.store.count("messages")
            platform.catch_up()
            return json_response(
                {**clock_json(), "messages_added": platform.store.count("messages") - before}
            )
        return json_response(clock_json())

    async def activate_title(request: Request) -> Response:
        title_id = request.path_params["id"]
        if not platform.store.exists("titles", title_id):
            raise not_found()
        platform.store.execute(
            "UPDATE titles SET active = 1, updated_at = ? WHERE id = ?", (platform.now(), title_id)
        )
        platform.store.touch("titles")
        return json_response({"id": title_id, "active": True})

    async def account(request: Request) -> Response:
        if request.method == "PUT":
            platform.update_account(**account_changes(await body(request)))
            platform.changed()  # a smaller plan trims the history at the next catch-up
        return json_response(platform.account.public())

    async def reset(request: Request) -> Response:
        data = await body(request)
        seed = data.pop("seed", None)
        settings = data.pop("account", {})
        if not isinstance(settings, dict):
            raise invalid("account must be an object of account settings")
        known = {f.name for f in fields(SeedSizes)}
        unknown = set(data) - known
        if unknown:
            raise invalid(f"unknown reset settings: {sorted(unknown)}")
        sizes = SeedSizes(**{**asdict(sim.sizes), **data})
        sim.reset(sizes, None if seed is None else int(seed), account_changes(settings))
        return json_response({"seed": platform.account.seed, "sizes": asdict(sim.sizes)})

    async def callbacks(request: Request) -> Response:
        return json_response(sim.callbacks)

    async def writes(request: Request) -> Response:
        if request.method == "DELETE":
            sim.writes.clear()
        method = request.query_params.get("method")
        return json_response([w for w in sim.writes if method in (None, w["method"])])

    return Router(
        routes=[
            Route("/_sim/health", guarded(health), methods=["GET"]),
            Route("/_sim/stats", guarded(stats), methods=["GET", "DELETE"]),
            Route("/_sim/faults", guarded(faults), methods=["GET", "PUT"]),
            Route("/_sim/clock", guarded(clock), methods=["GET", "POST"]),
            Route("/_sim/titles/{id:int}/activate", guarded(activate_title), methods=["POST"]),
            Route("/_sim/account", guarded(account), methods=["GET", "PUT"]),
            Route("/_sim/reset", guarded(reset), methods=["POST"]),
            Route("/_sim/callbacks", guarded(callbacks), methods=["GET"]),
            Route("/_sim/writes", guarded(writes), methods=["GET", "DELETE"]),
        ]
    )


def account_changes(data: dict[str, Any]) -> dict[str, Any]:
    """Admin ``PUT /_sim/account`` fields -> Account changes, validated."""
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "plan":
            changes["plan"] = plan_named(str(value))
        elif key == "timezone":
            try:
                changes["timezone"] = ZoneInfo(str(value))
            except (ZoneInfoNotFoundError, ValueError):
                raise invalid(f"unknown timezone {value!r}") from None
        elif key == "ip_allowlist":
            if not isinstance(value, list):
                raise invalid("ip_allowlist must be a list of addresses")
            changes["ip_allowlist"] = tuple(str(v) for v in value)
        elif key == "callback_url":
            changes["callback_url"] = str(value) if value else None
        elif key == "sms_balance":
            changes["sms_balance"] = int(value)
        elif key == "title_activation_s":
            changes["title_activation_s"] = float(value)
        else:
            raise invalid(f"unknown account setting {key!r}")
    return changes
