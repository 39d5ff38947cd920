"""Traces as a collector receives them: the real server, in its own process, exports over
OTLP/HTTP to the suite's receiver; a caller's sampled `traceparent` continues into a server
span and its statements' spans, which carry no value the caller sent, and the access line
names the caller's trace. The configuration (exporters, sampler) is also tested as code.

The batch processor exports spans in the order they end, and a request's server span ends
after its statements' spans and its access line: once a later request's server span has
arrived, everything an earlier request would have exported is in.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from backend.telemetry import tracing
from backend.telemetry.spans import RequestSpans
from backend.telemetry.tracing import TracingConfigurationError, exporter_names, provider_from
from tests.conftest import SECRET, new_owner, token_for
from tests.support.live_server import LiveServer, live_server, own_database
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan, otlp_receiver

ACCESS_LOGGER: Final = "backend.access"
LOG_DEADLINE_SECONDS: Final = 10.0
UNTRACED_REQUESTS: Final = 20
# Of 20 requests sampled at 1 %, more than 5 are sampled in 3 runs of 10^8; all 20 are when
# the default ratio is not applied.
MOST_SAMPLED_OF_UNTRACED: Final = 5
COLLECTION: Final = "/api/{user_id}/tasks"
ENDPOINT: Final = "http://collector.invalid:4318"


@dataclass(frozen=True)
class Caller:
    """A client inside a trace of its own: the span its request is made from."""

    trace_id: str
    span_id: str
    sampled: bool = True

    @classmethod
    def new(cls, *, sampled: bool = True) -> Caller:
        return cls(secrets.token_hex(16), secrets.token_hex(8), sampled)

    def headers(self) -> dict[str, str]:
        flags = "01" if self.sampled else "00"
        return {"traceparent": f"00-{self.trace_id}-{self.span_id}-{flags}"}


def tracing_env(receiver: OtlpReceiver, **more: str) -> dict[str, str]:
    """The server's OTEL_* variables: export to `receiver`, every 100 ms; JSON log lines."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "LOG_FORMAT": "json",
        **more,
    }


def access_line(server: LiveServer, request_id: str) -> dict[str, Any]:
    """The JSON access line of one request (written as the request ends: polled for)."""
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    while True:
        for line in server.log_text().splitlines():
            if line.startswith("{"):
                entry: dict[str, Any] = json.loads(line)
                if entry.get("logger") == ACCESS_LOGGER and entry["request_id"] == request_id:
                    return entry
        if time.monotonic() > deadline:
            raise AssertionError(f"no access line for request {request_id}")
        time.sleep(0.05)  # a poll interval, bounded by the deadline above


def server_span_of(receiver: OtlpReceiver, caller: Caller) -> ReceivedSpan:
    """The server span of the request `caller` made, once it has arrived."""
    [span] = receiver.wait_for(
        lambda span: span.trace_id == caller.trace_id and span.kind is SpanKind.SERVER
    )
    return span


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def own_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return own_database(request, tmp_path, "tracing")


@pytest.fixture
def traced(own_url: str, tmp_path: Path) -> Iterator[tuple[OtlpReceiver, LiveServer]]:
    """A server at the default sampling, exporting to a receiver that outlives it."""
    with (
        otlp_receiver() as receiver,
        live_server(
            own_url, SECRET, tmp_path / "server.log", extra_env=tracing_env(receiver)
        ) as server,
    ):
        yield receiver, server


