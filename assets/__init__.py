"""The Dagster code location: everything the Dagster UI shows for OneConnect."""

from oneconnect_pipelines.allocation import use_lean_arrow_memory

use_lean_arrow_memory()
