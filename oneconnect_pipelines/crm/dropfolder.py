"""The CRM drop folder: which files are complete, regular and new, found fast, and read
back safely by the run they were handed to. The folder is local or an object-store
prefix (``s3://bucket/crm``); the same rules hold for both.

A file is ready when it is a regular file directly in the folder (no symlinks, nothing
resolving outside it) with an accepted suffix, not one a desktop leaves beside an export
(a name starting with ``.``, like macOS's ``._NAME``, or ``~$``, Excel's owner file),
and is complete: a ``NAME.done`` marker written after it sits beside it (one older than
the file speaks of an earlier version, and the file may be being rewritten), or it did
not change between two scans. Each ready file is identified by the SHA-256 of its
content, so a changed file under the same name is new; a drop (``ReadyFile.drop``:
content and write time) is what a sync run is keyed by, so the same drop seen again
(renamed, say) is a run Dagster has already made, while an export that returns to an
earlier content (A, B, then A again) is a drop of its own.
Files that become ready in one scan come in the order they were written.

A scan does not read a file again while its size, modification time, change time and
inode stay as they were when it was hashed, so a scan over thousands of processed files
costs one ``stat`` each. The change time is the kernel's own (no program can set it
back, unlike the modification time), so rewriting a file with its size and mtime kept
still shows. A file that changed within a second before it was hashed is hashed again
at the next scan (git's "racy clean" rule), since a write in the same timestamp tick
would leave every time unchanged.

A complete file the scan cannot read (another user's file with mode 0600, an object the
credentials may not fetch) is skipped, never fatal to the scan: it is named in
``FolderState.unreadable`` and hashed again at every later scan, so it is handed out
once it can be read. So is a file whose name is not UTF-8 (a Latin-1 name from a share
or a zip): no run can be made for it (Dagster stores the name in the run), and until it
is renamed it is named, its bytes escaped, at every scan.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from upath import UPath

from ..storage import Location, listing, location
from .read import CrmFileError

#: ``.json`` is read as JSON Lines (one object per line), as ``oneconnect sync`` reads it.
ACCEPTED_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json")
DONE_SUFFIX = ".done"
#: Hidden files (macOS's ``._NAME`` beside each file copied to a share) and Excel's
#: owner files (``~$NAME``, while the export is open): never an export, a run would fail.
IGNORED_PREFIXES = (".", "~$")
#: A hash is trusted for a file only if the file had been still this long before it.
RACY_NS = 1_000_000_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReadyFile:
    path: Location
    sha256: str
    size: int
    #: When it was written: the file's mtime in ns, or the object's modified time.
    written: int | str

    @property
    def drop(self) -> str:
        """This drop of an export: its content and write time. The same drop scanned again
        (a lost cursor, the file renamed, restored with its times) has the same key;
        content that comes back in a new write is a new drop."""
        return f"{self.sha256}:{self.written}"

    def to_json(self) -> list[Any]:
        return [str(self.path), self.sha256, self.size, self.written]

    @classmethod
    def from_json(cls, data: list[Any]) -> ReadyFile:
        path, sha256, size, written = data
        return cls(location(path), sha256, size, written)


@dataclass
class FolderState:
    """What the previous scan saw: name -> [size, mtime_ns, ctime_ns, inode, sha256 or
    "", hashed_at_ns] (for an object: [size, modified, 0, version, sha256, hashed_at_ns]),
    and the complete files it could not read (name -> why, e.g. ``Permission denied``)."""

    files: dict[str, list[Any]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "unreadable": self.unreadable}

    def holds(self, file: ReadyFile) -> bool:
        """``file``'s content is still what the scan found under its name."""
        seen = self.files.get(file.path.name)
        return seen is not None and seen[4] == file.sha256

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> FolderState:
        files = dict((data or {}).get("files", {}))
        unreadable = dict((data or {}).get("unreadable", {}))
        # A cursor written before change times were kept: those files are hashed once more.
        return cls({name: seen for name, seen in files.items() if len(seen) == 6}, unreadable)


