"""Each request measured and, when traced, a server span: one pure ASGI middleware.

Outside the access log, so that the log line is written inside the span and carries its
trace id. It reads the method, the route template the router matched and the status; never
the path's values, the query, the body or a header other than `traceparent`/`tracestate`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextvars import Token
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.http.access_log import HTTP_METHODS, NO_ROUTE
from backend.telemetry.metrics import Metrics
from backend.telemetry.tracing import Tracing

PRECONDITION_STATUSES: Final = frozenset({412, 428})
_TRACE_HEADERS: Final = frozenset({b"traceparent", b"tracestate"})


def _trace_headers(scope: Scope) -> dict[str, str] | None:
    """The W3C trace context headers the caller sent, if any."""
    found: dict[str, str] | None = None
    for name, value in scope.get("headers", ()):
        if name in _TRACE_HEADERS:
            found = found or {}
            found[name.decode()] = value.decode("latin-1")
    return found


class Telemetry:
    """Request duration and requests in flight by route template, method and status; a
    server span per request traced (a caller's `traceparent`, or one in `root_ratio` of the
    others; the tracer's sampler decides); otherwise, the caller's trace context is still
    made current, so that the access line names the caller's trace."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics | None,
        tracing: Tracing | None,
        route_of: Callable[[Scope], str],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.tracer = tracing.tracer if tracing is not None else None
        self.root_ratio = tracing.root_ratio if tracing is not None else None
        self.route_of = route_of
        self._durations: dict[tuple[str, str, int], Any] = {}

    def _duration(self, method: str, route: str, status: int) -> Any:
        key = (method, route, status)
        child = self._durations.get(key)
        if child is None and self.metrics is not None:
            child = self.metrics.request_duration.labels(method, route, str(status))
            self._durations[key] = child
        return child

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in HTTP_METHODS else "_OTHER"
        carrier = _trace_headers(scope)
        parent = propagate.extract(carrier) if carrier is not None else None
        span = None
        token: Token[Context] | None
        if self.tracer is not None and (
            parent is not None or self.root_ratio is None or random.random() < self.root_ratio  # noqa: S311 (a sampling draw, not a secret)
        ):
            span = self.tracer.start_span(
                method,
                context=parent,
                kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "url.scheme": scope["scheme"]},
            )
            token = otel_context.attach(trace.set_span_in_context(span, parent))
        else:
            token = otel_context.attach(parent) if parent is not None else None
        metrics = self.metrics
        if metrics is not None:
            in_flight = metrics.in_flight
            in_flight[method] = in_flight.get(method, 0) + 1
        status = 500  # what the client gets when the app raises before answering

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_observed)
        except BaseException as error:
            if span is not None:
                span.set_attribute("error.type", type(error).__qualname__)
            raise
        finally:
            seconds = time.perf_counter() - started
            route = self.route_of(scope)
            if metrics is not None:
                in_flight[method] -= 1
                self._duration(method, route, status).observe(seconds)
                if status in PRECONDITION_STATUSES:
                    metrics.precondition_failures.labels(route, str(status)).inc()
            if span is not None:
                if route != NO_ROUTE:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)
                span.end()
            if token is not None:
                otel_context.detach(token)
