"""Each request's metrics: duration by route template, method and status, requests in
flight, refused preconditions. Told by the access log (http/access_log.py's
RequestObserver), which knows all four already: no middleware of its own to pass through."""

from __future__ import annotations

from typing import Any, Final

from backend.telemetry.metrics import Metrics

PRECONDITION_STATUSES: Final = frozenset({412, 428})


class RequestMetrics:
    """The RequestObserver that counts each request in `metrics`."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.in_flight = metrics.in_flight
        self._durations: dict[tuple[str, str, int], Any] = {}

    def started(self, method: str) -> None:
        self.in_flight[method] = self.in_flight.get(method, 0) + 1

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        self.in_flight[method] -= 1
        key = (method, route, status)
        duration = self._durations.get(key)
        if duration is None:
            duration = self.metrics.request_duration.labels(method, route, str(status))
            self._durations[key] = duration
        duration.observe(seconds)
        if status in PRECONDITION_STATUSES:
            self.metrics.precondition_failures.labels(route, str(status)).inc()
