"""The CRM drop folder: which files are complete, regular and new, found fast.

A file is ready when it is a regular file directly in the folder (no symlinks, nothing
resolving outside it) with an accepted suffix, and is complete: a ``NAME.done`` marker
sits beside it, or its size and modification time did not change between two scans.
Each ready file is identified by the SHA-256 of its content (the sync run's key), so a
changed file under the same name is new, and the same content again is a run Dagster
has already seen. Files whose
size and mtime are unchanged since the last scan are not read again, so a scan over
thousands of already-processed files costs one ``stat`` each.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCEPTED_SUFFIXES = (".csv", ".jsonl", ".ndjson")
DONE_SUFFIX = ".done"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReadyFile:
    path: Path
    sha256: str
    size: int


@dataclass
class FolderState:
    """What the previous scan saw: name -> [size, mtime_ns, sha256 or ""]."""

    files: dict[str, list[Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> FolderState:
        return cls(dict((data or {}).get("files", {})))


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan(folder: Path, previous: FolderState) -> tuple[list[ReadyFile], FolderState]:
    """The files that became ready in ``folder`` since ``previous`` (each with its content
    hash: new files, and files whose content changed) and the state to pass to the next
    scan. A file handed out once is not handed out again while it stays the same."""
    ready: list[ReadyFile] = []
    state = FolderState()
    if not folder.is_dir():
        return ready, state
    root = folder.resolve()
    with os.scandir(folder) as entries:
        listing = [entry for entry in entries if entry.name.lower().endswith(ACCEPTED_SUFFIXES)]
        markers = {
            entry.name[: -len(DONE_SUFFIX)]
            for entry in os.scandir(folder)
            if entry.name.endswith(DONE_SUFFIX)
        }
    for entry in listing:
        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if path.resolve().parent != root:
            continue
        info = entry.stat(follow_symlinks=False)
        seen = previous.files.get(entry.name)
        unchanged = seen is not None and seen[0] == info.st_size and seen[1] == info.st_mtime_ns
        complete = entry.name in markers or unchanged
        digest = ""
        if complete:
            known = seen[2] if unchanged and seen and seen[2] else ""
            digest = known or content_hash(path)
            if not known:  # newly complete, or changed since it was last handed out
                ready.append(ReadyFile(path, digest, info.st_size))
        state.files[entry.name] = [info.st_size, info.st_mtime_ns, digest]
    return ready, state
