"""Traces: OpenTelemetry's SDK, set up from the standard OTEL_* variables, or not at all.

Tracing is on when an exporter is named: OTEL_TRACES_EXPORTER (`otlp`, `console`), or an
OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), which means
`otlp`. The exporter is OTLP over HTTP (protobuf) and reads its own OTEL_EXPORTER_OTLP_*
variables (endpoint, headers, timeout). Sampling follows OTEL_TRACES_SAMPLER and
OTEL_TRACES_SAMPLER_ARG when they are set; otherwise DEFAULT_SAMPLING_RATIO of the traces
this server starts, and every trace a caller's `traceparent` says it samples. That default
is drawn for each request before any span exists (telemetry/spans.py, `Tracing.root_ratio`;
the provider then samples every root it is asked for): an unsampled request costs a random
number, not a span. Spans are exported in batches from a thread of their own, never on a
request's path.

FastAPI's own telemetry (`FastAPI(telemetry=...)`) is not used: its server span records the
query string's values (`url.query`) and its logs the input of a rejected request, which this
server never exports (docs/OBSERVABILITY.md).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler
from opentelemetry.trace import Tracer

DEFAULT_SAMPLING_RATIO: Final = 0.01
SERVICE_NAME: Final = "todo-api"
_ENDPOINT_VARIABLES: Final = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_EXPORTERS: Final = frozenset({"otlp", "console"})


class TracingConfigurationError(ValueError):
    """An OTEL_* variable names something this server cannot do; says which."""


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The exporters the environment names (none: no tracing)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip()
    if not named:
        return ["otlp"] if any(environ.get(name) for name in _ENDPOINT_VARIABLES) else []
    names = [name.strip().lower() for name in named.split(",") if name.strip()]
    if names == ["none"]:
        return []
    unknown = sorted(set(names) - _EXPORTERS)
    if unknown:
        raise TracingConfigurationError(
            f"OTEL_TRACES_EXPORTER: {', '.join(unknown)} is not an exporter of this server; "
            "use otlp (OTLP over HTTP), console or none"
        )
    return names


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _sampler(environ: Mapping[str, str]) -> Sampler | None:
    """None to let the SDK read OTEL_TRACES_SAMPLER itself; else the caller's decision, and
    every root: the middleware chose the roots (root_ratio_of)."""
    if environ.get("OTEL_TRACES_SAMPLER"):
        return None
    return ParentBased(ALWAYS_ON)


def root_ratio_of(environ: Mapping[str, str]) -> float | None:
    """The share of requests without a `traceparent` the middleware traces, or None when
    OTEL_TRACES_SAMPLER decides (every request is then offered to the SDK's sampler)."""
    return None if environ.get("OTEL_TRACES_SAMPLER") else DEFAULT_SAMPLING_RATIO


recording: ContextVar[bool] = ContextVar("recording", default=False)
"""Whether the request being served is recorded (sampled): a statement asks this rather than
OpenTelemetry's context, five function calls deep."""


@dataclass(frozen=True)
class Tracing:
    """A tracer, and the share of new traces the middleware starts (None: all, and the
    tracer's sampler decides)."""

    tracer: Tracer
    root_ratio: float | None = None


def _names_service(environ: Mapping[str, str]) -> bool:
    """Whether the operator names the service: the SDK reads those variables itself, and
    the default given here would otherwise replace OTEL_RESOURCE_ATTRIBUTES' service.name."""
    if environ.get("OTEL_SERVICE_NAME"):
        return True
    pairs = environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(",")
    return any(pair.split("=", 1)[0].strip() == "service.name" for pair in pairs)


def provider_from(
    environ: Mapping[str, str], processors: tuple[SpanProcessor, ...] = ()
) -> TracerProvider | None:
    """A tracer provider as `environ` configures it, or None when it names no exporter and
    no `processors` are given (tests give an in-memory exporter's)."""
    names = exporter_names(environ)
    if not names and not processors:
        return None
    attributes = {} if _names_service(environ) else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(attributes), sampler=_sampler(environ))
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


@functools.cache
def process_provider() -> TracerProvider | None:
    """This process's provider, made once from its environment (one exporter thread)."""
    return provider_from(os.environ)


def tracing_for(provider: TracerProvider | None) -> Tracing | None:
    """Tracing with `provider` (a test's), or with the process's from its environment."""
    if provider is not None:
        return Tracing(provider.get_tracer("backend"))
    provider = process_provider()
    if provider is None:
        return None
    return Tracing(provider.get_tracer("backend"), root_ratio_of(os.environ))
