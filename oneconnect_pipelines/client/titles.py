"""``client.titles`` (sender names) and ``client.templates`` (saved message texts)."""

from __future__ import annotations

from collections.abc import Iterator

from ._pagination import Page
from ._section import Record, Section, form
from .models import TEMPLATE_PAGES, TITLE_PAGES, Template, Title


class Titles(Section):
    resource = "title"

    def list(self) -> Iterator[Title]:
        return self._iter("/titles", None, TITLE_PAGES)

    def pages(self) -> Iterator[Page]:
        return self._pages("/titles")

    def export_csv(self) -> str:
        return self._requester.text("/titles_csv")

    def get(self, title_id: int) -> Title:
        return self._one(Title.from_api, "GET", f"/titles/{int(title_id)}")

    def by_name(self, name: str) -> Title | None:
        return next((title for title in self.list() if title.name == name), None)

    def create(self, name: str) -> Title:
        """A new sender name; it stays inactive until OneConnect's staff activate it."""

        data = form({"name": name})

        def find() -> list[Record]:
            return [
                r for page in self._pages("/titles") for r in page if r.get("name") == data["name"]
            ]

        return self._create("/titles", data, find, Title.from_api, unique=True)

    def delete(self, title_id: int) -> None:
        self._delete(f"/titles/{int(title_id)}")


class Templates(Section):
    resource = "template"

    def list(self) -> Iterator[Template]:
        return self._iter("/templates", None, TEMPLATE_PAGES)

    def pages(self) -> Iterator[Page]:
        return self._pages("/templates")

    def get(self, template_id: int) -> Template:
        return self._one(Template.from_api, "GET", f"/templates/{int(template_id)}")

    def by_title(self, title: str) -> Template | None:
        return next((template for template in self.list() if template.title == title), None)

    def create(self, title: str, body: str) -> Template:
        """A new template; a lost answer is reconciled by title and body."""
        data = form({"title": title, "body": body})

        def find() -> list[Record]:
            return [
                r
                for page in self._pages("/templates")
                for r in page
                if r.get("title") == data["title"] and r.get("body") == data["body"]
            ]

        return self._create("/templates", data, find, Template.from_api, unique=False)

    def delete(self, template_id: int) -> None:
        self._delete(f"/templates/{int(template_id)}")
