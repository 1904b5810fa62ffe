"""Deterministic, realistic accounts of any size for tests, the demo and benchmarks.

The same seed and sizes give the same records (values and ids); times are laid out
relative to the simulator's clock at seeding time. What it makes on purpose: names in
several scripts, phone numbers with leading zeros, fields that are null or empty,
birthdays on 29 February, overlapping lists with ``noncontact_members``, campaigns of
every schedule type, and months of messages in every status.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson

from .engine import Platform
from .records import CONTACT_COLUMNS, contact_doc
from .seed_messages import SeededMessages, Sender, seed_messages, sender_of
from .seed_words import (
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    LIST_THEMES,
    REPEATS,
    STREETS,
    TEMPLATES,
    TITLE_NAMES,
)
from .timetable import next_birthday_run

DAY = 86400.0
#: What the seeded birthday campaigns send.
GREETING = "Happy birthday! A 10% gift is waiting for you this week."


@dataclass(frozen=True)
class SeedSizes:
    contacts: int = 500
    lists: int = 8
    campaigns: int = 8
    birthday_campaigns: int = 3
    messages: int = 5000
    titles: int = 3
    templates: int = 5
    message_days: int = 90

    def within(self, platform: Platform) -> SeedSizes:
        """The sizes clamped to the account plan's limits."""
        plan = platform.account.plan

        def cap(value: int, limit: int | None) -> int:
            return value if limit is None else min(value, limit)

        return SeedSizes(
            cap(self.contacts, plan.contacts_limit),
            cap(self.lists, plan.lists_limit),
            cap(self.campaigns, plan.campaigns_limit),
            self.birthday_campaigns,
            cap(self.messages, plan.messages_history_limit),
            cap(self.titles, plan.titles_limit),
            self.templates,
            self.message_days,
        )


def seed_account(platform: Platform, sizes: SeedSizes, seed: int) -> None:
    """Fill an empty account with ``sizes`` worth of records made from ``seed``."""
    sizes = sizes.within(platform)
    rng = random.Random(seed)
    now = platform.now()
    with platform.store.transaction():
        numbers = _contacts(platform, rng, sizes.contacts, now)
        when = _setup_days(sizes, now)
        lists = _lists(platform, rng, sizes.lists, len(numbers), when)
        title_ids = _titles(platform, rng, sizes.titles, when, now)
        bodies = _templates(platform, sizes.templates, when)
        campaigns = _campaigns(
            platform, rng, sizes.campaigns, lists, title_ids, bodies, numbers, when, now
        )
        birthday_campaigns = _birthday_campaigns(
            platform, rng, sizes.birthday_campaigns, lists, title_ids, numbers, when, now
        )
        seed_messages(
            platform,
            rng,
            SeededMessages(sizes.messages, now - sizes.message_days * DAY, now),
            numbers or _phone_numbers(rng, 100),
            (campaigns, birthday_campaigns),
            bodies,
        )
    platform.store.reload_ids()
    platform.changed()


def _setup_days(sizes: SeedSizes, now: float) -> Iterator[float]:
    """When each list, title, template, campaign and birthday campaign was made, in that
    order, a day apart: all before the first message (so every campaign's messages can
    follow it, and every campaign follows its lists)."""
    records = sizes.lists + sizes.titles + sizes.templates
    records += sizes.campaigns + sizes.birthday_campaigns
    setup = now - sizes.message_days * DAY
    return iter([setup - (records - index) * DAY for index in range(records)])


def _phone_numbers(rng: random.Random, count: int) -> list[str]:
    """Unique numbers in the shapes accounts really hold: international without '+',
    national with a leading zero, and a few with the 00 prefix."""
    numbers = []
    for n in rng.sample(range(10**8), count):
        shape = n % 10
        if shape < 6:
            numbers.append(f"9955{n:08d}")
        elif shape < 9:
            numbers.append(f"05{n:08d}")
        else:
            numbers.append(f"009955{n:08d}")
    return numbers


