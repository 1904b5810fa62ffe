"""The simulator as one ASGI app: the OneConnect API under ``/api/v1``, its admin under ``/_sim``.

Every API request passes the same gate, in this order: late writes that fall due are
applied, statistics, injected latency, the requests-per-second limit and faults that
strike before processing, Basic auth (401), the Business plan's IP allow-list (403), a
write held back to be applied late, catching up with the clock, the handler, and faults
that strike after processing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.responses import Response
from starlette.routing import Match, Route, Router
from starlette.types import Message, Receive, Scope, Send

from .account import Account
from .answers import (
    authorised,
    discard,
    drop_connection,
    echo,
    fault_response,
    rate_limited,
    read_body,
    replay,
    status_response,
    with_echo,
    wrap_page,
)
from .clock import SimClock
from .engine import Platform
from .faults import Faults, Stats
from .http import ApiError, json_response, not_found
from .seed import SeedSizes, seed_account
from .store import Store
from .wire import INTEGER_RANGE

API_PREFIX = "/api/v1"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
JOURNAL_SIZE = 10_000
log = logging.getLogger("oneconnect.simulator")
_PARAM = re.compile(r"\{(\w+)(:\w+)?\}")


@dataclass
class Simulator:
    """The running state: one account's platform, its fault settings and statistics."""

    platform: Platform
    defaults: Account
    sizes: SeedSizes
    faults: Faults = field(default_factory=Faults)
    stats: Stats = field(default_factory=Stats)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    #: The latest writes received (``GET /_sim/requests``): method, route, path and form.
    writes: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=JOURNAL_SIZE))

    @classmethod
    def create(
        cls,
        account: Account,
        sizes: SeedSizes,
        db_path: str = ":memory:",
        clock: Any = None,
        faults: Faults | None = None,
    ) -> Simulator:
        store = Store(db_path)
        is_new = store.one("SELECT COUNT(*) FROM account") == 0
        platform = Platform.open(store, clock or SimClock(), account)
        simulator = cls(platform, account, sizes, faults or Faults())
        if is_new:
            seed_account(platform, sizes, account.seed)
        return simulator

    def reset(
        self,
        sizes: SeedSizes | None = None,
        seed: int | None = None,
        account: dict[str, Any] | None = None,
    ) -> None:
        """Wipe the account and seed it again (the admin API's ``POST /_sim/reset``), with
        ``account`` settings (plan, balance, ...) in force before seeding, so plan limits hold."""
        store = self.platform.store
        tables = [
            row[0]
            for row in store.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        with store.transaction():
            for table in tables:
                store.execute(f"DELETE FROM {table}")
            store.execute("DELETE FROM sqlite_sequence")
        if sizes is not None:
            self.sizes = sizes
        settings = dict(account or {})
        if seed is not None:
            settings["seed"] = seed
        self.platform.account = replace(self.defaults, **settings)
        self.platform.save_account()
        self.platform.outbox.clear()
        self.callbacks.clear()
        store.reload_ids()
        seed_account(self.platform, self.sizes, self.platform.account.seed)


def route_template(route: Route) -> str:
    """``/contacts/{id:int}`` -> ``/contacts/:id``, the form statistics are counted by."""
    return _PARAM.sub(lambda m: f":{m.group(1)}", route.path)


def ids_storable(scope: Scope) -> bool:
    """Whether every id in the path fits SQLite's INTEGER. One beyond it names no record
    (404), where looking it up would make SQLite raise OverflowError (a 500)."""
    params = scope.get("path_params", {}).values()
    return all(value in INTEGER_RANGE for value in params if isinstance(value, int))


class SimulatorApp:
    """ASGI entry point; see the module docstring for the order of the gate."""

    def __init__(self, simulator: Simulator, api_routes: list[Route], admin: Router) -> None:
        self.simulator = simulator
        self.api_routes = [(route, route_template(route)) for route in api_routes]
        self.admin = admin
        self._tasks: set[asyncio.Task[None]] = set()
        self._requests = 0
        #: Writes answered 504 unprocessed: (request number due, route, scope, body).
        self._late: list[tuple[int, Route, Scope, bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/_sim"):
            await self.admin(scope, receive, send)
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            await self._api(scope, receive, send)
        else:
            await status_response(404, "Not found")(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        sim = self.simulator
        await self._apply_late_writes()
        path = scope["path"][len(API_PREFIX) :] or "/"
        route, template, allowed = self._match(scope, path)
        name = f"{scope['method']} {template or '<unknown>'}"
        status: list[int | str] = [0]
        body = b""
        if sim.faults.reflect or sim.faults.late_writes or scope["method"] in WRITE_METHODS:
            body = await read_body(receive)
            receive = replay(body)
        if scope["method"] in WRITE_METHODS:
            sim.writes.append(
                {
                    "method": scope["method"],
                    "route": template,
                    "path": path,
                    "form": dict(
                        parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                    ),
                }
            )
        if scope["method"] == "GET" and sim.faults.page_wrap is not None:
            scope["query_string"] = wrap_page(scope.get("query_string", b""), sim.faults)

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await sim.faults.delay()
            response = self._gate(scope, body)
            if response is None and route is None:
                response = (
                    status_response(405, "Method not allowed")
                    if allowed
                    else status_response(404, "Not found")
                )
            if response is not None:
                await response(scope, receive, counted_send)
                return
            assert route is not None
            if scope["method"] in WRITE_METHODS and sim.faults.late_write():
                self._late.append((self._requests + sim.faults.late_by, route, dict(scope), body))
                await fault_response(504, "Gateway timeout", scope, body, sim.faults.reflect)(
                    scope, receive, counted_send
                )
                return
            after = sim.faults.after()
            if after is None:
                echoed = body if sim.faults.reflect else None
                await self._handle(route, scope, receive, counted_send, echoed)
                return
            await self._handle(route, scope, receive, discard)  # processed, answer lost
            if after == "drop":
                status[0] = "dropped"
                await drop_connection(send)
            else:
                answer = fault_response(int(after), "Server error", scope, body, sim.faults.reflect)
                await answer(scope, receive, counted_send)
        finally:
            sim.stats.record(name, status[0])
            self._flush_callbacks()

    def _match(self, scope: Scope, path: str) -> tuple[Route | None, str | None, bool]:
        child_scope = {**scope, "path": path}
        partial = None
        for route, template in self.api_routes:
            match, child = route.matches(child_scope)
            if match is Match.FULL:
                scope.update(child)
                scope["path"] = path
                return route, template, True
            if match is Match.PARTIAL and partial is None:
                partial = template
        return None, partial, partial is not None

    async def _apply_late_writes(self) -> None:
        """Count this request, and first apply the held writes that fall due with it."""
        self._requests += 1
        due = [held for held in self._late if held[0] <= self._requests]
        self._late = [held for held in self._late if held[0] > self._requests]
        for _, route, scope, body in due:
            await self._handle(route, scope, replay(body), discard)

    def _gate(self, scope: Scope, body: bytes) -> Response | None:
        """The answer that stops a request before its handler, if any."""
        sim = self.simulator
        wait = sim.faults.throttled()
        if wait is not None:
            return rate_limited(sim.faults.retry_after_header(wait))
        fault = sim.faults.before()
        if fault == 429:
            return rate_limited(
                sim.faults.retry_after_header(), echo(scope, body) if sim.faults.reflect else None
            )
        if fault is not None:
            return fault_response(fault, "Service unavailable", scope, body, sim.faults.reflect)
        account = sim.platform.account
        if not authorised(scope, account.email, account.api_key):
            return json_response(
                {"error_code": 401, "status": "ERROR", "message": "Unauthorized"},
                401,
                {"WWW-Authenticate": 'Basic realm="OneConnect"'},
            )
        client = (scope.get("client") or ("", 0))[0]
        if (
            account.plan.api_ip_restriction
            and account.ip_allowlist
            and client not in account.ip_allowlist
        ):
            return status_response(403, "IP address not allowed")
        return None

    async def _handle(
        self,
        route: Route,
        scope: Scope,
        receive: Receive,
        send: Send,
        echoed: bytes | None = None,
    ) -> None:
        """Run the handler; with ``echoed`` (the body, under ``reflect``) its error answers
        quote the request too."""
        try:
            self.simulator.platform.catch_up()
            if not ids_storable(scope):
                raise not_found()
            await route.handle(scope, receive, send)
        except ApiError as error:
            payload = error.payload
            if echoed is not None:
                payload = with_echo(payload, echo(scope, echoed))
            await json_response(payload, error.status)(scope, receive, send)
        except Exception:
            log.exception("simulator handler failed")
            await status_response(500, "Internal server error")(scope, receive, send)

    # -------------------------------------------------------------- background
    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._spawn(self._tick())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in list(self._tasks):
                    task.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _tick(self) -> None:
        """Let time pass on its own: run what falls due once a second."""
        while True:
            await asyncio.sleep(1.0)
            try:
                self.simulator.platform.catch_up()
            except Exception:
                log.exception("simulator clock tick failed")
            self._flush_callbacks()

    def _flush_callbacks(self) -> None:
        outbox = self.simulator.platform.outbox
        while outbox:
            self._spawn(self._deliver_report(outbox.pop(0)))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_report(self, report: dict[str, str]) -> None:
        """POST a delivery report (form-encoded) to the account's callback URL, 3 tries."""
        url = report.pop("url")
        entry: dict[str, Any] = {"url": url, "form": report, "attempts": 0, "status": None}
        self.simulator.callbacks.append(entry)
        async with httpx.AsyncClient(timeout=5.0) as client:
            for attempt in range(3):
                entry["attempts"] = attempt + 1
                try:
                    answer = await client.post(url, data=report)
                    entry["status"] = answer.status_code
                    if answer.status_code < 500:
                        return
                except httpx.HTTPError as exc:
                    entry["status"] = type(exc).__name__
                await asyncio.sleep(0.5 * 2**attempt)


def build_app(simulator: Simulator) -> SimulatorApp:
    from .admin import admin_router
    from .api import (
        birthday_campaigns,
        campaigns,
        contacts,
        info,
        lists,
        messages,
        templates,
        titles,
    )

    platform = simulator.platform
    api_routes: list[Route] = []
    for module in (
        messages,
        contacts,
        lists,
        campaigns,
        birthday_campaigns,
        titles,
        templates,
        info,
    ):
        api_routes.extend(module.routes(platform))
    return SimulatorApp(simulator, api_routes, admin_router(simulator))
