"""Injected network and server faults, and the request statistics the admin API reports.

429 and 503 are answered *before* a request is processed (the server did nothing);
500, 502, 504 and dropped connections happen *after* it was processed (a write took
effect but the client cannot know): the worst case a client must survive. Worse still,
a *late* write is answered 504 before it is processed and applied only some requests
later (a queue behind a timed-out gateway). ``page_wrap`` makes listings start over past
a page, and ``reflect`` makes injected error answers echo the request, credentials
included, as a careless proxy's error page would.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

BEFORE_STATUSES = (429, 503)
AFTER_STATUSES = (500, 502, 504)


@dataclass
class Faults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rates: dict[int, float] = field(default_factory=dict)
    retry_after_s: float = 1.0
    drop_rate: float = 0.0
    rps_limit: float | None = None
    #: The next this many writes are answered 504 unprocessed, and applied just before
    #: the ``late_by``-th API request after them.
    late_writes: int = 0
    late_by: int = 2
    #: Listing pages past this one start over: page wrap+1 is page 1 again.
    page_wrap: int | None = None
    #: Injected error answers echo the request: line, headers (Authorization too), the
    #: decoded Basic credentials and the form body.
    reflect: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        # Coerce here so that a wrongly typed setting is refused now (ValueError/TypeError)
        # instead of failing every later request.
        self.latency_ms, self.jitter_ms = float(self.latency_ms), float(self.jitter_ms)
        self.retry_after_s, self.drop_rate = float(self.retry_after_s), float(self.drop_rate)
        if self.rps_limit is not None:
            self.rps_limit = float(self.rps_limit)
            if self.rps_limit < 0:
                raise ValueError("rps_limit cannot be negative")
        self.late_writes, self.late_by = int(self.late_writes), int(self.late_by)
        if self.late_writes < 0 or self.late_by < 1:
            raise ValueError("late_writes cannot be negative and late_by must be at least 1")
        if self.page_wrap is not None:
            self.page_wrap = int(self.page_wrap)
            if self.page_wrap < 1:
                raise ValueError("page_wrap must be at least 1")
        self.reflect = bool(self.reflect)
        self.error_rates = {int(k): float(v) for k, v in dict(self.error_rates).items()}
        unknown = set(self.error_rates) - {*BEFORE_STATUSES, *AFTER_STATUSES}
        if unknown:
            raise ValueError(
                f"error_rates only take {BEFORE_STATUSES + AFTER_STATUSES}, not {sorted(unknown)}"
            )
        if sum(self.error_rates.values()) + self.drop_rate > 1:
            raise ValueError("fault rates add up to more than 1")
        if (
            min(
                [
                    self.latency_ms,
                    self.jitter_ms,
                    self.retry_after_s,
                    self.drop_rate,
                    *self.error_rates.values(),
                ]
            )
            < 0
        ):
            raise ValueError("fault settings cannot be negative")
        self._rng = random.Random(self.seed)
        self._tokens = self.rps_limit or 0.0
        self._refilled = time.monotonic()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Faults:
        allowed = {
            "latency_ms",
            "jitter_ms",
            "error_rates",
            "retry_after_s",
            "drop_rate",
            "rps_limit",
            "late_writes",
            "late_by",
            "page_wrap",
            "reflect",
            "seed",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        data["error_rates"] = {str(k): v for k, v in self.error_rates.items()}
        return data

    async def delay(self) -> None:
        latency = self.latency_ms + (self._rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0)
        if latency > 0:
            await asyncio.sleep(latency / 1000)

    def throttled(self) -> float | None:
        """Seconds to wait when the requests-per-second limit is exceeded, else None."""
        if not self.rps_limit:
            return None
        now = time.monotonic()
        self._tokens = min(self.rps_limit, self._tokens + (now - self._refilled) * self.rps_limit)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return (1 - self._tokens) / self.rps_limit

    def before(self) -> int | None:
        """A status to answer instead of processing the request, if a fault strikes."""
        return self._pick(BEFORE_STATUSES)

    def after(self) -> int | str | None:
        """A status (or ``"drop"``) to answer instead of the real, already-made response."""
        if self.drop_rate and self._rng.random() < self.drop_rate:
            return "drop"
        return self._pick(AFTER_STATUSES)

    def late_write(self) -> bool:
        """Whether this write is to be applied late (and counts it off)."""
        if self.late_writes <= 0:
            return False
        self.late_writes -= 1
        return True

    def wrapped_page(self, page: int) -> int:
        return page if self.page_wrap is None else (page - 1) % self.page_wrap + 1

    def _pick(self, statuses: tuple[int, ...]) -> int | None:
        roll = self._rng.random()
        for status in statuses:
            rate = self.error_rates.get(status, 0.0)
            if roll < rate:
                return status
            roll -= rate
        return None

    def retry_after_header(self, wait: float | None = None) -> str:
        seconds = self.retry_after_s if wait is None else wait
        return str(math.ceil(seconds)) if seconds > 0 else "0"


@dataclass
class Stats:
    """API requests received, by ``"METHOD /route/:id"`` and by status (admin calls excluded)."""

    routes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    route_statuses: Counter[str] = field(default_factory=Counter)

    def record(self, route: str, status: int | str) -> None:
        self.routes[route] += 1
        self.statuses[str(status)] += 1
        self.route_statuses[f"{route} {status}"] += 1

    def to_json(self) -> dict[str, Any]:
        writes = sum(
            n
            for route, n in self.routes.items()
            if route.split(" ", 1)[0] in ("POST", "PATCH", "PUT", "DELETE")
        )
        return {
            "total": sum(self.routes.values()),
            "writes": writes,
            "routes": dict(self.routes),
            "statuses": dict(self.statuses),
            "route_statuses": dict(self.route_statuses),
        }

    def reset(self) -> None:
        self.routes.clear()
        self.statuses.clear()
        self.route_statuses.clear()
