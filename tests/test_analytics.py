"""The pure analytics on hand-made frames, and the campaign calendar checked against
what the simulator actually sends when its clock moves through the window."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from assets.analytics import rate_chart
from oneconnect_pipelines import analytics as a
from oneconnect_pipelines import frames
from oneconnect_pipelines import schemas as s
from oneconnect_pipelines.formats import format_request_datetime, parse_timestamp
from oneconnect_pipelines.schemas import TEXT

from .conftest import EMPTY, TZ
from .extract_helpers import api_get, private_sim, sim_now
from .frame_records import (
    a_list,
    birthday_campaign,
    birthday_campaigns_of,
    campaign,
    campaigns_of,
    contact,
    lists_of,
    message,
    when,
)

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=TZ)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def utc(moment: datetime) -> pd.Timestamp:
    return pd.Timestamp(moment.astimezone(UTC))


# ----------------------------------------------------------------------- delivery rates
def test_delivery_rates_count_per_local_day_and_sender() -> None:
    records = [
        message(1, "2026-01-10 09:00:00 +0400", "delivered", campaign_id=7),
        message(2, "2026-01-10 10:00:00 +0400", "delivered", campaign_id=7),
        message(3, "2026-01-10 23:59:59 +0400", "undelivered", campaign_id=7),
        message(4, "2026-01-11 00:00:00 +0400", "pending"),  # 20:00 UTC on the 10th
        message(5, "2026-01-10 12:00:00 +0400", "delivered", campaign_id=2, birthday=True),
        message(6, "2026-01-10 13:00:00 +0400", "undelivered"),
    ]
    rates = a.delivery_rates(frames.messages_frame(records, TZ), TZ)
    s.DeliveryRatesSchema.validate(rates)
    got = [
        (
            row["day"],
            row["sender_type"],
            None if pd.isna(row["campaign_id"]) else int(row["campaign_id"]),
            *(int(row[c]) for c in ("sent", "delivered", "undelivered", "pending")),
            None if pd.isna(row["delivery_rate"]) else round(float(row["delivery_rate"]), 4),
        )
        for _, row in rates.iterrows()
    ]
    assert sorted(got, key=str) == sorted(
        [
            (date(2026, 1, 10), "campaign", 7, 3, 2, 1, 0, 0.6667),
            (date(2026, 1, 10), "birthday", 2, 1, 1, 0, 0, 1.0),
            (date(2026, 1, 10), "adhoc", None, 1, 0, 1, 0, 0.0),
            (date(2026, 1, 11), "adhoc", None, 1, 0, 0, 1, None),  # nothing final yet
        ],
        key=str,
    )


def test_the_rate_chart_shows_a_day_of_pending_messages_as_no_rate_yet() -> None:
    """Pending is not failed: the table's rate is null, so the chart has no 0.0% bar."""
    records = [
        message(1, "2026-01-10 09:00:00 +0400", "delivered"),
        message(2, "2026-01-10 10:00:00 +0400", "undelivered"),
        message(3, "2026-01-11 09:00:00 +0400", "pending"),
    ]
    chart = rate_chart(a.delivery_rates(frames.messages_frame(records, TZ), TZ))
    assert chart.splitlines()[2:] == [
        "| 2026-01-10 | 50.0% | ██████████ |",
        "| 2026-01-11 | n/a (pending) | |",
    ]


def test_delivery_rates_of_no_messages_is_an_empty_valid_table() -> None:
    rates = a.delivery_rates(frames.messages_frame([], TZ), TZ)
    s.DeliveryRatesSchema.validate(rates)
    assert rates.empty


# ----------------------------------------------------------------------- calendar
ANN = contact(1, "995551000001", first_name="Ann")
BOB = contact(2, "0555100002", first_name="Bob")
CAROL = contact(3, "995551000003")
LISTS = [
    a_list(1, [ANN, BOB]),
    a_list(2, [BOB, CAROL], noncontact={"phone_number": ["0555999001"], "first_name": [""]}),
]


def calendar_of(records: list[dict[str, Any]], days: int = 90) -> pd.DataFrame:
    _, members = frames.lists_frames(lists_of(LISTS))
    campaigns = frames.campaigns_frame(campaigns_of(records))
    calendar = a.campaign_calendar(campaigns, members, TZ, NOW, days)
    s.CampaignCalendarSchema.validate(calendar)
    return calendar


def sends(calendar: pd.DataFrame, campaign_id: int) -> list[pd.Timestamp]:
    return list(calendar.loc[calendar["campaign_id"] == campaign_id, "send_at"])