def test_a_callers_sampled_trace_continues_in_server_and_statement_spans(
    traced: tuple[OtlpReceiver, LiveServer],
) -> None:
    receiver, server = traced
    owner = new_owner()
    authorization = token_for(owner)
    token = authorization["Authorization"].removeprefix("Bearer ")
    title = f"title-{uuid.uuid4().hex}"
    creating, listing = Caller.new(), Caller.new()
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        untraced = [
            client.get(f"/api/{owner}/tasks", headers=authorization).headers["x-request-id"]
            for _ in range(UNTRACED_REQUESTS)
        ]
        created = client.post(
            f"/api/{owner}/tasks",
            json={"title": title},
            headers=authorization | creating.headers(),
        )
        assert created.status_code == 201, created.text
        listed = client.get(f"/api/{owner}/tasks", headers=authorization | listing.headers())
        assert listed.status_code == 200, listed.text
        assert title in listed.text

    expected = {creating: (created, "POST", "INSERT"), listing: (listed, "GET", "SELECT")}
    for caller, (response, method, operation) in expected.items():
        span = server_span_of(receiver, caller)
        assert span.parent_span_id == caller.span_id
        assert span.name == f"{method} {COLLECTION}"
        assert span.attributes["http.request.method"] == method
        assert span.attributes["http.route"] == COLLECTION
        assert span.attributes["http.response.status_code"] == response.status_code
        assert span.resource["service.name"] == tracing.SERVICE_NAME
        statements = [each for each in receiver.spans() if each.parent_span_id == span.span_id]
        assert statements, f"no statement span under {span.name}"
        for statement in statements:
            assert statement.trace_id == caller.trace_id
            assert statement.kind is SpanKind.CLIENT
            db_operation = statement.attributes["db.operation.name"]
            db_collection = statement.attributes["db.collection.name"]
            assert isinstance(db_operation, str)
            assert isinstance(db_collection, str)
            assert statement.name == f"{db_operation} {db_collection}"
        assert f"{operation} tasks" in {statement.name for statement in statements}
        logged = access_line(server, response.headers["x-request-id"])
        assert logged["trace_id"] == caller.trace_id

    leaks = [
        (span.name, text)
        for span in receiver.spans()
        for text in span.texts()
        if any(value in text for value in (title, owner, token))
    ]
    assert leaks == []
    # Every untraced request was over before the traced ones' spans came: any it had are in.
    # A request the server does not trace has no trace to name; one it traces names its own.
    exported = {span.trace_id for span in receiver.spans()}
    named = [access_line(server, request_id).get("trace_id") for request_id in untraced]
    sampled = [trace_id for trace_id in named if trace_id is not None]
    assert set(sampled) <= exported
    assert len(set(sampled)) == len(sampled) <= MOST_SAMPLED_OF_UNTRACED


@pytest.mark.parametrize(
    ("sampler", "traced_requests"),
    [
        # Only what the caller samples (the SDK's parent-based samplers follow the flag).
        ("parentbased_always_off", {"sampled"}),
        # Every request, the caller's decision overruled: not parent-based.
        ("always_on", {"untraced", "declined", "sampled"}),
    ],
    ids=["parentbased_always_off", "always_on"],
)
def test_the_sampler_is_the_operators_choice(
    sampler: str, traced_requests: set[str], tmp_path: Path
) -> None:
    """OTEL_TRACES_SAMPLER replaces the default: a request without `traceparent`
    ("untraced"), one whose caller does not sample ("declined") and one whose caller does
    ("sampled", sent last: its spans arriving means the others' would have) are traced as
    the sampler says, and each access line names its request's trace, sampled or not."""
    owner = new_owner()
    authorization = token_for(owner)
    callers = {"declined": Caller.new(sampled=False), "sampled": Caller.new()}
    with (
        otlp_receiver() as receiver,
        live_server(
            f"sqlite:///{tmp_path / 'todo.db'}",
            SECRET,
            tmp_path / "server.log",
            extra_env=tracing_env(receiver, OTEL_TRACES_SAMPLER=sampler),
        ) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        request_ids = {}
        for request in ("untraced", "declined", "sampled"):
            caller = callers.get(request)
            headers = authorization | (caller.headers() if caller else {})
            response = client.get(f"/api/{owner}/tasks", headers=headers)
            assert response.status_code == 200, response.text
            request_ids[request] = response.headers["x-request-id"]
        server_span_of(receiver, callers["sampled"])
        trace_ids = {
            request: access_line(server, request_id)["trace_id"]
            for request, request_id in request_ids.items()
        }
    assert trace_ids["declined"] == callers["declined"].trace_id
    assert trace_ids["sampled"] == callers["sampled"].trace_id
    assert len(set(trace_ids.values())) == 3, "the untraced request names a trace of its own"
    # The readiness probes live_server sent before are spans too, under always_on.
    traced = {span.trace_id for span in receiver.spans() if span.name == f"GET {COLLECTION}"}
    assert traced == {trace_ids[request] for request in traced_requests}


ENDPOINT_ONLY: Final = {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, []),
        (ENDPOINT_ONLY, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{ENDPOINT}/v1/traces"}, ["otlp"]),
        ({**ENDPOINT_ONLY, "OTEL_TRACES_EXPORTER": "none"}, []),
        ({**ENDPOINT_ONLY, "OTEL_SDK_DISABLED": "true"}, []),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "OTLP, console"}, ["otlp", "console"]),
    ],
    ids=["nothing", "endpoint", "traces-endpoint", "none", "sdk-disabled", "console", "both"],
)
def test_tracing_is_on_when_an_exporter_is_named(environ: dict[str, str], names: list[str]) -> None:
    assert exporter_names(environ) == names


