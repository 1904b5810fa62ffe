"""Keeping a client's credentials and personal data out of what it shows.

A server may echo a request back (an error page quoting the ``Authorization`` header, a
validation message naming the number it refused). Each client knows its own secrets, so
it scrubs them, in every form a server could echo them in, from every text it builds
from an answer; personal data (numbers, dates, e-mails) is masked as well. Log lines of
httpx and httpcore pass the same filter.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import weakref
from urllib.parse import quote, quote_plus

from oneconnect_pipelines.masking import mask_text

#: Shorter secrets cannot be told from ordinary text: scrubbing them would garble messages.
MIN_SECRET_LENGTH = 6
SCRUBBED = "[secret]"
#: The loggers that write what crosses the wire: httpx's request lines, httpcore's traces
#: (whose DEBUG lines hold response headers). A logger's filters see only its own records.
LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class Redactor:
    """One client's secrets (API key, e-mail, Basic token) -> ``[secret]`` in any text, as
    sent, URL-encoded or JSON-escaped; then personal data masked (``mask_text``)."""

    def __init__(self, email: str, api_key: str) -> None:
        token = base64.b64encode(f"{email}:{api_key}".encode()).decode()
        variants: set[str] = set()
        for secret in (token, f"{email}:{api_key}", api_key, email):
            if len(secret) >= MIN_SECRET_LENGTH:
                variants |= {secret, quote(secret, safe=""), quote_plus(secret)}
                variants.add(json.dumps(secret)[1:-1])
        ordered = sorted(variants, key=len, reverse=True)  # the longest form first
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        return mask_text(self.scrub(text))

    def scrub(self, text: str) -> str:
        """``text`` without this client's secrets (personal data left as it is)."""
        return self._pattern.sub(SCRUBBED, text) if self._pattern is not None else text

    def __repr__(self) -> str:
        return "Redactor(...)"


class RedactingFilter(logging.Filter):
    """Scrubs the secrets of every live client and masks personal data in a log line
    before any handler sees it (lookups carry numbers in their query)."""

    def __init__(self) -> None:
        super().__init__()
        self._redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, redactor: Redactor) -> None:
        with self._lock:
            self._redactors.add(redactor)

    def discard(self, redactor: Redactor) -> None:
        with self._lock:
            self._redactors.discard(redactor)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        with self._lock:
            redactors = list(self._redactors)
        clean = message
        for redactor in redactors:
            clean = redactor.scrub(clean)
        clean = mask_text(clean)
        if clean != message:
            record.msg, record.args = clean, None
        return True


#: Logging is process-wide, so its filter is too: one instance, on each wire logger once.
_FILTER = RedactingFilter()


def watch_logs(redactor: Redactor) -> None:
    """Put the one ``RedactingFilter`` on the wire loggers (once) and give it ``redactor``."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    _FILTER.add(redactor)


def unwatch_logs(redactor: Redactor) -> None:
    _FILTER.discard(redactor)