def test_daily_recurring_with_an_end_stops_at_the_end() -> None:
    start, end = local(2026, 1, 10, 9, 0), local(2026, 1, 20, 9, 0)
    schedule = {"type": "scheduled-recurring", "date-range": f"{when(start)} - {when(end)}"}
    calendar = calendar_of([campaign(1, schedule | {"repeat": "1 day"}, recipients="995551000009")])
    # 15 January 09:00 is already past at noon; the 20th is the last
    assert sends(calendar, 1) == [utc(local(2026, 1, d, 9, 0)) for d in range(16, 21)]


def test_monthly_from_31_january_lands_on_month_ends() -> None:
    schedule = {"type": "permanent-recurring", "date-range": when(local(2026, 1, 31, 10, 0))}
    calendar = calendar_of([campaign(2, schedule | {"repeat": "1 month"}, recipients="1234567")])
    assert sends(calendar, 2) == [
        utc(local(2026, 1, 31, 10, 0)),
        utc(local(2026, 2, 28, 10, 0)),
        utc(local(2026, 3, 31, 10, 0)),
    ]  # 30 April is past the 90 days (15 April)


def test_permanent_certain_dates_repeat_every_year() -> None:
    dates = [when(local(2024, 3, 1, 9, 0)), when(local(2025, 2, 14, 12, 30))]
    dates.append(when(local(2025, 12, 20, 8, 0)))  # next in December 2026: outside
    calendar = calendar_of(
        [campaign(3, {"type": "permanent-certain-dates", "dates": dates}, recipients="1234567")]
    )
    assert sends(calendar, 3) == [utc(local(2026, 2, 14, 12, 30)), utc(local(2026, 3, 1, 9, 0))]


def test_scheduled_certain_dates_send_once_each_inside_the_window() -> None:
    dates = [when(local(2026, 1, 10, 8, 0)), when(local(2026, 1, 20, 8, 0))]
    dates.append(when(local(2026, 5, 1, 8, 0)))
    calendar = calendar_of(
        [campaign(4, {"type": "scheduled-certain-dates", "dates": dates}, recipients="1234567")]
    )
    assert sends(calendar, 4) == [utc(local(2026, 1, 20, 8, 0))]


def test_inactive_campaigns_are_not_in_the_calendar() -> None:
    schedule = {"type": "permanent-recurring", "date-range": when(local(2026, 1, 1, 9, 0))}
    calendar = calendar_of(
        [campaign(5, schedule | {"repeat": "1 day"}, recipients="1234567", active=False)]
    )
    assert calendar.empty


def test_expected_recipients_are_distinct_numbers_of_recipients_and_members() -> None:
    schedule = {"type": "scheduled-certain-dates", "dates": [when(local(2026, 2, 1, 9, 0))]}
    records = [
        # Ann's number is also a recipient; Bob is in both lists; list 2 has a non-contact
        campaign(6, schedule, recipients="995551000001, 0555100077", lists=[1, 2]),
        campaign(7, schedule, lists=[1]),
        campaign(8, schedule, recipients="0555100077"),
    ]
    calendar = calendar_of(records)
    reach = dict(zip(calendar["campaign_id"], calendar["expected_recipients"], strict=True))
    assert reach == {6: 5, 7: 2, 8: 1}


def test_the_calendar_is_ordered_and_spans_90_days() -> None:
    schedule = {"type": "permanent-recurring", "date-range": when(local(2026, 1, 1, 7, 0))}
    calendar = calendar_of([campaign(9, schedule | {"repeat": "1 week"}, recipients="1234567")])
    times = sends(calendar, 9)
    assert times == sorted(times)
    assert times[0] == utc(local(2026, 1, 22, 7, 0))
    assert times[-1] == utc(local(2026, 4, 9, 7, 0))
    assert len(times) == 12


# ----------------------------------------------------------------------- birthdays
def birthdays_on(
    today: date, born: dict[int, str | None], campaigns: list[dict[str, Any]] | None = None
) -> list[tuple[date, int, int, int]]:
    people = [contact(i, f"99555100{i:04d}", birthday=b) for i, b in born.items()]
    everyone = [p for p in people]
    lists = [a_list(1, everyone), a_list(2, everyone[:2]), a_list(3, everyone[:1])]
    contacts = frames.contacts_frame(people)
    _, members = frames.lists_frames(lists_of(lists))
    chosen = birthday_campaigns_of(campaigns or [birthday_campaign(1, [1, 2])])
    greeters = frames.frame_of(s.BirthdayCampaignsSchema, chosen, "birthday_campaigns")
    result = a.upcoming_birthdays(contacts, members, greeters, today)
    s.UpcomingBirthdaysSchema.validate(result)
    return [
        (
            row["greet_on"],
            int(row["birthday_campaign_id"]),
            int(row["contact_id"]),
            int(row["turns"]),
        )
        for _, row in result.iterrows()
    ]


