"""``/messages`` and ``/group_sms``: history with filters, immediate and scheduled sends."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Platform
from ..http import Form, coded, invalid, json_response, not_found, ok, page_of, parse_bool
from ..records import join_docs
from ..wire import WireError, read_datetime, read_integer, split_list
from .contacts import PHONE

MAX_CONTENT = 160
STATUSES = ("delivered", "undelivered", "pending")
GENDERS = {"male": "Male", "female": "Female"}


def routes(platform: Platform) -> list[Route]:
    store = platform.store

    async def list_messages(request: Request) -> Response:
        where, args = message_filters(platform, request.query_params)
        page = page_of(request.query_params, store.ordered_ids("messages", where, args))
        return json_response(join_docs(store.docs("messages", page, in_id_order=True)))

    async def get_message(request: Request) -> Response:
        doc = store.one("SELECT doc FROM messages WHERE id = ?", (request.path_params["id"],))
        if doc is None:
            raise not_found()
        return json_response(doc)

    async def send_message(request: Request) -> Response:
        form = await Form.read(request)
        content = checked_content(form)
        contacts = form.ids("contacts", invalid("contacts must be comma-separated ids")) or []
        lists = form.ids("lists", invalid("lists must be comma-separated ids")) or []
        destinations = split_list(form.text("destination") or "")
        if not (contacts or lists or destinations):  # "," names nobody either
            raise coded(1002)
        immediately = form.boolean("send_now", default=True)
        due = None if immediately else scheduled_time(platform, form.text("sms_date"))
        check_recipients(platform, contacts, lists, destinations)
        title = form.integer("title", invalid("title must be the id of a title"))
        reference = form.text("reference") or None
        if due is not None:
            if platform.account.sms_balance < 1:
                raise coded(1000)
            payload = {
                "contacts": contacts,
                "lists": lists,
                "destination": destinations,
                "content": content,
                "title": title,
                "reference": reference,
            }
            with store.transaction():
                store.execute(
                    "INSERT INTO scheduled_messages (due_at, payload) VALUES (?, ?)",
                    (due, orjson.dumps(payload).decode()),
                )
            platform.changed()
            return ok("Message sent successfully.")
        numbers = platform.numbers_of(contacts, lists, destinations)
        send_now(platform, numbers, content, title, reference)
        return ok("Message sent successfully.")

    async def group_sms(request: Request) -> Response:
        form = await Form.read(request)
        content = checked_content(form)
        genders = parse_genders(form.text("genders"))
        age_from = form.integer("age_from", invalid("age_from must be an integer")) or 0
        age_to = form.integer("age_to", invalid("age_to must be an integer"))
        title = form.integer("title", invalid("title must be the id of a title"))
        numbers = group_numbers(platform, genders, age_from, age_to)
        send_now(platform, numbers, content, title, form.text("reference") or None)
        return ok()

    return [
        Route("/messages", list_messages, methods=["GET"]),
        Route("/messages", send_message, methods=["POST"]),
        Route("/messages/{id:int}", get_message, methods=["GET"]),
        Route("/group_sms", group_sms, methods=["POST"]),
    ]


def checked_content(form: Form) -> str:
    content = form.text("content")
    if not content:
        raise coded(1001)
    if len(content) > MAX_CONTENT:
        raise coded(1010)
    return content


def send_now(
    platform: Platform,
    numbers: list[str],
    content: str,
    title: int | None,
    reference: str | None,
) -> None:
    """An immediate send: all or nothing, refused (1000) when the balance does not cover it."""
    if len(numbers) > platform.account.sms_balance:
        raise coded(1000)
    with platform.store.transaction():
        platform.send(
            numbers,
            content,
            sender=platform.sender_name(title),
            at=platform.now(),
            reference=reference,
        )
        platform.trim_history()


def scheduled_time(platform: Platform, text: str | None) -> float:
    """``sms_date`` of a scheduled send: required, valid, and not before this minute."""
    if not text:
        raise coded(1004)
    try:
        due = read_datetime(text, platform.tz).timestamp()
    except WireError:
        raise coded(1005) from None
    if due < math.floor(platform.now() / 60) * 60:
        raise coded(1005)
    return due


def check_recipients(
    platform: Platform, contacts: list[int], lists: list[int], destinations: list[str]
) -> None:
    errors = []
    missing = platform.store.missing("contacts", contacts)
    if missing:
        errors.append(f"Contacts not found: {', '.join(map(str, missing))}")
    missing = platform.store.missing("lists", lists)
    if missing:
        errors.append(f"Lists not found: {', '.join(map(str, missing))}")
    bad = [str(i + 1) for i, number in enumerate(destinations) if not PHONE.match(number)]
    if bad:
        errors.append(f"Destination numbers at positions {', '.join(bad)} are invalid")
    if errors:
        raise invalid(*errors)


def parse_genders(text: str | None) -> set[str]:
    parts = {part.lower() for part in split_list(text or "")}
    if not parts or not parts <= GENDERS.keys():
        raise coded(2005)
    return {GENDERS[part] for part in parts}


def group_numbers(
    platform: Platform, genders: set[str], age_from: int, age_to: int | None
) -> list[str]:
    """Contacts of those genders whose age is in range; without a bound, birthdays don't matter."""
    today = platform.local(platform.now()).date()
    bounded = age_from > 0 or age_to is not None
    numbers = []
    marks = ",".join("?" * len(genders))
    for number, birthday in platform.store.execute(
        f"SELECT phone_number, birthday FROM contacts WHERE gender IN ({marks}) ORDER BY id",
        sorted(genders),
    ):
        if bounded:
            if not birthday:
                continue
            age = age_on(date.fromisoformat(birthday), today)
            if age < age_from or (age_to is not None and age > age_to):
                continue
        numbers.append(number)
    return numbers


def age_on(birthday: date, today: date) -> int:
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def message_filters(platform: Platform, params: Any) -> tuple[str, list[Any]]:
    clauses, args = [], []
    status = params.get("final_status")
    if status is not None:
        if status not in STATUSES:
            raise invalid(f"final_status must be one of {', '.join(STATUSES)}")
        clauses.append("final_status = ?")
        args.append(status)
    campaign_id = params.get("campaign_id")
    if campaign_id is not None:
        try:
            args.append(read_integer(campaign_id))
        except ValueError:
            raise invalid("campaign_id must be an integer") from None
        clauses.append("campaign_id = ?")
    birthday = params.get("birthday_campaign")
    if birthday is not None or campaign_id is not None:
        # a campaign id alone is a campaign's: a birthday campaign's greetings are asked
        # for with birthday_campaign=true (the ids of the two kinds overlap)
        clauses.append("birthday_campaign = ?")
        args.append(int(birthday is not None and parse_bool(birthday, "birthday_campaign")))
    for name, operator in (("start_date", ">="), ("end_date", "<=")):
        value = params.get(name)
        if value is None:
            continue
        try:
            args.append(read_datetime(value, platform.tz).timestamp())
        except WireError:
            raise coded(1005) from None
        clauses.append(f"created_at {operator} ?")
    return " AND ".join(clauses), args
