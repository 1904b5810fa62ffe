"""Analytics over the extracted tables: pure functions of DataFrames, no Dagster.

Inputs may come straight from ``frames`` or back from the warehouse (where dtypes are
DuckDB's), so each function reads only the columns it needs and types them itself.
Schedules are expanded the way the platform runs them: recurring ones step from their
start in the account's wall-clock time; permanent certain-dates campaigns repeat their
dates every year; 29 February birthdays are greeted on 28 February in other years.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import pandas as pd

from .formats import MESSAGE_STATUSES, Repeat, birthday_in_year
from .frames import ids, text
from .schemas import DATE32, TEXT

CALENDAR_DAYS = 90
BIRTHDAY_DAYS = 30
FORECAST_HORIZONS = (7, 30)


def _utc(series: pd.Series) -> pd.Series:
    converted = pd.to_datetime(series, utc=True)
    return converted.astype("datetime64[ns, UTC]")


def _moment(value: Any) -> datetime:
    """A timestamp as an aware UTC datetime (the warehouse may hand it back naive, in UTC)."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    moment: datetime = stamp.to_pydatetime()
    return moment


def _int_lists(values: Iterable[Any]) -> list[list[int]]:
    return [
        [] if v is None or (np.ndim(v) == 0 and pd.isna(v)) else [int(i) for i in v] for v in values
    ]


def delivery_rates(messages: pd.DataFrame, tz: tzinfo) -> pd.DataFrame:
    """Per account-local day and sender (campaign, birthday campaign, ad hoc): sent,
    delivered, undelivered, pending, and delivered / (delivered + undelivered)."""
    statuses = messages["final_status"].astype(TEXT)
    frame = pd.DataFrame(
        {
            "day": _utc(messages["created_at"]).dt.tz_convert(tz).dt.date,
            "sender_type": messages["sender_type"].astype(TEXT),
            "campaign_id": pd.array(messages["campaign_id"], dtype="Int64").fillna(0),
            **{status: (statuses == status).astype("int64") for status in MESSAGE_STATUSES},
        }
    )
    counts = (
        frame.groupby(["day", "sender_type", "campaign_id"], sort=True)[list(MESSAGE_STATUSES)]
        .sum()
        .reset_index()
    )
    delivered, undelivered, pending = (ids(counts[status]) for status in MESSAGE_STATUSES)
    finished = (delivered + undelivered).astype("float64")
    campaign = ids(counts["campaign_id"])
    return pd.DataFrame(
        {
            "day": pd.Series(list(counts["day"]), dtype=DATE32),
            "sender_type": pd.Categorical(
                list(counts["sender_type"]), categories=["campaign", "birthday", "adhoc"]
            ),
            "campaign_id": campaign.mask(campaign == 0),
            "sent": delivered + undelivered + pending,
            "delivered": delivered,
            "undelivered": undelivered,
            "pending": pending,
            "delivery_rate": (delivered.astype("float64") / finished.where(finished > 0)).to_numpy(
                dtype="float64", na_value=np.nan
            ),
        }
    )


def occurrences(
    campaign: pd.Series | dict[str, Any], tz: tzinfo, after: datetime, until: datetime
) -> list[datetime]:
    """The send times of one campaign in (after, until], as aware UTC datetimes."""
    kind = str(campaign["schedule_type"])
    sends: list[datetime] = []
    if kind.endswith("recurring"):
        start = _moment(campaign["start_at"]).astimezone(tz)
        end = campaign.get("end_at")
        end_at = None if end is None or pd.isna(end) else _moment(end)
        repeat = Repeat(int(campaign["repeat_every"]), str(campaign["repeat_period"]))
        step = 0
        while True:
            moment = repeat.after(start, step).astimezone(UTC)
            if moment > until or (end_at is not None and moment > end_at):
                break
            if moment > after:
                sends.append(moment)
            step += 1
        return sends
    permanent = kind.startswith("permanent")
    for value in campaign["dates"] if campaign["dates"] is not None else ():
        base = _moment(value).astimezone(tz)
        years = range(base.year, until.year + 1) if permanent else [base.year]
        for year in years:
            day = birthday_in_year(base.date(), year)
            moment = base.replace(year=day.year, month=day.month, day=day.day).astimezone(UTC)
            if after < moment <= until:
                sends.append(moment)
    return sorted(sends)


