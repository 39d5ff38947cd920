"""A delivery attempt as a span of the trace of the write that caused its event.

The outbox row holds the write's W3C traceparent (specs/database/schema.md, `task_event`);
each attempt to deliver the event is a CLIENT span, its child, and the request carries the
span's own `traceparent`, so that a receiver can continue the trace. An event without a
trace context (an untraced write, a deletion, a reminder), or a relay without a tracer,
makes no span and sends no header: an untraced system pays a dictionary lookup. The span
names the event's type, the endpoint, the attempt's number and what it got; never the
body, the endpoint's URL or a secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from backend.events.delivery import Outcome
from backend.events.outbox import Leased

PROPAGATOR: Final = TraceContextTextMapPropagator()
OTHER_ERROR: Final = "_OTHER"


@dataclass(slots=True)
class AttemptTrace:
    """An attempt's span, if any: the headers the request carries, and its outcome."""

    span: Span | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def got(self, outcome: Outcome) -> None:
        """What the attempt got: the receiver's status, or why it got none."""
        if self.span is None:
            return
        self.span.set_attribute("webhook.outcome", outcome.verdict)
        if outcome.status is not None:
            self.span.set_attribute("http.response.status_code", outcome.status)
        if outcome.verdict != "delivered":
            cause = str(outcome.status) if outcome.status is not None else outcome.cause
            self.span.set_attribute("error.type", cause or OTHER_ERROR)
            self.span.set_status(StatusCode.ERROR)


def _parent(trace_context: str) -> trace.Span | None:
    """The write's span as a parent, or None when the stored value is not a traceparent."""
    parent = trace.get_current_span(PROPAGATOR.extract({"traceparent": trace_context}))
    return parent if parent.get_span_context().is_valid else None


@contextmanager
def attempt_trace(tracer: Tracer | None, leased: Leased) -> Iterator[AttemptTrace]:
    """The span of one attempt to deliver `leased`, ended when the block ends."""
    carried: str | None = leased.event.get("trace_context")
    parent = _parent(carried) if tracer is not None and carried is not None else None
    if tracer is None or parent is None:
        yield AttemptTrace()
        return
    event_type = leased.event["type"]
    span = tracer.start_span(
        f"deliver {event_type}",
        context=trace.set_span_in_context(parent),
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": "POST",
            "webhook.event.type": event_type,
            "webhook.endpoint": leased.endpoint,
            "webhook.attempt": leased.attempts,
        },
    )
    traced = AttemptTrace(span)
    PROPAGATOR.inject(traced.headers, context=trace.set_span_in_context(span))
    try:
        yield traced
    except BaseException as error:
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(StatusCode.ERROR)
        raise
    finally:
        span.end()