BORN = {
    1: "29/02/2000",
    2: "20/02/1990",  # today
    3: "22/03/1985",  # today + 30: just outside
    4: "21/03/1985",  # today + 29: the last day in
    5: "19/02/1990",  # yesterday: next year
    6: None,
}


def test_birthday_window_boundaries_and_29_february_in_a_common_year() -> None:
    assert birthdays_on(date(2027, 2, 20), BORN) == [
        (date(2027, 2, 20), 1, 2, 37),
        (date(2027, 2, 28), 1, 1, 27),  # 29 February greeted on 28 February
        (date(2027, 3, 21), 1, 4, 42),
    ]


def test_29_february_is_greeted_on_the_day_in_a_leap_year() -> None:
    assert (date(2028, 2, 29), 1, 1, 28) in birthdays_on(date(2028, 2, 20), BORN)
    assert not any(day == date(2028, 2, 28) for day, *_ in birthdays_on(date(2028, 2, 20), BORN))


def test_inactive_birthday_campaigns_greet_nobody_and_two_lists_greet_once() -> None:
    chosen = [birthday_campaign(1, [1, 2, 3]), birthday_campaign(2, [1], active=False)]
    greeted = birthdays_on(date(2027, 2, 20), BORN, chosen)
    assert {campaign_id for _, campaign_id, _, _ in greeted} == {1}
    assert Counter(contact_id for _, _, contact_id, _ in greeted) == {1: 1, 2: 1, 4: 1}


def test_each_active_campaign_greets_its_own_members() -> None:
    chosen = [birthday_campaign(1, [3]), birthday_campaign(2, [1])]
    greeted = birthdays_on(date(2027, 2, 20), BORN, chosen)
    assert [(c, p) for _, c, p, _ in greeted] == [(2, 2), (1, 1), (2, 1), (2, 4)]


# ----------------------------------------------------------------------- forecast
def test_sms_forecast_sums_7_and_30_days_against_the_balance() -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    offsets = [
        (timedelta(days=1), 3),
        (timedelta(days=6, hours=23), 2),
        (timedelta(days=8), 5),
        (timedelta(days=29), 10),
        (timedelta(days=31), 100),  # beyond both horizons
    ]
    calendar = pd.DataFrame(
        {
            "campaign_id": frames.ids([1] * len(offsets)),
            "campaign_name": pd.Series(["c"] * len(offsets), dtype=TEXT),
            "schedule_type": pd.Categorical(
                ["permanent-recurring"] * len(offsets), categories=s.SCHEDULE_TYPES
            ),
            "send_at": pd.Series([now + d for d, _ in offsets], dtype="datetime64[ns, UTC]"),
            "expected_recipients": frames.ids(n for _, n in offsets),
        }
    )
    s.CampaignCalendarSchema.validate(calendar)
    today = now.date()
    greet = [today, today + timedelta(days=6), today + timedelta(days=7)]
    greet += [today + timedelta(days=10), today + timedelta(days=29), today + timedelta(days=30)]
    birthdays = pd.DataFrame(
        {
            "greet_on": pd.Series(greet, dtype=frames.DATE32),
            "birthday_campaign_id": frames.ids([1] * len(greet)),
            "campaign_name": pd.Series(["b"] * len(greet), dtype=TEXT),
            "contact_id": frames.ids(range(1, len(greet) + 1)),
            "turns": frames.ids([30] * len(greet)),
        }
    )
    forecast = a.sms_forecast(calendar, birthdays, 10, now, TZ)
    s.SmsForecastSchema.validate(forecast)
    assert forecast.astype(object).values.tolist() == [
        [7, 5, 2, 7, 10, True, 0],
        [30, 20, 5, 25, 10, False, 15],
    ]


