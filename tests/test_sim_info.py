"""``/balance``, ``/pricing`` (the published plans, exactly) and the SMS authenticator."""

from __future__ import annotations

import json
import string
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Sim

hypothesis_settings = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PUBLISHED_PLANS: list[dict[str, Any]] = [
    {
        "name": "Basic",
        "price": Decimal("9.98"),
        "price_yearly": Decimal("99.8"),
        "messages_history_limit": 100,
        "contacts_limit": 20,
        "lists_limit": 5,
        "titles_limit": 1,
        "campaigns_limit": 0,
        "upload_contacts_from_csv": False,
        "upload_lists_from_csv": False,
        "integrations": False,
        "api_ip_restriction": False,
    },
    {
        "name": "Premium",
        "price": Decimal("19.98"),
        "price_yearly": Decimal("199.8"),
        "messages_history_limit": 1000,
        "contacts_limit": 100,
        "lists_limit": 20,
        "titles_limit": 5,
        "campaigns_limit": 5,
        "upload_contacts_from_csv": False,
        "upload_lists_from_csv": False,
        "integrations": False,
        "api_ip_restriction": False,
    },
    {
        "name": "Business",
        "price": Decimal("39.98"),
        "price_yearly": Decimal("399.8"),
        "messages_history_limit": None,
        "contacts_limit": None,
        "lists_limit": None,
        "titles_limit": None,
        "campaigns_limit": None,
        "upload_contacts_from_csv": True,
        "upload_lists_from_csv": True,
        "integrations": True,
        "api_ip_restriction": True,
    },
]
CODED_4004 = {"error_code": 4004, "status": "ERROR", "message": "Invalid phone number"}


