"""The resources every asset shares: the OneConnect account and the DuckDB warehouse."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field

from oneconnect_pipelines.client import DEFAULT_CONCURRENCY, OneConnect, RetryPolicy, Timeouts

from .settings import SETTINGS

#: Where ``oneconnect simulator`` (and ``make demo``/``make ui``) serve, with its demo login.
SIMULATOR_URL = "http://127.0.0.1:8765/api/v1"
DEMO_EMAIL, DEMO_API_KEY = "demo@example.com", "demo-key"


class MissingCredentialsError(ValueError):
    """A base URL that is not the local simulator, without the account's credentials."""


def is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class OneConnectResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """A OneConnect account. Credentials come from ``EnvVar``; left unset, they are the
    simulator's demo account, and only for a loopback base URL: a real host without
    them is refused, naming what is missing, instead of being sent demo values. The
    account's timezone is ``ONECONNECT_TIMEZONE``, the one zone partitions, analytics
    and ``sent_local`` are cut in."""

    base_url: str = Field(description="API base URL, e.g. https://oneconnect.uno/api/v1")
    email: str | None = Field(
        default=None,
        description="The account's e-mail (HTTP Basic user); unset: the local "
        "simulator's demo account (loopback base URLs only)",
    )
    api_key: str | None = Field(
        default=None,
        description="The account's API key (HTTP Basic password); from ONECONNECT_API_KEY",
        repr=False,
    )
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, description="Requests in flight")
    rate_limit: float | None = Field(
        default=None, description="Requests per second across all threads (None: no cap)"
    )
    retry_attempts: int = Field(
        default=RetryPolicy.max_attempts,
        description="Attempts per request before a call fails (reads; writes only where "
        "the server cannot have acted)",
    )
    read_timeout_s: float = Field(
        default=Timeouts.read, description="Seconds to wait for an answer, per attempt"
    )

    def credentials(self) -> tuple[str, str]:
        """(e-mail, API key); the demo pair only where the base URL is loopback."""
        if self.email and self.api_key:
            return self.email, self.api_key
        if is_loopback(self.base_url):
            return self.email or DEMO_EMAIL, self.api_key or DEMO_API_KEY
        missing = [
            name
            for name, value in (
                ("ONECONNECT_EMAIL", self.email),
                ("ONECONNECT_API_KEY", self.api_key),
            )
            if not value
        ]
        raise MissingCredentialsError(
            f"{' and '.join(missing)} not set: {urlsplit(self.base_url).hostname} is not "
            "the local simulator, so its account's credentials are needed (demo values "
            "are only used for a loopback ONECONNECT_BASE_URL)"
        )

    @contextmanager
    def client(self) -> Iterator[OneConnect]:
        email, api_key = self.credentials()
        with OneConnect(
            self.base_url,
            email,
            api_key,
            timezone=SETTINGS.timezone,
            concurrency=self.concurrency,
            rate_limit=self.rate_limit,
            retry=RetryPolicy(max_attempts=self.retry_attempts),
            timeouts=Timeouts(read=self.read_timeout_s),
        ) as client:
            yield client


def oneconnect_resource(resolve: bool = False) -> OneConnectResource:
    """The account from ``ONECONNECT_*``: each variable as an ``EnvVar`` when it is set
    (read at run time, never stored in the definitions), or with ``resolve`` its value
    (for code that runs outside Dagster, ``oneconnect sync``, where nothing would
    resolve an ``EnvVar``). An unset base URL is the local simulator's."""
    env = os.environ

    def value(name: str) -> Any:
        if name not in env:
            return None
        return env[name] if resolve else dg.EnvVar(name)

    fields = {"email": value("ONECONNECT_EMAIL"), "api_key": value("ONECONNECT_API_KEY")}
    return OneConnectResource(
        base_url=value("ONECONNECT_BASE_URL") or SIMULATOR_URL,
        **{name: field for name, field in fields.items() if field is not None},
    )
