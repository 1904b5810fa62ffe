"""OneConnect's published plans (``GET /pricing``) and the limits the simulator enforces."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import orjson


@dataclass(frozen=True)
class Plan:
    name: str
    price: Decimal
    price_yearly: Decimal
    messages_history_limit: int | None
    contacts_limit: int | None
    lists_limit: int | None
    titles_limit: int | None
    campaigns_limit: int | None
    upload_contacts_from_csv: bool
    upload_lists_from_csv: bool
    integrations: bool
    api_ip_restriction: bool

    def record(self) -> dict[str, Any]:
        """As ``/pricing`` shows it: prices as JSON numbers with their exact digits."""
        record = asdict(self)
        record["price"] = orjson.Fragment(str(self.price))
        record["price_yearly"] = orjson.Fragment(str(self.price_yearly))
        return record


PLANS = {
    plan.name.lower(): plan
    for plan in (
        Plan(
            "Basic", Decimal("9.98"), Decimal("99.8"), 100, 20, 5, 1, 0, False, False, False, False
        ),
        Plan(
            "Premium",
            Decimal("19.98"),
            Decimal("199.8"),
            1000,
            100,
            20,
            5,
            5,
            False,
            False,
            False,
            False,
        ),
        Plan(
            "Business",
            Decimal("39.98"),
            Decimal("399.8"),
            None,
            None,
            None,
            None,
            None,
            True,
            True,
            True,
            True,
        ),
    )
}


def plan_named(name: str) -> Plan:
    try:
        return PLANS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown plan {name!r}; choose one of {', '.join(PLANS)}") from None
