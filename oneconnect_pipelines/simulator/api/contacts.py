"""``/contacts`` and ``/contacts_csv``: filters, multi-key sort, validation, plan limit."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Platform
from ..http import Form, invalid, json_response, not_found, ok, page_of
from ..records import CONTACT_COLUMNS, contact_doc, contact_record, join_docs
from ..wire import CONTACT_FIELDS, WireError, read_birthday, split_list

#: Plain ASCII digits: ``\d`` would also take Arabic-Indic, fullwidth or Devanagari
#: digits, and ``$`` a trailing newline; no SMS gateway dials either.
PHONE = re.compile(r"\A[0-9]{6,15}\Z")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SORTABLE = {"id", *CONTACT_FIELDS, "created_at", "updated_at"} - {"additional_numbers"}
_TEXT_FIELDS = ("first_name", "last_name", "post_code", "city", "street")


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    async def list_contacts(request: Request) -> Response:
        params = request.query_params
        where, args = contact_filters(params)
        order = sort_clause(params.get("sort"))
        page = page_of(params, store.ordered_ids("contacts", where, args, order))
        return json_response(join_docs(store.docs("contacts", page, in_id_order=not order)))

    async def contacts_csv(request: Request) -> Response:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CONTACT_COLUMNS)
        for row in store.execute(f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contacts ORDER BY id"):
            record = contact_record(row, platform.tz)
            record["additional_numbers"] = ", ".join(record["additional_numbers"])
            writer.writerow(["" if record[c] is None else record[c] for c in CONTACT_COLUMNS])
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    async def get_contact(request: Request) -> Response:
        contact_id = request.path_params["id"]
        doc = store.one("SELECT doc FROM contacts WHERE id = ?", (contact_id,))
        if doc is None:
            raise not_found()
        return json_response(doc)

    async def create_contact(request: Request) -> Response:
        form = await Form.read(request)
        changes = contact_changes(platform, form, contact_id=None)
        limit = platform.account.plan.contacts_limit
        if limit is not None and store.count("contacts") >= limit:
            raise invalid("Contacts limit reached")
        now = platform.now()
        values = {field: changes.get(field) for field in CONTACT_FIELDS}
        values["additional_numbers"] = changes.get("additional_numbers", "[]")
        with store.transaction():
            new_id = (store.one("SELECT seq FROM sqlite_sequence WHERE name = 'contacts'") or 0) + 1
            row = (new_id, *values.values(), now, now)
            doc = contact_doc(row, platform.tz)
            store.execute(
                f"INSERT INTO contacts ({', '.join(CONTACT_COLUMNS)}, birthday_md, doc) "
                f"VALUES ({','.join('?' * (len(CONTACT_COLUMNS) + 2))})",
                (*row, month_day(values["birthday"]), doc),
            )
        store.inserted("contacts", new_id)
        return json_response(doc)

    async def update_contact(request: Request) -> Response:
        form = await Form.read(request)
        contact_id = path_or_form_id(request, form)
        if not store.exists("contacts", contact_id):
            raise not_found()
        changes = contact_changes(platform, form, contact_id=contact_id)
        return json_response(save_contact(platform, contact_id, changes))

    async def delete_contact(request: Request) -> Response:
        contact_id = request.path_params["id"]
        if not store.exists("contacts", contact_id):
            raise not_found()
        with store.transaction():
            store.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
            store.execute("DELETE FROM list_members WHERE contact_id = ?", (contact_id,))
        store.deleted("contacts", [contact_id])
        store.touch("lists")
        return ok("Contact deleted.")

    return [
        Route("/contacts", list_contacts, methods=["GET"]),
        Route("/contacts", create_contact, methods=["POST"]),
        Route("/contacts", update_contact, methods=["PATCH"]),
        Route("/contacts_csv", contacts_csv, methods=["GET"]),
        Route("/contacts/{id:int}", get_contact, methods=["GET"]),
        Route("/contacts/{id:int}", update_contact, methods=["PATCH"]),
        Route("/contacts/{id:int}", delete_contact, methods=["DELETE"]),
    ]


def path_or_form_id(request: Request, form: Form) -> int:
    """``PATCH /x/:id``, or the bare ``PATCH /x`` with an ``id`` field (the docs' form)."""
    if "id" in request.path_params:
        return int(request.path_params["id"])
    record_id = form.integer("id", invalid("id must be an integer"))
    if record_id is None:
        raise invalid("id must be given")
    return record_id


def save_contact(platform: Platform, contact_id: int, changes: dict[str, Any]) -> bytes:
    """Apply ``changes`` (column -> stored value) and answer the updated record."""
    store = platform.store
    if changes:
        changes["updated_at"] = platform.now()
        if "birthday" in changes:
            changes["birthday_md"] = month_day(changes["birthday"])
        with store.transaction():
            sets = ", ".join(f"{column} = ?" for column in changes)
            store.execute(
                f"UPDATE contacts SET {sets} WHERE id = ?", (*changes.values(), contact_id)
            )
            row = store.execute(
                f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
            doc = contact_doc(row, platform.tz)
            store.execute("UPDATE contacts SET doc = ? WHERE id = ?", (doc, contact_id))
        store.touch("contacts")
        store.touch("lists")
        return doc
    return bytes(store.one("SELECT doc FROM contacts WHERE id = ?", (contact_id,)))


def contact_changes(platform: Platform, form: Form, contact_id: int | None) -> dict[str, Any]:
    """The stored values of the fields sent, or every validation error at once."""
    errors: list[str] = []
    changes: dict[str, Any] = {}
    creating = contact_id is None
    phone = form.text("phone_number")
    if phone is not None or creating:
        if not phone:
            errors.append("Phone number can't be blank")
        elif not PHONE.match(phone):
            errors.append("Phone number is invalid")
        elif (
            platform.store.one(
                "SELECT id FROM contacts WHERE phone_number = ? AND id IS NOT ?",
                (phone, contact_id),
            )
            is not None
        ):
            errors.append("Phone number has already been taken")
        else:
            changes["phone_number"] = phone
    email = form.text("email")
    if email is not None:
        if email and not EMAIL.match(email):
            errors.append("Email is invalid")
        else:
            changes["email"] = email
    birthday = form.text("birthday")
    if birthday is not None:
        try:
            changes["birthday"] = valid_birthday(birthday, platform) if birthday else None
        except ValueError:
            errors.append("Birthday is invalid")
    gender = form.text("gender")
    if gender is not None:
        if gender.lower() not in ("", "male", "female"):
            errors.append("Gender is invalid")
        else:
            changes["gender"] = gender.capitalize()
    numbers = form.text("additional_numbers")
    if numbers is not None:
        parts = split_list(numbers)
        if not all(PHONE.match(part) for part in parts):
            errors.append("Additional numbers are invalid")
        else:
            changes["additional_numbers"] = orjson.dumps(parts).decode()
    for name in _TEXT_FIELDS:
        value = form.text(name)
        if value is not None:
            changes[name] = value
    if errors:
        raise invalid(*errors)
    return changes


def valid_birthday(text: str, platform: Platform) -> str:
    """ISO date of a birthday in either documented format; not in the future, not before 1900."""
    try:
        day = read_birthday(text)
    except WireError as exc:
        raise ValueError(str(exc)) from None
    if day.year < 1900 or day > platform.local(platform.now()).date():
        raise ValueError("birthday out of range")
    return day.isoformat()


def month_day(iso_birthday: str | None) -> str | None:
    return iso_birthday[5:] if iso_birthday else None


def contact_filters(params: Any) -> tuple[str, list[Any]]:
    """Exact-value filters on any field, combinable (an empty value matches empty/null)."""
    clauses, args = [], []
    for name in CONTACT_FIELDS:
        value = params.get(name)
        if value is None:
            continue
        if name == "additional_numbers":
            clauses.append(additional_numbers_clause(value))
            args.extend([value] if value else [])
            continue
        if name == "birthday" and value:
            try:
                value = read_birthday(value).isoformat()
            except WireError:
                raise invalid("birthday filter must be DD.MM.YYYY") from None
        if name == "gender":
            value = value.capitalize()
        if value == "":
            clauses.append(f"({name} IS NULL OR {name} = '')")
        else:
            clauses.append(f"{name} = ?")
            args.append(value)
    return " AND ".join(clauses), args


def additional_numbers_clause(value: str) -> str:
    """Contacts holding ``value`` among their numbers; for an empty value, like every
    other field's empty filter, those with none (an empty array, or null)."""
    if value:
        return "EXISTS (SELECT 1 FROM json_each(contacts.additional_numbers) WHERE value = ?)"
    return "COALESCE(json_array_length(contacts.additional_numbers), 0) = 0"


def sort_clause(sort: str | None) -> str:
    """``first_name,-last_name`` -> ``first_name ASC, last_name DESC`` (ties by id)."""
    if not sort:
        return ""
    terms = []
    for part in split_list(sort):
        descending = part.startswith("-")
        name = part.lstrip("-+")
        if name not in SORTABLE:
            raise invalid(f"sort field {name} is not one of {', '.join(sorted(SORTABLE))}")
        terms.append(f"{name} {'DESC' if descending else 'ASC'}")
    return ", ".join(terms)
