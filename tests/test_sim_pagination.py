"""Pagination as the contract defines it: page+per_page, short page ends, limit, max 1000."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneconnect_pipelines.simulator import SeedSizes

from .conftest import EMPTY, Sim


def all_pages(sim: Sim, path: str, per_page: int, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = sim.api.get(path, params={**params, "page": page, "per_page": per_page})
        assert answer.status_code == 200, answer.text
        batch = answer.json()
        records.extend(batch)
        if len(batch) < per_page:
            return records
        page += 1


def test_pages_cover_the_whole_collection_in_id_order(sim: Sim) -> None:
    whole = sim.api.get("/contacts").json()
    assert len(whole) == 60
    paged = all_pages(sim, "/contacts", 7)
    assert paged == whole
    assert [r["id"] for r in paged] == sorted(r["id"] for r in whole)


def test_exact_multiple_of_per_page_ends_with_an_empty_page(sim: Sim) -> None:
    assert len(sim.api.get("/contacts", params={"page": 3, "per_page": 20}).json()) == 20
    assert sim.api.get("/contacts", params={"page": 4, "per_page": 20}).json() == []


def test_empty_collection_answers_an_empty_array(sim: Sim) -> None:
    sim.reset(EMPTY)
    for path in ("/contacts", "/lists", "/campaigns", "/birthday_campaigns", "/messages"):
        assert sim.api.get(path).json() == []
        assert sim.api.get(path, params={"page": 1, "per_page": 10}).json() == []


def test_limit_caps_the_collection_before_paging(sim: Sim) -> None:
    params = {"limit": 25, "per_page": 10}
    sizes = [
        len(sim.api.get("/contacts", params={**params, "page": p}).json()) for p in (1, 2, 3, 4)
    ]
    assert sizes == [10, 10, 5, 0]
    assert len(sim.api.get("/contacts", params={"limit": 5}).json()) == 5


def test_per_page_above_the_maximum_is_refused_not_clamped(sim: Sim) -> None:
    answer = sim.api.get("/messages", params={"page": 1, "per_page": 1001})
    assert answer.status_code == 422
    assert answer.json() == {"errors": ["per_page must be at most 1000"]}
    assert sim.api.get("/messages", params={"page": 1, "per_page": 1000}).status_code == 200


@pytest.mark.parametrize(
    "params", [{"page": 0, "per_page": 5}, {"page": 1, "per_page": "x"}, {"limit": -1}]
)
def test_nonsense_paging_values_are_refused(sim: Sim, params: dict[str, Any]) -> None:
    answer = sim.api.get("/contacts", params=params)
    assert answer.status_code == 422
    assert answer.json()["errors"]


def test_page_without_per_page_answers_the_whole_collection(sim: Sim) -> None:
    # The docs: both must be given to paginate.
    assert len(sim.api.get("/contacts", params={"page": 2}).json()) == 60


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(min_value=0, max_value=130),
    per_page=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_paging_returns_every_record_once_in_a_stable_order(
    running_sim: Sim, size: int, per_page: int, seed: int
) -> None:
    running_sim.reset(
        SeedSizes(
            contacts=size,
            lists=1,
            campaigns=0,
            birthday_campaigns=0,
            messages=size,
            titles=0,
            templates=1,
        ),
        seed=seed,
    )
    for path in ("/contacts", "/messages"):
        whole = running_sim.api.get(path).json()
        assert len(whole) == size
        paged = all_pages(running_sim, path, per_page)
        assert [r["id"] for r in paged] == [r["id"] for r in whole]
        assert len({r["id"] for r in paged}) == size
        assert all_pages(running_sim, path, per_page) == paged  # stable across passes
