"""The simulated account (login, plan, timezone, balance, settings) and its row in the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from .plans import Plan, plan_named
from .store import Store

_COLUMNS = (
    "email, api_key, plan, timezone, sms_balance, callback_url, ip_allowlist, "
    "title_activation_s, seed"
)


@dataclass(frozen=True)
class Account:
    email: str
    api_key: str
    plan: Plan
    timezone: ZoneInfo
    sms_balance: int
    callback_url: str | None = None
    ip_allowlist: tuple[str, ...] = ()
    title_activation_s: float = 3600.0
    seed: int = 0

    def public(self) -> dict[str, Any]:
        """What the admin API shows: everything but the API key."""
        return {
            "email": self.email,
            "plan": self.plan.name.lower(),
            "timezone": self.timezone.key,
            "sms_balance": self.sms_balance,
            "callback_url": self.callback_url,
            "ip_allowlist": list(self.ip_allowlist),
            "title_activation_s": self.title_activation_s,
            "seed": self.seed,
        }


def load_account(store: Store) -> Account | None:
    """The account kept in ``store``; None for a new store."""
    row = store.execute(f"SELECT {_COLUMNS} FROM account").fetchone()
    if row is None:
        return None
    email, api_key, plan, timezone, balance, callback, allowlist, activation_s, seed = row
    return Account(
        email,
        api_key,
        plan_named(plan),
        ZoneInfo(timezone),
        balance,
        callback,
        tuple(orjson.loads(allowlist)),
        activation_s,
        seed,
    )


def store_account(store: Store, a: Account) -> None:
    store.execute(
        f"INSERT OR REPLACE INTO account (id, {_COLUMNS}) VALUES (1,?,?,?,?,?,?,?,?,?)",
        (
            a.email,
            a.api_key,
            a.plan.name.lower(),
            a.timezone.key,
            a.sms_balance,
            a.callback_url,
            orjson.dumps(list(a.ip_allowlist)).decode(),
            a.title_activation_s,
            a.seed,
        ),
    )
