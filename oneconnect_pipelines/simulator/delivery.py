"""How each message ends: decided from the account's seed and the message's id alone, so a
simulated history is the same on every run and a test can know the outcome in advance."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .records import MESSAGE_COLUMNS, message_doc
from .store import Store

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


def settle_statuses(store: Store, seed: int, tz: ZoneInfo, now: float) -> None:
    """Pending messages whose delivery report has come in move to their final status."""
    rows = store.execute(
        f"SELECT {', '.join(MESSAGE_COLUMNS)}, status_due_at FROM messages "
        "WHERE final_status = 'pending' AND status_due_at <= ?",
        (now,),
    ).fetchall()
    if not rows:
        return
    updates = []
    for row in rows:  # MESSAGE_COLUMNS, then status_due_at: when it settles
        outcome = message_outcome(row[0], seed)
        status, report, settled_at = outcome.status, outcome.status.capitalize(), row[10]
        values = (row[0], status, *row[2:6], report, outcome.reason, row[8], settled_at)
        updates.append(
            (status, report, outcome.reason, settled_at, message_doc(values, tz), row[0])
        )
    store.db.executemany(
        "UPDATE messages SET final_status = ?, dr_status = ?, dr_reason = ?, "
        "updated_at = ?, status_due_at = NULL, doc = ? WHERE id = ?",
        updates,
    )
    store.touch("messages")


def due_reports(store: Store, callback: str | None, now: float) -> list[dict[str, str]]:
    """The delivery reports that have fallen due, each handed out exactly once, whether or
    not its message is still in the history. Without a callback URL at that moment a
    report has nowhere to go and is dropped, as the platform would."""
    rows = store.execute(
        "SELECT reference, status, reason, destination FROM delivery_reports "
        "WHERE due_at <= ? ORDER BY due_at, message_id",
        (now,),
    ).fetchall()
    if not rows:
        return []
    store.execute("DELETE FROM delivery_reports WHERE due_at <= ?", (now,))
    keys = ("reference", "status", "reason", "destination")
    return (
        [{"url": callback, **dict(zip(keys, row, strict=True))} for row in rows] if callback else []
    )
