"""pandera models of every table the project produces: explicit dtypes, vectorized checks.

Conventions: ids are nullable ``Int64``; text is pandas ``string[pyarrow]`` (phone
numbers too, so leading zeros survive); timestamps are ``datetime64[ns, UTC]``; days are
Arrow ``date32``; lists are Arrow lists; statuses and genders are categoricals; money is
an Arrow decimal. Every check here is a column operation: no per-row Python.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Literal

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera import dtypes
from pandera.engines import pandas_engine
from pandera.typing import Series

from .formats import GENDERS, MESSAGE_STATUSES

Id = Series[pd.Int64Dtype]
Count = Series[pd.Int64Dtype]
#: Text: pandas strings stored in Arrow, so frames convert to Arrow (DuckDB, Parquet)
#: without copying, and string checks run in Arrow's kernels.
TEXT = pd.StringDtype("pyarrow")
#: Days (birthdays, partition days): Arrow dates, which DuckDB and Parquet take as they are.
DATE32 = pd.ArrowDtype(pyarrow.date32())
#: A certain-dates schedule's send times (``StampList``): lists of UTC moments.
STAMP_LIST = pd.ArrowDtype(pyarrow.list_(pyarrow.timestamp("ns", "UTC")))


@dtypes.immutable(init=True)
class ArrowText(pandas_engine.STRING):
    """``string[pyarrow]``, checked as one answer for the whole column.

    pandera's own string type answers its dtype check value by value even when the
    column's dtype matches, and then formats the (empty) failure cases of every column of
    every batch: 60% of validating a contacts table (0.11 s of 0.18 s per 100,000
    rows). Only ``string[pyarrow]`` itself passes (an object column of strings does not).
    """

    storage: Literal["python", "pyarrow"] | None = "pyarrow"

    def check(self, pandera_dtype: dtypes.DataType, data_container: object = None) -> bool:
        return bool(getattr(pandas_engine.Engine.dtype(pandera_dtype), "type", None) == self.type)


Text = Series[ArrowText]
Flag = Series[pd.BooleanDtype]
Stamp = Series[Annotated[pd.DatetimeTZDtype, "ns", "UTC"]]
NaiveStamp = Series[pa.DateTime]
Day = Series[Annotated[pd.ArrowDtype, pyarrow.date32()]]
IdList = Series[Annotated[pd.ArrowDtype, pyarrow.list_(pyarrow.int64())]]
StampList = Series[Annotated[pd.ArrowDtype, pyarrow.list_(pyarrow.timestamp("ns", "UTC"))]]
Category = Series[pd.CategoricalDtype]
Money = Series[Annotated[pd.ArrowDtype, pyarrow.decimal128(12, 2)]]

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
    id: Id = pa.Field(unique=True, ge=1, description="OneConnect's id of the record")
    phone_number: Text = pa.Field(
        str_matches=r"^\d+$",
        description="Phone number as the account stores it (text: leading zeros kept)",
    )
    email: Text = pa.Field(nullable=True, description="E-mail address")
    first_name: Text = pa.Field(nullable=True, description="First name")
    last_name: Text = pa.Field(nullable=True, description="Last name")
    birthday: Day = pa.Field(nullable=True, description="Date of birth")
    post_code: Text = pa.Field(nullable=True, description="Post code")
    city: Text = pa.Field(nullable=True, description="City")
    street: Text = pa.Field(nullable=True, description="Street address")
    additional_numbers: Text = pa.Field(
        nullable=True, description="Further phone numbers, joined by ', '"
    )
    gender: Category = pa.Field(
        nullable=True, isin=GENDERS, description="Male or Female; null when unknown"
    )
    created_at: Stamp = pa.Field(description="When it was created (UTC)")
    updated_at: Stamp = pa.Field(description="When it last changed (UTC)")


class ListsSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1, description="OneConnect's id of the record")
    name: Text = pa.Field(unique=True, description="Its name")
    member_count: Count = pa.Field(ge=0, description="Members that are contacts")
    noncontact_count: Count = pa.Field(
        ge=0, description="Members uploaded from CSV that are not contacts"
    )
    created_at: Stamp = pa.Field(description="When it was created (UTC)")
    updated_at: Stamp = pa.Field(description="When it last changed (UTC)")


class ListMembersSchema(_Strict):
    """One row per list x member; ``contact_id`` is null for members that are not contacts."""

    list_id: Id = pa.Field(ge=1, description="The list")
    member_type: Category = pa.Field(
        isin=MEMBER_TYPES, description="contact, or noncontact (uploaded from CSV, not a contact)"
    )
    contact_id: Id = pa.Field(nullable=True, description="The contact; null for noncontact members")
    phone_number: Text = pa.Field(nullable=True, description="The member's phone number")
    first_name: Text = pa.Field(nullable=True, description="First name")
    last_name: Text = pa.Field(nullable=True, description="Last name")

    class Config:
        unique = ("list_id", "member_type", "contact_id", "phone_number")


class CampaignsSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1, description="OneConnect's id of the record")
    name: Text = pa.Field(description="Its name")
    active: Flag = pa.Field(description="Whether it is switched on")
    recipients: Text = pa.Field(
        nullable=True,
        description="Extra recipients' phone numbers joined by ',' (as the API gives them)",
    )
    recipient_count: Count = pa.Field(ge=0, description="How many extra recipients")
    recipients_list: IdList = pa.Field(description="Ids of the lists it sends to")
    title: Text = pa.Field(
        nullable=True, description="Sender name (a title) the recipient sees; null when none"
    )
    content: Text = pa.Field(description="The message text")
    job_type: Count = pa.Field(
        isin=[0, 1], description="0 scheduled (ends), 1 permanent (repeats forever)"
    )
    schedule_type: Category = pa.Field(
        isin=SCHEDULE_TYPES, description="scheduled-/permanent- recurring or certain-dates"
    )
    start_at: Stamp = pa.Field(
        nullable=True, description="First send of a recurring schedule (UTC)"
    )
    end_at: Stamp = pa.Field(
        nullable=True, description="Last possible send of a scheduled recurring campaign (UTC)"
    )
    repeat_every: Count = pa.Field(nullable=True, ge=1, description="Recurring: every N periods")
    repeat_period: Category = pa.Field(
        nullable=True, isin=REPEAT_PERIODS, description="Recurring: days, weeks, months or years"
    )
    dates: StampList = pa.Field(description="Certain-dates schedules: the send times (UTC)")
    completed: Flag = pa.Field(
        nullable=True, description="Scheduled campaigns: no send left; null for permanent ones"
    )
    created_at: Stamp = pa.Field(description="When it was created (UTC)")
    updated_at: Stamp = pa.Field(description="When it last changed (UTC)")


class BirthdayCampaignsSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1, description="OneConnect's id of the record")
    name: Text = pa.Field(description="Its name")
    active: Flag = pa.Field(description="Whether it is switched on")
    content: Text = pa.Field(description="The greeting")
    recipient_lists: IdList = pa.Field(description="Ids of the lists whose members it greets")
    title: Text = pa.Field(
        nullable=True, description="Sender name (a title) the recipient sees; null when none"
    )
    created_at: Stamp = pa.Field(description="When it was created (UTC)")
    updated_at: Stamp = pa.Field(description="When it last changed (UTC)")


class MessagesSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1, description="OneConnect's id of the record")
    final_status: Category = pa.Field(
        isin=MESSAGE_STATUSES, description="delivered, undelivered or pending (report not in yet)"
    )
    sender_type: Category = pa.Field(
        isin=SENDER_TYPES,
        description="What sent it: campaign, birthday (a birthday campaign) or adhoc",
    )
    campaign_id: Id = pa.Field(
        nullable=True,
        description="The campaign or birthday campaign that sent it; null for ad-hoc sends",
    )
    destination: Text = pa.Field(description="The number it was sent to")
    content: Text = pa.Field(description="The message text")
    delivery_status: Text = pa.Field(
        nullable=True, description="The delivery report's status, e.g. Delivered"
    )
    delivery_reason: Text = pa.Field(
        nullable=True, description="The delivery report's reason; '0' on success"
    )
    created_at: Stamp = pa.Field(description="When it was sent (UTC)")
    updated_at: Stamp = pa.Field(
        description="When its status last changed, e.g. the delivery report (UTC)"
    )
    sent_local: NaiveStamp = pa.Field(
        description="created_at on the account's wall clock (naive): the partition column"
    )


class TitlesSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1, description="OneConnect's id of the record")
    name: Text = pa.Field(
        unique=True,
        str_matches=r"^[A-Za-z0-9 .\-]{1,11}$",
        description="The sender name (at most 11 characters)",
    )
    active: Flag = pa.Field(
        description="Activated by OneConnect's staff (until then sends go out as Message)"
    )
    created_at: Stamp = pa.Field(description="When it was created (UTC)")
    updated_at: Stamp = pa.Field(description="When it last changed (UTC)")


class TemplatesSchema(_Strict):
    id: Id = pa.Field(unique=True, ge=1, description="OneConnect's id of the record")
    title: Text = pa.Field(description="The template's name")
    body: Text = pa.Field(description="The saved text")
    created_at: Stamp = pa.Field(description="When it was created (UTC)")
    updated_at: Stamp = pa.Field(description="When it last changed (UTC)")


class BalanceSchema(_Strict):
    sms_balance: Count = pa.Field(ge=0, description="SMS left (one per number reached)")
    fetched_at: Stamp = pa.Field(description="When the balance was read (UTC)")


class PricingSchema(_Strict):
    name: Text = pa.Field(unique=True, description="Plan name")
    price: Money = pa.Field(description="Monthly price")
    price_yearly: Money = pa.Field(description="Yearly price")
    messages_history_limit: Count = pa.Field(
        nullable=True, ge=0, description="Messages kept in history; null: unlimited"
    )
    contacts_limit: Count = pa.Field(
        nullable=True, ge=0, description="Contacts allowed; null: unlimited"
    )
    lists_limit: Count = pa.Field(nullable=True, ge=0, description="Lists allowed; null: unlimited")
    titles_limit: Count = pa.Field(
        nullable=True, ge=0, description="Sender titles allowed; null: unlimited"
    )
    campaigns_limit: Count = pa.Field(
        nullable=True, ge=0, description="Campaigns allowed; null: unlimited"
    )
    upload_contacts_from_csv: Flag = pa.Field(description="Contacts may be uploaded from CSV")
    upload_lists_from_csv: Flag = pa.Field(description="Lists may be uploaded from CSV")
    integrations: Flag = pa.Field(description="Integrations are included")
    api_ip_restriction: Flag = pa.Field(
        description="The API can be restricted to listed IP addresses"
    )


class DeliveryRatesSchema(_Strict):
    day: Day = pa.Field(description="The account-local day of sending: the partition column")
    sender_type: Category = pa.Field(isin=SENDER_TYPES, description="campaign, birthday or adhoc")
    campaign_id: Id = pa.Field(
        nullable=True, description="The campaign or birthday campaign; null for ad-hoc sends"
    )
    sent: Count = pa.Field(ge=0, description="Messages sent")
    delivered: Count = pa.Field(ge=0, description="Of them delivered")
    undelivered: Count = pa.Field(ge=0, description="Of them undelivered")
    pending: Count = pa.Field(ge=0, description="Of them still without a delivery report")
    delivery_rate: Series[float] = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="delivered / (delivered + undelivered); null while none has a final status",
    )


class CampaignCalendarSchema(_Strict):
    campaign_id: Id = pa.Field(description="The campaign")
    campaign_name: Text = pa.Field(description="Its name")
    schedule_type: Category = pa.Field(isin=SCHEDULE_TYPES, description="Its schedule type")
    send_at: Stamp = pa.Field(description="When this send happens (UTC)")
    expected_recipients: Count = pa.Field(
        ge=0, description="Distinct numbers it would reach as the lists are now"
    )


class UpcomingBirthdaysSchema(_Strict):
    greet_on: Day = pa.Field(description="The account-local day of the greeting")
    birthday_campaign_id: Id = pa.Field(description="The birthday campaign that greets")
    campaign_name: Text = pa.Field(description="Its name")
    contact_id: Id = pa.Field(description="The contact greeted")
    turns: Count = pa.Field(ge=0, description="The age reached that day")


class SmsForecastSchema(_Strict):
    horizon_days: Count = pa.Field(isin=[7, 30], description="The next 7 or 30 days")
    campaign_sms: Count = pa.Field(ge=0, description="SMS campaigns will send in that time")
    birthday_sms: Count = pa.Field(
        ge=0, description="SMS birthday greetings will send in that time"
    )
    sms_needed: Count = pa.Field(ge=0, description="campaign_sms + birthday_sms")
    sms_balance: Count = pa.Field(ge=0, description="SMS left now")
    covered: Flag = pa.Field(description="The balance covers what is needed")
    shortfall: Count = pa.Field(ge=0, description="SMS missing (0 when covered)")


class CrmContactsSchema(_Strict):
    """A CRM export after normalisation (``crm.normalise``): one row per accepted file row.

    ``row`` is the line the user sees in the file; ``phone_number`` is already in the
    account's stored format; ``additional_numbers`` are joined by ", " like
    ``ContactsSchema``. Uniqueness of numbers is part of the contract: a duplicate that
    reaches this table is a bug upstream, and its rows are rejected, not synced.
    """

    row: Id = pa.Field(unique=True, ge=1, description="The line of the CRM file the row starts on")
    phone_number: Text = pa.Field(
        unique=True,
        str_matches=r"^\d{6,15}$",
        description="Phone number in the account's stored format",
    )
    email: Text = pa.Field(
        nullable=True,
        str_matches=r"^[^@\sA-Z]+@[^@\sA-Z]+\.[^@\sA-Z]+$",
        description="E-mail address",
    )
    first_name: Text = pa.Field(nullable=True, description="First name")
    last_name: Text = pa.Field(nullable=True, description="Last name")
    birthday: Day = pa.Field(nullable=True, ge=date(1900, 1, 1), description="Date of birth")
    post_code: Text = pa.Field(nullable=True, description="Post code")
    city: Text = pa.Field(nullable=True, description="City")
    street: Text = pa.Field(nullable=True, description="Street address")
    additional_numbers: Text = pa.Field(
        nullable=True,
        str_matches=r"^\d{6,15}(, \d{6,15})*$",
        description="Further phone numbers, joined by ', '",
    )
    gender: Category = pa.Field(
        nullable=True, isin=GENDERS, description="Male or Female; null when unknown"
    )


@functools.cache
def arrow_schema(model: type[pa.DataFrameModel]) -> pyarrow.Schema:
    """The Arrow schema of ``model``'s table (an empty frame of it through Arrow)."""
    columns = model.to_schema().columns
    empty = pd.DataFrame({name: _empty(column.dtype.type) for name, column in columns.items()})
    return pyarrow.Table.from_pandas(empty, preserve_index=False).schema


@functools.cache
def categories(model: type[pa.DataFrameModel]) -> dict[str, tuple[str, ...]]:
    """``model``'s categorical columns and their categories (its ``isin`` values, in order):
    what a table built by Arrow needs to become the model's DataFrame."""
    return {
        name: tuple(check.statistics["allowed_values"])
        for name, column in model.to_schema().columns.items()
        if isinstance(column.dtype.type, pd.CategoricalDtype)
        for check in column.checks
        if check.name == "isin"
    }


def _empty(dtype: object) -> pd.Series:
    if isinstance(dtype, pd.CategoricalDtype):  # the models' categories are text
        return pd.Series(pd.Categorical([], categories=pd.Index([], dtype="string[pyarrow]")))
    return pd.Series([], dtype=dtype)
