"""The code location's ``Definitions``: what ``dagster dev -w workspace.yaml`` loads."""

import warnings

import dagster as dg

from .analytics import ANALYTICS_ASSETS
from .birthday import birthday_after_crm_sync, birthday_campaigns_sync
from .checks import CHECKS, FRESHNESS, freshness_checks_sensor
from .crm_retry import crm_retry_sensor
from .crm_sync import SYNC_LOG_ASSET, crm_contacts_sync, crm_drop_sensor
from .extract import EXTRACT_ASSETS
from .resources import oneconnect_resource
from .schedules import JOBS, SCHEDULES
from .warehouse import warehouse_resources

# Dagster warns about its own call when it binds resources to a sensor's job (it passes
# the beta `owners` parameter itself); nothing here uses it.
warnings.filterwarnings(
    "ignore", message="Parameter `owners` of initializer `SensorDefinition", category=dg.BetaWarning
)

#: Each step still runs in a process of its own, but forked from a server that imported
#: this code location once per run, instead of a fresh interpreter importing Dagster,
#: pandas and pyarrow again for every step (seconds per step on a small machine).
STEP_PROCESSES = dg.multiprocess_executor.configured({"start_method": {"forkserver": {}}})

defs = dg.Definitions(
    assets=[*EXTRACT_ASSETS, *ANALYTICS_ASSETS, SYNC_LOG_ASSET],
    asset_checks=[*CHECKS, *FRESHNESS],
    executor=STEP_PROCESSES,
    jobs=[*JOBS, crm_contacts_sync, birthday_campaigns_sync],
    schedules=SCHEDULES,
    sensors=[crm_drop_sensor, crm_retry_sensor, birthday_after_crm_sync, freshness_checks_sensor],
    resources={
        "oneconnect": oneconnect_resource(),
        **warehouse_resources(),
    },
)