@pytest.mark.parametrize(
    ("zone", "now"),
    [
        ("Asia/Tbilisi", datetime(2026, 1, 15, 21, 0, tzinfo=UTC)),  # 01:00 on the 16th there
        ("America/New_York", datetime(2026, 1, 16, 2, 0, tzinfo=UTC)),  # 21:00 on the 15th
        ("Asia/Tbilisi", datetime(2026, 1, 15, 12, 0, tzinfo=UTC)),  # the same day both ways
    ],
)
def test_greetings_are_forecast_by_the_accounts_days(zone: str, now: datetime) -> None:
    """One greeting on each of the 30 days upcoming_birthdays lists, from today in the
    account's zone: 7 in the next 7 days and 30 in the next 30, whatever the UTC date."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    greet = [today + timedelta(days=n) for n in range(30)]
    birthdays = pd.DataFrame(
        {
            "greet_on": pd.Series(greet, dtype=frames.DATE32),
            "birthday_campaign_id": frames.ids([1] * 30),
            "campaign_name": pd.Series(["b"] * 30, dtype=TEXT),
            "contact_id": frames.ids(range(1, 31)),
            "turns": frames.ids([30] * 30),
        }
    )
    forecast = a.sms_forecast(calendar_of([]), birthdays, 0, now, tz)
    assert forecast["birthday_sms"].tolist() == [7, 30]


def test_sms_forecast_with_nothing_planned_is_covered() -> None:
    empty_calendar = calendar_of([])
    empty_birthdays = birthdays_on(date(2027, 6, 1), {1: None})
    assert empty_birthdays == []
    birthdays = a.upcoming_birthdays(
        frames.contacts_frame([]),
        frames.lists_frames([])[1],
        frames.frame_of(s.BirthdayCampaignsSchema, [], "birthday_campaigns"),
        date(2027, 6, 1),
    )
    forecast = a.sms_forecast(empty_calendar, birthdays, 0, NOW, TZ)
    s.SmsForecastSchema.validate(forecast)
    assert forecast["covered"].tolist() == [True, True]
    assert forecast["sms_needed"].tolist() == [0, 0]


# ----------------------------------------------------------------------- vs the simulator
def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def post(sim: Any, path: str, **fields: str) -> dict[str, Any]:
    answer = sim.api.post(path, data=fields)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


@pytest.mark.timeout(120)
def test_the_calendar_matches_what_the_simulator_sends() -> None:
    with private_sim(EMPTY) as sim:
        start = minute(sim_now(sim).astimezone(TZ)) + timedelta(minutes=5)

        def at(moment: datetime) -> str:
            return format_request_datetime(moment, TZ)

        people = [post(sim, "/contacts", phone_number=f"0555{i:06d}") for i in range(1, 4)]
        shared = post(sim, "/lists", name="All", members=",".join(str(p["id"]) for p in people))
        common = {"content": "Hi", "active": "true", "recipients_list": str(shared["id"])}
        made = {
            "scheduled-recurring": post(
                sim,
                "/campaigns",
                name="daily",
                job_type="0",
                campaign_type="0",
                dates=f"{at(start)} - {at(start + timedelta(days=10))}",
                repeat="1 day",
                recipients="995551999001",
                **common,
            ),
            "scheduled-certain-dates": post(
                sim,
                "/campaigns",
                name="twice",
                job_type="0",
                campaign_type="1",
                dates=f"{at(start + timedelta(days=2, hours=3))}, {at(start + timedelta(days=40))}",
                **common,
            ),
            "permanent-recurring": post(
                sim,
                "/campaigns",
                name="every 3 days",
                job_type="1",
                campaign_type="0",
                dates=at(start + timedelta(hours=1)),
                repeat="3 days",
                **common,
            ),
            "permanent-certain-dates": post(
                sim,
                "/campaigns",
                name="yearly",
                job_type="1",
                campaign_type="1",
                # last year's date: it comes round again within the window
                dates=at((start + timedelta(days=4)).replace(year=start.year - 1)),
                **common,
            ),
        }
        inactive = post(
            sim,
            "/campaigns",
            name="paused",
            job_type="1",
            campaign_type="0",
            dates=at(start),
            repeat="1 day",
            recipients="995551999002",
            content="Hi",
            active="false",
        )
        campaigns = frames.campaigns_frame(campaigns_of(api_get(sim, "/campaigns")))
        _, members = frames.lists_frames(lists_of(api_get(sim, "/lists")))
        now = sim_now(sim)
        calendar = a.campaign_calendar(campaigns, members, TZ, now)
        horizon = now + timedelta(days=21)
        sim.advance((horizon - now).total_seconds())
        sent = api_get(sim, "/messages")

    planned = calendar[calendar["send_at"] <= pd.Timestamp(horizon)]
    assert set(planned["schedule_type"]) == set(made)
    assert inactive["id"] not in set(calendar["campaign_id"])
    by_campaign: dict[int, Counter[datetime]] = {}
    for record in sent:
        moment = minute(parse_timestamp(record["created_at"]))
        by_campaign.setdefault(record["campaign_id"], Counter())[moment] += 1
    assert set(by_campaign) == {c["id"] for c in made.values()}
    for kind, record in made.items():
        mine = planned[planned["campaign_id"] == record["id"]]
        expected = Counter(
            {
                pd.Timestamp(t).to_pydatetime(): int(n)
                for t, n in zip(mine["send_at"], mine["expected_recipients"], strict=True)
            }
        )
        assert expected, kind
        assert by_campaign[record["id"]] == expected, kind
