"""Load generation with wrk: one bounded run, its figures parsed from request.lua's JSON line."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

LUA_SCRIPT = Path(__file__).with_name("request.lua")
CONNECTIONS = 16
THREADS = 2
REQUEST_TIMEOUT = "10s"

IdMode = Literal["cycle", "unique"]


@dataclass(frozen=True)
class Request:
    """What wrk sends: `{id}` in path or body is replaced per request."""

    method: str
    path: str
    body: str = ""
    first_id: int = 1
    last_id: int = 1
    id_mode: IdMode = "cycle"
    key_template: str = ""  # an Idempotency-Key per request (`{id}` replaced), or none


@dataclass(frozen=True)
class Measurement:
    """One wrk run. Failures are responses with status >= 400 plus socket errors."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    status_errors: int
    socket_errors: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    """Return the wrk executable, installing the Debian package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise RuntimeError("wrk is not installed and apt-get is unavailable: install wrk")
    print("== wrk not found: apt-get update && apt-get install -y wrk")
    subprocess.run(["apt-get", "update"], check=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, timeout=600)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get installed wrk but it is not on PATH")
    return found


def run_wrk(wrk: str, base_url: str, token: str, request: Request, seconds: float) -> Measurement:
    """Run wrk for `seconds` (16 connections, 2 threads) against 127.0.0.1 only."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError(f"refusing to load anything but 127.0.0.1: {base_url}")
    command = [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, math.ceil(seconds))}s",  # wrk takes whole seconds only
        f"--timeout={REQUEST_TIMEOUT}",
        "-H",
        f"Authorization: Bearer {token}",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        request.method,
        request.path,
        request.body,
        str(request.first_id),
        str(request.last_id),
        request.id_mode,
        str(THREADS),
        request.key_template,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures = json.loads(line.removeprefix("BENCH_JSON "))
            return Measurement(
                requests=figures["requests"],
                seconds=figures["duration_us"] / 1e6,
                p50_ms=figures["p50_us"] / 1000,
                p99_ms=figures["p99_us"] / 1000,
                status_errors=figures["status_errors"],
                socket_errors=figures["connect_errors"]
                + figures["read_errors"]
                + figures["write_errors"]
                + figures["timeouts"],
            )
    raise RuntimeError(
        f"wrk printed no figures (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
