"""pandera models of every table the project produces: explicit dtypes, vectorized checks.

Conventions: ids are nullable ``Int64``; text is pandas ``string[pyarrow]`` (phone
numbers too, so leading zeros survive); timestamps are ``datetime64[ns, UTC]``; days are
Arrow ``date32``; lists are Arrow lists; statuses and genders are categoricals; money is
an Arrow decimal. Every check here is a column operation: no per-row Python.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.typing import Series

Id = Series[pd.Int64Dtype]
Count = Series[pd.Int64Dtype]
#: Text: pandas strings stored in Arrow, so frames convert to Arrow (DuckDB, Parquet)
#: without copying, and string checks run in Arrow's kernels.
TEXT = pd.StringDtype("pyarrow")
Text = Series[Annotated[pd.StringDtype, "pyarrow", pd.NA]]
Flag = Series[pd.BooleanDtype]
Stamp = Series[Annotated[pd.DatetimeTZDtype, "ns", "UTC"]]
NaiveStamp = Series[pa.DateTime]
Day = Series[Annotated[pd.ArrowDtype, pyarrow.date32()]]
IdList = Series[Annotated[pd.ArrowDtype, pyarrow.list_(pyarrow.int64())]]
StampList = Series[Annotated[pd.ArrowDtype, pyarrow.list_(pyarrow.timestamp("ns", "UTC"))]]
Category = Series[pd.CategoricalDtype]
Money = Series[Annotated[pd.ArrowDtype, pyarrow.decimal128(12, 2)]]

GENDERS = ("Male", "Female")
FINAL_STATUSES = ("delivered", "undelivered", "pending")
SENDER_TYPES = ("campaign", "birthday", "adhoc")
SCHEDULE_TYPES = (
    "scheduled-recurring",
    "scheduled-certain-dates",
    "permanent-recurring",
    "permanent-certain-dates",
)
REPEAT_PERIODS = ("days", "weeks", "months", "years")
MEMBER_TYPES = ("contact", "noncontact")


class _Strict(pa.DataFrameModel):
    class Config:
        strict = True  # no column we did not declare
        ordered = True  # and in the declared order: stable tables and exports


class ContactsSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1)
    phone_number: Text = pa.Field(str_matches=r"^\d+$")
    email: Text = pa.Field(nullable=True)
    first_name: Text = pa.Field(nullable=True)
    last_name: Text = pa.Field(nullable=True)
    birthday: Day = pa.Field(nullable=True)
    post_code: Text = pa.Field(nullable=True)
    city: Text = pa.Field(nullable=True)
    street: Text = pa.Field(nullable=True)
    #: Extra numbers joined by ", " (as OneConnect's own CSV export writes them).
    additional_numbers: Text = pa.Field(nullable=True)
    gender: Category = pa.Field(nullable=True, isin=GENDERS)
    created_at: Stamp
    updated_at: Stamp


class ListsSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1)
    name: Text = pa.Field(unique=True)
    member_count: Count = pa.Field(ge=0)
    noncontact_count: Count = pa.Field(ge=0)
    created_at: Stamp
    updated_at: Stamp


class ListMembersSchema(_Strict):
    """One row per list x member; ``contact_id`` is null for members that are not contacts."""

    list_id: Id = pa.Field(ge=1)
    member_type: Category = pa.Field(isin=MEMBER_TYPES)
    contact_id: Id = pa.Field(nullable=True)
    phone_number: Text = pa.Field(nullable=True)
    first_name: Text = pa.Field(nullable=True)
    last_name: Text = pa.Field(nullable=True)

    class Config:
        unique = ("list_id", "member_type", "contact_id", "phone_number")


class CampaignsSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1)
    name: Text
    active: Flag
    #: Extra recipients' phone numbers joined by "," (as the API gives them).
    recipients: Text = pa.Field(nullable=True)
    recipient_count: Count = pa.Field(ge=0)
    recipients_list: IdList
    title: Text = pa.Field(nullable=True)
    content: Text
    job_type: Count = pa.Field(isin=[0, 1])
    schedule_type: Category = pa.Field(isin=SCHEDULE_TYPES)
    start_at: Stamp = pa.Field(nullable=True)
    end_at: Stamp = pa.Field(nullable=True)
    repeat_every: Count = pa.Field(nullable=True, ge=1)
    repeat_period: Category = pa.Field(nullable=True, isin=REPEAT_PERIODS)
    dates: StampList
    completed: Flag = pa.Field(nullable=True)
    created_at: Stamp
    updated_at: Stamp


class BirthdayCampaignsSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1)
    name: Text
    active: Flag
    content: Text
    recipient_lists: IdList
    title: Text = pa.Field(nullable=True)
    created_at: Stamp
    updated_at: Stamp


class MessagesSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1)
    final_status: Category = pa.Field(isin=FINAL_STATUSES)
    sender_type: Category = pa.Field(isin=SENDER_TYPES)
    #: The campaign or birthday campaign that sent it; null for ad-hoc sends.
    campaign_id: Id = pa.Field(nullable=True)
    destination: Text
    content: Text
    delivery_status: Text = pa.Field(nullable=True)
    delivery_reason: Text = pa.Field(nullable=True)
    created_at: Stamp
    updated_at: Stamp
    #: ``created_at`` as the account's wall-clock time, naive: what partitions cut on.
    sent_local: NaiveStamp


class TitlesSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1)
    name: Text = pa.Field(unique=True, str_matches=r"^[A-Za-z0-9 .\-]{1,11}$")
    active: Flag
    created_at: Stamp
    updated_at: Stamp


class TemplatesSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1)
    title: Text
    body: Text
    created_at: Stamp
    updated_at: Stamp


class BalanceSchema(_Strict):
    sms_balance: Count = pa.Field(ge=0)
    fetched_at: Stamp


class PricingSchema(_Strict):
    name: Text = pa.Field(unique=True)
    price: Money
    price_yearly: Money
    messages_history_limit: Count = pa.Field(nullable=True, ge=0)
    contacts_limit: Count = pa.Field(nullable=True, ge=0)
    lists_limit: Count = pa.Field(nullable=True, ge=0)
    titles_limit: Count = pa.Field(nullable=True, ge=0)
    campaigns_limit: Count = pa.Field(nullable=True, ge=0)
    upload_contacts_from_csv: Flag
    upload_lists_from_csv: Flag
    integrations: Flag
    api_ip_restriction: Flag


class DeliveryRatesSchema(_Strict):
    day: Day
    sender_type: Category = pa.Field(isin=SENDER_TYPES)
    campaign_id: Id = pa.Field(nullable=True)
    sent: Count = pa.Field(ge=0)
    delivered: Count = pa.Field(ge=0)
    undelivered: Count = pa.Field(ge=0)
    pending: Count = pa.Field(ge=0)
    #: delivered / (delivered + undelivered); null while nothing has a final status.
    delivery_rate: Series[float] = pa.Field(nullable=True, ge=0, le=1)


class CampaignCalendarSchema(_Strict):
    campaign_id: Id
    campaign_name: Text
    schedule_type: Category = pa.Field(isin=SCHEDULE_TYPES)
    send_at: Stamp
    expected_recipients: Count = pa.Field(ge=0)


class UpcomingBirthdaysSchema(_Strict):
    greet_on: Day
    birthday_campaign_id: Id
    campaign_name: Text
    contact_id: Id
    turns: Count = pa.Field(ge=0)


class SmsForecastSchema(_Strict):
    horizon_days: Count = pa.Field(isin=[7, 30])
    campaign_sms: Count = pa.Field(ge=0)
    birthday_sms: Count = pa.Field(ge=0)
    sms_needed: Count = pa.Field(ge=0)
    sms_balance: Count = pa.Field(ge=0)
    covered: Flag
    shortfall: Count = pa.Field(ge=0)


class CrmContactsSchema(_Strict):
    """A CRM export after normalisation (``crm.normalise``): one row per accepted file row.

    ``row`` is the line the user sees in the file; ``phone_number`` is already in the
    account's stored format; ``additional_numbers`` are joined by ", " like
    ``ContactsSchema``. Uniqueness of numbers is part of the contract: a duplicate that
    reaches this table is a bug upstream, and its rows are rejected, not synced.
    """

    row: Id = pa.Field(unique=True, ge=1)
    phone_number: Text = pa.Field(unique=True, str_matches=r"^\d{6,15}$")
    email: Text = pa.Field(nullable=True, str_matches=r"^[^@\sA-Z]+@[^@\sA-Z]+\.[^@\sA-Z]+$")
    first_name: Text = pa.Field(nullable=True)
    last_name: Text = pa.Field(nullable=True)
    birthday: Day = pa.Field(nullable=True, ge=date(1900, 1, 1))
    post_code: Text = pa.Field(nullable=True)
    city: Text = pa.Field(nullable=True)
    street: Text = pa.Field(nullable=True)
    additional_numbers: Text = pa.Field(nullable=True, str_matches=r"^\d{6,15}(, \d{6,15})*$")
    gender: Category = pa.Field(nullable=True, isin=GENDERS)
