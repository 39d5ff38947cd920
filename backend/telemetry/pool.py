"""The connection pool's gauges, read every few seconds by each worker for itself.

A scrape is answered by one worker, which cannot read the others' pools; so each worker
writes its own pool's state where the workers' metrics meet (telemetry/multiprocess.py),
and the scrape sums them.
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

SAMPLE_SECONDS: Final = 5.0


def sample(database: Database, metrics: Metrics) -> bool:
    """Write the pool's state now; False when the database has no pool (SQLite)."""
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
    """The pool's gauges kept current while the block runs (written once before it starts,
    so that a worker's first answer already counts its pool)."""
    if not sample(database, metrics):
        yield
        return
    task = asyncio.create_task(_sample_every(database, metrics, seconds), name="pool gauges")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