def ok_json(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def balance(sim: Sim) -> int:
    answer = ok_json(sim.api.get("/balance"))
    assert set(answer) == {"sms_balance"}
    value: int = answer["sms_balance"]
    assert isinstance(value, int)
    return value


def messages(sim: Sim) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = ok_json(sim.api.get("/messages"))
    return records


# ---------------------------------------------------------------- balance and pricing
def test_balance_is_the_accounts_sms_balance(sim: Sim) -> None:
    assert balance(sim) == 10_000
    sim.reset(sms_balance=930)
    assert balance(sim) == 930


def test_balance_drops_by_one_per_number_sent(sim: Sim) -> None:
    answer = sim.api.post(
        "/messages", data={"content": "Hi", "destination": "995599000001, 0599000002"}
    )
    assert answer.status_code == 200, answer.text
    assert balance(sim) == 10_000 - 2


def test_pricing_is_exactly_the_published_plans(sim: Sim) -> None:
    answer = sim.api.get("/pricing")
    assert answer.status_code == 200
    plans = json.loads(answer.text, parse_float=Decimal)
    assert plans == PUBLISHED_PLANS
    for plan, published in zip(plans, PUBLISHED_PLANS, strict=True):
        # Exact digits, not a float that merely rounds to them.
        assert str(plan["price"]) == str(published["price"])
        assert str(plan["price_yearly"]) == str(published["price_yearly"])
        for key, value in published.items():
            assert type(plan[key]) is type(value), key


def test_pricing_does_not_depend_on_the_accounts_plan(sim: Sim) -> None:
    sim.reset(plan="basic")
    assert json.loads(sim.api.get("/pricing").text, parse_float=Decimal) == PUBLISHED_PLANS


# ---------------------------------------------------------------- SMS authenticator
@pytest.mark.parametrize("form", [{}, {"phone_number": ""}, {"phone_number": "12ab56789"}])
def test_sms_auth_needs_a_valid_number(sim: Sim, form: dict[str, str]) -> None:
    before = len(messages(sim))
    answer = sim.api.post("/mfa/sms_auth", data=form)
    assert answer.status_code == 422
    assert answer.json() == CODED_4004
    assert len(messages(sim)) == before
    assert balance(sim) == 10_000


@pytest.mark.parametrize(
    "number",
    [
        "12345",
        "+995599123456",
        "1" * 16,
        "९९५५१२३४५६७८",
        "٩٩٥٥١٢٣٤٥٦٧٨",
        "９９５５１２３４５６７８",
    ],
)
def test_sms_auth_refuses_malformed_numbers(sim: Sim, number: str) -> None:
    before = len(messages(sim))
    assert sim.api.post("/mfa/sms_auth", data={"phone_number": number}).json() == CODED_4004
    assert len(messages(sim)) == before
    assert balance(sim) == 10_000


@pytest.mark.parametrize("length", ["99999999999999999999", "٦"])
def test_sms_auth_length_must_be_a_plain_integer(sim: Sim, length: str) -> None:
    form = {"phone_number": "995599123456", "length": length}
    answer = sim.api.post("/mfa/sms_auth", data=form)
    assert answer.status_code == 422
    assert answer.json() == {"errors": ["length must be an integer"]}


def test_sms_auth_without_balance_is_1000(sim: Sim) -> None:
    sim.reset(sms_balance=0)
    before = len(messages(sim))
    answer = sim.api.post("/mfa/sms_auth", data={"phone_number": "995599123456"})
    assert answer.status_code == 422
    assert answer.json() == {"error_code": 1000, "status": "ERROR", "message": "No SMS balance"}
    assert len(messages(sim)) == before
    assert balance(sim) == 0


def test_sms_auth_default_code_charges_one_sms_and_records_the_message(sim: Sim) -> None:
    before = messages(sim)
    answer = ok_json(sim.api.post("/mfa/sms_auth", data={"phone_number": "0599123456"}))
    assert set(answer) == {"code", "phone_number"}
    assert answer["phone_number"] == "0599123456"
    code = answer["code"]
    assert len(code) == 4
    assert set(code) <= set(string.ascii_letters + string.digits)
    assert balance(sim) == 10_000 - 1
    after = messages(sim)
    assert len(after) == len(before) + 1
    sent = after[-1]
    assert sent["id"] > before[-1]["id"]
    assert sent["sms"]["destination"] == "0599123456"
    assert code in sent["sms"]["content"]
    assert sent["final_status"] == "pending"
    assert sent["campaign_id"] == 0
    assert sent["birthday_campaign"] is False


@hypothesis_settings
@given(
    length=st.integers(min_value=1, max_value=32),
    only_numbers=st.booleans(),
    only_uppercase=st.booleans(),
)
def test_sms_auth_code_length_and_alphabet(
    running_sim: Sim, length: int, only_numbers: bool, only_uppercase: bool
) -> None:
    running_sim.reset()
    form = {
        "phone_number": "995599123456",
        "length": str(length),
        "only_numbers": str(only_numbers).lower(),
        "only_uppercase": str(only_uppercase).lower(),
    }
    code = ok_json(running_sim.api.post("/mfa/sms_auth", data=form))["code"]
    assert len(code) == length
    if only_numbers:
        assert code.isdigit()
    elif only_uppercase:
        assert set(code) <= set(string.ascii_uppercase + string.digits)
    else:
        assert set(code) <= set(string.ascii_letters + string.digits)
    assert balance(running_sim) == 10_000 - 1


def test_sms_auth_alphabets_are_really_used(sim: Sim) -> None:
    def code(**form: str) -> str:
        answer = sim.api.post("/mfa/sms_auth", data={"phone_number": "995599123456", **form})
        value: str = ok_json(answer)["code"]
        return value

    lowered = "".join(code(length="32") for _ in range(3))
    assert any(c.islower() for c in lowered) and any(c.isupper() for c in lowered)
    upper = "".join(code(length="32", only_uppercase="true") for _ in range(3))
    assert any(c.isupper() for c in upper) and not any(c.islower() for c in upper)
    assert "".join(code(length="32", only_numbers="1") for _ in range(3)).isdigit()
    assert balance(sim) == 10_000 - 9


@pytest.mark.parametrize("length", ["0", "33", "four"])
def test_sms_auth_refuses_nonsense_lengths(sim: Sim, length: str) -> None:
    answer = sim.api.post("/mfa/sms_auth", data={"phone_number": "995599123456", "length": length})
    assert answer.status_code == 422
    assert answer.json()["errors"]
    assert balance(sim) == 10_000
