"""The code location's ``Definitions``: what ``dagster dev -w workspace.yaml`` loads."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from .analytics import ANALYTICS_ASSETS
from .birthday import birthday_after_crm_sync, birthday_campaigns_sync
from .checks import CHECKS
from .crm_retry import crm_retry_sensor
from .crm_sync import crm_contacts_sync, crm_drop_sensor
from .extract import EXTRACT_ASSETS
from .resources import oneconnect_resource, warehouse_io_manager
from .schedules import JOBS, SCHEDULES
from .settings import SETTINGS

defs = dg.Definitions(
    assets=[*EXTRACT_ASSETS, *ANALYTICS_ASSETS],
    asset_checks=CHECKS,
    jobs=[*JOBS, crm_contacts_sync, birthday_campaigns_sync],
    schedules=SCHEDULES,
    sensors=[crm_drop_sensor, crm_retry_sensor, birthday_after_crm_sync],
    resources={
        "oneconnect": oneconnect_resource(),
        "io_manager": warehouse_io_manager(),
        "warehouse": DuckDBResource(database=str(SETTINGS.warehouse)),
    },
)
