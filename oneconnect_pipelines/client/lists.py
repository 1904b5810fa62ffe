"""``client.lists``: lists with their members, lookup by name, membership in batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ._pagination import Page
from ._section import Record, Section, form, ids_of
from .errors import NotFoundError
from .models import LIST_PAGES, ContactList, ListMembership

#: Contact ids per add/remove request: keeps each request small and quick to retry.
MEMBER_BATCH = 500


class Lists(Section):
    resource = "list"

    def list(self) -> Iterator[ContactList]:
        return self._iter("/lists", None, LIST_PAGES)

    def pages(self) -> Iterator[Page]:
        return self._pages("/lists")

    def get(self, list_id: int) -> ContactList:
        return self._one(ContactList.from_api, "GET", f"/lists/{int(list_id)}")

    def by_name(self, name: str) -> ContactList | None:
        """``GET /lists?name=``: the list with that name, or None."""
        record = self._find(name)
        return self._read(ContactList.from_api, record, "GET /lists") if record else None

    def membership(self, name: str) -> ListMembership | None:
        """The list with that name as its id, name and member ids, or None: all a
        membership sync or a birthday campaign needs, and readable where a member's other
        fields are not."""
        record = self._find(name)
        return self._read(ListMembership.from_api, record, "GET /lists") if record else None

    def export_csv(self) -> str:
        return self._requester.text("/lists_csv")

    def create(self, name: str, members: Iterable[int] = ()) -> ContactList:
        """A new list. A lost answer is reconciled by name (list names are unique)."""
        wanted = ids_of(members)
        data = form({"name": name, "members": wanted})

        def find() -> list[Record]:
            found = self._find(data["name"])
            return [found] if found else []

        def holds(found: ContactList) -> bool:  # the members asked for, and no other
            return set(found.member_ids) == set(wanted)

        return self._create("/lists", data, find, ContactList.from_api, unique=True, holds=holds)

    def update(
        self, list_id: int, *, name: str | None = None, members: Iterable[int] | None = None
    ) -> ContactList:
        """Rename and/or replace the whole membership. Safe to replay."""
        fields: dict[str, Any] = {}
        if name is not None:
            fields["name"] = name
        if members is not None:
            fields["members"] = ids_of(members)
        path = f"/lists/{int(list_id)}"
        return self._one(ContactList.from_api, "PATCH", path, data=form(fields), replay_safe=True)

    def add_members(
        self, list_id: int, contact_ids: Iterable[int], batch_size: int = MEMBER_BATCH
    ) -> int:
        """Add contacts in batches (adding a member twice is harmless). Returns requests made."""
        return self._members(list_id, "add_members", ids_of(contact_ids), batch_size)

    def remove_members(
        self, list_id: int, contact_ids: Iterable[int], batch_size: int = MEMBER_BATCH
    ) -> int:
        return self._members(list_id, "remove_members", ids_of(contact_ids), batch_size)

    def delete(self, list_id: int) -> None:
        self._delete(f"/lists/{int(list_id)}")

    def _members(self, list_id: int, action: str, ids: Sequence[int], batch_size: int) -> int:
        batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
        for batch in batches:
            self._requester.call(
                "POST",
                f"/lists/{int(list_id)}/{action}",
                data=form({"ids": batch}),
                replay_safe=True,
            )
        return len(batches)

    def _find(self, name: str) -> Record | None:
        try:
            record: Record = self._requester.call("GET", "/lists", params={"name": name})
        except NotFoundError:
            return None
        return record
