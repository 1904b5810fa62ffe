"""``client.contacts``: list (filters, multi-key sort), CSV export, get, create, update, delete."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from oneconnect_pipelines.formats import CONTACT_FIELDS, format_birthday

from ._arrow import WirePage
from ._pagination import Listing, Page
from ._section import Record, Section, form_value
from .models import CONTACT_PAGES, Contact


class Contacts(Section):
    resource = "contact"

    def list(
        self, *, sort: str | Sequence[str] | None = None, limit: int | None = None, **filters: Any
    ) -> Iterator[Contact]:
        """Every contact matching ``filters`` (exact values of any field), in ``sort`` order
        (field names, ``-`` for descending), else by id."""
        return self._iter("/contacts", self._params(sort, limit, filters), CONTACT_PAGES)

    def pages(
        self, *, sort: str | Sequence[str] | None = None, limit: int | None = None, **filters: Any
    ) -> Iterator[Page]:
        """The same listing as raw JSON pages (what DataFrame builders want)."""
        return self._pages("/contacts", self._params(sort, limit, filters))

    def arrow_pages(
        self, *, sort: str | Sequence[str] | None = None, limit: int | None = None, **filters: Any
    ) -> Listing[WirePage]:
        """The same listing decoded straight into Arrow (``CONTACT_WIRE``), page by page,
        as it downloads (``frames.tables`` makes the contacts table of them)."""
        return self._arrow_pages("/contacts", self._params(sort, limit, filters), CONTACT_PAGES)

    def get(self, contact_id: int) -> Contact:
        return self._one(Contact.from_api, "GET", f"/contacts/{int(contact_id)}")

    def find_by_phone(self, phone_number: str) -> Contact | None:
        found = self._requester.call(
            "GET", "/contacts", params=contact_form({"phone_number": phone_number})
        )
        return self._read(Contact.from_api, found[0], "GET /contacts") if found else None

    def export_csv(self) -> str:
        """``/contacts_csv``: every contact as CSV text, as OneConnect renders it."""
        return self._requester.text("/contacts_csv")

    def create(self, phone_number: str, **fields: Any) -> Contact:
        """A new contact. A lost answer is reconciled by phone number, never duplicated."""
        data = contact_form({"phone_number": phone_number, **fields})

        def find() -> list[Record]:
            found: list[Record] = self._requester.call(
                "GET", "/contacts", params={"phone_number": data["phone_number"]}
            )
            return found

        return self._create(
            "/contacts",
            data,
            find,
            Contact.from_api,
            unique=True,
            holds=lambda found: _holds(found, data),
        )

    def update(self, contact_id: int, **fields: Any) -> Contact:
        """Change only the fields given (``None`` or ``""`` clears one). Safe to replay."""
        path = f"/contacts/{int(contact_id)}"
        data = contact_form(fields)
        return self._one(Contact.from_api, "PATCH", path, data=data, replay_safe=True)

    def delete(self, contact_id: int) -> None:
        self._delete(f"/contacts/{int(contact_id)}")

    @staticmethod
    def _params(
        sort: str | Sequence[str] | None, limit: int | None, filters: dict[str, Any]
    ) -> dict[str, Any]:
        params = contact_form(filters)
        if sort:
            params["sort"] = sort if isinstance(sort, str) else ",".join(sort)
        if limit is not None:
            params["limit"] = str(limit)
        return params


def _holds(contact: Contact, sent: dict[str, str]) -> bool:
    """Whether a contact holds every field as a create sent it."""
    return contact_form({name: getattr(contact, name) for name in sent}) == sent


def contact_form(fields: dict[str, Any]) -> dict[str, str]:
    """Contact fields as form values, refusing names the API does not know."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contact fields: {', '.join(sorted(unknown))}")
    values = dict(fields)
    birthday = values.get("birthday")
    if isinstance(birthday, date):
        values["birthday"] = format_birthday(birthday)
    return {name: form_value(value) for name, value in values.items()}
