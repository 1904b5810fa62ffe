"""How each message ends: decided from the account's seed and the message's id alone, so a
simulated history is the same on every run and a test can know the outcome in advance."""

from __future__ import annotations

from dataclasses import dataclass

UNDELIVERED_REASONS = (
    "Absent subscriber",
    "Unknown subscriber",
    "Rejected by network",
    "Handset memory full",
)
#: Numbers beyond the SMS balance end undelivered with this reason, at no cost.
NO_BALANCE_REASON = "Insufficient balance"


@dataclass(frozen=True)
class Outcome:
    delay_s: float
    status: str
    reason: str


def message_outcome(message_id: int, seed: int) -> Outcome:
    """~91% delivered after 3-60 s, the rest undelivered with one of the usual reasons."""
    h = (message_id * 2654435761 + (seed + 1) * 40503) & 0xFFFFFFFF
    h = (h ^ (h >> 13)) * 1274126177 & 0xFFFFFFFF
    delay = 3.0 + (h % 5700) / 100.0
    if (h >> 16) % 100 < 91:
        return Outcome(delay, "delivered", "0")
    return Outcome(delay, "undelivered", UNDELIVERED_REASONS[(h >> 8) % len(UNDELIVERED_REASONS)])
