"""How the client connects: one TLS trust per process, and connections whose every
socket operation ends by the deadline of the attempt that uses them."""

from __future__ import annotations

import functools
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS trust every client of this process shares. httpx would build one per
    client, loading the whole CA bundle each time (~60 ms of CPU here); this is httpx's
    own default (certifi, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), read once."""
    return httpx.create_ssl_context()


#: The deadline (``time.monotonic``) of the attempt this thread is making, if any.
_attempt = threading.local()


def _within(timeout: float | None, late: type[Exception]) -> float | None:
    """``timeout`` for one socket operation, cut to what is left of this thread's attempt;
    ``late`` once nothing is."""
    deadline: float | None = getattr(_attempt, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise late("the answer outlasted the attempt (Timeouts.connect + read)")
    return left if timeout is None else min(timeout, left)


class AnswerTooLarge(Exception):
    """An attempt read more than the bytes it may (``attempt_deadline(max_bytes=...)``)."""


def _spend(size: int) -> None:
    """``size`` bytes read by this thread's attempt, from what it may still read."""
    left: int | None = getattr(_attempt, "left", None)
    if left is None:
        return
    if size > left:
        raise AnswerTooLarge(f"the answer is larger than {_attempt.most:,} bytes")
    _attempt.left = left - size


class _AttemptStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the attempt's deadline, and whose
    reads stop at the attempt's byte budget: httpx's timeouts are per socket operation,
    so a server sending its headers, a ``102 Processing`` or its body a byte at a time
    would keep one attempt going for days, and one sending an endless body fast would
    fill the memory before the deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            data = self._stream.read(max_bytes, _within(timeout, httpcore.ReadTimeout))
        except httpcore.ReadTimeout:
            _within(None, httpcore.ReadTimeout)  # the attempt's own words, if it is over
            raise
        _spend(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            self._stream.write(buffer, _within(timeout, httpcore.WriteTimeout))
        except httpcore.WriteTimeout:
            _within(None, httpcore.WriteTimeout)
            raise

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        return _AttemptStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _AttemptBackend(httpcore.NetworkBackend):
    """httpcore's sockets, as ``_AttemptStream``s."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _AttemptStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        return _AttemptStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's transport, its connections made by ``_AttemptBackend``. httpx has no
    option for a network backend, so its pool (``_pool``, what the transport sends
    through) is replaced by the same pool on that backend (httpx is pinned below 0.29)."""
    transport = httpx.HTTPTransport(verify=tls_context(), limits=limits)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=tls_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_AttemptBackend(),
    )
    return transport


@contextmanager
def attempt_deadline(seconds: float, max_bytes: int | None = None) -> Iterator[None]:
    """Every socket operation of this thread's connections (``deadline_transport``) inside ends
    within ``seconds`` of entering: connecting, sending, headers and body alike; and
    reading more than ``max_bytes`` in all (headers and body) raises ``AnswerTooLarge``."""
    _attempt.deadline = time.monotonic() + seconds
    _attempt.left = _attempt.most = max_bytes
    try:
        yield
    finally:
        _attempt.deadline = _attempt.left = _attempt.most = None
