"""The platform's behaviour: the account, sending SMS, and what happens as time passes.

Everything time-driven (scheduled messages, campaign occurrences, birthday greetings,
delivery status changes and their reports, title activation) is an event with a due
time. ``catch_up`` runs every event that has fallen due on the simulated clock, oldest
first, so the message history looks as if the platform had been running all along.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from .account import Account, load_account, store_account
from .clock import SimClock
from .delivery import NO_BALANCE_REASON, due_reports, message_outcome, settle_statuses
from .records import CONTACT_COLUMNS, MESSAGE_COLUMNS, contact_doc, message_doc
from .store import Store
from .timetable import local, next_birthday_run, occurrence
from .wire import celebrated

DEFAULT_SENDER = "Message"
_INFINITY = float("inf")


@dataclass
class Platform:
    store: Store
    clock: SimClock
    account: Account
    outbox: list[dict[str, str]] = field(default_factory=list)
    _next_due: float = 0.0

    # ------------------------------------------------------------------ account
    @classmethod
    def open(cls, store: Store, clock: SimClock, defaults: Account) -> Platform:
        """The account stored in ``store``, or ``defaults`` written there if it is new."""
        account = load_account(store)
        if account is None:
            store_account(store, defaults)
        return cls(store, clock, account or defaults)

    def save_account(self) -> None:
        store_account(self.store, self.account)

    def update_account(self, **changes: Any) -> None:
        moved = "timezone" in changes and changes["timezone"] != self.account.timezone
        self.account = replace(self.account, **changes)
        self.save_account()
        if moved:
            self.rebuild_docs()
            self.reschedule()

    def reschedule(self) -> None:
        """Every pending send again in the account's (new) timezone: a greeting kept at
        10:00 in the old one went out a second time that day, at 10:00 in the new."""
        now = self.now()
        pending = "SELECT id, next_index FROM campaigns WHERE next_run_at IS NOT NULL"
        with self.store.transaction():
            for campaign_id, index in self.store.execute(pending).fetchall():
                self.schedule_campaign(campaign_id, index, after=now)
            next_run = next_birthday_run(now, self.tz)
            self.store.execute("UPDATE birthday_campaigns SET next_run_at = ?", (next_run,))
        self.changed()

    @property
    def tz(self) -> ZoneInfo:
        return self.account.timezone

    def now(self) -> float:
        return self.clock.now()

    def local(self, epoch: float) -> datetime:
        return local(epoch, self.tz)

    def changed(self) -> None:
        """Something that may schedule an event was written: look again before the next request."""
        self._next_due = 0.0

    # ------------------------------------------------------------------ sending
    def sender_name(self, title_id: int | None) -> str:
        """The title's name if it is active; otherwise OneConnect's default sender."""
        if title_id is None:
            return DEFAULT_SENDER
        row = self.store.execute(
            "SELECT name, active FROM titles WHERE id = ?", (title_id,)
        ).fetchone()
        return row[0] if row and row[1] else DEFAULT_SENDER

    def numbers_of(
        self,
        contact_ids: Iterable[int] = (),
        list_ids: Iterable[int] = (),
        destinations: Iterable[str] = (),
    ) -> list[str]:
        """Every phone number a send reaches, each once, in a stable order."""
        numbers: dict[str, None] = {}
        for contact_id in contact_ids:
            row = self.store.execute(
                "SELECT phone_number FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
            if row:
                numbers[row[0]] = None
        for list_id in list_ids:
            for (number,) in self.store.execute(
                "SELECT c.phone_number FROM list_members m JOIN contacts c "
                "ON c.id = m.contact_id WHERE m.list_id = ? ORDER BY c.id",
                (list_id,),
            ):
                numbers[number] = None
            extra = self.store.one("SELECT noncontact_members FROM lists WHERE id = ?", (list_id,))
            if extra:
                numbers.update(dict.fromkeys(orjson.loads(extra).get("phone_number", [])))
        numbers.update(dict.fromkeys(destinations))
        return list(numbers)

    def send(
        self,
        numbers: Sequence[str],
        content: str,
        *,
        sender: str,
        at: float,
        campaign_id: int = 0,
        birthday: bool = False,
        reference: str | None = None,
    ) -> int:
        """Record one message per number and charge one SMS each. Numbers beyond the
        balance end ``undelivered`` at no cost (the API refuses such sends up front).

        With a ``reference``, each message also owes one delivery report, kept apart from
        the message history: trimming the history must not cancel a report, and a message
        that ends at once (no balance) is reported at once."""
        if not numbers:
            return 0
        tz = self.tz
        balance = self.account.sms_balance
        paid = min(balance, len(numbers))
        first_id = (
            self.store.one("SELECT seq FROM sqlite_sequence WHERE name = 'messages'") or 0
        ) + 1
        rows, reports = [], []
        for offset, number in enumerate(numbers):
            message_id = first_id + offset
            if offset < paid:
                outcome = message_outcome(message_id, self.account.seed)
                status, dr_status, dr_reason = "pending", "Pending", ""
                due: float | None = at + outcome.delay_s
                report = (at + outcome.delay_s, outcome.status.capitalize(), outcome.reason)
            else:
                status, dr_status, dr_reason, due = (
                    "undelivered",
                    "Undelivered",
                    NO_BALANCE_REASON,
                    None,
                )
                report = (at, dr_status, dr_reason)  # final already: reported now
            values = (
                message_id,
                status,
                campaign_id,
                int(birthday),
                number,
                content,
                dr_status,
                dr_reason,
                at,
                at,
            )
            rows.append((*values, sender, reference, due, message_doc(values, tz)))
            if reference is not None:
                due_at, report_status, report_reason = report
                reports.append(
                    (message_id, due_at, reference, number, report_status, report_reason)
                )
        self.store.db.executemany(
            f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}, sender, reference, "
            "status_due_at, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        self.store.db.executemany(
            "INSERT INTO delivery_reports (message_id, due_at, reference, destination, status, "
            "reason) VALUES (?,?,?,?,?,?)",
            reports,
        )
        self.store.inserted_many("messages", (row[0] for row in rows))
        if paid:
            self.update_account(sms_balance=balance - paid)
        self.changed()
        return len(rows)

    # ------------------------------------------------------------------ time
    def catch_up(self) -> None:
        """Run everything that has fallen due on the simulated clock."""
        now = self.clock.now()
        if now < self._next_due:
            return
        with self.store.transaction():
            self._activate_titles(now)
            while (event := self._next_event(now)) is not None:
                kind, record_id, due = event
                if kind == "scheduled":
                    self._send_scheduled(record_id, due)
                elif kind == "campaign":
                    self._run_campaign(record_id, due)
                else:
                    self._run_birthday_campaign(record_id, due)
            settle_statuses(self.store, self.account.seed, self.tz, now)
            self.outbox.extend(due_reports(self.store, self.account.callback_url, now))
            self.trim_history()
        self._next_due = self._compute_next_due()

    def _next_event(self, now: float) -> tuple[str, int, float] | None:
        candidates = []
        for kind, sql in (
            ("scheduled", "SELECT id, due_at FROM scheduled_messages ORDER BY due_at, id"),
            (
                "campaign",
                "SELECT id, next_run_at FROM campaigns WHERE next_run_at IS NOT NULL "
                "ORDER BY next_run_at, id",
            ),
            ("birthday", "SELECT id, next_run_at FROM birthday_campaigns ORDER BY next_run_at, id"),
        ):
            row = self.store.execute(sql + " LIMIT 1").fetchone()
            if row and row[1] <= now:
                candidates.append((row[1], kind, row[0]))
        if not candidates:
            return None
        due, kind, record_id = min(candidates)
        return kind, record_id, due

    def _compute_next_due(self) -> float:
        dues = [
            self.store.one(sql)
            for sql in (
                "SELECT MIN(due_at) FROM scheduled_messages",
                "SELECT MIN(next_run_at) FROM campaigns",
                "SELECT MIN(next_run_at) FROM birthday_campaigns",
                "SELECT MIN(status_due_at) FROM messages WHERE final_status = 'pending'",
                "SELECT MIN(due_at) FROM delivery_reports",
                "SELECT MIN(activate_at) FROM titles WHERE active = 0",
            )
        ]
        return min((due for due in dues if due is not None), default=_INFINITY)

    def _activate_titles(self, now: float) -> None:
        cursor = self.store.execute(
            "UPDATE titles SET active = 1, updated_at = activate_at "
            "WHERE active = 0 AND activate_at <= ?",
            (now,),
        )
        if cursor.rowcount:
            self.store.touch("titles")

    def _send_scheduled(self, record_id: int, due: float) -> None:
        payload = orjson.loads(
            self.store.one("SELECT payload FROM scheduled_messages WHERE id = ?", (record_id,))
        )
        self.store.execute("DELETE FROM scheduled_messages WHERE id = ?", (record_id,))
        numbers = self.numbers_of(payload["contacts"], payload["lists"], payload["destination"])
        self.send(
            numbers,
            payload["content"],
            sender=self.sender_name(payload["title"]),
            at=due,
            reference=payload["reference"],
        )

    def _run_campaign(self, campaign_id: int, due: float) -> None:
        row = self.store.execute(
            "SELECT active, recipients, recipients_list, title_id, content, next_index "
            "FROM campaigns WHERE id = ?",
            (campaign_id,),
        ).fetchone()
        active, recipients, list_ids, title_id, content, index = row
        if active:
            numbers = self.numbers_of(
                (), orjson.loads(list_ids), [n.strip() for n in recipients.split(",") if n.strip()]
            )
            self.send(
                numbers, content, sender=self.sender_name(title_id), at=due, campaign_id=campaign_id
            )
        self.schedule_campaign(campaign_id, index + 1, after=due)

    def schedule_campaign(self, campaign_id: int, index: int, after: float) -> None:
        """Point a campaign at its first occurrence at or after ``index`` that is later
        than ``after`` (occurrences missed while it was created or inactive are skipped)."""
        schedule, job_type = self.store.execute(
            "SELECT schedule, job_type FROM campaigns WHERE id = ?", (campaign_id,)
        ).fetchone()
        plan = orjson.loads(schedule)
        moment = occurrence(plan, index, self.tz)
        while moment is not None and moment <= after:
            index += 1
            moment = occurrence(plan, index, self.tz)
        completed = None if job_type == 1 else int(moment is None)
        self.store.execute(
            "UPDATE campaigns SET next_index = ?, next_run_at = ?, completed = ? WHERE id = ?",
            (index, moment, completed, campaign_id),
        )
        self.store.touch("campaigns")

    def _run_birthday_campaign(self, campaign_id: int, due: float) -> None:
        active, content, list_ids, title_id = self.store.execute(
            "SELECT active, content, recipient_lists, title_id FROM birthday_campaigns "
            "WHERE id = ?",
            (campaign_id,),
        ).fetchone()
        if active:
            numbers = self.birthday_numbers(self.local(due).date(), orjson.loads(list_ids))
            self.send(
                numbers,
                content,
                sender=self.sender_name(title_id),
                at=due,
                campaign_id=campaign_id,
                birthday=True,
            )
        self.store.execute(
            "UPDATE birthday_campaigns SET next_run_at = ? WHERE id = ?",
            (next_birthday_run(due, self.tz), campaign_id),
        )

    def birthday_numbers(self, day: date, list_ids: Sequence[int]) -> list[str]:
        """Members of the lists whose birthday is celebrated on ``day`` (29 February on
        28 February in non-leap years)."""
        if not list_ids:
            return []
        days = [day.strftime("%m-%d")]
        if celebrated(date(2000, 2, 29), day.year) == day and day.day == 28:
            days.append("02-29")
        marks = ",".join("?" * len(list_ids))
        rows = self.store.execute(
            "SELECT DISTINCT c.id, c.phone_number FROM contacts c JOIN list_members m "
            f"ON m.contact_id = c.id WHERE m.list_id IN ({marks}) AND c.birthday_md IN "
            f"({','.join('?' * len(days))}) ORDER BY c.id",
            (*list_ids, *days),
        )
        return [number for _, number in rows]

    def trim_history(self) -> None:
        """Keep only the plan's message history (call inside a transaction)."""
        limit = self.account.plan.messages_history_limit
        if limit is None or self.store.count("messages") <= limit:
            return
        old = self.store.newest_ids("messages", limit)
        self.store.execute("DELETE FROM messages WHERE id <= ?", (old[-1],))
        self.store.deleted("messages", old)

    # ------------------------------------------------------------------ maintenance
    def rebuild_docs(self) -> None:
        """Re-render every cached record (after the account's timezone changed)."""
        tz = self.tz
        with self.store.transaction():
            for table, columns, render in (
                ("contacts", CONTACT_COLUMNS, contact_doc),
                ("messages", MESSAGE_COLUMNS, message_doc),
            ):
                rows = self.store.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
                self.store.db.executemany(
                    f"UPDATE {table} SET doc = ? WHERE id = ?",
                    [(render(row, tz), row[0]) for row in rows],
                )
                self.store.touch(table)
