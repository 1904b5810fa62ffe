"""One CRM export into OneConnect: read -> plan -> apply -> every row's outcome.

``sync_file`` is the whole sync; the Dagster op and ``oneconnect sync`` only call it and
record what it returns. The file is read once: the hash in the result is that of the
bytes that were synced, and a sensor's run checks it against the run key first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from ..client import OneConnect
from ..storage import Location, location
from .apply import ApplyOptions, SyncResult, apply_plan
from .dropfolder import read_dropped
from .mapping import ColumnMapping, Resolved
from .normalise import Normalised, NormaliseOptions, normalise
from .plan import PlanOptions, plan_sync
from .read import CrmFileError, read_export


@dataclass(frozen=True)
class SyncOptions:
    #: None: the ``mapping.yaml`` of the file's folder, else the built-in CRM headers.
    mapping: ColumnMapping | None = None
    normalise: NormaliseOptions = field(default_factory=NormaliseOptions)
    plan: PlanOptions = field(default_factory=PlanOptions)
    #: Its ``lists`` empty: the mapping's lists.
    apply: ApplyOptions = field(default_factory=ApplyOptions)
    #: The content the file must have (a sensor's run key); the file must then also be
    #: a regular file directly in its folder, not a symlink (``read_dropped``).
    expected_sha256: str | None = None


@dataclass(frozen=True, repr=False)
class FileSync:
    """What one sync did: the rows' outcomes and lists (``result``), and of the file."""

    path: Location
    sha256: str
    result: SyncResult
    lists: tuple[str, ...]
    unused_columns: tuple[str, ...]

    def __repr__(self) -> str:
        return f"FileSync({self.path.name!r}, {self.result.counts})"


def sync_file(client: OneConnect, path: str | Location, options: SyncOptions) -> FileSync:
    """Sync the export at ``path``; raises ``CrmFileError`` / ``MappingError`` for a file
    that cannot be read at all, and the client's errors when the account cannot be read."""
    path = location(path)
    if options.expected_sha256 is not None:
        data = read_dropped(path, options.expected_sha256)
    else:
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:  # the object stores' errors carry no file name
            raise CrmFileError(f"{path}: no such file") from exc
    mapping = options.mapping or ColumnMapping.for_drop_folder(path.parent)
    rows, resolved = prepare(path, mapping, options.normalise, data)
    contacts = [record for page in client.contacts.pages() for record in page]
    plan = plan_sync(rows, contacts, options.normalise.phones(), options.plan)
    del contacts
    lists = options.apply.lists or mapping.lists
    result = apply_plan(client, plan, replace(options.apply, lists=lists))
    return FileSync(
        path, hashlib.sha256(data).hexdigest(), result, tuple(lists), tuple(resolved.unused)
    )


def prepare(
    path: str | Location,
    mapping: ColumnMapping,
    options: NormaliseOptions,
    data: bytes | None = None,
) -> tuple[Normalised, Resolved]:
    """Read (``data``: the file's bytes, already read), map and normalise one export; the
    ``Resolved`` mapping lists unused columns. The mapping's ``month_first`` applies
    where ``options`` leave it open."""
    export = read_export(path, data)
    resolved = mapping.resolve(export.columns, export.path.name)
    if options.month_first is None:
        options = replace(options, month_first=mapping.month_first)
    rows = normalise(
        resolved.apply(export.frame),
        options,
        fields=tuple(resolved.fields),
        read_rejections=export.rejected,
    )
    return rows, resolved
