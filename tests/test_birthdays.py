"""Birthday campaign planning, pure: content checks (GSM-7, UCS-2, 160 characters) and
the reconciliation plan for every case a list can be in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneconnect_pipelines.birthdays import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Action,
    BirthdayCampaignSpec,
    PlannedCampaign,
    campaign_name,
    check_content,
    is_gsm7,
    plan_birthday_campaigns,
)


@dataclass(frozen=True)
class Camp:
    id: int
    name: str
    active: bool = True
    content: str = "Happy birthday!"
    recipient_lists: tuple[int, ...] = ()
    title: str | None = None


@dataclass(frozen=True)
class Lst:
    id: int
    name: str


@dataclass(frozen=True)
class Ttl:
    id: int
    name: str
    active: bool = True


@dataclass(frozen=True)
class Tpl:
    id: int
    title: str
    body: str


LISTS = [Lst(1, "VIP"), Lst(2, "Newsletter")]
TITLES = [Ttl(5, "Shop"), Ttl(6, "NewShop", active=False)]


def spec(list_name: str = "VIP", **changes: Any) -> BirthdayCampaignSpec:
    return BirthdayCampaignSpec.for_list(list_name, **{"content": "Happy birthday!", **changes})


def plan_one(
    s: BirthdayCampaignSpec, campaigns: Sequence[Camp], templates: Sequence[Tpl] = ()
) -> PlannedCampaign:
    plan = plan_birthday_campaigns([s], campaigns, LISTS, TITLES, templates)
    assert len(plan.items) == 1
    return plan.items[0]


# -- content ------------------------------------------------------------------------------


def test_the_gsm7_table_is_the_standard_one() -> None:
    assert len(GSM7_BASIC) == 127  # 128 positions, one of them the escape
    assert set("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION
    for ch in "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r":
        assert ch in GSM7_BASIC, ch
    for ch in "`ç€^{}[]~|\\\x1b":
        assert ch not in GSM7_BASIC, ch


def test_plain_latin_is_gsm7_in_one_sms() -> None:
    check = check_content("Happy birthday, Anna! 20% off today @ our shop.")
    assert (check.encoding, check.segments, check.problems) == ("GSM-7", 1, ())


def test_extension_characters_are_gsm7_but_count_twice() -> None:
    check = check_content("Gift: 10€ [today]")
    assert check.encoding == "GSM-7"
    assert check.characters == 17 and check.units == 20
    assert check.warnings == ()
    # 158 plain + one € = 159 characters (allowed) but 160 septets: still one SMS ...
    assert check_content("a" * 158 + "€").segments == 1
    # ... and one more extension character tips it into two, with a warning saying why
    two = check_content("a" * 158 + "€{")
    assert two.errors == () and two.segments == 2
    assert "extension characters count twice" in two.warnings[0]


def test_non_gsm_characters_warn_that_the_message_is_ucs2() -> None:
    for text in ("გილოცავთ დაბადების დღეს!", "С днём рождения!", "Happy birthday 🎂", "ça va"):
        check = check_content(text)
        assert check.encoding == "UCS-2", text
        assert check.errors == ()
        assert any("UCS-2" in w and "70" in w for w in check.warnings), text
    assert check_content("Happy birthday 🎂").units == 17  # an emoji is two UTF-16 units
    assert check_content("ç" * 71).segments == 2


def test_more_than_160_characters_is_an_error() -> None:
    assert check_content("a" * 160).errors == ()
    (error,) = check_content("a" * 161).errors
    assert "161 characters" in error and "160" in error
    assert check_content("€" * 161).errors  # characters, not septets, hit the limit
    assert check_content("  ").errors == ("content is blank",)


def test_a_character_of_two_units_is_never_split_between_parts() -> None:
    """A surrogate pair (UCS-2) or an escape and its code (GSM-7 extension) travels whole
    in one part of a long SMS, so a part can end one unit short."""
    emoji = check_content("x" * 66 + "🎂" + "x" * 66)  # 134 units: 66 | 🎂 + 65 | 1
    assert (emoji.units, emoji.segments) == (134, 3)
    assert "3 SMS" in emoji.warnings[-1]
    euros = check_content("€" * 153)  # 306 septets: 76 | 76 | 1 euros of 153 septets
    assert (euros.units, euros.segments) == (306, 3)
    assert check_content("x" * 67 + "🎂" + "x" * 65).segments == 2  # the pair fits in part 2


@given(st.text(max_size=200))
def test_content_check_properties(text: str) -> None:
    check = check_content(text)
    assert check.characters == len(text)
    assert (len(text) > 160 or not text.strip()) == bool(check.errors)
    assert (check.encoding == "GSM-7") == is_gsm7(text)
    assert bool(check.non_gsm) == (check.encoding == "UCS-2")
    assert set(check.non_gsm) == {ch for ch in text if ch not in GSM7_BASIC | GSM7_EXTENSION}
    if check.encoding == "GSM-7":
        extension = sum(ch in GSM7_EXTENSION for ch in text)
        assert check.units == len(text) + extension
    single, part = (160, 153) if check.encoding == "GSM-7" else (70, 67)
    assert (check.segments > 1) == (check.units > single)
    if check.segments > 1:  # whole units fill each part; a part loses at most one to a pair
        assert -(-check.units // part) <= check.segments <= -(-check.units // (part - 1))
    else:
        assert check.segments == 1


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=160))
def test_gsm_only_text_is_gsm7_and_counted_in_septets(text: str) -> None:
    check = check_content(text)
    assert check.encoding == "GSM-7" and check.non_gsm == ""
    assert not any("UCS-2" in w for w in check.warnings)
    assert check.units == len(text) + sum(ch in GSM7_EXTENSION for ch in text)


# -- names --------------------------------------------------------------------------------


def test_the_default_name_is_derived_from_the_list_and_configurable() -> None:
    assert spec().name == "Birthday greetings: VIP"
    assert spec(name_format="{list} - birthdays").name == "VIP - birthdays"
    for wrong in ("{lst}", "{}", "{list.x}", "{list.upper}", "{list[0]}", "{list:{x}}", "{"):
        with pytest.raises(ValueError, match="only \\{list\\}"):
            campaign_name(wrong, "VIP")
    assert campaign_name("{list!r}: {list:>5}", "VIP") == "'VIP':   VIP"


def test_a_spec_is_compared_as_oneconnect_stores_it() -> None:
    """OneConnect strips the text it stores: a greeting from a YAML block (its trailing
    newline) or a name format ending in a space is the same campaign on the next run."""
    current = Camp(3, "Birthday greetings: VIP", recipient_lists=(1,))
    block = spec(content="Happy birthday!\n", name_format="Birthday greetings: {list} ")
    assert (block.name, block.content) == ("Birthday greetings: VIP", "Happy birthday!")
    assert plan_one(block, [current]).action is Action.UNCHANGED
    assert check_content("a" * 160).errors == ()
    assert plan_one(spec(content="a" * 160 + "\n"), []).errors == ()
    assert plan_one(spec(content=" \n "), []).errors == ("content is blank",)
    # a sender or template named with a space around is the one stored without it
    assert plan_one(spec(title="Shop "), [current]).errors == ()
    assert plan_one(spec(title=" Shop"), [current]).desired.title_id == 5  # type: ignore[union-attr]
    # a blank name is refused by the plan (a dry run said "would create", the run failed)
    assert plan_one(spec(name_format=" "), []).errors == (
        "the campaign's name is blank (see name_format)",
    )


# -- plans --------------------------------------------------------------------------------


def test_a_missing_campaign_is_created_with_every_field() -> None:
    item = plan_one(
        spec(title="Shop"), [Camp(9, "Birthday greetings: Newsletter", recipient_lists=(2,))]
    )
    assert item.action is Action.CREATE and item.campaign_id is None
    assert item.desired is not None
    assert (item.desired.name, item.desired.recipient_lists, item.desired.title_id) == (
        "Birthday greetings: VIP",
        (1,),
        5,
    )
    assert item.desired.active is True and item.desired.content == "Happy birthday!"
    assert item.changes == ("name", "active", "content", "recipient_lists", "title")
    assert item.warnings == ()


def test_without_a_title_the_sender_is_not_managed() -> None:
    assert "title" not in plan_one(spec(), []).changes
    current = Camp(3, "Birthday greetings: VIP", recipient_lists=(1,), title="Other")
    assert plan_one(spec(), [current]).action is Action.UNCHANGED


def test_an_identical_campaign_is_unchanged() -> None:
    current = Camp(3, "Birthday greetings: VIP", recipient_lists=(1,), title="Shop")
    item = plan_one(spec(title="Shop"), [current])
    assert (item.action, item.campaign_id, item.changes) == (Action.UNCHANGED, 3, ())


@pytest.mark.parametrize(
    ("current", "changes"),
    [
        (
            Camp(3, "Birthday greetings: VIP", active=False, recipient_lists=(1,), title="Shop"),
            ("active",),
        ),
        (
            Camp(3, "Birthday greetings: VIP", content="Hi", recipient_lists=(1,), title="Shop"),
            ("content",),
        ),
        (Camp(3, "Old name", recipient_lists=(1,), title="Shop"), ("name",)),
        (Camp(3, "Birthday greetings: VIP", recipient_lists=(1,), title=None), ("title",)),
        (
            Camp(3, "Birthday greetings: VIP", recipient_lists=(), title="Shop"),
            ("recipient_lists",),
        ),
        (
            Camp(3, "Old", active=False, content="Hi", recipient_lists=(1,), title="Shop"),
            ("name", "active", "content"),
        ),
    ],
)
def test_a_differing_campaign_is_updated_in_only_those_fields(
    current: Camp, changes: tuple[str, ...]
) -> None:
    item = plan_one(spec(title="Shop"), [current])
    assert (item.action, item.campaign_id, item.changes) == (Action.UPDATE, 3, changes)


def test_other_lists_of_a_matched_campaign_are_kept_with_a_warning() -> None:
    current = Camp(3, "Birthday greetings: VIP", recipient_lists=(7,))
    item = plan_one(spec(), [current])
    assert item.action is Action.UPDATE and item.changes == ("recipient_lists",)
    assert item.desired is not None and item.desired.recipient_lists == (7, 1)
    assert any("also targets list id(s) 7" in w for w in item.warnings)


def test_two_campaigns_for_one_list_is_an_error_naming_both() -> None:
    by_list = Camp(4, "Greetings", recipient_lists=(1,))
    by_name = Camp(8, "Birthday greetings: VIP", recipient_lists=())
    for campaigns in ([by_list, by_name], [by_list, Camp(11, "Other", recipient_lists=(2, 1))]):
        item = plan_one(spec(), campaigns)
        assert item.action is Action.ERROR and item.desired is None
        ids = sorted(c.id for c in campaigns)
        assert f"ids {ids[0]}, {ids[1]}" in item.errors[0]


def test_exact_copies_of_a_campaign_are_planned_for_deletion_keeping_the_oldest() -> None:
    """A create the server applied twice (its answer lost, applied after the client's
    read-back): the copies greet the list again; they go, the oldest stays and is
    planned as it would be alone."""
    name = "Birthday greetings: VIP"
    copies = [Camp(i, name, recipient_lists=(1,), content="Old greeting") for i in (8, 4, 6)]
    item = plan_one(spec(), copies)
    assert (item.action, item.campaign_id, item.duplicates) == (Action.UPDATE, 4, (6, 8))
    assert item.changes == ("content",) and item.errors == ()
    assert item.warnings == (
        "birthday campaign(s) 6, 8 are exact copies of 4 (a create the server applied "
        "twice); a run that writes deletes them, keeping the oldest",
    )
    # a list in error deletes nothing and promises nothing; copies shared with another
    # configured list are named with the one they copy
    failing = plan_one(spec(title="Missing"), copies)
    assert (failing.action, failing.duplicates, failing.warnings) == (Action.ERROR, (), ())
    shared = [Camp(i, "Greetings", recipient_lists=(1, 2)) for i in (4, 6)]
    plan = plan_birthday_campaigns([spec(), spec("Newsletter")], shared, LISTS, TITLES)
    for item in plan.items:
        assert item.action is Action.ERROR and item.duplicates == ()
        assert "birthday campaigns 4, 6 are also matched by list(s)" in item.errors[0]
    # any field apart is no copy: a person merges them
    paused = Camp(6, name, recipient_lists=(1,), active=False)
    item = plan_one(spec(), [Camp(4, name, recipient_lists=(1,)), paused])
    assert item.action is Action.ERROR and item.duplicates == ()


def test_one_campaign_claimed_by_two_configured_lists_is_an_error_for_both() -> None:
    shared = Camp(4, "Birthday greetings: VIP", recipient_lists=(1, 2))
    plan = plan_birthday_campaigns([spec("VIP"), spec("Newsletter")], [shared], LISTS, TITLES)
    assert [i.action for i in plan.items] == [Action.ERROR, Action.ERROR]
    assert "'Newsletter'" in plan.items[0].errors[0] and "'VIP'" in plan.items[1].errors[0]


def test_one_name_for_two_lists_is_an_error() -> None:
    specs = [spec("VIP", name_format="Birthdays"), spec("Newsletter", name_format="Birthdays")]
    plan = plan_birthday_campaigns(specs, [], LISTS, TITLES)
    assert plan.counts == {"create": 0, "update": 0, "unchanged": 0, "error": 2}
    assert "{list}" in plan.items[0].errors[0]


@pytest.mark.parametrize(
    ("s", "message"),
    [
        (spec("Nobody"), "list 'Nobody' does not exist"),
        (spec(template="Missing"), "template 'Missing' does not exist"),
        (spec(title="Unknown"), "sender title 'Unknown' does not exist"),
        (spec(content="x" * 161), "161 characters"),
    ],
)
def test_what_cannot_be_resolved_is_an_error(s: BirthdayCampaignSpec, message: str) -> None:
    item = plan_one(s, [Camp(3, "Birthday greetings: VIP", recipient_lists=(1,))])
    assert item.action is Action.ERROR
    assert any(message in error for error in item.errors), item.errors


def test_an_inactive_title_is_a_warning_not_an_error() -> None:
    item = plan_one(spec(title="NewShop"), [])
    assert item.action is Action.CREATE and item.desired is not None
    assert item.desired.title_id == 6
    (warning,) = item.warnings
    assert "not activated" in warning and "'Message'" in warning
    assert plan_one(spec(title="Shop"), []).warnings == ()


def test_ucs2_content_is_a_warning() -> None:
    item = plan_one(spec(content="Joyeux anniversaire, ça va ?"), [])
    assert item.action is Action.CREATE
    assert any("UCS-2" in w for w in item.warnings)


def test_content_from_a_template() -> None:
    templates = [Tpl(1, "Greeting", "Happy birthday from us!"), Tpl(2, "Promo", "Sale")]
    item = plan_one(spec(template="Greeting"), [], templates)
    assert item.desired is not None and item.desired.content == "Happy birthday from us!"
    long = plan_one(spec(template="Long"), [], [Tpl(3, "Long", "y" * 200)])
    assert long.action is Action.ERROR and "200 characters" in long.errors[0]
    twins = [Tpl(4, "Twin", "one"), Tpl(5, "Twin", "two")]
    twin = plan_one(spec(template="Twin"), [], twins)
    assert twin.action is Action.ERROR and "ids 4, 5" in twin.errors[0]


def test_the_plan_is_deterministic_and_in_spec_order() -> None:
    campaigns = [Camp(3, "Birthday greetings: VIP", content="old", recipient_lists=(1,))]
    specs = [spec("Newsletter"), spec("VIP"), spec("Nobody")]
    first = plan_birthday_campaigns(specs, campaigns, LISTS, TITLES)
    again = plan_birthday_campaigns(specs, list(reversed(campaigns)), reversed(LISTS), TITLES)
    assert first == again
    assert [i.action for i in first.items] == [Action.CREATE, Action.UPDATE, Action.ERROR]
    assert first.counts == {"create": 1, "update": 1, "unchanged": 0, "error": 1}
