"""``birthday_campaigns_sync`` and its run-status sensor against a simulator of their own:
one campaign per list, reruns that write nothing, updates of only what changed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dagster as dg
import httpx
import pytest

import assets.birthday as birthday
import assets.crm_sync as crm_sync
from assets.birthday import OP, birthday_after_crm_sync, birthday_campaigns_sync
from assets.crm_sync import crm_contacts_sync, output_counts
from assets.settings import SETTINGS
from assets.warehouse import WarehouseResource
from oneconnect_pipelines.birthdays import (
    DEFAULT_CONTENT,
    BirthdayCampaignSpec,
    BirthdayPlan,
    Outcome,
    apply_birthday_plan,
    plan_birthday_campaigns,
)
from oneconnect_pipelines.client import OneConnect

from .conftest import API_KEY, EMAIL, EMPTY, Sim
from .extract_helpers import private_sim, resource

GREETING = "Happy birthday from all of us at the shop!"
EXPORT = (
    "First Name,Mobile Phone,Date of Birth\n"
    "Anna,0555 12 34 56,05.05.1997\n"
    "Giorgi,+995 555 123457,29/02/2000\n"
)


@pytest.fixture(scope="module")
def shared() -> Iterator[Sim]:
    with private_sim(EMPTY) as sim:
        yield sim


@pytest.fixture
def account(shared: Sim) -> Sim:
    shared.reset(EMPTY)
    return shared


@pytest.fixture
def drop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A drop folder whose mapping.yaml names the list "CRM customers"."""
    folder = tmp_path / "crm_drop"
    folder.mkdir()
    (folder / "mapping.yaml").write_text("lists: [CRM customers]\n")
    settings = dataclasses.replace(SETTINGS, crm_drop_dir=folder, export_dir=tmp_path / "exports")
    monkeypatch.setattr(crm_sync, "SETTINGS", settings)
    monkeypatch.setattr(birthday, "SETTINGS", settings)
    return folder


