"""A birthday plan carried out through the client (``apply_birthday_plan``), and its
report."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from enum import StrEnum

from ..client import OneConnect
from ..client.errors import NotFoundError, OneConnectError
from .plan import Action, BirthdayPlan, PlannedCampaign


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    WOULD_CREATE = "would create"
    WOULD_UPDATE = "would update"
    ERROR = "error"
    #: The write was attempted and refused or lost; the next run plans it again.
    FAILED = "failed"


@dataclass(frozen=True)
class AppliedCampaign:
    planned: PlannedCampaign
    outcome: Outcome
    campaign_id: int | None
    #: Why, for ``error`` and ``failed``.
    reason: str = ""
    #: Copies of the campaign deleted (``PlannedCampaign.duplicates``; none in a dry run).
    deleted: tuple[int, ...] = ()


@dataclass(frozen=True)
class BirthdayResult:
    items: tuple[AppliedCampaign, ...]
    dry_run: bool
    writes: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def counts(self) -> dict[str, int]:
        return {o.value: sum(i.outcome is o for i in self.items) for o in Outcome}

    @property
    def in_effect(self) -> int:
        """Lists whose campaign now is as the plan wanted (created, updated or unchanged)."""
        done = (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)
        return sum(i.outcome in done for i in self.items)

    @property
    def copies_deleted(self) -> int:
        return sum(len(i.deleted) for i in self.items)

    @property
    def ok(self) -> bool:
        return not any(i.outcome in (Outcome.ERROR, Outcome.FAILED) for i in self.items)


def apply_birthday_plan(
    client: OneConnect, plan: BirthdayPlan, dry_run: bool = False
) -> BirthdayResult:
    """Carry ``plan`` out (or, in a dry run, say what it would do). A refused write is
    recorded as ``failed`` and the other lists still go ahead."""
    done: list[AppliedCampaign] = []
    writes = 0
    for item in plan.items:
        applied, made = _apply(client, item, dry_run)
        done.append(applied)
        writes += made
    return BirthdayResult(tuple(done), dry_run, writes, plan.warnings)


#: What a dry run says of each planned action.
_WOULD = {
    Action.CREATE: Outcome.WOULD_CREATE,
    Action.UPDATE: Outcome.WOULD_UPDATE,
    Action.UNCHANGED: Outcome.UNCHANGED,
}


def _apply(client: OneConnect, item: PlannedCampaign, dry_run: bool) -> tuple[AppliedCampaign, int]:
    """One list's campaign carried out: what became of it, and the write requests made.
    Its copies go first (a copy already gone counts as deleted)."""
    if item.action is Action.ERROR:
        return AppliedCampaign(item, Outcome.ERROR, item.campaign_id, "; ".join(item.errors)), 0
    if dry_run:
        return AppliedCampaign(item, _WOULD[item.action], item.campaign_id), 0
    deleted: list[int] = []
    writes = 0
    try:
        for copy in item.duplicates:
            writes += 1
            with contextlib.suppress(NotFoundError):
                client.birthday_campaigns.delete(copy)
            deleted.append(copy)
        campaign_id, outcome = item.campaign_id, Outcome.UNCHANGED
        if item.action is not Action.UNCHANGED:
            writes += 1
            campaign_id, outcome = _write(client, item)
    except OneConnectError as exc:
        reason = str(exc)
        if len(deleted) < len(item.duplicates):
            copy = item.duplicates[len(deleted)]
            reason = f"deleting the copy {copy} of campaign {item.campaign_id}: {reason}"
        return AppliedCampaign(
            item, Outcome.FAILED, item.campaign_id, reason, tuple(deleted)
        ), writes
    return AppliedCampaign(item, outcome, campaign_id, deleted=tuple(deleted)), writes


def _write(client: OneConnect, item: PlannedCampaign) -> tuple[int | None, Outcome]:
    """The planned create, or the update of only the changed fields."""
    desired = item.desired
    assert desired is not None  # create and update always carry it
    if item.action is Action.CREATE:
        created = client.birthday_campaigns.create(
            desired.name,
            desired.content,
            desired.recipient_lists,
            title=desired.title_id,
            active=desired.active,
        )
        return created.id, Outcome.CREATED
    assert item.campaign_id is not None
    send = set(item.changes)
    client.birthday_campaigns.update(
        item.campaign_id,
        name=desired.name if "name" in send else None,
        content=desired.content if "content" in send else None,
        lists=desired.recipient_lists if "recipient_lists" in send else None,
        title=desired.title_id if "title" in send else None,
        active=desired.active if "active" in send else None,
    )
    return item.campaign_id, Outcome.UPDATED


def plan_markdown(result: BirthdayResult) -> str:
    """The plan and what became of it, one row per list (no personal data: names, ids
    and field names only)."""
    if not result.items:
        return "_no target list_"
    lines = [
        "| list | campaign | id | action | outcome | changes | detail |",
        "| --- | --- | ---: | --- | --- | --- | --- |",
    ]
    for applied in result.items:
        item = applied.planned
        gone = f"deleted copies {', '.join(map(str, applied.deleted))}" if applied.deleted else ""
        detail = "; ".join(filter(None, [applied.reason, gone])) or "; ".join(item.warnings)
        lines.append(
            f"| {_cell(item.spec.list_name)} | {_cell(item.spec.name)} "
            f"| {applied.campaign_id or '-'} | {item.action.value} | {applied.outcome.value} "
            f"| {', '.join(item.changes) or '-'} | {_cell(detail) or '-'} |"
        )
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
