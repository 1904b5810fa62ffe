"""``client.birthday_campaigns``: greetings OneConnect sends to list members on birthdays."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ._pagination import Page
from ._section import Record, Section, form, ids_of
from .models import BIRTHDAY_CAMPAIGN_PAGES, BirthdayCampaign


class BirthdayCampaigns(Section):
    resource = "birthday campaign"

    def list(self, *, active: bool | None = None) -> Iterator[BirthdayCampaign]:
        params = None if active is None else form({"active": active})
        return self._iter("/birthday_campaigns", params, BIRTHDAY_CAMPAIGN_PAGES)

    def pages(self) -> Iterator[Page]:
        return self._pages("/birthday_campaigns")

    def get(self, campaign_id: int) -> BirthdayCampaign:
        return self._one(
            BirthdayCampaign.from_api, "GET", f"/birthday_campaigns/{int(campaign_id)}"
        )

    def create(
        self,
        name: str,
        content: str,
        lists: Iterable[int],
        *,
        title: int | None = None,
        active: bool = True,
    ) -> BirthdayCampaign:
        """A new birthday campaign; a lost answer is reconciled by name and content."""
        fields: dict[str, Any] = {
            "name": name,
            "content": content,
            "active": active,
            "recipient_lists": ids_of(lists),
        }
        if title is not None:
            fields["title"] = title
        data = form(fields)

        def find() -> list[Record]:
            return [
                r
                for page in self._pages("/birthday_campaigns")
                for r in page
                if r.get("name") == data["name"] and r.get("content") == data["content"]
            ]

        return self._create(
            "/birthday_campaigns", data, find, BirthdayCampaign.from_api, unique=False
        )

    def update(
        self,
        campaign_id: int,
        *,
        name: str | None = None,
        content: str | None = None,
        lists: Iterable[int] | None = None,
        title: int | None = None,
        active: bool | None = None,
    ) -> BirthdayCampaign:
        """Change only the fields given. Safe to replay."""
        fields = {
            "name": name,
            "content": content,
            "active": active,
            "title": title,
            "recipient_lists": None if lists is None else ids_of(lists),
        }
        return self._one(
            BirthdayCampaign.from_api,
            "PATCH",
            f"/birthday_campaigns/{int(campaign_id)}",
            data=form({k: v for k, v in fields.items() if v is not None}),
            replay_safe=True,
        )

    def delete(self, campaign_id: int) -> None:
        self._delete(f"/birthday_campaigns/{int(campaign_id)}")
