"""Where files live: a local folder, or a prefix in an object store (``s3://bucket/crm``,
``gs://bucket/exports``, any fsspec URL) for runs that execute on other machines.

Local paths stay ``pathlib.Path`` (the drop folder's symlink and racy-write rules need
the operating system's own calls), and so do ``file://`` and ``local://`` URLs; any other
URL becomes a ``UPath`` on its fsspec filesystem.
Credentials and endpoints come from the store's own environment variables
(``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ``GOOGLE_APPLICATION_CREDENTIALS``...),
never from here.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import fsspec
from upath import UPath

Location = Path | UPath

#: fsspec's names for the local disk: such a URL is a plain ``Path``.
LOCAL = ("file", "local")


def location(where: str | Location) -> Location:
    """``where`` as a path: a ``UPath`` for a URL (``scheme://...``), else a local ``Path``
    (``file:///...`` and ``local:///...`` included: written like any local file, under a
    temporary name then renamed). A URL whose store's fsspec package is missing is refused
    here, when the settings are read, not at the first sensor tick."""
    if isinstance(where, Path) or (isinstance(where, UPath) and where.protocol not in LOCAL):
        return where
    if isinstance(where, str) and "://" not in where:
        return Path(where)
    path = UPath(where)
    if path.protocol in LOCAL:
        return Path(path.path)
    try:
        fsspec.get_filesystem_class(path.protocol)
    except ImportError as exc:
        raise ImportError(
            f"{where}: {exc} (pip install 'oneconnect-pipelines[s3]' for s3://, [gcs] for gs://)"
        ) from None
    return path


def shown(path: Location) -> str:
    """The location as a person reads it: local paths absolute, URLs as given."""
    return str(path.resolve()) if isinstance(path, Path) else str(path)


def listing(folder: UPath) -> list[dict[str, Any]]:
    """The objects directly under ``folder``, fresh from the store (fsspec caches listings
    per process, and a sensor lists the same prefix every tick)."""
    fs = folder.fs
    fs.invalidate_cache(folder.path)
    try:
        found = fs.ls(folder.path, detail=True)
    except FileNotFoundError:  # an empty prefix: nothing was ever dropped there
        return []
    return [info for info in found if info.get("type") == "file"]


def write_whole(path: Location, write: Callable[[IO[bytes]], object]) -> Location:
    """Write a file that no reader sees half-written, and that a failed or interrupted
    write leaves as it was: locally under a temporary name of its own, then renamed
    (of two writes at once, the last to finish stays, whole); for an object
    store into a local temporary file, uploaded in one piece once ``write`` returned (an
    fsspec file commits whatever was written when it is closed, even by an exception)."""
    path = location(path)  # a ``file://`` UPath made elsewhere is a local file all the same
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # a name of this write's own: two runs exporting one file at once must not write
        # into, rename or remove each other's temporary file; short, so that any name
        # that fits in the folder has a temporary name that fits too
        partial = path.with_name(f".{secrets.token_hex(6)}.partial")
        try:
            with partial.open("xb") as handle:
                write(handle)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
    else:
        with tempfile.NamedTemporaryFile(prefix="oneconnect-upload-") as staged:
            write(staged)
            staged.flush()
            path.fs.put_file(staged.name, path.path)
    return path
