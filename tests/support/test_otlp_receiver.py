"""The test OTLP receiver itself: it takes in what the SDK's own exporter sends, keeps each
span's ids, kind, attributes and resource, and refuses what is not an OTLP export."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Tracer, set_span_in_context

from tests.support.otlp_receiver import (
    CONTENT_TYPE,
    OtlpReceiver,
    SpansDidNotArrive,
    otlp_receiver,
)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as running:
        yield running


@contextlib.contextmanager
def exporting_tracer(receiver: OtlpReceiver, compression: Compression) -> Iterator[Tracer]:
    provider = TracerProvider(resource=Resource.create({"service.name": "receiver-test"}))
    exporter = OTLPSpanExporter(endpoint=receiver.traces_url, compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield provider.get_tracer("receiver-test")
    finally:
        provider.shutdown()


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_the_sdk_exporters_spans_arrive_as_they_were_made(
    receiver: OtlpReceiver, compression: Compression
) -> None:
    with (
        exporting_tracer(receiver, compression) as tracer,
        tracer.start_as_current_span(
            "GET /things", kind=SpanKind.SERVER, attributes={"http.route": "/things"}
        ) as parent,
    ):
        child = tracer.start_span(
            "SELECT things",
            context=set_span_in_context(parent),
            kind=SpanKind.CLIENT,
            attributes={"db.operation.name": "SELECT", "rows": 3, "cached": False},
        )
        child.end()
    server = receiver.wait_for(lambda span: span.kind is SpanKind.SERVER)[0]
    [statement] = receiver.wait_for(lambda span: span.kind is SpanKind.CLIENT)
    context = parent.get_span_context()
    assert server.trace_id == format(context.trace_id, "032x")
    assert server.span_id == format(context.span_id, "016x")
    assert (server.name, server.parent_span_id) == ("GET /things", "")
    assert server.attributes == {"http.route": "/things"}
    assert server.resource["service.name"] == "receiver-test"
    assert statement.trace_id == server.trace_id
    assert statement.parent_span_id == server.span_id
    assert statement.attributes == {"db.operation.name": "SELECT", "rows": 3, "cached": False}
    assert "receiver-test" in statement.texts()
    assert receiver.exports() == 2  # one request per span: the processor is the simple one


def test_what_is_not_an_otlp_export_is_refused(receiver: OtlpReceiver) -> None:
    protobuf = {"content-type": CONTENT_TYPE}
    with httpx.Client() as client:
        assert client.post(receiver.traces_url, content=b"{}").status_code == 415
        assert (
            client.post(receiver.traces_url, content=b"\xff", headers=protobuf).status_code == 400
        )
        elsewhere = f"{receiver.endpoint}/v1/metrics"
        assert client.post(elsewhere, content=b"", headers=protobuf).status_code == 404
        # An empty body is an export of no spans: accepted, as a collector does.
        assert client.post(receiver.traces_url, content=b"", headers=protobuf).status_code == 200
    assert receiver.spans() == []


def test_waiting_for_spans_that_never_come_ends_at_the_deadline(receiver: OtlpReceiver) -> None:
    with pytest.raises(SpansDidNotArrive, match=r"0 of 1 spans within 0\.2 s"):
        receiver.wait_for(lambda _span: True, timeout=0.2)
