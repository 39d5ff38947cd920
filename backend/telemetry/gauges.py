"""The gauges each worker writes for itself, every second: its requests in flight and its
connection pool.

A scrape is answered by one worker, which cannot read the others' pools or requests; so each
worker writes its own where the workers' metrics meet (telemetry/multiprocess.py), and the
scrape sums them. The requests in flight are counted in a plain dict on each request and
written here (the answering worker writes its own just before the scrape reads them): two
writes to the shared file per request cost more than the rest of the request's metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from backend.storage.database import Database
from backend.telemetry.metrics import Metrics

logger = logging.getLogger(__name__)

SAMPLE_SECONDS: Final = 1.0


def publish_in_flight(metrics: Metrics) -> None:
    """Write this worker's requests in flight, by method."""
    for method, count in list(metrics.in_flight.items()):
        metrics.active_requests.labels(method).set(count)


def sample(database: Database, metrics: Metrics) -> bool:
    """Write the requests in flight and the pool's state now; False when the database has
    no pool (SQLite)."""
    publish_in_flight(metrics)
    statistics = database.pool_statistics()
    if statistics is None:
        return False
    metrics.connections.labels("used").set(statistics.size - statistics.idle)
    metrics.connections.labels("idle").set(statistics.idle)
    metrics.connections_max.set(statistics.max_size)
    metrics.pending_connection_requests.set(statistics.waiting)
    metrics.connection_waits.inc(statistics.waits)
    metrics.connection_timeouts.inc(statistics.timeouts)
    return True


async def _sample_every(database: Database, metrics: Metrics, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)  # a sampling period, not a wait for another task
        sample(database, metrics)


@contextlib.asynccontextmanager
async def sampling(
    database: Database, metrics: Metrics, seconds: float = SAMPLE_SECONDS
) -> AsyncIterator[None]:
    """The gauges kept current while the block runs (written once before it starts, so that
    a worker's first answer already counts its pool)."""
    sample(database, metrics)
    task = asyncio.create_task(_sample_every(database, metrics, seconds), name="gauges")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
