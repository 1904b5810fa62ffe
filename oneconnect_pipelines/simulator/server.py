"""Serving the simulator with uvicorn: from the command line, or in a thread for tests."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import uvicorn

from .app import API_PREFIX, Simulator, build_app


def _config(
    simulator: Simulator, host: str, port: int, tls: tuple[str, str] | None = None
) -> uvicorn.Config:
    """uvicorn's settings; ``proxy_headers`` off, since the IP allow-list judges the peer
    address, and a client must not be able to name its own with ``X-Forwarded-For``."""
    certfile, keyfile = tls or (None, None)
    return uvicorn.Config(
        build_app(simulator),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        proxy_headers=False,
        timeout_graceful_shutdown=2,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )


def _bound_port(server: uvicorn.Server) -> int:
    return int(server.servers[0].sockets[0].getsockname()[1])


class _StoppableServer(uvicorn.Server):
    """Stops gracefully on SIGINT/SIGTERM and then returns: uvicorn itself re-raises the
    signal after shutting down, which would end a clean stop in a traceback or exit -15."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def serve(simulator: Simulator, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run until SIGINT/SIGTERM, printing one line with the base URL once ready."""
    server = _StoppableServer(_config(simulator, host, port))

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            print(
                f"OneConnect simulator ready at http://{host}:{_bound_port(server)}{API_PREFIX}",
                flush=True,
            )
        await task

    asyncio.run(main())


class SimulatorThread:
    """A simulator on a free loopback port in a background thread (``with`` it).

    ``tls`` (a certificate file and its key file) serves HTTPS, as the real service
    does, so that the client's certificate checks can be tried too."""

    def __init__(
        self,
        simulator: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.simulator = simulator
        self.host = host
        self.scheme = "https" if tls else "http"
        self._server = uvicorn.Server(_config(simulator, host, port, tls))
        self._thread = threading.Thread(
            target=self._server.run, name="oneconnect-simulator", daemon=True
        )
        self.port = port

    @property
    def root_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + API_PREFIX

    def start(self) -> SimulatorThread:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the simulator failed to start")
            self._thread.join(0.01)
        self.port = _bound_port(self._server)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
