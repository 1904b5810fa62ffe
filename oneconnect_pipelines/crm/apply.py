"""Applying a sync plan through the client: only real changes written, every row accounted.

Creates and updates go out with bounded concurrency; a write that fails is recorded as
``failed`` with its reason (the next run of the file plans it again, since the plan is
always made against the account as it is then). Then the target lists' membership is
made right: the list is created when missing, the synced contacts are added in
batches, and in ``mirror`` mode members that are no longer in the export are removed
(a contact that a rejected or failed row still names keeps its membership); a list
that cannot be made right is recorded with its error, never raised past the rows'
outcomes. A dry run makes the same plan and writes nothing.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..client import OneConnect
from ..client.errors import APIError, OneConnectError
from ..schemas import TEXT
from .mapping import MappingError
from .plan import SyncPlan

#: What every row ends as; they always add up to the rows of the file.
FINAL_OUTCOMES = ("created", "updated", "unchanged", "rejected", "failed")
_FINAL = {
    "create": "created",
    "update": "updated",
    "unchanged": "unchanged",
    "rejected": "rejected",
}
#: Rows whose contact belongs in the target lists.
_IN_LISTS = ("created", "updated", "unchanged")


@dataclass(frozen=True)
class ApplyOptions:
    lists: tuple[str, ...] = ()
    mirror: bool = False
    dry_run: bool = False
    concurrency: int = 4
    batch_size: int = 500

    def __post_init__(self) -> None:
        # OneConnect keeps a list's name stripped, and finds it by that name only
        names = tuple(name.strip() for name in self.lists)
        if "" in names:
            raise MappingError("a target list's name is blank (lists)")
        object.__setattr__(self, "lists", tuple(dict.fromkeys(names)))


@dataclass(frozen=True)
class ListChange:
    name: str
    list_id: int | None
    created: bool
    added: int
    removed: int
    #: Write requests it took (0 in a dry run).
    writes: int = 0
    #: Why the membership could not be made right (the next attempt tries again).
    error: str | None = None
    #: Mirror mode: members not synced from this file that stay, because a rejected or
    #: failed row names them or rows could not be read (``note`` says which).
    kept: int = 0
    note: str | None = None


@dataclass(frozen=True, repr=False)
class SyncResult:
    """One row per file row (``row``, ``match_key``, ``outcome``, ``reason``,
    ``contact_id``) and what happened to each target list."""

    rows: pd.DataFrame
    lists: list[ListChange] = field(default_factory=list)
    writes: int = 0

    @property
    def complete(self) -> bool:
        """Nothing is left to retry: no row failed and every target list is right."""
        return self.counts["failed"] == 0 and all(c.error is None for c in self.lists)

    @property
    def counts(self) -> dict[str, int]:
        tally = self.rows["outcome"].value_counts()
        return {
            "rows": len(self.rows),
            **{name: int(tally.get(name, 0)) for name in FINAL_OUTCOMES},
        }

    def __repr__(self) -> str:
        return f"SyncResult({self.counts})"


def apply_plan(
    client: OneConnect, plan: SyncPlan, options: ApplyOptions = ApplyOptions()
) -> SyncResult:
    """Carry out ``plan`` (or, in a dry run, say what it would do)."""
    rows = plan.rows[["row", "match_key", "outcome", "reason", "contact_id"]].copy()
    outcomes = [_FINAL[str(o)] for o in plan.rows["outcome"]]
    reasons: list[Any] = list(rows["reason"])
    contact_ids: list[Any] = list(rows["contact_id"])
    writes = 0
    if not options.dry_run:
        work = [i for i, o in enumerate(outcomes) if o in ("created", "updated")]
        with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
            done = pool.map(lambda i: _write(client, plan.rows.iloc[i]), work)
            for index, (contact_id, error) in zip(work, done, strict=True):
                writes += 1
                if error is None:
                    contact_ids[index] = contact_id
                else:
                    outcomes[index], reasons[index] = "failed", error
    rows["outcome"] = pd.Categorical(outcomes, categories=list(FINAL_OUTCOMES))
    rows["reason"] = pd.array(reasons, dtype=TEXT)
    rows["contact_id"] = pd.array(contact_ids, dtype="Int64")
    members = {
        int(cid)
        for cid, o in zip(contact_ids, outcomes, strict=True)
        if o in _IN_LISTS and not pd.isna(cid)
    }
    # a dry run creates nobody: its planned contacts have no id yet, but would be added
    unmade = sum(
        o == "created" and pd.isna(cid) for cid, o in zip(contact_ids, outcomes, strict=True)
    )
    changes = [_sync_list(client, name, members, unmade, plan, options) for name in options.lists]
    return SyncResult(rows, changes, writes + sum(change.writes for change in changes))


def _write(client: OneConnect, planned: pd.Series) -> tuple[int | None, str | None]:
    """One create or update; the failure's reason instead of an exception."""
    changes = dict(planned["changes"] or {})
    try:
        if planned["outcome"] == "create":
            return client.contacts.create(**changes).id, None
        return client.contacts.update(int(planned["contact_id"]), **changes).id, None
    except OneConnectError as error:
        return None, failure_reason(error)


