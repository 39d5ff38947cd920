"""GET /metrics: every worker's metrics in Prometheus's text format, and the outbox's.

Not under /api/ and not in the contract: an operator's page, like the probes, meant for the
network the scraper is on (docs/OBSERVABILITY.md). With several workers, the answering
worker reads what all of them wrote (telemetry/multiprocess.py). The outbox's backlog is read
from the database at each scrape, so every worker (and every instance) reports the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Metric, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from backend.storage.database import DatabaseUnavailable, Row
from backend.telemetry.gauges import publish_in_flight
from backend.telemetry.metrics import Metrics

logger = logging.getLogger(__name__)

BACKLOG_TIMEOUT_SECONDS: Final = 2.0


def _workers(metrics: Metrics) -> bytes:
    if metrics.shared_directory is None:
        return generate_latest(metrics.registry)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics.shared_directory))  # type: ignore[no-untyped-call]
    return generate_latest(registry)


Backlog = Callable[[], Awaitable[Row]]
"""The outbox's backlog, read now: `events` waiting, the oldest one's `recorded_at`."""


async def _backlog(read: Backlog) -> bytes:
    """The outbox's gauges, or nothing when the database does not answer in time."""
    try:
        async with asyncio.timeout(BACKLOG_TIMEOUT_SECONDS):
            backlog = await read()
    except (DatabaseUnavailable, TimeoutError) as error:
        logger.warning("metrics: the outbox's backlog is not reported (%s)", error)
        return b""
    recorded_at: datetime | None = backlog["recorded_at"]
    age = 0.0 if recorded_at is None else (datetime.now(UTC) - recorded_at).total_seconds()
    # Families rather than Gauge objects: in multiprocess mode a Gauge writes to this worker's
    # file, and the value read from the database is every worker's, not this one's.
    registry = CollectorRegistry()
    registry.register(
        _Read(
            GaugeMetricFamily(
                "todo_outbox_pending_events",
                "Events an endpoint still waits for: not yet dispatched, or with a pending "
                "delivery.",
                value=backlog["events"],
            ),
            GaugeMetricFamily(
                "todo_outbox_oldest_pending_age_seconds",
                "Age of the oldest of those events (0 when there is none).",
                value=max(0.0, age),
            ),
        )
    )
    return generate_latest(registry)


class _Read(Collector):
    """Values read once, for one scrape."""

    def __init__(self, *families: Metric) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


class MetricsPage:
    """The endpoint of METRICS_PATH."""

    def __init__(self, metrics: Metrics, backlog: Backlog) -> None:
        self.metrics = metrics
        self.backlog = backlog

    async def respond(self, _request: Request) -> Response:
        publish_in_flight(self.metrics)  # this worker's, now; the others' of the last second
        if self.metrics.shared_directory is None:
            workers = _workers(self.metrics)
        else:  # files of every worker: read off the event loop
            workers = await asyncio.to_thread(_workers, self.metrics)
        body = workers + await _backlog(self.backlog)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
