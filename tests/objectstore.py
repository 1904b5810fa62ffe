"""A real S3-compatible server for the tests: moto's server mode on a loopback port, reached
by s3fs through the standard AWS environment variables, as a deployment would set them."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from upath import UPath

from oneconnect_pipelines.storage import Location

#: What a deployment sets for its bucket (only the endpoint differs from AWS's own).
S3_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "oneconnect-test",
    "AWS_SECRET_ACCESS_KEY": "oneconnect-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def s3_server() -> Iterator[str]:
    """Serve S3 on loopback with the AWS variables pointing at it; yields the endpoint."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # else a line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    before = {name: os.environ.get(name) for name in [*S3_ENVIRONMENT, "AWS_ENDPOINT_URL"]}
    os.environ.update(S3_ENVIRONMENT, AWS_ENDPOINT_URL=endpoint)
    try:
        yield endpoint
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()


def new_bucket() -> UPath:
    """An empty bucket of its own."""
    bucket = UPath(f"s3://oneconnect-{uuid.uuid4().hex[:12]}")
    bucket.fs.mkdir(bucket.path)
    return bucket


def drop_folder(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """For a fixture with ``params=["local", "s3"]``: a drop folder on disk, or one in a
    bucket of its own on the session's S3-compatible server."""
    if request.param == "local":
        return tmp_path / "crm_drop"
    request.getfixturevalue("s3_endpoint")
    return new_bucket() / "crm_drop"
