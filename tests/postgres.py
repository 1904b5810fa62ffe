"""A real PostgreSQL server for the tests: the image's PostgreSQL 15 binaries (``initdb``,
``pg_ctl``), a cluster in a temporary folder, on a free loopback port. PostgreSQL refuses
to run as root, so under root the server runs as ``nobody``."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

USER = "oneconnect"


def binary(name: str) -> str:
    """``initdb`` or ``pg_ctl``: on PATH, or in Debian's versioned folder."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"{name} not found: the PostgreSQL server binaries are needed")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> dict[str, Any]:
    return {"user": "nobody", "group": "nogroup"} if os.geteuid() == 0 else {}


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server with trust authentication on 127.0.0.1; yields the URL of its
    ``postgres`` database. Stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="oneconnect-pg-"))
    demoted = _as_server_user()
    if demoted:
        shutil.chown(folder, "nobody", "nogroup")
    data, port = folder / "data", free_port()
    run: dict[str, Any] = {**demoted, "check": True, "capture_output": True, "cwd": folder}
    subprocess.run(
        [binary("initdb"), "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
        **run,
    )
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    pg_ctl = binary("pg_ctl")
    subprocess.run(
        [pg_ctl, "-D", data, "-o", options, "-l", folder / "server.log", "-w", "start"], **run
    )
    try:
        yield f"postgresql://{USER}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([pg_ctl, "-D", data, "-m", "immediate", "stop"], **{**run, "check": False})
        shutil.rmtree(folder, ignore_errors=True)


def create_database(url: str, name: str, template: str | None = None) -> str:
    """A new database on ``url``'s server (a copy of ``template`` when given); its URL."""
    import adbc_driver_postgresql.dbapi

    copy = f" TEMPLATE {template}" if template else ""
    with (
        adbc_driver_postgresql.dbapi.connect(url, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(f"CREATE DATABASE {name}{copy}")
    return url.rsplit("/", 1)[0] + f"/{name}"


def database_copy(url: str) -> str:
    """A new database on the same server holding what ``url``'s database holds."""
    import secrets

    base, source = url.rsplit("/", 1)
    return create_database(base + "/postgres", f"copy_{secrets.token_hex(4)}", template=source)
