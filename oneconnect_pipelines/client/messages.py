"""``client.messages``: history with every filter, immediate, scheduled and group sends.

Sends are never replayed once they may have reached OneConnect: a lost answer raises
``SendOutcomeUnknownError`` with the send's ``reference`` (generated when not given),
which OneConnect echoes in delivery reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypedDict, Unpack

from oneconnect_pipelines.formats import format_request_datetime

from ._arrow import WirePage
from ._pagination import Listing, Page
from ._section import Section, form, ids_of
from .errors import OutcomeUnknownError, SendOutcomeUnknownError
from .models import MESSAGE_PAGES, Message, SendReceipt, SmsCode

MAX_CONTENT = 160


def new_reference() -> str:
    """``oc-`` and a random id in dash-separated groups of four: error messages mask runs of
    six or more digits, and the reference they tell you to look for must survive that."""
    digits = uuid.uuid4().hex
    return "oc-" + "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))


class MessageFilters(TypedDict, total=False):
    """Filters of ``GET /messages``, combinable; ``start``/``end`` are aware datetimes."""

    final_status: str
    campaign_id: int
    birthday_campaign: bool
    start: datetime
    end: datetime
    limit: int


class Messages(Section):
    resource = "message"

    def list(self, **filters: Unpack[MessageFilters]) -> Iterator[Message]:
        """Messages sent in [start, end] (either optional), filtered, by id."""
        return self._iter("/messages", self._params(filters), MESSAGE_PAGES)

    def pages(self, **filters: Unpack[MessageFilters]) -> Iterator[Page]:
        """The same listing as raw JSON pages."""
        return self._pages("/messages", self._params(filters))

    def arrow_pages(self, **filters: Unpack[MessageFilters]) -> Listing[WirePage]:
        """The same listing decoded straight into Arrow (``MESSAGE_WIRE``), page by page
        (``Contacts.arrow_pages``)."""
        return self._arrow_pages("/messages", self._params(filters), MESSAGE_PAGES)

    def get(self, message_id: int) -> Message:
        return self._one(Message.from_api, "GET", f"/messages/{int(message_id)}")

    def send(
        self,
        content: str,
        *,
        destinations: Iterable[str] = (),
        contacts: Iterable[int] = (),
        lists: Iterable[int] = (),
        title: int | None = None,
        reference: str | None = None,
    ) -> SendReceipt:
        """Send now to phone numbers, contacts and/or lists (each number gets one SMS)."""
        return self._send(
            "/messages", self._recipients(content, destinations, contacts, lists, title), reference
        )

    def schedule(
        self,
        at: datetime,
        content: str,
        *,
        destinations: Iterable[str] = (),
        contacts: Iterable[int] = (),
        lists: Iterable[int] = (),
        title: int | None = None,
        reference: str | None = None,
    ) -> SendReceipt:
        """Have OneConnect send at ``at`` (minute precision, account-local on the wire)."""
        fields = self._recipients(content, destinations, contacts, lists, title)
        fields.update(
            send_now="false", sms_date=format_request_datetime(at, self._requester.timezone)
        )
        return self._send("/messages", fields, reference)

    def send_group(
        self,
        content: str,
        genders: Iterable[str],
        *,
        age_from: int | None = None,
        age_to: int | None = None,
        title: int | None = None,
        reference: str | None = None,
    ) -> SendReceipt:
        """Send to every contact of the given genders (``"male"``, ``"female"``) and ages."""
        fields: dict[str, Any] = {
            "content": content,
            "genders": ", ".join(g.lower() for g in genders),
            "age_from": age_from,
            "age_to": age_to,
            "title": title,
        }
        return self._send(
            "/group_sms", form({k: v for k, v in fields.items() if v is not None}), reference
        )

    def sms_auth(
        self,
        phone_number: str,
        *,
        only_numbers: bool = False,
        only_uppercase: bool = False,
        length: int = 4,
    ) -> SmsCode:
        """Text a one-time code to ``phone_number`` and return it (the SMS authenticator)."""
        data = form(
            {
                "phone_number": phone_number,
                "only_numbers": only_numbers,
                "only_uppercase": only_uppercase,
                "length": length,
            }
        )
        try:
            answer = self._requester.call("POST", "/mfa/sms_auth", data=data, replay_safe=False)
        except OutcomeUnknownError as unknown:
            raise SendOutcomeUnknownError(
                "the code may have been sent; ask the user to retry",
                call=unknown.call,
                reference="",
            ) from unknown
        return self._read(_sms_code, answer, "POST /mfa/sms_auth")

    def _send(self, path: str, fields: dict[str, str], reference: str | None) -> SendReceipt:
        reference = reference or new_reference()
        try:
            answer = self._requester.call(
                "POST", path, data={**fields, "reference": reference}, replay_safe=False
            )
        except OutcomeUnknownError as unknown:
            raise SendOutcomeUnknownError(
                f"not replayed, to never send twice; look for reference {reference} in "
                "delivery reports",
                call=unknown.call,
                reference=reference,
            ) from unknown
        # accepted whatever the answer's shape: raising now could make the caller send again
        said = answer.get("message") if isinstance(answer, dict) else None
        return SendReceipt(reference=reference, message=str(said or "OK"))

    @staticmethod
    def _recipients(
        content: str,
        destinations: Iterable[str],
        contacts: Iterable[int],
        lists: Iterable[int],
        title: int | None,
    ) -> dict[str, str]:
        fields: dict[str, Any] = {"content": content}
        for name, values in (
            ("destination", [str(d) for d in destinations]),
            ("contacts", ids_of(contacts)),
            ("lists", ids_of(lists)),
        ):
            if values:
                fields[name] = values
        if title is not None:
            fields["title"] = title
        return form(fields)

    def _params(self, filters: MessageFilters) -> dict[str, str]:
        unknown = set(filters) - set(MessageFilters.__annotations__)
        if unknown:
            raise TypeError(f"unknown message filters: {', '.join(sorted(unknown))}")
        params = form(
            {k: v for k, v in filters.items() if v is not None and k not in ("start", "end")}
        )
        for name, moment in (
            ("start_date", filters.get("start")),
            ("end_date", filters.get("end")),
        ):
            if moment is not None:
                params[name] = format_request_datetime(moment, self._requester.timezone)
        return params


def _sms_code(answer: Any) -> SmsCode:
    return SmsCode(code=str(answer["code"]), phone_number=str(answer["phone_number"]))