def _maybe(rng: random.Random, value: str, null: float = 0.15, empty: float = 0.1) -> str | None:
    roll = rng.random()
    return None if roll < null else "" if roll < null + empty else value


def _birthday(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.2:
        return None
    if roll < 0.23:  # 29 February on purpose
        return date(rng.choice((1960, 1972, 1984, 1988, 1996, 2000, 2004)), 2, 29).isoformat()
    return (date(1950, 1, 1) + timedelta(days=rng.randrange(58 * 365))).isoformat()


def _contacts(platform: Platform, rng: random.Random, count: int, now: float) -> list[str]:
    tz = platform.tz
    numbers = _phone_numbers(rng, count)
    extra_pool = _phone_numbers(random.Random(rng.random()), max(1, count // 10))
    start = now - 730 * DAY
    rows = []
    for index, number in enumerate(numbers):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        created = start + (index + 1) * (700 * DAY) / (count + 1)
        updated = created + (rng.random() * 20 * DAY if rng.random() < 0.3 else 0.0)
        birthday = _birthday(rng)
        extra = [rng.choice(extra_pool)] if rng.random() < 0.1 else []
        gender = rng.choice(("Male", "Female", "Male", "Female", "", None))
        email = _maybe(rng, f"{_ascii(first)}.{_ascii(last)}{index}@example.com".lower())
        row = (
            index + 1,
            email,
            first,
            _maybe(rng, last, 0.05, 0.05),
            number,
            birthday,
            _maybe(rng, f"{rng.randrange(100, 9999):04d}", 0.3, 0.1),
            _maybe(rng, rng.choice(CITIES)),
            _maybe(rng, rng.choice(STREETS), 0.3),
            orjson.dumps(extra).decode(),
            gender,
            created,
            updated,
        )
        rows.append((*row, birthday[5:] if birthday else None, contact_doc(row, tz)))
    platform.store.db.executemany(
        f"INSERT INTO contacts ({', '.join(CONTACT_COLUMNS)}, birthday_md, doc) "
        f"VALUES ({','.join('?' * (len(CONTACT_COLUMNS) + 2))})",
        rows,
    )
    return numbers


def _ascii(text: str) -> str:
    cleaned = "".join(ch for ch in text if ch.isascii() and ch.isalpha())
    return cleaned or "user"


def _lists(
    platform: Platform, rng: random.Random, count: int, contacts: int, when: Iterator[float]
) -> dict[int, list[int]]:
    """The lists made, each with its contacts' ids."""
    made = {}
    for index in range(count):
        theme = LIST_THEMES[index % len(LIST_THEMES)]
        name = theme if index < len(LIST_THEMES) else f"{theme} {index // len(LIST_THEMES) + 1}"
        extra = None
        if index % 3 == 2:
            size = rng.randrange(2, 8)
            numbers = _phone_numbers(random.Random(rng.random()), size)
            extra = orjson.dumps(
                {
                    "phone_number": numbers,
                    "first_name": [rng.choice(FIRST_NAMES) for _ in numbers],
                    "last_name": [rng.choice(LAST_NAMES) for _ in numbers],
                }
            ).decode()
        created = next(when)
        list_id = index + 1
        platform.store.execute(
            "INSERT INTO lists (id, name, noncontact_members, created_at, updated_at) "
            "VALUES (?,?,?,?,?)",
            (list_id, name, extra, created, created),
        )
        share = rng.uniform(0.05, 0.4)
        members = [cid for cid in range(1, contacts + 1) if rng.random() < share]
        platform.store.db.executemany(
            "INSERT INTO list_members VALUES (?, ?)", [(list_id, cid) for cid in members]
        )
        made[list_id] = members
    return made


def _titles(
    platform: Platform, rng: random.Random, count: int, when: Iterator[float], now: float
) -> list[int]:
    for index in range(count):
        created = next(when)
        active = index < max(1, count - 1)  # the newest one still awaits activation
        platform.store.execute(
            "INSERT INTO titles (id, name, active, activate_at, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?)",
            (
                index + 1,
                TITLE_NAMES[index % len(TITLE_NAMES)] + ("" if index < 5 else str(index)),
                int(active),
                None if active else now + platform.account.title_activation_s,
                created,
                created + (DAY if active else 0),
            ),
        )
    return list(range(1, count + 1))


def _templates(platform: Platform, count: int, when: Iterator[float]) -> list[str]:
    bodies = []
    for index in range(count):
        title, body = TEMPLATES[index % len(TEMPLATES)]
        platform.store.execute(
            "INSERT INTO templates (id, title, body, created_at, updated_at) VALUES (?,?,?,?,?)",
            (index + 1, title, body, created := next(when), created),
        )
        bodies.append(body)
    return bodies or [body for _, body in TEMPLATES]


def _campaigns(
    platform: Platform,
    rng: random.Random,
    count: int,
    lists: dict[int, list[int]],
    title_ids: list[int],
    bodies: list[str],
    numbers: list[str],
    when: Iterator[float],
    now: float,
) -> list[Sender]:
    list_ids = list(lists)
    made = []
    kinds = (
        "scheduled-recurring",
        "scheduled-certain-dates",
        "permanent-recurring",
        "permanent-certain-dates",
    )

    def minute(epoch: float) -> float:
        return epoch - epoch % 60

    for index in range(count):
        kind = kinds[index % 4]
        job_type, campaign_type = int(kind.startswith("permanent")), int("certain" in kind)
        schedule: dict[str, Any] = {"type": kind, "permanent": bool(job_type)}
        if campaign_type:
            schedule["dates"] = sorted(
                minute(now + rng.uniform(-30, 60) * DAY) for _ in range(rng.randrange(1, 4))
            )
        else:
            schedule["start"] = minute(now - rng.uniform(1, 60) * DAY)
            schedule["end"] = None if job_type else minute(now + rng.uniform(-10, 90) * DAY)
            schedule["repeat"] = rng.choice(REPEATS)
        extra = rng.sample(numbers, min(len(numbers), rng.randrange(0, 3)))
        targets = sorted(rng.sample(list_ids, min(len(list_ids), rng.randrange(1, 3))))
        created = next(when)
        content = rng.choice(bodies)
        platform.store.execute(
            "INSERT INTO campaigns (id, name, active, recipients, recipients_list, title_id, "
            "content, job_type, campaign_type, schedule, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                index + 1,
                f"{LIST_THEMES[index % len(LIST_THEMES)]} {kind}",
                int(rng.random() < 0.75),
                ",".join(extra),
                orjson.dumps(targets).decode(),
                rng.choice(title_ids) if title_ids and rng.random() < 0.6 else None,
                content,
                job_type,
                campaign_type,
                orjson.dumps(schedule).decode(),
                created,
                created,
            ),
        )
        platform.store.inserted("campaigns", index + 1)
        platform.schedule_campaign(index + 1, 0, after=now)
        made.append(sender_of(index + 1, content, created, lists, targets, numbers, extra))
    return made


def _birthday_campaigns(
    platform: Platform,
    rng: random.Random,
    count: int,
    lists: dict[int, list[int]],
    title_ids: list[int],
    numbers: list[str],
    when: Iterator[float],
    now: float,
) -> list[Sender]:
    list_ids = list(lists)
    made = []
    for index in range(count):
        targets = sorted(rng.sample(list_ids, min(len(list_ids), rng.randrange(1, 3))))
        created = next(when)
        platform.store.execute(
            "INSERT INTO birthday_campaigns (id, name, active, content, recipient_lists, "
            "title_id, next_run_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                index + 1,
                f"Birthday greetings {index + 1}",
                int(index % 4 != 3),
                GREETING,
                orjson.dumps(targets).decode(),
                rng.choice(title_ids) if title_ids else None,
                next_birthday_run(now, platform.tz),
                created,
                created,
            ),
        )
        made.append(sender_of(index + 1, GREETING, created, lists, targets, numbers))
    return made
