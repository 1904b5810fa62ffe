"""Desired birthday campaigns, one per target list, reconciled with the account's.

``plan_birthday_campaigns`` compares what should exist with what does and says, per
list, what to do (create, update only the differing fields, leave alone, or refuse with
a reason); it is pure, so a dry run and a real run classify identically.
``apply_birthday_plan`` carries a plan out through the client. ``check_content`` says
how a text travels as SMS (GSM-7 or UCS-2) before the platform is asked to send it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from .client import OneConnect
from .client.errors import OneConnectError

#: The platform refuses longer content (error 1010); it counts characters, not septets.
MAX_CONTENT = 160
DEFAULT_NAME_FORMAT = "Birthday greetings: {list}"
DEFAULT_CONTENT = "Happy birthday! We wish you a wonderful year ahead."
#: The sender name OneConnect uses when a campaign's title is not (yet) active.
DEFAULT_SENDER = "Message"

# GSM 03.38 (3GPP TS 23.038) default alphabet, row by row as the standard prints it
# (positions 0x00-0x7F). Position 0x1B is the escape to the extension table, not a
# character, so it is written as "\x1b" here and excluded below. Spelled out rather than
# taken from a codec: Python has none for GSM-7, and a hand-made table is checkable.
_GSM7_ROWS = (
    "@£$¥èéùìòÇ\nØø\rÅå",  # 0x00
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ",  # 0x10
    " !\"#¤%&'()*+,-./",  # 0x20
    "0123456789:;<=>?",  # 0x30
    "¡ABCDEFGHIJKLMNO",  # 0x40
    "PQRSTUVWXYZÄÖÑÜ§",  # 0x50
    "¿abcdefghijklmno",  # 0x60
    "pqrstuvwxyzäöñüà",  # 0x70
)
GSM7_BASIC = frozenset("".join(_GSM7_ROWS)) - {"\x1b"}
# The extension table: each of these is sent as ESC + a code, so it takes two septets of
# the 160 a single GSM-7 SMS holds. (Form feed is in it too, for completeness.)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

#: Room in one SMS, and per part once a message is split (the rest holds the UDH).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class ContentProblem:
    severity: Severity
    message: str


@dataclass(frozen=True)
class ContentCheck:
    """How a text travels: its encoding, the room it takes, and what is wrong with it."""

    characters: int
    encoding: str  # "GSM-7" or "UCS-2"
    #: Septets (GSM-7) or UTF-16 code units (UCS-2): what the 160/70 limits count.
    units: int
    segments: int
    #: Characters outside GSM-7, in order of first appearance (why it is UCS-2).
    non_gsm: str
    problems: tuple[ContentProblem, ...]

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(p.message for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(p.message for p in self.problems if p.severity is Severity.WARNING)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def gsm7_septets(text: str) -> int:
    """Septets ``text`` takes in GSM-7 (extension characters take two). Assumes is_gsm7."""
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def check_content(text: str) -> ContentCheck:
    """Errors the platform would answer (blank, over 160 characters) and warnings about
    what the recipient pays for (UCS-2, more than one SMS), found before any write."""
    problems: list[ContentProblem] = []
    if not text.strip():
        problems.append(ContentProblem(Severity.ERROR, "content is blank"))
    if len(text) > MAX_CONTENT:
        problems.append(
            ContentProblem(
                Severity.ERROR,
                f"content has {len(text)} characters; OneConnect accepts at most {MAX_CONTENT}",
            )
        )
    non_gsm = "".join(
        dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION)
    )
    if non_gsm:
        encoding, single, part = "UCS-2", UCS2_SINGLE, UCS2_PART
        units = len(text.encode("utf-16-le")) // 2
        shown = ", ".join(repr(ch) for ch in non_gsm[:5]) + (", ..." if len(non_gsm) > 5 else "")
        problems.append(
            ContentProblem(
                Severity.WARNING,
                f"content has characters outside GSM-7 ({shown}): it is sent as UCS-2, "
                f"where one SMS holds only {UCS2_SINGLE} characters",
            )
        )
    else:
        encoding, single, part = "GSM-7", GSM7_SINGLE, GSM7_PART
        units = gsm7_septets(text)
    segments = 1 if units <= single else math.ceil(units / part)
    if segments > 1:
        extension = encoding == "GSM-7" and units > len(text)
        problems.append(
            ContentProblem(
                Severity.WARNING,
                f"content takes {units} {'septets' if encoding == 'GSM-7' else 'UCS-2 units'}"
                + (" (extension characters count twice)" if extension else "")
                + f": each greeting is sent as {segments} SMS",
            )
        )
    return ContentCheck(len(text), encoding, units, segments, non_gsm, tuple(problems))


def campaign_name(name_format: str, list_name: str) -> str:
    """The campaign's name for a list: ``name_format`` with ``{list}`` filled in."""
    try:
        return name_format.format(list=list_name)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"name format {name_format!r} is not valid: only {{list}} may be used ({exc})"
        ) from None


