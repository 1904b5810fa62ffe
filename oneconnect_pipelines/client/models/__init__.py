"""Typed records of every OneConnect resource, parsed from the API's JSON.

Datetimes are timezone-aware UTC, birthdays are dates, phone numbers stay strings.
Records are frozen ``msgspec`` structs made with ``gc=False``: cheap to build, and the
garbage collector never tracks them, so holding 100,000 contacts costs no collection
time (records hold only values and other records, so they cannot form cycles).

Each ``from_api`` is the single place that knows its resource's quirks (``title`` ``""``
meaning none, ``campaign_id`` 0 meaning an ad-hoc send, schedules in two shapes, ...).
The big collections (contacts, lists with their members, messages) also have a
``PageDecoder``: their pages are decoded straight from bytes into private wire structs
that mirror the JSON, with no dict per record, and built by the same code as
``from_api``, which converts a mapping into the same wire struct first.
"""

from ._wire import PageDecoder
from .account import Plan, SendReceipt, SmsCode, Template, Title
from .campaigns import BirthdayCampaign, Campaign, Schedule
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
    "CONTACT_PAGES",
    "CONTACT_WIRE",
    "LIST_PAGES",
    "MESSAGE_PAGES",
    "MESSAGE_WIRE",
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
]
