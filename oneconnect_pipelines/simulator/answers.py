"""What the simulator's gate does outside the handlers: the Basic-auth check, error
answers in the API's envelope, and the answers of injected faults (a request echoed back,
a page number wrapped around, a connection dropped without a word)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from .faults import Faults
from .http import json_response, status_error


def authorised(scope: Scope, email: str, api_key: str) -> bool:
    """Whether the Basic pair is the account's. Compared as UTF-8 bytes: ``compare_digest``
    refuses ``str`` with non-ASCII characters, and a wrong pair must still be a plain 401."""
    header = dict(scope["headers"]).get(b"authorization", b"")
    scheme, _, encoded = header.partition(b" ")
    if scheme.lower() != b"basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).partition(b":")
    except binascii.Error:
        return False
    return hmac.compare_digest(user, email.encode()) & hmac.compare_digest(
        password, api_key.encode()
    )


def status_response(status: int, message: str) -> Response:
    return json_response(status_error(status, message).payload, status)


def rate_limited(retry_after: str, reflected: str | None = None) -> Response:
    headers = {"Retry-After": retry_after}
    message = "Too many requests" if reflected is None else reflected
    return json_response(status_error(429, message).payload, 429, headers)


def fault_response(status: int, message: str, scope: Scope, body: bytes, reflect: bool) -> Response:
    """An injected error answer: the API's envelope, with ``reflect`` one whose message
    echoes the request."""
    return status_response(status, echo(scope, body) if reflect else message)


def with_echo(payload: dict[str, Any], echoed: str) -> dict[str, Any]:
    """An error payload whose message (or each of its errors) quotes the request."""
    if "errors" in payload:
        return {**payload, "errors": [f"{error} ({echoed})" for error in payload["errors"]]}
    return {**payload, "message": f"{payload.get('message', '')} ({echoed})"}


def echo(scope: Scope, body: bytes) -> str:
    """What a careless server's verbose error shows: the request with its headers (the
    Authorization header among them), the Basic credentials decoded, and the body."""
    lines = [f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}"]
    for key, value in scope["headers"]:
        lines.append(f"{key.decode('latin-1')}: {value.decode('latin-1')}")
        if key == b"authorization":
            _, _, encoded = value.partition(b" ")
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                lines.append("credentials: " + base64.b64decode(encoded).decode())
    lines.append(body.decode("utf-8", "replace"))
    return "\n".join(lines)


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes) -> Receive:
    """A ``receive`` that hands a body already read to the handler."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def wrap_page(query: bytes, faults: Faults) -> bytes:
    """The query with ``page`` wrapped; a page that is not plain ASCII digits is left for
    the handler to refuse (``str.isdigit`` alone also takes ``²``, which ``int`` does not)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    wrapped = [
        (k, str(faults.wrapped_page(int(v))) if k == "page" and v.isascii() and v.isdigit() else v)
        for k, v in pairs
    ]
    return urlencode(wrapped).encode("latin-1")


async def discard(message: Message) -> None:
    """A ``send`` for an answer nobody receives."""
    return None


async def drop_connection(send: Send) -> None:
    """Close the TCP connection without an answer, as a failing load balancer would."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0)  # let the server see the connection is gone
        return
    # Not under uvicorn: promise a body and never send it; the client sees a broken reply.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]}
    )