def failure_reason(error: OneConnectError) -> str:
    if isinstance(error, APIError):
        return "OneConnect refused it: " + "; ".join(error.errors or [error.message])
    return f"{type(error).__name__}: {error.message}"


def _sync_list(
    client: OneConnect,
    name: str,
    members: set[int],
    unmade: int,
    plan: SyncPlan,
    options: ApplyOptions,
) -> ListChange:
    """Create the list if missing, add the members it lacks (and, in a dry run, the
    ``unmade`` contacts it would create), in mirror mode remove the members no row of the
    file names; what went wrong on the server is recorded, not raised."""
    try:
        current = client.lists.membership(name)
        have = set(current.member_ids) if current else set()
        add = sorted(members - have)
        remove, note = _removals(have - members, plan) if options.mirror else ([], None)
        kept = len(have - members) - len(remove) if options.mirror else 0
        if options.dry_run:
            return ListChange(
                name,
                current.id if current else None,
                current is None,
                len(add) + unmade,
                len(remove),
                kept=kept,
                note=note,
            )
        target = current or client.lists.create(name)
        writes = int(current is None)
        if add:
            writes += client.lists.add_members(target.id, add, batch_size=options.batch_size)
        if remove:
            writes += client.lists.remove_members(target.id, remove, batch_size=options.batch_size)
        return ListChange(
            name, target.id, current is None, len(add), len(remove), writes, kept=kept, note=note
        )
    except OneConnectError as error:
        return ListChange(name, None, False, 0, 0, error=failure_reason(error))


def _removals(unsynced: set[int], plan: SyncPlan) -> tuple[list[int], str | None]:
    """The members mirror mode removes, and why some stay. A row that is in the file never
    costs its contact the list, even when the row was rejected or its write failed; while
    a row could not be read at all, or names nobody for want of a readable phone number,
    nobody is removed, since it might be anyone's; nor when the file has no rows."""
    if unsynced and plan.rows.empty:  # an export cut off after its header, most likely
        return [], "no member removed: the file has no rows"
    for unknown, why in (
        (plan.unread, "could not be read"),
        (plan.unnamed, "have a phone number that could not be read (whose they are is unknown)"),
    ):
        if unknown and unsynced:
            rows = ", ".join(str(row) for row in unknown[:5])
            more = ", ..." if len(unknown) > 5 else ""
            return [], f"no member removed: row(s) {rows}{more} {why}"
    return sorted(unsynced - plan.named), None


def rejected_rows(result: SyncResult) -> pd.DataFrame:
    """The rows to report back to the CRM's owners: rejected and failed, with reasons."""
    mask = result.rows["outcome"].isin(["rejected", "failed"])
    return result.rows.loc[mask, ["row", "match_key", "outcome", "reason"]].reset_index(drop=True)
