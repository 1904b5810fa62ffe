"""The OneConnect SDK: every endpoint, resilient, fast. No Dagster, no pandas.

    from oneconnect_pipelines.client import OneConnect
    with OneConnect(base_url, email, api_key) as oc:
        for contact in oc.contacts.list(sort="-created_at"):
            ...

See ``errors`` for the exception tree and ``_request_loop`` for the retry rules.
"""

from __future__ import annotations

from . import errors
from ._client import DEFAULT_BASE_URL, DEFAULT_CONCURRENCY, OneConnect
from ._pagination import Listing
from ._request_loop import CallStats, Clock, RetryPolicy, SystemClock, Timeouts
from .campaigns import CertainDates, Recurring
from .errors import OneConnectError
from .models import (
    BirthdayCampaign,
    Campaign,
    Contact,
    ContactList,
    Message,
    Plan,
    Schedule,
    SendReceipt,
    SmsCode,
    Template,
    Title,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONCURRENCY",
    "BirthdayCampaign",
    "CallStats",
    "Campaign",
    "CertainDates",
    "Clock",
    "Contact",
    "ContactList",
    "Listing",
    "Message",
    "OneConnect",
    "OneConnectError",
    "Plan",
    "Recurring",
    "RetryPolicy",
    "Schedule",
    "SendReceipt",
    "SmsCode",
    "SystemClock",
    "Template",
    "Timeouts",
    "Title",
    "errors",
]