def test_an_exporter_the_server_lacks_is_refused_by_name() -> None:
    with pytest.raises(TracingConfigurationError, match="zipkin"):
        exporter_names({**ENDPOINT_ONLY, "OTEL_TRACES_EXPORTER": "otlp,zipkin"})


def test_without_an_exporter_there_is_no_provider() -> None:
    assert provider_from({}) is None


def remote_parent(*, sampled: bool) -> trace.Span:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    context = SpanContext(
        secrets.randbits(128) or 1, secrets.randbits(64) or 1, is_remote=True, trace_flags=flags
    )
    return NonRecordingSpan(context)


def test_the_default_takes_one_request_in_a_hundred_and_follows_the_caller() -> None:
    """The request's span draws the default's 1 % of new traces; the provider then records
    each root it is given, and a child as its caller decided."""
    assert tracing.root_ratio_of({}) == tracing.DEFAULT_SAMPLING_RATIO
    assert tracing.root_ratio_of({"OTEL_TRACES_SAMPLER": "always_on"}) is None
    exporter = InMemorySpanExporter()
    provider = provider_from({}, processors=(SimpleSpanProcessor(exporter),))
    assert provider is not None
    tracer = provider.get_tracer("test")

    spans = RequestSpans(tracing.Tracing(tracer, tracing.root_ratio_of({})))
    try:
        for _ in range(20_000):
            traced = spans.start("GET", "http", None)
            if traced is not None:
                spans.finish(traced, "/", 204, None)
        # 200 expected; the bounds are seven standard deviations away.
        assert 100 <= len(exporter.get_finished_spans()) <= 300
        assert tracer.start_span("root").is_recording()
        for sampled in (True, False):
            children = [
                tracer.start_span(
                    "child", context=trace.set_span_in_context(remote_parent(sampled=sampled))
                )
                for _ in range(100)
            ]
            assert [child.is_recording() for child in children] == [sampled] * 100
            for child in children:
                child.end()
    finally:
        provider.shutdown()


@pytest.mark.parametrize(
    ("variables", "service"),
    [
        ({}, tracing.SERVICE_NAME),
        ({"OTEL_SERVICE_NAME": "billing"}, "billing"),
        (
            {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test, service.name=billing"},
            "billing",
        ),
        ({"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test"}, tracing.SERVICE_NAME),
    ],
    ids=["default", "service-name", "resource-attributes", "other-attributes"],
)
def test_the_service_is_named_by_the_operator_or_else_todo_api(
    variables: dict[str, str], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK reads the resource's variables from the process's environment.
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    provider = provider_from(os.environ, processors=(SimpleSpanProcessor(InMemorySpanExporter()),))
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == service
    finally:
        provider.shutdown()
