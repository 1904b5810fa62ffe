"""CRM export -> validated contact rows -> a sync plan -> OneConnect contacts and lists.

``sync_file`` does it all for one file. Its steps are here too: ``prepare`` reads, maps
and normalises a file; ``plan_sync`` diffs the rows against the account (no HTTP);
``apply.apply_plan`` writes the plan.
"""

from __future__ import annotations

from .mapping import ColumnMapping, MappingError, Resolved
from .normalise import Normalised, NormaliseOptions, normalise
from .phones import NumberFormat, PhoneNormaliser
from .plan import PlanOptions, SyncPlan, plan_sync
from .read import CrmExport, CrmFileError, read_export
from .sync import FileSync, SyncOptions, prepare, sync_file

__all__ = [
    "ColumnMapping",
    "CrmExport",
    "CrmFileError",
    "FileSync",
    "MappingError",
    "NormaliseOptions",
    "Normalised",
    "NumberFormat",
    "PhoneNormaliser",
    "PlanOptions",
    "Resolved",
    "SyncOptions",
    "SyncPlan",
    "normalise",
    "plan_sync",
    "prepare",
    "read_export",
    "sync_file",
]