@dataclass(frozen=True)
class BirthdayCampaignSpec:
    """The birthday campaign one list should have. Content is literal or, when
    ``template`` is given, the body of the saved template with that title. ``title`` is
    a sender name; None leaves whatever sender the campaign has (the API cannot clear it)."""

    list_name: str
    name: str
    content: str | None = DEFAULT_CONTENT
    template: str | None = None
    title: str | None = None
    active: bool = True

    @classmethod
    def for_list(
        cls,
        list_name: str,
        *,
        name_format: str = DEFAULT_NAME_FORMAT,
        content: str | None = DEFAULT_CONTENT,
        template: str | None = None,
        title: str | None = None,
        active: bool = True,
    ) -> BirthdayCampaignSpec:
        return cls(
            list_name, campaign_name(name_format, list_name), content, template, title, active
        )


# What the planner reads off the account: the client's records fit, and so do test doubles.
class CampaignRecord(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def active(self) -> bool: ...
    @property
    def content(self) -> str: ...
    @property
    def recipient_lists(self) -> tuple[int, ...]: ...
    @property
    def title(self) -> str | None: ...


class ListRecord(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...


class TitleRecord(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def active(self) -> bool: ...


class TemplateRecord(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


#: The fields a plan may change, in the order they are reported.
FIELDS = ("name", "active", "content", "recipient_lists", "title")


@dataclass(frozen=True)
class Desired:
    """A campaign as it should be. ``title_id`` None: the sender is not managed."""

    name: str
    active: bool
    content: str
    recipient_lists: tuple[int, ...]
    title_id: int | None
    title_name: str | None


@dataclass(frozen=True)
class PlannedCampaign:
    spec: BirthdayCampaignSpec
    action: Action
    #: The existing campaign to update or leave alone.
    campaign_id: int | None = None
    desired: Desired | None = None
    #: Fields to send: all of them for a create, only the differing ones for an update.
    changes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    content_check: ContentCheck | None = None


@dataclass(frozen=True)
class BirthdayPlan:
    items: tuple[PlannedCampaign, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {action.value: sum(i.action is action for i in self.items) for action in Action}

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f"{i.spec.list_name}: {w}" for i in self.items for w in i.warnings)


def plan_birthday_campaigns(
    specs: Sequence[BirthdayCampaignSpec],
    campaigns: Iterable[CampaignRecord],
    lists: Iterable[ListRecord],
    titles: Iterable[TitleRecord],
    templates: Iterable[TemplateRecord] = (),
) -> BirthdayPlan:
    """One planned action per spec, in the specs' order. Never plans a second campaign
    for a list: the campaign that targets the list or bears the spec's name is the one to
    update, and when that is ambiguous the spec is an error naming the candidates."""
    campaigns = sorted(campaigns, key=lambda c: c.id)
    list_ids = {item.name: item.id for item in lists}
    titles_by_name = {title.name: title for title in titles}
    templates = list(templates)

    resolved: list[
        tuple[BirthdayCampaignSpec, Desired | None, list[str], list[str], ContentCheck | None]
    ] = []
    for spec in specs:
        desired, errors, warnings, check = _desired(spec, list_ids, titles_by_name, templates)
        resolved.append((spec, desired, errors, warnings, check))

    # Specs that would fight over one list or one name: each would undo the other.
    lists_seen = _repeated([spec.list_name for spec in specs])
    names_seen = _repeated([spec.name for spec in specs])

    candidates: dict[int, list[CampaignRecord]] = {}
    for index, (spec, desired, *_) in enumerate(resolved):
        list_id = desired.recipient_lists[-1] if desired else list_ids.get(spec.list_name)
        candidates[index] = [
            c
            for c in campaigns
            if c.name == spec.name or (list_id is not None and list_id in c.recipient_lists)
        ]
    claimed_by: dict[int, list[str]] = {}
    for index, found in candidates.items():
        for campaign in found:
            claimed_by.setdefault(campaign.id, []).append(resolved[index][0].list_name)

    items = []
    for index, (spec, desired, errors, warnings, check) in enumerate(resolved):
        if spec.list_name in lists_seen:
            errors.append(f"list {spec.list_name!r} is configured more than once")
        if spec.name in names_seen:
            errors.append(
                f"campaign name {spec.name!r} is given to more than one list; "
                "each list needs its own name (use {list} in the name format)"
            )
        found = candidates[index]
        if len(found) > 1:
            errors.append(
                f"several birthday campaigns already target this list or bear its name "
                f"(ids {', '.join(str(c.id) for c in found)}); merge or delete all but one"
            )
        shared = sorted({other for c in found for other in claimed_by[c.id]} - {spec.list_name})
        if len(found) == 1 and shared:
            errors.append(
                f"birthday campaign {found[0].id} is also matched by list(s) "
                f"{', '.join(map(repr, shared))}; give each list its own campaign"
            )
        if errors or desired is None:
            items.append(
                PlannedCampaign(
                    spec,
                    Action.ERROR,
                    campaign_id=found[0].id if len(found) == 1 else None,
                    errors=tuple(errors),
                    warnings=tuple(warnings),
                    content_check=check,
                )
            )
            continue
        if not found:
            changes = tuple(f for f in FIELDS if f != "title" or desired.title_id is not None)
            items.append(
                PlannedCampaign(
                    spec, Action.CREATE, None, desired, changes, (), tuple(warnings), check
                )
            )
            continue
        current = found[0]
        target = [*current.recipient_lists]
        list_id = desired.recipient_lists[-1]
        if list_id not in target:
            target.append(list_id)
        # Other lists the campaign already targets are kept: removing them would silently
        # stop their members' greetings.
        desired = Desired(
            desired.name,
            desired.active,
            desired.content,
            tuple(target),
            desired.title_id,
            desired.title_name,
        )
        others = [i for i in target if i != list_id]
        if others:
            warnings.append(
                f"birthday campaign {current.id} also targets list id(s) "
                f"{', '.join(map(str, others))}; their members get this greeting too"
            )
        differs = {
            "name": current.name != desired.name,
            "active": current.active != desired.active,
            "content": current.content != desired.content,
            "recipient_lists": tuple(current.recipient_lists) != desired.recipient_lists,
            "title": desired.title_id is not None and current.title != desired.title_name,
        }
        changes = tuple(f for f in FIELDS if differs[f])
        action = Action.UPDATE if changes else Action.UNCHANGED
        items.append(
            PlannedCampaign(spec, action, current.id, desired, changes, (), tuple(warnings), check)
        )
    return BirthdayPlan(tuple(items))


def _repeated(values: Sequence[str]) -> set[str]:
    return {value for value, times in Counter(values).items() if times > 1}


def _desired(
    spec: BirthdayCampaignSpec,
    list_ids: Mapping[str, int],
    titles: Mapping[str, TitleRecord],
    templates: Sequence[TemplateRecord],
) -> tuple[Desired | None, list[str], list[str], ContentCheck | None]:
    """The spec resolved against the account: ids looked up, content fetched and checked."""
    errors: list[str] = []
    warnings: list[str] = []
    list_id = list_ids.get(spec.list_name)
    if list_id is None:
        errors.append(f"list {spec.list_name!r} does not exist")
    content = spec.content
    if spec.template is not None:
        bodies = {
            t.body: t.id for t in sorted(templates, key=lambda t: t.id) if t.title == spec.template
        }
        if not bodies:
            errors.append(f"template {spec.template!r} does not exist")
        elif len(bodies) > 1:
            errors.append(
                f"several templates are titled {spec.template!r} with different texts "
                f"(ids {', '.join(map(str, bodies.values()))}); rename all but one"
            )
        content = next(iter(bodies)) if len(bodies) == 1 else None
    elif content is None:
        errors.append("neither content nor a template is given")
    check = None
    if content is not None:
        check = check_content(content)
        errors.extend(check.errors)
        warnings.extend(check.warnings)
    title_id = None
    if spec.title is not None:
        title = titles.get(spec.title)
        if title is None:
            errors.append(
                f"sender title {spec.title!r} does not exist (create it; OneConnect's staff "
                "must then activate it)"
            )
        else:
            title_id = title.id
            if not title.active:
                warnings.append(
                    f"sender title {spec.title!r} (id {title.id}) is not activated yet: "
                    f"until OneConnect's staff activate it, greetings go out as "
                    f"{DEFAULT_SENDER!r}"
                )
    if errors or list_id is None or content is None:
        return None, errors, warnings, check
    desired = Desired(spec.name, spec.active, content, (list_id,), title_id, spec.title)
    return desired, errors, warnings, check


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
        if item.action is Action.UNCHANGED:
            done.append(AppliedCampaign(item, Outcome.UNCHANGED, item.campaign_id))
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
                done.append(AppliedCampaign(item, Outcome.UPDATED, item.campaign_id))
        except OneConnectError as exc:
            done.append(AppliedCampaign(item, Outcome.FAILED, item.campaign_id, str(exc)))
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
        detail = applied.reason or "; ".join(item.warnings)
        lines.append(
            f"| {_cell(item.spec.list_name)} | {_cell(item.spec.name)} "
            f"| {applied.campaign_id or '-'} | {item.action.value} | {applied.outcome.value} "
            f"| {', '.join(item.changes) or '-'} | {_cell(detail) or '-'} |"
        )
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
