"""A server span per traced request: one pure ASGI middleware, present only when tracing is.

Outside the access log, so that the log line is written inside the span and carries its
trace id. It reads the method, the route template the router matched and the status; never
the path's values, the query, the body or a header other than `traceparent`/`tracestate`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.http.access_log import HTTP_METHODS, NO_ROUTE
from backend.telemetry.tracing import Tracing, recording

_TRACE_HEADERS: Final = frozenset({b"traceparent", b"tracestate"})


def _trace_headers(scope: Scope) -> dict[str, str] | None:
    """The W3C trace context headers the caller sent, if any."""
    found: dict[str, str] | None = None
    for name, value in scope.get("headers", ()):
        if name in _TRACE_HEADERS:
            found = found or {}
            found[name.decode()] = value.decode("latin-1")
    return found


class TraceRequests:
    """A server span for a request the caller's `traceparent` names, or for one in
    `root_ratio` of the others (all of them when None: the tracer's sampler decides)."""

    def __init__(self, app: ASGIApp, *, tracing: Tracing, route_of: Callable[[Scope], str]) -> None:
        self.app = app
        self.tracer = tracing.tracer
        self.root_ratio = tracing.root_ratio
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = _trace_headers(scope)
        if carrier is None and (
            self.root_ratio is not None and random.random() >= self.root_ratio  # noqa: S311 (a sampling draw, not a secret)
        ):
            await self.app(scope, receive, send)
            return
        parent = propagate.extract(carrier) if carrier is not None else None
        method = scope["method"] if scope["method"] in HTTP_METHODS else "_OTHER"
        span = self.tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.scheme": scope["scheme"]},
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        recorded = recording.set(span.is_recording())
        status = 500  # what the client gets when the app raises before answering

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except BaseException as error:
            span.set_attribute("error.type", type(error).__qualname__)
            raise
        finally:
            route = self.route_of(scope)
            if route != NO_ROUTE:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(StatusCode.ERROR)
            span.end()
            recording.reset(recorded)
            otel_context.detach(token)
