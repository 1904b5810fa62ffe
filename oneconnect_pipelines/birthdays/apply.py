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
        if item.action is Action.ERROR:
            done.append(
                AppliedCampaign(item, Outcome.ERROR, item.campaign_id, "; ".join(item.errors))
            )
            continue
        deleted: list[int] = []
        if item.duplicates and not dry_run:
            try:
                for copy in item.duplicates:
                    writes += 1
                    with contextlib.suppress(NotFoundError):  # gone already: as wanted
                        client.birthday_campaigns.delete(copy)
                    deleted.append(copy)
            except OneConnectError as exc:
                reason = f"deleting the copy {copy} of campaign {item.campaign_id}: {exc}"
                done.append(
                    AppliedCampaign(item, Outcome.FAILED, item.campaign_id, reason, tuple(deleted))
                )
                continue
        if item.action is Action.UNCHANGED:
            done.append(
                AppliedCampaign(item, Outcome.UNCHANGED, item.campaign_id, deleted=tuple(deleted))
            )
            continue
        if dry_run:
            outcome = Outcome.WOULD_CREATE if item.action is Action.CREATE else Outcome.WOULD_UPDATE
            done.append(AppliedCampaign(item, outcome, item.campaign_id))
            continue
        desired = item.desired
        assert desired is not None  # create and update always carry it
        try:
            writes += 1
            if item.action is Action.CREATE:
                created = client.birthday_campaigns.create(
                    desired.name,
                    desired.content,
                    desired.recipient_lists,
                    title=desired.title_id,
                    active=desired.active,
                )
                done.append(AppliedCampaign(item, Outcome.CREATED, created.id))
            else:
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
                done.append(
                    AppliedCampaign(item, Outcome.UPDATED, item.campaign_id, deleted=tuple(deleted))
                )
        except OneConnectError as exc:
            done.append(
                AppliedCampaign(item, Outcome.FAILED, item.campaign_id, str(exc), tuple(deleted))
            )
    return BirthdayResult(tuple(done), dry_run, writes, plan.warnings)


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
