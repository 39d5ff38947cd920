"""Prism's mock of an OpenAPI document (`make mock`) in a subprocess on 127.0.0.1, for tests."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.live_server import free_port, log_tail, stop_process_group
from tests.support.skips import skip_or_fail
from tests.support.tools import npm_tool

STARTUP_TIMEOUT_SECONDS = 60.0
PORT_ATTEMPTS = 3
READY_LINE = b"Prism is listening on"


class MockDidNotStart(RuntimeError):
    """Prism exited or did not listen in time; the message ends with its log."""


@dataclass(frozen=True)
class MockServer:
    """A running mock: where to reach it and where Prism's output goes."""

    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)

    def log_text(self) -> str:
        """Everything Prism printed so far: the routes it serves, then a line per request
        with the violations it found in it."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def prism_binary() -> Path:
    """The pinned Prism of node_modules; skip (fail under CI) where node or it is missing."""
    prism = npm_tool("prism")
    if not prism.exists():
        skip_or_fail("Prism is not installed: run `npm ci` at the repository root")
    return prism


def _wait_until_listening(
    process: subprocess.Popen[bytes], base_url: str, log_path: Path, log_offset: int
) -> None:
    """Ready when Prism has said it listens (after `log_offset`) and the socket answers."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with httpx.Client(base_url=base_url, timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise MockDidNotStart(
                    f"Prism exited with {process.returncode}:\n{log_tail(log_path)}"
                )
            with log_path.open("rb") as log_file:
                log_file.seek(log_offset)
                listening = READY_LINE in log_file.read()
            if listening:
                # Any answer will do: an unknown path is Prism's own 404.
                with contextlib.suppress(httpx.TransportError):
                    client.get("/")
                    return
            if time.monotonic() > deadline:
                raise MockDidNotStart(
                    f"Prism was not listening within {STARTUP_TIMEOUT_SECONDS:g} s:\n"
                    f"{log_tail(log_path)}"
                )
            time.sleep(0.1)  # a poll interval, bounded by the deadline above


@contextlib.contextmanager
def mock_server(document: Path, log_path: Path) -> Iterator[MockServer]:
    """`prism mock` of `document` on a free port of 127.0.0.1 until the block exits.

    As `make mock` runs it: static examples, request validation on. Prism's stdout and
    stderr go to `log_path` (appended to).
    """
    prism = prism_binary()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(PORT_ATTEMPTS):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        argv = [str(prism), "mock", "--host", "127.0.0.1", "--port", str(port), str(document)]
        with log_path.open("ab") as log_file:
            log_offset = log_file.tell()
            process = subprocess.Popen(
                argv,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_listening(process, base_url, log_path, log_offset)
        except MockDidNotStart:
            stop_process_group(process)
            # Another process may have taken the free port between the probe and the bind.
            if attempt < PORT_ATTEMPTS - 1 and "EADDRINUSE" in log_tail(log_path):
                continue
            raise
        except BaseException:
            stop_process_group(process)
            raise
        break
    try:
        yield MockServer(base_url=base_url, log_path=log_path, process=process)
    finally:
        stop_process_group(process)
