"""An HTTP answer -> its JSON, or the exception its status and body stand for.

Every text taken from an answer goes through the client's ``Redactor`` first, so a
server that echoes the request cannot put a secret or a number into an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson

from . import errors as e

Redact = Callable[[str], str]
#: How much of a body is kept for an exception (after redaction, which must see whole
#: secrets: cutting first could leave half of one behind).
_REDACTED_SPAN = 1 << 16


def decode(response: httpx.Response, call: str, redact: Redact) -> Any:
    """JSON of a response, or the exception its status and body stand for."""
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
