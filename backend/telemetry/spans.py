"""The server span of a traced request, started and ended by the access log (its
http/access_log.py RequestTracer): the log line is written inside the span and carries its
trace id, and no middleware of its own scans the headers a second time.

It reads the method, the route template the router matched and the status; never the
path's values, the query, the body or a header other than `traceparent`/`tracestate`.
"""

from __future__ import annotations

import random
from contextvars import Token
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode

from backend.http.access_log import NO_ROUTE
from backend.telemetry.tracing import Tracing, recording


@dataclass(frozen=True, slots=True)
class _Traced:
    span: Span
    method: str
    context: Token[Context]
    recorded: Token[bool]


class RequestSpans:
    """A server span for a request the caller's `traceparent` names, or for one in
    `root_ratio` of the others (all of them when None: the tracer's sampler decides)."""

    def __init__(self, tracing: Tracing) -> None:
        self.tracer = tracing.tracer
        self.root_ratio = tracing.root_ratio

    def start(self, method: str, scheme: str, carrier: dict[str, str] | None) -> _Traced | None:
        """The request's span, made current; None for a request not traced."""
        if carrier is None and (
            self.root_ratio is not None and random.random() >= self.root_ratio  # noqa: S311 (a sampling draw, not a secret)
        ):
            return None
        method = method if method != "OTHER" else "_OTHER"  # OpenTelemetry's word for it
        parent = propagate.extract(carrier) if carrier is not None else None
        span = self.tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.scheme": scheme},
        )
        return _Traced(
            span,
            method,
            otel_context.attach(trace.set_span_in_context(span, parent)),
            recording.set(span.is_recording()),
        )

    def finish(self, traced: object, route: str, status: int, error: BaseException | None) -> None:
        """End the span with what the request came to, and leave its context."""
        if not isinstance(traced, _Traced):  # not what start() returned: nothing to end
            return
        span = traced.span
        if error is not None:
            span.set_attribute("error.type", type(error).__qualname__)
        if route != NO_ROUTE:
            span.update_name(f"{traced.method} {route}")
            span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(StatusCode.ERROR)
        span.end()
        recording.reset(traced.recorded)
        otel_context.detach(traced.context)
