"""Birthday campaigns for the CRM's target lists: the ``birthday_campaigns_sync`` job, and
the sensor that runs it after every successful ``crm_contacts_sync``."""

from typing import Any

import dagster as dg
from pydantic import Field

from oneconnect_pipelines.birthdays import (
    DEFAULT_CONTENT,
    DEFAULT_NAME_FORMAT,
    BirthdayCampaignSpec,
    BirthdayResult,
    apply_birthday_plan,
    plan_birthday_campaigns,
    plan_markdown,
)
from oneconnect_pipelines.client import OneConnect
from oneconnect_pipelines.client.models import ListMembership, Template, Title
from oneconnect_pipelines.crm.mapping import ColumnMapping
from oneconnect_pipelines.storage import Location

from .crm_sync import crm_contacts_sync, filled_lists, op_config
from .metadata import API_POOL
from .resources import OneConnectResource
from .settings import SETTINGS

OP = "sync_birthday_campaigns"
#: Config keys a sensor-requested run carries over from the last real run (see the sensor).
CARRIED_OVER = ("content", "template", "title", "name_format", "active")
#: Run tag: how many lists' campaigns a (non-dry) run left as its config wants them.
IN_EFFECT_TAG = "birthday/lists_in_effect"


class BirthdayCampaignsConfig(dg.Config):
    """The birthday campaign every target list should have."""

    lists: list[str] = Field(
        default_factory=list,
        description="Target list name(s); empty: the lists named in the CRM drop folder's "
        "mapping.yaml",
    )
    content: str = Field(
        default=DEFAULT_CONTENT, description="The greeting (at most 160 characters)"
    )
    template: str | None = Field(
        default=None, description="Use the body of the saved template with this title instead"
    )
    title: str | None = Field(
        default=None, description="Sender name (a title); None: leave the campaign's sender"
    )
    name_format: str = Field(
        default=DEFAULT_NAME_FORMAT, description="Campaign name; {list} is the list's name"
    )
    active: bool = Field(default=True, description="False pauses the greetings")
    dry_run: bool = Field(default=False, description="Plan and report, write nothing")


def target_lists(config_lists: list[str], folder: Location) -> list[str]:
    """The configured lists, else those of ``folder``'s mapping.yaml; each once."""
    names = config_lists or list(ColumnMapping.for_drop_folder(folder).lists)
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


@dg.op(
    out=dg.Out(dg.Nothing),
    pool=API_POOL,
    description="Make sure each target list has one active birthday campaign with the "
    "configured content and sender: create what is missing, update only the fields that "
    "differ, never a second campaign for a list. A dry run shows the plan.",
)
def sync_birthday_campaigns(
    context: dg.OpExecutionContext,
    config: BirthdayCampaignsConfig,
    oneconnect: OneConnectResource,
) -> dg.Output[None]:
    names = target_lists(config.lists, SETTINGS.crm_drop_dir)
    try:
        specs = [
            BirthdayCampaignSpec.for_list(
                name,
                name_format=config.name_format,
                content=config.content,
                template=config.template,
                title=config.title,
                active=config.active,
            )
            for name in names
        ]
    except ValueError as exc:
        raise dg.Failure(description=str(exc)) from None
    with oneconnect.client() as client:
        lists, titles, templates = _account_state(client, specs)
        campaigns = list(client.birthday_campaigns.list())
        plan = plan_birthday_campaigns(specs, campaigns, lists, titles, templates)
        result = apply_birthday_plan(client, plan, dry_run=config.dry_run)
    if not config.dry_run:
        context.instance.add_run_tags(context.run_id, {IN_EFFECT_TAG: str(result.in_effect)})
    for warning in result.warnings:
        context.log.warning(warning)
    metadata = birthday_metadata(result)
    context.log.info(f"birthday campaigns: {result.counts}")
    if not result.ok:
        problems = [
            f"{a.planned.spec.list_name}: {a.reason}"
            for a in result.items
            if a.outcome.value in ("error", "failed")
        ]
        raise dg.Failure(
            description="Some birthday campaigns could not be reconciled: " + "; ".join(problems),
            metadata=metadata,
        )
    return dg.Output(None, metadata=metadata)


