"""Typed records of every OneConnect resource, parsed from the API's JSON.

Datetimes are timezone-aware UTC, birthdays are dates, phone numbers stay strings.
Records are frozen ``msgspec`` structs made with ``gc=False``: cheap to build, and the
garbage collector never tracks them, so holding 100,000 contacts costs no collection
time (records hold only values and other records, so they cannot form cycles).

Every resource is read through a private wire struct that mirrors its JSON: a listing
page is decoded straight from bytes into it (a ``PageDecoder``, no dict per record), and
``from_api`` converts a mapping into the same struct, so both read a value the same way
(lax: numbers and flags sent as text are read by their value; a value of another JSON
type is refused, naming the field). The record's builder is then the single place that
knows its resource's quirks (``title`` ``""`` meaning none, ``campaign_id`` 0 meaning an
ad-hoc send, schedules in two shapes, ...). A plan's JSON is its record, so it is
decoded as it is.
"""

from ._wire import PageDecoder
from .account import TEMPLATE_PAGES, TITLE_PAGES, Plan, SendReceipt, SmsCode, Template, Title
from .campaigns import BIRTHDAY_CAMPAIGN_PAGES, BirthdayCampaign, Campaign, Schedule, campaign_pages
from .contacts import (
    CONTACT_PAGES,
    CONTACT_WIRE,
    LIST_PAGES,
    Contact,
    ContactList,
    ListMembership,
)
from .messages import MESSAGE_PAGES, MESSAGE_WIRE, Message

__all__ = [
    "BIRTHDAY_CAMPAIGN_PAGES",
    "CONTACT_PAGES",
    "CONTACT_WIRE",
    "LIST_PAGES",
    "MESSAGE_PAGES",
    "MESSAGE_WIRE",
    "TEMPLATE_PAGES",
    "TITLE_PAGES",
    "BirthdayCampaign",
    "Campaign",
    "Contact",
    "ContactList",
    "ListMembership",
    "Message",
    "PageDecoder",
    "Plan",
    "Schedule",
    "SendReceipt",
    "SmsCode",
    "Template",
    "Title",
    "campaign_pages",
]
