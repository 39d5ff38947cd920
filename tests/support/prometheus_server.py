"""A throwaway Prometheus on 127.0.0.1 scraping given targets every second, and its query API.

Debian's `prometheus` package (2.42) is what the tests were written against. Its data lives in
a temporary directory removed when it stops; where the binary is missing the test skips with
the reason, and fails under CI=true (.ci/run installs it).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import yaml

from tests.support.live_server import free_port, log_tail, stop_process_group
from tests.support.skips import skip_or_fail

SEARCHED: Final = (Path("/usr/bin/prometheus"),)
SCRAPE_INTERVAL: Final = "1s"
READY_TIMEOUT_SECONDS: Final = 30.0
STOP_TIMEOUT_SECONDS: Final = 15.0
PORT_ATTEMPTS: Final = 3
QUERY_TIMEOUT_SECONDS: Final = 10.0
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

Labels = frozenset[tuple[str, str]]


class PrometheusUnavailable(Exception):
    """Prometheus cannot be started here; the message says why."""


class PrometheusDidNotStart(RuntimeError):
    """Prometheus exited or was not ready in time; the message ends with its log."""


def find_prometheus() -> Path:
    """The prometheus binary: PATH first, then where Debian installs it."""
    on_path = shutil.which("prometheus")
    if on_path is not None:
        return Path(on_path)
    for candidate in SEARCHED:
        if candidate.exists():
            return candidate
    raise PrometheusUnavailable(
        "prometheus not found on PATH or in /usr/bin (Debian: apt-get install prometheus)"
    )


def require_prometheus() -> Path:
    """The prometheus binary; otherwise skip with the reason, or fail under CI=true."""
    try:
        return find_prometheus()
    except PrometheusUnavailable as error:
        skip_or_fail(f"the Prometheus tests need Prometheus: {error}")


def rfc3339(timestamp_ms: int) -> str:
    """A query time Prometheus reads to the millisecond. (A float of seconds is rounded
    through float arithmetic on its side and may land a millisecond early.)"""
    moment = EPOCH + timedelta(milliseconds=timestamp_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Sample:
    """One stored sample: the scrape's timestamp (ms) and the value."""

    timestamp_ms: int
    value: float


@dataclass(frozen=True)
class PrometheusServer:
    """A running Prometheus: its HTTP API and what it logged."""

    base_url: str
    directory: Path
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)

    @property
    def log_path(self) -> Path:
        return self.directory / "prometheus.log"

    def api(self, path: str, **params: str) -> dict[str, Any]:
        """The `data` of a successful answer of /api/v1/`path`."""
        with httpx.Client(base_url=self.base_url, timeout=QUERY_TIMEOUT_SECONDS) as client:
            response = client.get(f"/api/v1/{path}", params=params)
        answer = response.json()
        assert response.status_code == 200 and answer["status"] == "success", response.text
        data: dict[str, Any] = answer["data"]
        return data

    def query(self, expression: str, at_ms: int | None = None) -> dict[str, Any]:
        """An instant query's result (`resultType`, `result`), evaluated at `at_ms` (ms since
        the epoch) or now."""
        params = {"query": expression}
        if at_ms is not None:
            params["time"] = rfc3339(at_ms)
        return self.api("query", **params)

    def vector(self, expression: str, at_ms: int | None = None) -> dict[Labels, float]:
        """Each series of an instant vector result, by its labels."""
        data = self.query(expression, at_ms)
        assert data["resultType"] == "vector", data
        return {
            frozenset(item["metric"].items()): float(item["value"][1]) for item in data["result"]
        }

    def value(self, expression: str, at_ms: int | None = None) -> float | None:
        """The value of a result of one series (an aggregation, say); None when empty."""
        series = self.vector(expression, at_ms)
        assert len(series) <= 1, series
        return next(iter(series.values()), None)

    def samples(self, selector: str, at_ms: int | None = None) -> dict[Labels, list[Sample]]:
        """The stored samples of a range selector (`name{...}[1m]`), by series."""
        data = self.query(selector, at_ms)
        assert data["resultType"] == "matrix", data
        return {
            frozenset(item["metric"].items()): [
                Sample(round(float(when) * 1000), float(value)) for when, value in item["values"]
            ]
            for item in data["result"]
        }

    def rules(self) -> list[dict[str, Any]]:
        """Every loaded rule with its state (`health`, `lastError`), group by group."""
        groups = self.api("rules")["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _config(targets: Sequence[str], job: str, rule_files: Sequence[Path]) -> str:
    return yaml.safe_dump(
        {
            "global": {
                "scrape_interval": SCRAPE_INTERVAL,
                "scrape_timeout": SCRAPE_INTERVAL,
                "evaluation_interval": SCRAPE_INTERVAL,
            },
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [
                {
                    "job_name": job,
                    "metrics_path": "/metrics",
                    "static_configs": [{"targets": list(targets)}],
                }
            ],
        },
        sort_keys=False,
    )


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    with httpx.Client(base_url=base_url, timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise PrometheusDidNotStart(
                    f"prometheus exited with {process.returncode}:\n{log_tail(log_path)}"
                )
            with contextlib.suppress(httpx.TransportError):
                if client.get("/-/ready").status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise PrometheusDidNotStart(
                    f"prometheus was not ready within {READY_TIMEOUT_SECONDS:g} s:\n"
                    f"{log_tail(log_path)}"
                )
            time.sleep(0.1)  # a poll interval, bounded by the deadline above


@contextlib.contextmanager
def run_prometheus(
    targets: Sequence[str], *, job: str = "todo-api", rule_files: Sequence[Path] = ()
) -> Iterator[PrometheusServer]:
    """Prometheus on a free port of 127.0.0.1, scraping `targets` (`host:port`, their
    /metrics) as `job` every second and evaluating `rule_files` as often, until the block
    exits."""
    binary = require_prometheus()
    with tempfile.TemporaryDirectory(prefix="prometheus-") as temporary:
        directory = Path(temporary)
        config = directory / "prometheus.yml"
        config.write_text(_config(targets, job, rule_files))
        log_path = directory / "prometheus.log"
        for attempt in range(PORT_ATTEMPTS):
            port = free_port()
            argv = [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ]
            with log_path.open("ab") as log_file:
                # A session of its own, so that stopping it stops nothing else.
                process = subprocess.Popen(
                    argv,
                    cwd=directory,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            base_url = f"http://127.0.0.1:{port}"
            try:
                _wait_until_ready(process, base_url, log_path)
            except PrometheusDidNotStart:
                stop_process_group(process, STOP_TIMEOUT_SECONDS)
                # Another process may have taken the free port between the probe and the bind.
                if attempt < PORT_ATTEMPTS - 1 and "address already in use" in log_tail(log_path):
                    continue
                raise
            except BaseException:
                stop_process_group(process, STOP_TIMEOUT_SECONDS)
                raise
            break
        try:
            yield PrometheusServer(base_url=base_url, directory=directory, process=process)
        finally:
            stop_process_group(process, STOP_TIMEOUT_SECONDS)
