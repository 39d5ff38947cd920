"""Servers that die: each a uvicorn process group on a port of its own, killed with SIGKILL at
the moments it is given and restarted each time on the same port, over the same database."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tests.support.live_server import STARTUP_TIMEOUT_SECONDS, LiveServer, free_port, live_server

EXIT_TIMEOUT_SECONDS: Final = 15.0
# A kill comes no sooner than this after the server was ready: the moment is random, the
# server is not killed while it starts (its last kill's restart is still being measured).
LEAST_UPTIME_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """How each server process runs: its database, secret, workers and environment."""

    database_url: str
    secret: str
    workers: int
    env: dict[str, str]


@dataclass
class Kill:
    """One SIGKILL of a process group, and how long the restart took to serve again."""

    at: float
    restart_seconds: float | None = None


@dataclass
class CrashingServer:
    """One server process group, kept alive by a thread of its own between its deaths."""

    name: str
    spec: ServerSpec
    log_path: Path
    port: int = field(default_factory=free_port)
    kills: list[Kill] = field(default_factory=list)
    error: BaseException | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    settled: threading.Event = field(default_factory=threading.Event)
    _moments: queue.Queue[float | None] = field(default_factory=queue.Queue)
    _finish: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._lives, name=f"server {self.name}")
        self._thread.start()

    def kill_at(self, moments: Sequence[float]) -> None:
        """Kill the server at these moments (epoch seconds), then keep it up to the end."""
        for moment in sorted(moments):
            self._moments.put(moment)
        self._moments.put(None)

    def finish(self) -> None:
        """Stop killing, stop the server (SIGTERM), and raise what its thread met, if any."""
        self._finish.set()
        self._moments.put(None)
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error

    def _lives(self) -> None:
        try:
            while not self._finish.is_set():
                with self._serving() as server:
                    if self.kills:
                        self.kills[-1].restart_seconds = time.time() - self.kills[-1].at
                    self.ready.set()
                    moment = self._moments.get()
                    if moment is None:
                        self.settled.set()
                        self._finish.wait()
                        return
                    # Until the moment comes, or the run ends first.
                    soonest = time.time() + LEAST_UPTIME_SECONDS
                    if self._finish.wait(max(moment, soonest) - time.time()):
                        return
                    self.ready.clear()
                    self._kill(server)
        except BaseException as error:  # handed to the caller by finish()
            self.error = error
            self.ready.set()
            self.settled.set()

    def _serving(self) -> contextlib.AbstractContextManager[LiveServer]:
        return live_server(
            self.spec.database_url,
            self.spec.secret,
            self.log_path,
            workers=self.spec.workers,
            migrate=False,
            access_log=False,
            extra_env=self.spec.env,
            port=self.port,
        )

    def _kill(self, server: LiveServer) -> None:
        self.kills.append(Kill(time.time()))
        os.killpg(server.pid, signal.SIGKILL)
        server.process.wait(EXIT_TIMEOUT_SECONDS)


@contextlib.contextmanager
def crashing_servers(
    spec: ServerSpec, processes: int, log_folder: Path
) -> Iterator[list[CrashingServer]]:
    """`processes` servers of `spec`, each serving once the block starts (none is killed until
    given its moments); stopped, and their threads' errors raised, when it ends."""
    servers = [
        CrashingServer(f"server-{index}", spec, log_folder / f"server-{index}.log")
        for index in range(processes)
    ]
    for server in servers:
        server.start()
    try:
        for server in servers:
            if not server.ready.wait(STARTUP_TIMEOUT_SECONDS * 2):
                raise TimeoutError(f"{server.name} did not start: {server.log_path}")
            if server.error is not None:
                raise server.error
        yield servers
    finally:
        errors: list[BaseException] = []
        for server in servers:
            try:
                server.finish()
            except BaseException as error:  # every server stops before the first error is raised
                errors.append(error)
        if errors:
            raise errors[0]
