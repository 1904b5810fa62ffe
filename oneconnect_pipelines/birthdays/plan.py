"""Desired birthday campaigns, one per target list, against the account's:
``plan_birthday_campaigns`` says per list what to do (create, update only the differing
fields, leave alone, or refuse with a reason). It is pure, so a dry run and a real run
classify identically."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from string import Formatter
from typing import Protocol

from .sms import (
    DEFAULT_CONTENT,
    DEFAULT_NAME_FORMAT,
    DEFAULT_SENDER,
    ContentCheck,
    check_content,
)


def campaign_name(name_format: str, list_name: str) -> str:
    """The campaign's name for a list: ``name_format`` with ``{list}`` filled in (the
    list's name itself: not its attributes or items, which would name a method or a
    letter)."""
    try:
        fields = {field for _, field, _, _ in Formatter().parse(name_format) if field is not None}
        if fields - {"list"}:
            raise ValueError(f"it uses {', '.join(sorted(repr(f) for f in fields - {'list'}))}")
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

    def __post_init__(self) -> None:
        # OneConnect strips the text it stores: compared as stored, a greeting with a
        # trailing newline (a YAML block) is the campaign the last run wrote, not a change
        object.__setattr__(self, "name", self.name.strip())
        for text in ("content", "template", "title"):  # looked up as stored: stripped
            value = getattr(self, text)
            if value is not None:
                object.__setattr__(self, text, value.strip())

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
    #: Exact copies of the campaign ``campaign_id`` (a create the server applied twice):
    #: a run that writes deletes them, keeping the oldest.
    duplicates: tuple[int, ...] = ()


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
        copies = _copies(found)
        if len(found) > 1 and not copies:
            errors.append(
                f"several birthday campaigns already target this list or bear its name "
                f"(ids {', '.join(str(c.id) for c in found)}); merge or delete all but one"
            )
        shared = sorted({other for c in found for other in claimed_by[c.id]} - {spec.list_name})
        if (len(found) == 1 or copies) and shared:
            ids = ", ".join(str(c.id) for c in found)
            errors.append(
                (
                    f"birthday campaign {ids} is"
                    if len(found) == 1
                    else f"birthday campaigns {ids} are"
                )
                + f" also matched by list(s) {', '.join(map(repr, shared))}; give each list its "
                "own campaign"
            )
        if errors or desired is None:
            items.append(
                PlannedCampaign(
                    spec,
                    Action.ERROR,
                    campaign_id=found[0].id if len(found) == 1 or copies else None,
                    errors=tuple(errors),
                    warnings=tuple(warnings),
                    content_check=check,
                )
            )
            continue
        if copies:  # only now: an item in error deletes nothing
            warnings.append(
                f"birthday campaign(s) {', '.join(str(c.id) for c in copies)} are exact "
                f"copies of {found[0].id} (a create the server applied twice); a run that "
                "writes deletes them, keeping the oldest"
            )
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
            PlannedCampaign(
                spec,
                action,
                current.id,
                desired,
                changes,
                (),
                tuple(warnings),
                check,
                tuple(c.id for c in copies),
            )
        )
    return BirthdayPlan(tuple(items))


def _copies(found: Sequence[CampaignRecord]) -> list[CampaignRecord]:
    """``found`` past the first (the oldest) when all are the same campaign, field for
    field; else none (campaigns that differ are for a person to merge)."""
    shapes = {
        (c.name, c.active, c.content, tuple(sorted(c.recipient_lists)), c.title) for c in found
    }
    return list(found[1:]) if len(found) > 1 and len(shapes) == 1 else []


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
    if not spec.name:
        errors.append("the campaign's name is blank (see name_format)")
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
