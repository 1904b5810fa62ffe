"""Seeded messages: months of sends in every status, each campaign's agreeing with its
campaign (content, numbers, after it was made), so that joins on the demo account hold."""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .delivery import message_outcome
from .engine import Platform
from .records import MESSAGE_COLUMNS, message_doc


@dataclass(frozen=True)
class Sender:
    """A campaign or birthday campaign as its messages show it."""

    id: int
    content: str
    created: float
    numbers: list[str]  # the phone numbers it sends to


def sender_of(
    sender_id: int,
    content: str,
    created: float,
    lists: dict[int, list[int]],
    targets: list[int],
    numbers: list[str],
    extra: Sequence[str] = (),
) -> Sender:
    members = {numbers[contact - 1] for target in targets for contact in lists[target]}
    return Sender(sender_id, content, created, sorted(members.union(extra)))


@dataclass(frozen=True)
class SeededMessages:
    """How many messages, sent between ``start`` and ``now`` (epoch seconds)."""

    count: int
    start: float
    now: float


def seed_messages(
    platform: Platform,
    rng: random.Random,
    sizes: SeededMessages,
    pool: list[str],
    senders: tuple[list[Sender], list[Sender]],
    bodies: list[str],
) -> None:
    """``count`` messages since ``start``, oldest first; the newest still pending.
    About half are ad-hoc sends, 40% a campaign's and 10% a birthday campaign's: each of
    those carries its sender's content, goes to one of its numbers and is sent after it
    was made (a send before any such sender existed is ad hoc)."""
    count, now = sizes.count, sizes.now
    if count == 0:
        return
    tz = platform.tz
    moments = sorted(rng.uniform(sizes.start, now - 1) for _ in range(count))
    # The newest few went out seconds ago: their reports (3 s at the earliest) are still due.
    recent = max(1, min(25, count // 100))
    moments = sorted(moments[:-recent] + [now - rng.uniform(1, 2.9) for _ in range(recent)])
    batch: list[tuple[Any, ...]] = []
    insert = (
        f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}, sender, reference, "
        "status_due_at, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    destinations = rng.choices(pool, k=count)
    contents = rng.choices(bodies, k=count)
    groups = [[sender for sender in group if sender.numbers] for group in senders]
    made = [[sender.created for sender in group] for group in groups]
    kinds = rng.choices(
        (0, 1, 2), weights=(50, 40 if groups[0] else 0, 10 if groups[1] else 0), k=count
    )
    for index, created in enumerate(moments):
        message_id = index + 1
        kind, campaign_id = kinds[index], 0
        destination, content = destinations[index], contents[index]
        if kind:
            group = groups[kind - 1]
            known = bisect.bisect_right(made[kind - 1], created)  # those made by then
            if known:
                sender = group[int(rng.random() * known)]
                campaign_id, content = sender.id, sender.content
                destination = sender.numbers[int(rng.random() * len(sender.numbers))]
        birthday = int(kind == 2 and campaign_id != 0)
        outcome = message_outcome(message_id, platform.account.seed)
        settled = created + outcome.delay_s
        if settled <= now:
            status, dr_status, reason, updated, due = (
                outcome.status,
                outcome.status.capitalize(),
                outcome.reason,
                settled,
                None,
            )
        else:
            status, dr_status, reason, updated, due = "pending", "Pending", "", created, settled
        values = (
            message_id,
            status,
            campaign_id,
            birthday,
            destination,
            content,
            dr_status,
            reason,
            created,
            updated,
        )
        batch.append((*values, "Message", None, due, message_doc(values, tz)))
        if len(batch) >= 50_000:
            platform.store.db.executemany(insert, batch)
            batch.clear()
    platform.store.db.executemany(insert, batch)