def _account_state(
    client: OneConnect, specs: list[BirthdayCampaignSpec]
) -> tuple[list[ListMembership], list[Title], list[Template]]:
    """Only what the specs need: their lists by name (not every list with its members),
    titles and templates only when a spec names one."""
    lists = [found for spec in specs if (found := client.lists.membership(spec.list_name))]
    titles = list(client.titles.list()) if any(s.title for s in specs) else []
    templates = list(client.templates.list()) if any(s.template for s in specs) else []
    return lists, titles, templates


def birthday_metadata(result: BirthdayResult) -> dict[str, Any]:
    checks = [i.planned.content_check for i in result.items if i.planned.content_check]
    content: dict[str, Any] = {}
    if checks:
        content = {
            "content/encoding": checks[0].encoding,
            "content/characters": checks[0].characters,
            "content/sms_per_greeting": checks[0].segments,
        }
    warnings = "\n".join(f"- {w}" for w in result.warnings) or "none"
    return {
        **{f"campaigns/{name}": value for name, value in result.counts.items()},
        "dry_run": result.dry_run,
        "writes": result.writes,
        "campaigns/copies_deleted": result.copies_deleted,
        "plan": dg.MetadataValue.md(plan_markdown(result)),
        "warnings": dg.MetadataValue.md(warnings),
        **content,
    }


@dg.job(
    description="Make sure the target lists' birthday campaigns exist, are active and say "
    "the configured greeting from the configured sender."
)
def birthday_campaigns_sync() -> None:
    sync_birthday_campaigns()


def _last_real_config(instance: dg.DagsterInstance) -> dict[str, Any]:
    """The op config of the latest non-dry birthday run that took effect: a greeting
    someone set by hand stays the desired state, rather than being reset to the defaults
    after the next contact sync. A run that failed over one list (a typo in its name)
    still wrote the others' campaigns, so it counts too; one that left no list as its
    config wants (a blank greeting, a missing template) does not."""
    finished = dg.RunsFilter(
        job_name=birthday_campaigns_sync.name,
        statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
    )
    cursor = None
    while runs := instance.get_runs(filters=finished, cursor=cursor, limit=RUNS_PAGE):
        for run in runs:  # newest first, as far back as it takes (dry runs are skipped)
            config = op_config(run.run_config, OP)
            succeeded = run.status is dg.DagsterRunStatus.SUCCESS
            took_effect = succeeded or int(run.tags.get(IN_EFFECT_TAG, "0")) > 0
            if took_effect and not config.get("dry_run"):
                return {key: config[key] for key in CARRIED_OVER if key in config}
        cursor = runs[-1].run_id
    return {}


#: Runs read at a time looking for the last one that took effect.
RUNS_PAGE = 20


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[crm_contacts_sync],
    request_job=birthday_campaigns_sync,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After each successful (non-dry) CRM contact sync, reconciles the birthday "
    "campaigns of the lists that sync filled.",
)
def birthday_after_crm_sync(
    context: dg.RunStatusSensorContext,
) -> dg.RunRequest | dg.SkipReason:
    run = context.dagster_run
    crm = op_config(run.run_config, "sync_crm_file")
    if crm.get("dry_run"):
        return dg.SkipReason(f"CRM run {run.run_id} was a dry run: its lists may not exist")
    lists = filled_lists(context.instance, run.run_id)
    if not lists:
        return dg.SkipReason(f"CRM run {run.run_id} had no target list")
    config = {**_last_real_config(context.instance), "lists": lists}
    return dg.RunRequest(
        run_key=run.run_id,
        run_config={"ops": {OP: {"config": config}}},
        tags={"crm/run_id": run.run_id},
    )
