"""An HTTP answer -> its JSON, or the exception its status and body stand for; a JSON
record -> its typed record, or a ``ResponseError`` naming what cannot be read.

Every text taken from an answer goes through the client's ``Redactor`` first, so a
server that echoes the request cannot put a secret or a number into an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import InvalidOperation
from typing import Any, TypeVar

import httpx
import msgspec
import orjson

from oneconnect_pipelines.formats import FormatError

from . import errors as e
from .models._wire import shape_problem

Redact = Callable[[str], str]
T = TypeVar("T")
#: What building a record raises on a value it cannot read: a missing key, text where a
#: number belongs, a date off the formats, a price that is no number.
UNREADABLE = (KeyError, TypeError, ValueError, InvalidOperation)
#: How much of a body is kept for an exception (after redaction, which must see whole
#: secrets: cutting first could leave half of one behind).
_REDACTED_SPAN = 1 << 16


def decode(response: httpx.Response, call: str, redact: Redact) -> Any:
    """JSON of a response, or the exception its status and body stand for."""
    if 300 <= response.status_code < 400:  # not followed: a base URL that moved
        where = response.headers.get("location", "elsewhere")
        note = f"redirected to {redact(where)}: is the base URL right?"
        raise status_error(response, call, None, redact, note=note)
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        if response.status_code >= 400:
            raise status_error(response, call, None, redact) from None
        excerpt = _text(response, redact)[:80]
        raise e.ResponseError(f"expected JSON, got {excerpt!r}", call=call) from None
    if response.status_code >= 400:
        raise status_error(response, call, None, redact, payload)
    if isinstance(payload, dict):
        code = payload.get("error_code")
        if code not in (None, 0, "0") or payload.get("errors"):
            raise api_error(payload, call, response.status_code, redact)
    return payload


def text_answer(response: httpx.Response, call: str, redact: Redact) -> str:
    """The body of an answer that is text (a CSV export), or the exception an error
    answer stands for: an error status, or a JSON error object in place of the text."""
    if response.status_code >= 300 or response.content.lstrip()[:1] == b"{":
        decode(response, call, redact)  # raises for an error answer
    return response.text


def status_error(
    response: httpx.Response,
    call: str,
    retry_after: float | None,
    redact: Redact,
    payload: Any = None,
    *,
    note: str = "",
) -> e.OneConnectError:
    status = response.status_code
    if isinstance(payload, dict) and status not in e.STATUS_CLASSES and status < 500:
        code = payload.get("error_code")
        if payload.get("errors") or (isinstance(code, int) and code in e.ERROR_CLASSES):
            return api_error(payload, call, status, redact)
    message = payload.get("message") if isinstance(payload, dict) else None
    text = redact(str(message or response.reason_phrase or f"HTTP {status}"))
    if note:
        text += f" ({note})"
    body = _text(response, redact)
    if status == 429:
        return e.RateLimitError(text, call=call, body=body, retry_after=retry_after)
    cls = e.STATUS_CLASSES.get(status, e.ServerError if status >= 500 else e.HTTPStatusError)
    return cls(text, call=call, status_code=status, body=body)


def api_error(payload: dict[str, Any], call: str, status: int, redact: Redact) -> e.APIError:
    errors = [redact(str(item)) for item in payload.get("errors") or []]
    try:
        code = int(payload.get("error_code") or 0)
    except (TypeError, ValueError):
        code = 0
    message = redact(str(payload.get("message") or "; ".join(errors) or f"error {code}"))
    cls = e.ERROR_CLASSES.get(code, e.ValidationError if errors and not code else e.APIError)
    return cls(message, call=call, error_code=code, errors=errors, status_code=status)


def retry_after_of(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds; None when absent or an HTTP date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def describe(exc: httpx.HTTPError, redact: Redact) -> str:
    """An httpx failure as one line (its text may quote the URL)."""
    return redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _text(response: httpx.Response, redact: Redact) -> str:
    return redact(response.text[:_REDACTED_SPAN])


def read_id(record: Any, resource: str, call: str = "") -> int:
    """A raw record's id, read as the client reads one (a number, or digits sent as text);
    a ``ResponseError`` naming the field, never the value (it may be a phone number)."""
    value = record.get("id") if isinstance(record, Mapping) else None
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    raise e.ResponseError(
        f"cannot read a {resource} at id: not a whole number",
        call=call,
        resource=resource,
        field="id",
    )


def read_record(build: Callable[[Any], T], record: Any, resource: str, call: str) -> T:
    """``build(record)``, or a ``ResponseError`` naming the resource, the record's id and
    the field it cannot read, never the value (a birthday, a number). The error is raised
    outside the failure's ``except``, so no chained exception carries the value either."""
    try:
        return build(record)
    except UNREADABLE as failure:
        problem = failure
    field, reason = _where(problem, record)
    # named by its id, unless the id is what cannot be read (a phone number sent as one)
    record_id = record.get("id") if isinstance(record, Mapping) and field != "id" else None
    named = f"{resource} {record_id}" if record_id is not None else f"a {resource}"
    at = f" at {field}" if field else ""
    raise e.ResponseError(
        f"cannot read {named}{at}: {reason}",
        call=call,
        resource=resource,
        record_id=record_id,
        field=field,
    )


def _where(problem: Exception, record: Any) -> tuple[str | None, str]:
    """The field a failure to read ``record`` is about (when it can be told) and why, in
    words that quote no value."""
    if isinstance(problem, FormatError):
        return problem.field or _path_of(problem.value, record), problem.reason
    if isinstance(problem, KeyError):
        return str(problem.args[0]), "missing"
    if isinstance(problem, msgspec.ValidationError):
        reason, field = shape_problem(problem)
        return field, reason
    return None, f"a value of the wrong type or format ({type(problem).__name__})"


def _path_of(value: object, tree: Any, path: str = "") -> str | None:
    """Where ``value`` sits in decoded JSON (``birthday``, ``schedule.dates[0]``)."""
    if isinstance(tree, Mapping):
        items: Any = ((f"{path}.{key}" if path else str(key), item) for key, item in tree.items())
    elif isinstance(tree, list | tuple):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(tree))
    else:
        return path if value is not None and tree == value else None
    for where, item in items:
        found = _path_of(value, item, where)
        if found is not None:
            return found
    return None
