"""The CRM drop folder: which files are complete, regular and new, found fast, and read
back safely by the run they were handed to.

A file is ready when it is a regular file directly in the folder (no symlinks, nothing
resolving outside it) with an accepted suffix, and is complete: a ``NAME.done`` marker
sits beside it, or it did not change between two scans. Each ready file is identified
by the SHA-256 of its content (the sync run's key), so a changed file under the same
name is new, and the same content again is a run Dagster has already seen.

A scan does not read a file again while its size, modification time, change time and
inode stay as they were when it was hashed, so a scan over thousands of processed files
costs one ``stat`` each. The change time is the kernel's own (no program can set it
back, unlike the modification time), so rewriting a file with its size and mtime kept
still shows. A file that changed within a second before it was hashed is hashed again
at the next scan (git's "racy clean" rule), since a write in the same timestamp tick
would leave every time unchanged.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .read import CrmFileError

#: ``.json`` is read as JSON Lines (one object per line), as ``oneconnect sync`` reads it.
ACCEPTED_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json")
DONE_SUFFIX = ".done"
#: A hash is trusted for a file only if the file had been still this long before it.
RACY_NS = 1_000_000_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReadyFile:
    path: Path
    sha256: str
    size: int


@dataclass
class FolderState:
    """What the previous scan saw: name -> [size, mtime_ns, ctime_ns, inode, sha256 or
    "", hashed_at_ns]."""

    files: dict[str, list[Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> FolderState:
        files = dict((data or {}).get("files", {}))
        # A cursor written before change times were kept: those files are hashed once more.
        return cls({name: seen for name, seen in files.items() if len(seen) == 6})


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan(folder: Path, previous: FolderState) -> tuple[list[ReadyFile], FolderState]:
    """The files that became ready in ``folder`` since ``previous`` (each with its content
    hash: new files, and files whose content changed) and the state to pass to the next
    scan. A file handed out once is not handed out again while its content stays the same."""
    ready: list[ReadyFile] = []
    state = FolderState()
    if not folder.is_dir():
        return ready, state
    root = folder.resolve()
    with os.scandir(folder) as entries:
        listing = list(entries)
    markers = {e.name[: -len(DONE_SUFFIX)] for e in listing if e.name.endswith(DONE_SUFFIX)}
    for entry in listing:
        if not entry.name.lower().endswith(ACCEPTED_SUFFIXES):
            continue
        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if path.resolve().parent != root:
            continue
        info = entry.stat(follow_symlinks=False)
        identity = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
        seen = previous.files.get(entry.name)
        still = seen is not None and seen[:4] == identity
        trusted = still and seen is not None and seen[4] and seen[2] < seen[5] - RACY_NS
        if trusted:
            assert seen is not None
            state.files[entry.name] = seen
            continue
        digest, hashed_at = "", 0
        if entry.name in markers or still:
            hashed_at = time.time_ns()
            digest = content_hash(path)
            if seen is None or digest != seen[4]:  # newly complete, or changed
                ready.append(ReadyFile(path, digest, info.st_size))
        state.files[entry.name] = [*identity, digest, hashed_at]
    return ready, state


def read_dropped(path: Path, sha256: str) -> bytes:
    """The bytes of the file a sensor handed out, checked again where the run reads it: a
    regular file directly in its folder (not a symlink: swapping one in since the scan
    is refused) whose SHA-256 is still ``sha256``. Read once through one descriptor, so
    what is checked is what is synced."""
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        handle = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        raise CrmFileError(f"{path.name}: no longer in {path.parent}") from None
    except OSError as exc:
        why = (
            "it is a symbolic link now, not the regular file the sensor saw"
            if exc.errno == errno.ELOOP
            else exc.strerror
        )
        raise CrmFileError(f"{path.name}: refused, {why}") from None
    finally:
        os.close(folder)
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise CrmFileError(f"{path.name}: refused, it is not a regular file now")
    with os.fdopen(handle, "rb") as file:
        data = file.read()
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise CrmFileError(
            f"{path.name}: its content changed since the sensor handed it out (SHA-256 "
            f"{found[:12]}..., the run was for {sha256[:12]}...); the new content gets "
            "a run of its own"
        )
    return data