def run(
    sim: Sim, instance: dg.DagsterInstance | None = None, **config: Any
) -> dg.ExecuteInProcessResult:
    return birthday_campaigns_sync.execute_in_process(
        run_config={"ops": {OP: {"config": config}}},
        resources={"oneconnect": resource(sim)},
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    """The op's metadata, from its output or (a failed run) from its failure."""
    for event in result.all_node_events:
        if event.is_successful_output:
            return {k: v.value for k, v in event.step_output_data.metadata.items()}
        if event.is_step_failure:
            data = event.step_failure_data.user_failure_data
            assert data is not None, event.step_failure_data.error
            return {k: v.value for k, v in data.metadata.items()}
    raise AssertionError("no output and no failure")


def new_list(sim: Sim, name: str) -> int:
    answer = sim.api.post("/lists", data={"name": name})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def new_title(sim: Sim, name: str, activate: bool = True) -> int:
    answer = sim.api.post("/titles", data={"name": name})
    assert answer.status_code == 200, answer.text
    title_id = int(answer.json()["id"])
    if activate:
        sim.admin.post(f"/titles/{title_id}/activate").raise_for_status()
    return title_id


def campaigns(sim: Sim) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sim.api.get("/birthday_campaigns").json()
    return found


def test_one_campaign_is_created_then_reruns_write_nothing_and_edits_patch_one_field(
    account: Sim,
) -> None:
    list_id = new_list(account, "VIP")
    new_title(account, "Shop")
    result = run(account, lists=["VIP"], title="Shop", content=GREETING)
    assert result.success
    assert output_counts(result, OP, "campaigns")["created"] == 1
    (campaign,) = campaigns(account)
    assert campaign["name"] == "Birthday greetings: VIP"
    assert campaign["active"] is True
    assert campaign["recipient_lists"] == [list_id]
    assert campaign["content"] == GREETING
    assert campaign["title"] == "Shop"
    shown = metadata(result)
    assert "| VIP | Birthday greetings: VIP |" in shown["plan"]
    assert shown["campaigns/created"] == 1 and shown["warnings"] == "none"
    assert shown["content/encoding"] == "GSM-7"

    account.admin.delete("/stats").raise_for_status()
    again = run(account, lists=["VIP"], title="Shop", content=GREETING)
    assert again.success and output_counts(again, OP, "campaigns")["unchanged"] == 1
    assert account.stats()["writes"] == 0

    account.admin.delete("/stats").raise_for_status()
    edited = run(account, lists=["VIP"], title="Shop", content=GREETING + " 10% off today.")
    assert edited.success
    stats = account.stats()
    assert stats["writes"] == 1
    assert stats["routes"].get("PATCH /birthday_campaigns/:id") == 1
    assert "| update | updated | content |" in metadata(edited)["plan"]
    (after,) = campaigns(account)
    assert after["id"] == campaign["id"]
    assert after["content"] == GREETING + " 10% off today."
    assert (after["name"], after["title"], after["recipient_lists"]) == (
        campaign["name"],
        "Shop",
        [list_id],
    )


def test_a_dry_run_writes_nothing_and_shows_the_plan(account: Sim) -> None:
    new_list(account, "VIP")
    account.admin.delete("/stats").raise_for_status()
    result = run(account, lists=["VIP"], dry_run=True)
    assert result.success
    assert account.stats()["writes"] == 0
    assert campaigns(account) == []
    shown = metadata(result)
    assert shown["dry_run"] is True and shown["writes"] == 0
    assert "| create | would create |" in shown["plan"]
    assert shown["campaigns/would create"] == 1


def test_an_inactive_title_warns_until_it_is_activated(account: Sim) -> None:
    new_list(account, "VIP")
    title_id = new_title(account, "NewShop", activate=False)
    first = run(account, lists=["VIP"], title="NewShop")
    assert first.success
    warnings = metadata(first)["warnings"]
    assert "'NewShop'" in warnings and "not activated" in warnings and "'Message'" in warnings
    assert campaigns(account)[0]["title"] == "NewShop"  # set now, shown once activated
    account.admin.post(f"/titles/{title_id}/activate").raise_for_status()
    second = run(account, lists=["VIP"], title="NewShop")
    assert second.success and metadata(second)["warnings"] == "none"
    assert output_counts(second, OP, "campaigns")["unchanged"] == 1


def test_content_from_a_saved_template_and_ucs2_warned(account: Sim) -> None:
    new_list(account, "VIP")
    body = "გილოცავთ დაბადების დღეს!"
    account.api.post("/templates", data={"title": "Greeting", "body": body}).raise_for_status()
    result = run(account, lists=["VIP"], template="Greeting")
    assert result.success
    assert campaigns(account)[0]["content"] == body
    shown = metadata(result)
    assert shown["content/encoding"] == "UCS-2"
    assert "UCS-2" in shown["warnings"] and "70" in shown["warnings"]


def test_a_missing_list_fails_the_run_and_the_others_still_go_ahead(account: Sim) -> None:
    new_list(account, "VIP")
    result = run(account, lists=["VIP", "Nobody"])
    assert not result.success
    shown = metadata(result)
    assert "list 'Nobody' does not exist" in shown["plan"]
    assert shown["campaigns/created"] == 1 and shown["campaigns/error"] == 1
    assert [c["name"] for c in campaigns(account)] == ["Birthday greetings: VIP"]


def test_two_existing_campaigns_for_a_list_are_reported_not_joined_by_a_third(
    account: Sim,
) -> None:
    list_id = new_list(account, "VIP")
    for name in ("Greetings A", "Greetings B"):
        account.api.post(
            "/birthday_campaigns",
            data={"name": name, "content": "Hi", "recipient_lists": str(list_id)},
        ).raise_for_status()
    ids = sorted(c["id"] for c in campaigns(account))
    account.admin.delete("/stats").raise_for_status()
    result = run(account, lists=["VIP"])
    assert not result.success
    assert f"ids {ids[0]}, {ids[1]}" in metadata(result)["plan"]
    assert account.stats()["writes"] == 0


def test_a_create_the_server_applied_twice_is_one_campaign_again_after_the_next_run(
    account: Sim,
) -> None:
    """The create's answer is lost and the server applies it after the client's replay
    had returned (no read-back sees that far): two identical campaigns greet every
    member twice. The next run deletes the newer one and goes on; runs after write
    nothing."""
    new_list(account, "VIP")
    account.admin.put("/faults", json={"late_writes": 1, "late_by": 5}).raise_for_status()
    assert run(account, lists=["VIP"], content=GREETING).success
    for _ in range(5):  # the held create lands behind later requests
        account.api.get("/balance").raise_for_status()
    account.admin.put("/faults", json={}).raise_for_status()
    twins = sorted(c["id"] for c in campaigns(account))
    assert len(twins) == 2 and len({c["content"] for c in campaigns(account)}) == 1

    preview = run(account, lists=["VIP"], content=GREETING, dry_run=True)
    assert preview.success and len(campaigns(account)) == 2
    assert metadata(preview)["campaigns/copies_deleted"] == 0
    account.admin.delete("/stats").raise_for_status()
    result = run(account, lists=["VIP"], content=GREETING)
    assert result.success
    assert [c["id"] for c in campaigns(account)] == twins[:1]
    shown = metadata(result)
    assert (
        f"| {twins[0]} | unchanged | unchanged | - | deleted copies {twins[1]} |" in shown["plan"]
    )
    assert f"{twins[1]} are exact copies of {twins[0]}" in shown["warnings"]
    assert shown["campaigns/copies_deleted"] == 1 and shown["campaigns/unchanged"] == 1
    assert account.stats()["writes"] == 1  # the delete
    account.admin.delete("/stats").raise_for_status()
    assert run(account, lists=["VIP"], content=GREETING).success
    assert account.stats()["writes"] == 0


def test_without_lists_the_drop_folders_mapping_names_them(account: Sim, drop: Path) -> None:
    list_id = new_list(account, "CRM customers")
    result = run(account)
    assert result.success
    (campaign,) = campaigns(account)
    assert campaign["recipient_lists"] == [list_id]
    assert campaign["content"] == DEFAULT_CONTENT


def crm_run(
    sim: Sim, folder: Path, instance: dg.DagsterInstance, **options: Any
) -> dg.ExecuteInProcessResult:
    path = folder / "export.csv"
    path.write_text(EXPORT, encoding="utf-8")
    result = crm_contacts_sync.execute_in_process(
        run_config={"ops": {"sync_crm_file": {"config": {"path": str(path), **options}}}},
        resources={
            "oneconnect": resource(sim),
            "warehouse": WarehouseResource(url=str(folder.parent / "wh.duckdb")),
        },
        instance=instance,
    )
    assert result.success
    return result


def evaluate(instance: dg.DagsterInstance, crm: dg.ExecuteInProcessResult) -> Any:
    context = dg.build_run_status_sensor_context(
        sensor_name=birthday_after_crm_sync.name,
        dagster_instance=instance,
        dagster_run=crm.dagster_run,
        dagster_event=crm.get_run_success_event(),
    )
    return birthday_after_crm_sync(context)


def test_a_successful_crm_sync_requests_the_birthday_sync_of_its_lists(
    account: Sim, drop: Path
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    crm = crm_run(account, drop, instance)
    request = evaluate(instance, crm)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == crm.run_id
    assert request.run_config == {"ops": {OP: {"config": {"lists": ["CRM customers"]}}}}
    # the requested run does what it says: the synced list gets its campaign
    list_id = account.api.get("/lists", params={"name": "CRM customers"}).json()["id"]
    follow = run(account, instance, **request.run_config["ops"][OP]["config"])
    assert follow.success
    assert [c["recipient_lists"] for c in campaigns(account)] == [[list_id]]

    # lists given in the CRM run's config win over mapping.yaml
    named = crm_run(account, drop, instance, lists=["Newsletter"])
    assert evaluate(instance, named).run_config["ops"][OP]["config"]["lists"] == ["Newsletter"]


def test_the_sensor_greets_the_lists_a_mapping_in_run_config_filled(
    account: Sim, drop: Path
) -> None:
    """The drop folder's mapping.yaml names "CRM customers"; this CRM run filled "VIP"."""
    instance = dg.DagsterInstance.ephemeral()
    crm = crm_run(account, drop, instance, mapping={"lists": ["VIP"]})
    assert [m["name"] for m in account.api.get("/lists").json()] == ["VIP"]
    request = evaluate(instance, crm)
    assert request.run_config["ops"][OP]["config"]["lists"] == ["VIP"]


def test_the_sensor_keeps_a_hand_set_greeting_and_skips_dry_runs(account: Sim, drop: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    crm = crm_run(account, drop, instance)
    assert run(account, instance, lists=["CRM customers"], content=GREETING).success
    assert run(account, instance, lists=["CRM customers"], content="x", dry_run=True).success
    request = evaluate(instance, crm)
    assert request.run_config["ops"][OP]["config"] == {
        "content": GREETING,
        "lists": ["CRM customers"],
    }
    dry = crm_run(account, drop, instance, dry_run=True)
    assert isinstance(evaluate(instance, dry), dg.SkipReason)


def tags(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """The run's tags as stored (an op adds some while it runs)."""
    stored = instance.get_run_by_id(result.run_id)
    assert stored is not None
    return dict(stored.tags)


def test_a_failed_run_that_wrote_is_the_greeting_the_sensor_keeps(account: Sim, drop: Path) -> None:
    """A run failing over one list (a typo) still wrote the other's greeting: the next
    sensor run keeps it. A run that left no list as it wanted is not the desired state."""
    instance = dg.DagsterInstance.ephemeral()
    crm = crm_run(account, drop, instance)
    assert run(account, instance, lists=["CRM customers"], content="Greeting A").success
    typo = run(account, instance, lists=["CRM customers", "Typo list"], content="Greeting B")
    assert not typo.success
    assert [c["content"] for c in campaigns(account)] == ["Greeting B"]
    assert tags(instance, typo)[birthday.IN_EFFECT_TAG] == "1"
    nothing = run(account, instance, lists=["CRM customers"], template="No such template")
    assert not nothing.success
    assert tags(instance, nothing)[birthday.IN_EFFECT_TAG] == "0"

    config = evaluate(instance, crm).run_config["ops"][OP]["config"]
    assert config == {"content": "Greeting B", "lists": ["CRM customers"]}
    follow = run(account, instance, **config)
    assert follow.success and [c["content"] for c in campaigns(account)] == ["Greeting B"]


def test_a_greeting_as_a_yaml_block_writes_once(account: Sim) -> None:
    """OneConnect stores text stripped: a trailing newline or space is no change."""
    new_list(account, "VIP")
    block: dict[str, Any] = {"content": GREETING + "\n", "name_format": "Birthday {list} "}
    assert run(account, lists=["VIP"], **block).success
    assert [(c["name"], c["content"]) for c in campaigns(account)] == [("Birthday VIP", GREETING)]
    account.admin.delete("/stats").raise_for_status()
    again = run(account, lists=["VIP"], **block)
    assert again.success and output_counts(again, OP, "campaigns")["unchanged"] == 1
    assert account.stats()["writes"] == 0


def test_a_name_format_using_more_than_the_list_fails_the_run_naming_it(account: Sim) -> None:
    new_list(account, "VIP")
    account.admin.delete("/stats").raise_for_status()
    result = run(account, lists=["VIP"], name_format="{list.upper} birthdays")
    assert not result.success
    (failure,) = [e for e in result.all_node_events if e.is_step_failure]
    data = failure.step_failure_data.user_failure_data
    assert data is not None  # a dg.Failure, not an AttributeError from str.format
    assert data.description == (
        "name format '{list.upper} birthdays' is not valid: only {list} may be used "
        "(it uses 'list.upper')"
    )
    assert campaigns(account) == [] and account.stats()["writes"] == 0


class Recording(httpx.HTTPTransport):
    """Real loopback HTTP, with every write's method, path and form body kept."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, str, dict[str, list[str]]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            body = parse_qs(request.read().decode(), keep_blank_values=True)
            self.writes.append((request.method, request.url.path, body))
        return super().handle_request(request)


def plan_for(client: OneConnect, specs: list[BirthdayCampaignSpec]) -> BirthdayPlan:
    return plan_birthday_campaigns(
        specs,
        list(client.birthday_campaigns.list()),
        list(client.lists.list()),
        list(client.titles.list()),
    )


def test_an_update_sends_only_the_changed_field_and_a_refused_write_is_recorded(
    account: Sim,
) -> None:
    vip, _ = new_list(account, "VIP"), new_list(account, "Other")
    new_title(account, "Shop")
    transport = Recording()
    with OneConnect(account.base_url, EMAIL, API_KEY, transport=transport) as client:
        specs = [BirthdayCampaignSpec.for_list(n, title="Shop") for n in ("VIP", "Other")]
        created = apply_birthday_plan(client, plan_for(client, specs))
        assert [a.outcome for a in created.items] == [Outcome.CREATED, Outcome.CREATED]
        assert transport.writes[0][2]["recipient_lists"] == [str(vip)]
        transport.writes.clear()

        edited = [dataclasses.replace(s, content=GREETING) for s in specs]
        plan = plan_for(client, edited)
        gone = created.items[1].campaign_id
        account.api.delete(f"/birthday_campaigns/{gone}").raise_for_status()  # before the write
        result = apply_birthday_plan(client, plan)
    assert [a.outcome for a in result.items] == [Outcome.UPDATED, Outcome.FAILED]
    assert result.writes == 2 and not result.ok
    (method, path, body), _ = transport.writes
    assert (method, path, body) == (
        "PATCH",
        f"/api/v1/birthday_campaigns/{created.items[0].campaign_id}",
        {"content": [GREETING]},
    )
    assert "404" in result.items[1].reason or "not found" in result.items[1].reason.lower()


class RefusingDelete(httpx.HTTPTransport):
    """Real loopback HTTP, but deleting ``path`` is refused (403)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and request.url.path == self.path:
            return httpx.Response(403, json={"errors": ["not allowed"]})
        return super().handle_request(request)


def test_a_copy_gone_before_its_delete_is_done_and_a_refused_delete_is_recorded(
    account: Sim,
) -> None:
    """Copies found by the plan: one deleted by someone else before the run (done, as
    wanted), one whose delete is refused (failed, named; the next run tries again)."""
    specs = [BirthdayCampaignSpec.for_list(n, content="Hi") for n in ("VIP", "Other")]
    ids = []
    for spec in specs:
        list_id = new_list(account, spec.list_name)
        for _ in range(2):
            made = account.api.post(
                "/birthday_campaigns",
                data={"name": spec.name, "content": "Hi", "recipient_lists": str(list_id)},
            )
            ids.append(made.json()["id"])
    refused = f"/api/v1/birthday_campaigns/{ids[3]}"
    with OneConnect(account.base_url, EMAIL, API_KEY, transport=RefusingDelete(refused)) as client:
        plan = plan_for(client, specs)
        assert [item.duplicates for item in plan.items] == [(ids[1],), (ids[3],)]
        account.api.delete(f"/birthday_campaigns/{ids[1]}").raise_for_status()
        result = apply_birthday_plan(client, plan)
    assert [a.outcome for a in result.items] == [Outcome.UNCHANGED, Outcome.FAILED]
    assert result.items[1].reason.startswith(f"deleting the copy {ids[3]} of campaign {ids[2]}: ")
    assert sorted(c["id"] for c in campaigns(account)) == [ids[0], ids[2], ids[3]]


def test_the_sensor_keeps_a_paused_greeting_however_many_dry_runs_came_since(
    account: Sim, drop: Path
) -> None:
    """Greetings paused with a greeting of their own, then texts tried in 21 dry runs: the
    sensor's next run keeps them paused with that greeting. It looked at the 20 newest
    runs only, dry ones included, and then went back to the defaults: greetings resumed."""
    instance = dg.DagsterInstance.ephemeral()
    crm = crm_run(account, drop, instance)
    assert run(account, instance, lists=["CRM customers"], content=GREETING, active=False).success
    for attempt in range(21):
        text = f"Try {attempt}"
        assert run(account, instance, lists=["CRM customers"], content=text, dry_run=True).success
    config = evaluate(instance, crm).run_config["ops"][OP]["config"]
    assert config == {"content": GREETING, "active": False, "lists": ["CRM customers"]}
