"""The simulator's clock: wall time shifted by an offset, or frozen, moved by the admin API."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SimClock:
    """Simulated time in epoch seconds. Tests freeze it and advance it explicitly."""

    def __init__(self, start: float | None = None, frozen: bool = False) -> None:
        self._offset = 0.0 if start is None else start - time.time()
        self._frozen_at: float | None = (time.time() + self._offset) if frozen else None

    def now(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds

    def set(self, moment: float) -> None:
        """Jump to ``moment``; never backwards, so history stays in time order."""
        self.advance(moment - self.now())

    def freeze(self, frozen: bool) -> None:
        if frozen and self._frozen_at is None:
            self._frozen_at = self.now()
        elif not frozen and self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None
