"""The server's metrics, on OpenTelemetry's stable names where one exists.

Every label has a bounded set of values: a route template, never a path (a user id is not a
label); a method from the HTTP list; a status code; a statement's operation and table. Each
app builds its own set in its own registry, so that tests may build many apps; between
workers the values meet in the multiprocess directory (telemetry/multiprocess.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# OpenTelemetry's advisory buckets for http.server.request.duration, in seconds.
REQUEST_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
# A statement takes from a fraction of a millisecond to the database timeout.
STATEMENT_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
# From a reminder's moment to its delivery: the relay polls every second.
LATENESS_BUCKETS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
DELIVERY_OUTCOMES: Final = ("delivered", "retried", "gone", "failed")


class Metrics:
    """The metric objects of one app (and of the relay running in it)."""

    def __init__(self, shared_directory: Path | None) -> None:
        self.shared_directory = shared_directory
        # In multiprocess mode the values live in files; the registry is then only where
        # this process's metric objects are kept apart from another app's.
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.request_duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests.",
            ("http_request_method", "http_route", "http_response_status_code"),
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        # Requests in flight by method, counted here per request and written to the gauge
        # by telemetry/gauges.py.
        self.in_flight: dict[str, int] = {}
        self.active_requests = Gauge(
            "http_server_active_requests",
            "Number of active HTTP server requests (each worker's, written every second).",
            ("http_request_method",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.precondition_failures = Counter(
            "todo_precondition_failures",
            "Conditional writes answered 412 (stale If-Match) or 428 (If-Match required).",
            ("http_route", "http_response_status_code"),
            registry=registry,
        )
        self.idempotent_replays = Counter(
            "todo_idempotent_replays",
            "Creates answered with the response remembered for their Idempotency-Key.",
            registry=registry,
        )
        self.statement_duration = Histogram(
            "db_client_operation_duration_seconds",
            "Duration of database statements.",
            ("db_system_name", "db_operation_name", "db_collection_name"),
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )
        self.connections = Gauge(
            "db_client_connection_count",
            "Connections of the PostgreSQL pools, idle or used.",
            ("state",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.connections_max = Gauge(
            "db_client_connection_max",
            "The most connections the PostgreSQL pools may open.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pending_connection_requests = Gauge(
            "db_client_connection_pending_requests",
            "Requests waiting for a PostgreSQL pool connection.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.connection_waits = Counter(
            "db_client_connection_waits",
            "Requests that waited for a PostgreSQL pool connection.",
            registry=registry,
        )
        self.connection_timeouts = Counter(
            "db_client_connection_timeouts",
            "Requests that gave up waiting for a PostgreSQL pool connection.",
            registry=registry,
        )
        self.delivery_attempts = Counter(
            "todo_webhook_delivery_attempts",
            "Webhook delivery attempts by outcome: delivered, retried (a later attempt is "
            "due), gone (410: endpoint disabled), failed (no attempt left, or not sendable).",
            ("outcome",),
            registry=registry,
        )
        self.reminder_lateness = Histogram(
            "todo_reminder_lateness_seconds",
            "From a reminder's moment to its delivery's success.",
            buckets=LATENESS_BUCKETS,
            registry=registry,
        )
        for outcome in DELIVERY_OUTCOMES:  # every outcome listed from the start, at 0
            self.delivery_attempts.labels(outcome)
