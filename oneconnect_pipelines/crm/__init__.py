"""CRM export -> validated contact rows -> a sync plan (read, map, normalise, plan).

``prepare`` runs the first three steps on one file; ``plan_sync`` diffs the result
against the account. Nothing here talks HTTP: applying a plan is the next step's job.
"""

from __future__ import annotations

from pathlib import Path

from .mapping import ColumnMapping, MappingError, Resolved
from .normalise import Normalised, NormaliseOptions, normalise
from .phones import NumberFormat, PhoneNormaliser
from .plan import PlanOptions, SyncPlan, plan_sync
from .read import CrmExport, CrmFileError, read_export

__all__ = [
    "ColumnMapping",
    "CrmExport",
    "CrmFileError",
    "MappingError",
    "NormaliseOptions",
    "Normalised",
    "NumberFormat",
    "PhoneNormaliser",
    "PlanOptions",
    "Resolved",
    "SyncPlan",
    "normalise",
    "plan_sync",
    "prepare",
    "read_export",
]


def prepare(
    path: str | Path, mapping: ColumnMapping, options: NormaliseOptions
) -> tuple[Normalised, Resolved]:
    """Read, map and normalise one export; the ``Resolved`` mapping lists unused columns."""
    export = read_export(path)
    resolved = mapping.resolve(export.columns, export.path.name)
    rows = normalise(
        resolved.apply(export.frame),
        options,
        fields=tuple(resolved.fields),
        read_rejections=export.rejected,
    )
    return rows, resolved