def content_hash(path: Location) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan(folder: Location, previous: FolderState) -> tuple[list[ReadyFile], FolderState]:
    """The files that became ready in ``folder`` since ``previous`` (each with its content
    hash: new files, and files whose content changed), oldest write first, and the state
    to pass to the next scan. A file handed out once is not handed out again while its
    content stays the same. A complete file that cannot be read is left out and put in
    the state's ``unreadable``; it is tried again at every scan."""
    ready: list[ReadyFile] = []
    state = FolderState()
    files = _local_files(folder) if isinstance(folder, Path) else _stored_files(folder)
    markers = {
        name[: -len(DONE_SUFFIX)]: identity[1]
        for name, (_, identity) in files.items()
        if name.endswith(DONE_SUFFIX)
    }
    for name, (path, identity) in files.items():
        if not name.lower().endswith(ACCEPTED_SUFFIXES) or name.startswith(IGNORED_PREFIXES):
            continue
        if not _utf8(name):
            state.unreadable[os.fsencode(name).decode("utf-8", "backslashreplace")] = (
                "its name is not UTF-8; rename the file"
            )
            continue
        seen = previous.files.get(name)
        still = seen is not None and seen[:4] == identity
        if still and seen is not None and seen[4] and seen[2] < seen[5] - RACY_NS:
            state.files[name] = seen  # hashed when it had been still for a while: trusted
            continue
        # Until it is hashed again, the name keeps the content last handed out under it
        # (hashed_at 0: never trusted), so the same bytes written again, or a file merely
        # touched, are not a new export once it is complete again.
        last = seen[4] if seen is not None else ""
        digest, hashed_at = last, 0
        marked = name in markers and markers[name] >= identity[1]  # written after it
        if marked or still:
            started = time.time_ns()  # before reading: a write meanwhile is racy
            try:
                digest, hashed_at = content_hash(path), started
            except OSError as exc:  # not ours to read (yet): the others still go ahead
                state.unreadable[name] = exc.strerror or type(exc).__name__
            else:
                if not _still_listed(path, identity):  # rewritten while it was read
                    digest, hashed_at = last, 0  # (half of it, maybe): not complete yet
                elif digest != last:  # newly complete, or changed
                    ready.append(ReadyFile(path, digest, identity[0], identity[1]))
        state.files[name] = [*identity, digest, hashed_at]
    return sorted(ready, key=lambda file: (file.written, file.path.name)), state


#: A folder's regular files (markers included): name -> (path, identity).
Listed = dict[str, tuple[Location, list[Any]]]
#: Where the object stores' listings (s3fs, gcsfs, adlfs) say when and which version.
_MODIFIED = ("LastModified", "updated", "last_modified", "mtime")
_VERSION = ("ETag", "generation", "etag")


def _still_listed(path: Location, identity: list[Any]) -> bool:
    """Whether a local file is still the one the listing saw: a CRM rewriting its export
    in place between the listing and the read would have half of it hashed and handed
    out. (An object in a store cannot change under a read: a new upload is a new
    version, and the listing's identity already names the one read.)"""
    if not isinstance(path, Path):
        return True
    try:
        info = path.stat(follow_symlinks=False)
    except OSError:
        return False
    return _identity(info) == identity


def _identity(info: os.stat_result) -> list[Any]:
    """A local file's identity: size, modification and change time, inode."""
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes Python kept as surrogates
        return False
    return True


def _local_files(folder: Path) -> Listed:
    """The regular files directly inside ``folder`` (no symlinks, nothing resolving
    elsewhere) with their identity [size, mtime, ctime, inode]."""
    if not folder.is_dir():
        return {}
    root = folder.resolve()
    with os.scandir(folder) as entries:
        listing = list(entries)
    files: dict[str, tuple[Location, list[Any]]] = {}
    for entry in listing:
        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if path.resolve().parent == root:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # removed since the listing
                continue
            files[entry.name] = (path, _identity(info))
    return files


def _stored_files(folder: UPath) -> Listed:
    """The objects directly under an object-store prefix, with their identity [size,
    modified, 0, version]. An object has no symlinks and is visible only once its upload
    is complete; its ETag (S3) or generation (GCS) changes with every write, so no write
    can hide in a timestamp tick (the change-time slot is 0: never racy)."""
    files: dict[str, tuple[Location, list[Any]]] = {}
    for info in listing(folder):
        name = PurePosixPath(info["name"]).name
        modified = next((info[k] for k in _MODIFIED if k in info), "")
        version = next((info[k] for k in _VERSION if k in info), "")
        files[name] = (folder / name, [int(info["size"]), str(modified), 0, str(version)])
    return files


def read_dropped(path: Location, sha256: str) -> bytes:
    """The bytes of the file a sensor handed out, checked again where the run reads it: a
    regular file directly in its folder (not a symlink: swapping one in since the scan
    is refused) whose SHA-256 is still ``sha256``. Read once (through one descriptor, or
    in one object GET), so what is checked is what is synced."""
    data = _read_regular(path) if isinstance(path, Path) else _read_object(path)
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise CrmFileError(
            f"{path.name}: its content changed since the sensor handed it out (SHA-256 "
            f"{found[:12]}..., the run was for {sha256[:12]}...); the new content gets "
            "a run of its own"
        )
    return data


def _read_object(path: UPath) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CrmFileError(f"{path.name}: no longer in {path.parent}") from None


def _read_regular(path: Path) -> bytes:
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
        return file.read()