def audiences(
    campaign_lists: dict[int, list[int]],
    recipients: dict[int, list[str]],
    list_members: pd.DataFrame,
) -> dict[int, int]:
    """Distinct phone numbers each campaign reaches: its own recipients plus every
    member of its lists (contacts and non-contacts), each number once."""
    numbers = (
        list_members.dropna(subset=["phone_number"])
        .groupby("list_id")["phone_number"]
        .agg(lambda s: set(s.astype(str)))
        .to_dict()
    )
    return {
        campaign_id: len(
            set(recipients.get(campaign_id, [])).union(
                *(numbers.get(list_id, set()) for list_id in list_ids)
            )
        )
        for campaign_id, list_ids in campaign_lists.items()
    }


def campaign_calendar(
    campaigns: pd.DataFrame,
    list_members: pd.DataFrame,
    tz: tzinfo,
    now: datetime,
    days: int = CALENDAR_DAYS,
) -> pd.DataFrame:
    """Every send of every active campaign over the next ``days``, with the number of
    recipients it would reach if membership stayed as it is."""
    until = now + timedelta(days=days)
    active = campaigns[campaigns["active"].astype(bool)]
    lists = dict(zip(active["id"].astype(int), _int_lists(active["recipients_list"]), strict=True))
    recipients = {
        int(cid): [n for n in str(r).split(",") if n] if isinstance(r, str) else []
        for cid, r in zip(active["id"], active["recipients"], strict=True)
    }
    reach = audiences(lists, recipients, list_members)
    rows = [
        (int(c["id"]), str(c["name"]), str(c["schedule_type"]), moment, reach[int(c["id"])])
        for _, c in active.iterrows()
        for moment in occurrences(c, tz, now, until)
    ]
    rows.sort(key=lambda row: (row[3], row[0]))
    columns = list(zip(*rows, strict=True)) or [()] * 5
    return pd.DataFrame(
        {
            "campaign_id": ids(columns[0]),
            "campaign_name": pd.Series(list(columns[1]), dtype=TEXT),
            "schedule_type": pd.Categorical(
                list(columns[2]),
                categories=[
                    "scheduled-recurring",
                    "scheduled-certain-dates",
                    "permanent-recurring",
                    "permanent-certain-dates",
                ],
            ),
            "send_at": pd.Series(list(columns[3]), dtype="datetime64[ns, UTC]"),
            "expected_recipients": ids(columns[4]),
        }
    )


def next_celebrations(birthdays: pd.Series, today: date) -> pd.DataFrame:
    """For each birthday, the next day (from ``today``) it is celebrated, and the age then."""
    born = pd.to_datetime(pd.Series(birthdays).astype("object"), errors="coerce")
    month, day, year = born.dt.month, born.dt.day, born.dt.year

    def celebrated(in_year: int) -> pd.Series:
        leap = (in_year % 4 == 0) and (in_year % 100 != 0 or in_year % 400 == 0)
        shifted = day.where(~((month == 2) & (day == 29)) | leap, 28)
        return pd.to_datetime(
            pd.DataFrame({"year": in_year, "month": month, "day": shifted}), errors="coerce"
        )

    this_year, next_year = celebrated(today.year), celebrated(today.year + 1)
    upcoming = this_year.where(this_year >= pd.Timestamp(today), next_year)
    return pd.DataFrame({"on": upcoming, "turns": upcoming.dt.year - year})


