"""How the simulator speaks HTTP: envelopes, errors, form fields and pagination."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .wire import read_integer, split_list

T = TypeVar("T")

MAX_PER_PAGE = 1000

#: The documented business error codes and the messages the simulator answers with.
ERROR_MESSAGES = {
    1000: "No SMS balance",
    1001: "Content must be given",
    1002: "One of destination, contacts or lists must be given",
    1004: "sms_date must be given when send_now is false",
    1005: "Invalid datetime",
    1010: "Content is longer than 160 characters",
    2005: "Invalid genders",
    3010: "Dates and repeat must be given",
    3011: "Invalid dates",
    3012: "Two dates are needed for a scheduled recurring campaign",
    3013: "Invalid repeat",
    3020: "Invalid ids for recipient lists",
    4004: "Invalid phone number",
    4020: "Invalid ids for recipient lists",
}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ApiError(Exception):
    """An error answer: raising it anywhere in a handler sends ``payload`` with ``status``."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.status = status
        self.payload = payload


def coded(code: int) -> ApiError:
    """A documented business error (HTTP 422 with ``error_code``)."""
    return ApiError(422, {"error_code": code, "status": "ERROR", "message": ERROR_MESSAGES[code]})


def invalid(*messages: str) -> ApiError:
    """A validation answer: HTTP 422 ``{"errors": [...]}``."""
    return ApiError(422, {"errors": list(messages)})


def not_found() -> ApiError:
    return ApiError(404, {"error_code": 404, "status": "ERROR", "message": "Not found"})


def status_error(status: int, message: str) -> ApiError:
    return ApiError(status, {"error_code": status, "status": "ERROR", "message": message})


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = content if isinstance(content, bytes) else orjson.dumps(content)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def ok(message: str | None = None) -> Response:
    """The success envelope of sends and deletes."""
    payload: dict[str, Any] = {"error_code": 0, "status": "OK"}
    if message is not None:
        payload["message"] = message
    return json_response(payload)


class Form:
    """The fields of a form-encoded write, read with the contract's conventions."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = fields

    @classmethod
    async def read(cls, request: Request) -> Form:
        kind = request.headers.get("content-type", "")
        if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            return cls({key: value for key, value in form.items() if isinstance(value, str)})
        return cls({})  # the API only reads form bodies; anything else carries no fields

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.fields.get(name)
        return default if value is None else value.strip()

    def integer(self, name: str, error: ApiError) -> int | None:
        value = self.text(name)
        if value is None or value == "":
            return None
        try:
            return read_integer(value)
        except ValueError:
            raise error from None

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self.text(name)
        if value is None or value == "":
            return default
        return parse_bool(value, name)

    def ids(self, name: str, error: ApiError) -> list[int] | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return unique(read_integer(part) for part in split_list(value))
        except ValueError:
            raise error from None


def parse_bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise invalid(f"{name} must be true or false")


def unique(values: Any) -> list[Any]:
    """Values in first-seen order, each once."""
    return list(dict.fromkeys(values))


def page_of(params: Mapping[str, str], ids: Sequence[T]) -> Sequence[T]:
    """Apply ``limit`` (caps the collection) then ``page``/``per_page`` (both, 1-based)."""
    limit = _positive(params, "limit")
    if limit is not None:
        ids = ids[:limit]
    page, per_page = _positive(params, "page"), _positive(params, "per_page")
    if per_page is not None and per_page > MAX_PER_PAGE:
        raise invalid(f"per_page must be at most {MAX_PER_PAGE}")
    if page is None or per_page is None:
        return ids  # the docs: both must be given to paginate
    start = (page - 1) * per_page
    return ids[start : start + per_page]


def _positive(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        number = read_integer(value)
    except ValueError:
        raise invalid(f"{name} must be a positive integer") from None
    if number < 1:
        raise invalid(f"{name} must be a positive integer")
    return number
