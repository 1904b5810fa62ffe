"""The small tables (lists and members, campaigns, birthday campaigns, titles, templates,
balance, pricing): a few hundred of the client's typed records, laid out in the columns
their pandera model declares. How a record is read (its fields, their types, what an
empty value means) is said once, by the client's record; how a table is typed once, by
its model; these functions only say which value goes in which column."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import pandas as pd
import pandera.pandas as pa

from .. import schemas as s
from ..client.models import Campaign, ContactList
from .columns import category, moment_lists, moments


def frame_of(
    model: type[pa.DataFrameModel], records: Iterable[Any], table: str, **derived: Sequence[Any]
) -> pd.DataFrame:
    """``records`` as ``model``'s table: each column holds the records' attribute of its
    name, or ``derived[name]`` where no record has it, in the dtype the model declares
    (categories: its ``isin`` values). A moment no table can hold is named by ``table``,
    column and record ids (FrameError)."""
    rows = list(records)
    record_ids = [getattr(record, "id", None) for record in rows]
    allowed = s.categories(model)

    def column(name: str, dtype: Any) -> pd.Series:
        values = derived[name] if name in derived else [getattr(r, name) for r in rows]
        if name in allowed:
            return category(values, allowed[name])
        if isinstance(dtype, pd.DatetimeTZDtype):
            return moments(values, table, name, record_ids)
        if dtype == s.STAMP_LIST:
            return moment_lists(values, table, name, record_ids)
        return pd.Series(values, dtype=dtype)

    return pd.DataFrame(
        {name: column(name, c.dtype.type) for name, c in model.to_schema().columns.items()}
    )


class Member(NamedTuple):
    """One row of ``list_members``."""

    list_id: int
    member_type: str
    contact_id: int | None
    phone_number: str | None
    first_name: str | None
    last_name: str | None


def lists_frames(lists: Iterable[ContactList]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``GET /lists`` -> (one row per list, one row per list x member)."""
    lists = list(lists)
    members: list[Member] = []
    noncontact_counts = []
    for a_list in lists:
        members += (
            Member(a_list.id, "contact", c.id, c.phone_number, c.first_name, c.last_name)
            for c in a_list.members
        )
        noncontacts = _noncontacts(a_list)
        members += noncontacts
        noncontact_counts.append(len(noncontacts))
    table = frame_of(
        s.ListsSchema,
        lists,
        "lists",
        member_count=[len(a_list.members) for a_list in lists],
        noncontact_count=noncontact_counts,
    )
    return table, frame_of(s.ListMembersSchema, members, "list_members")


def _noncontacts(a_list: ContactList) -> list[Member]:
    """A list's members uploaded from CSV that are not contacts, one per phone number
    (their names where the columns have them; empty text is none)."""
    columns = a_list.noncontact_members or {}
    numbers = columns.get("phone_number") or []
    firsts, lasts = (columns.get(name) or [] for name in ("first_name", "last_name"))

    def at(values: list[str | None], i: int) -> str | None:
        return (values[i] or None) if i < len(values) else None

    return [
        Member(a_list.id, "noncontact", None, number or None, at(firsts, i), at(lasts, i))
        for i, number in enumerate(numbers)
    ]


def campaigns_frame(campaigns: Iterable[Campaign]) -> pd.DataFrame:
    """Schedules flattened: type, start, end, repeat (count and period), certain dates (in
    the zone the client read them in, stored as UTC)."""
    campaigns = list(campaigns)
    schedules = [campaign.schedule for campaign in campaigns]
    repeats = [schedule.repeat for schedule in schedules]
    return frame_of(
        s.CampaignsSchema,
        campaigns,
        "campaigns",
        recipients=[",".join(c.recipients) or None for c in campaigns],
        recipient_count=[len(c.recipients) for c in campaigns],
        schedule_type=[schedule.type for schedule in schedules],
        start_at=[schedule.start for schedule in schedules],
        end_at=[schedule.end for schedule in schedules],
        repeat_every=[repeat.count if repeat else None for repeat in repeats],
        repeat_period=[repeat.period if repeat else None for repeat in repeats],
        dates=[sorted(schedule.dates) for schedule in schedules],
    )


class Balance(NamedTuple):
    sms_balance: int
    fetched_at: datetime


def balance_frame(sms_balance: int, fetched_at: datetime) -> pd.DataFrame:
    return frame_of(s.BalanceSchema, [Balance(sms_balance, fetched_at)], "balance")