def upcoming_birthdays(
    contacts: pd.DataFrame,
    list_members: pd.DataFrame,
    birthday_campaigns: pd.DataFrame,
    today: date,
    days: int = BIRTHDAY_DAYS,
) -> pd.DataFrame:
    """Who each active birthday campaign greets over the next ``days`` (today included)."""
    active = birthday_campaigns[birthday_campaigns["active"].astype(bool)]
    targets = pd.DataFrame(
        [
            (int(cid), str(name), list_id)
            for cid, name, lists in zip(
                active["id"], active["name"], _int_lists(active["recipient_lists"]), strict=True
            )
            for list_id in lists
        ],
        columns=["birthday_campaign_id", "campaign_name", "list_id"],
    )
    members = list_members[list_members["member_type"].astype(str) == "contact"][
        ["list_id", "contact_id"]
    ].astype("int64")
    people = (
        contacts[["id", "birthday"]]
        .dropna(subset=["birthday"])
        .rename(columns={"id": "contact_id"})
    )
    people = people.assign(contact_id=people["contact_id"].astype("int64"))
    greeted = (
        targets.assign(list_id=targets["list_id"].astype("int64"))
        .merge(members, on="list_id")
        .merge(people, on="contact_id")
        .drop_duplicates(["birthday_campaign_id", "contact_id"])
    )
    when = next_celebrations(greeted["birthday"], today)
    greeted = greeted.assign(on=when["on"].to_numpy(), turns=when["turns"].to_numpy())
    window_end = pd.Timestamp(today + timedelta(days=days))
    greeted = greeted[greeted["on"] < window_end].sort_values(
        ["on", "birthday_campaign_id", "contact_id"]
    )
    return pd.DataFrame(
        {
            "greet_on": pd.Series(greeted["on"].dt.date.tolist(), dtype=DATE32),
            "birthday_campaign_id": ids(greeted["birthday_campaign_id"]),
            "campaign_name": text(greeted["campaign_name"]),
            "contact_id": ids(greeted["contact_id"]),
            "turns": ids(greeted["turns"]),
        }
    ).reset_index(drop=True)


def sms_forecast(
    calendar: pd.DataFrame,
    birthdays: pd.DataFrame,
    sms_balance: int,
    now: datetime,
    tz: tzinfo,
) -> pd.DataFrame:
    """SMS needed over the next 7 and 30 days (campaign sends plus birthday greetings)
    against the current balance. Greetings are counted by the account's days (``tz``),
    from today there, as ``upcoming_birthdays`` lists them: the UTC date is another day
    for hours of every night east or west of UTC."""
    today = pd.Timestamp(now.astimezone(tz).date())
    send_at = (
        _utc(calendar["send_at"]) if len(calendar) else pd.Series([], dtype="datetime64[ns, UTC]")
    )
    greet_on = pd.to_datetime(pd.Series(birthdays["greet_on"]).astype("object"))
    rows = []
    for horizon in FORECAST_HORIZONS:
        until = now + timedelta(days=horizon)
        campaign_sms = (
            int(
                pd.array(calendar["expected_recipients"], dtype="Int64")[
                    (send_at <= until).to_numpy()
                ].sum()
            )
            if len(calendar)
            else 0
        )
        birthday_sms = int((greet_on < today + pd.Timedelta(days=horizon)).sum())
        needed = campaign_sms + birthday_sms
        rows.append(
            (
                horizon,
                campaign_sms,
                birthday_sms,
                needed,
                sms_balance,
                sms_balance >= needed,
                max(0, needed - sms_balance),
            )
        )
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame(
        {
            "horizon_days": ids(columns[0]),
            "campaign_sms": ids(columns[1]),
            "birthday_sms": ids(columns[2]),
            "sms_needed": ids(columns[3]),
            "sms_balance": ids(columns[4]),
            "covered": pd.Series(list(columns[5]), dtype="boolean"),
            "shortfall": ids(columns[6]),
        }
    )
