"""The code location's ``Definitions``: what ``dagster dev -w workspace.yaml`` loads.

Assets, checks, jobs, schedules and sensors are added here as they are built; the
resources they share come from ``assets.resources``.
"""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions()
