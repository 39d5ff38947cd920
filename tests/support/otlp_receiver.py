"""A real OTLP/HTTP trace receiver on 127.0.0.1: it takes the protobuf export requests an
OpenTelemetry exporter sends to `/v1/traces`, answers as a collector does, and keeps each
span as a plain record the tests read, waiting on a condition (with a deadline) for spans.

A threaded stdlib `http.server` in a thread, like the suite's webhook receiver: it needs no
event loop beside the caller's, and starts and stops synchronously in a `with`.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, TypeAlias

# protobuf ships no type stubs, and types-protobuf is no dependency of the project.
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.trace import SpanKind

PATH: Final = "/v1/traces"
CONTENT_TYPE: Final = "application/x-protobuf"
WAIT_SECONDS: Final = 15.0
IDLE_SECONDS: Final = 30.0
STOP_SECONDS: Final = 5.0
# How often the serving thread looks for a stop: `shutdown` waits up to this long.
STOP_POLL_SECONDS: Final = 0.05
# OTLP's span kinds (UNSPECIFIED is read as INTERNAL, as the protocol says).
_KINDS: Final = {
    Span.SPAN_KIND_UNSPECIFIED: SpanKind.INTERNAL,
    Span.SPAN_KIND_INTERNAL: SpanKind.INTERNAL,
    Span.SPAN_KIND_SERVER: SpanKind.SERVER,
    Span.SPAN_KIND_CLIENT: SpanKind.CLIENT,
    Span.SPAN_KIND_PRODUCER: SpanKind.PRODUCER,
    Span.SPAN_KIND_CONSUMER: SpanKind.CONSUMER,
}
_DECOMPRESS: Final[dict[str, Callable[[bytes], bytes]]] = {
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
}

Value: TypeAlias = "str | bool | int | float | bytes | list[Value] | dict[str, Value] | None"


def _value(value: AnyValue) -> Value:
    field = value.WhichOneof("value")
    if field == "array_value":
        return [_value(item) for item in value.array_value.values]
    if field == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if field is None:
        return None
    plain: Value = getattr(value, field)
    return plain


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Value]:
    return {pair.key: _value(pair.value) for pair in pairs}


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    """One span as it arrived: ids in lower-case hex (`parent_span_id` is "" for a root)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: SpanKind
    attributes: dict[str, Value]
    resource: dict[str, Value]

    def texts(self) -> list[str]:
        """Every string the span carries: its name, its and its resource's keys and values."""
        found = [self.name]

        def walk(value: Value) -> None:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, bytes):
                found.append(value.decode("utf-8", errors="replace"))
            elif isinstance(value, list):
                for item in value:
                    walk(item)
            elif isinstance(value, dict):
                for key, item in value.items():
                    found.append(key)
                    walk(item)

        walk(self.attributes)
        walk(self.resource)
        return found


def decode(body: bytes) -> list[ReceivedSpan]:
    """The spans of one serialized ExportTraceServiceRequest."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        kind=_KINDS[span.kind],
                        attributes=_attributes(span.attributes),
                        resource=resource,
                    )
                )
    return spans


class SpansDidNotArrive(AssertionError):
    """The spans waited for were not there by the deadline; the message lists what was."""


class OtlpReceiver:
    """The spans taken in so far, kept under a condition the handler threads notify."""

    def __init__(self) -> None:
        self.endpoint = ""
        """The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it (the exporter adds PATH)."""
        self.traces_url = ""
        self._arrived = threading.Condition()
        self._spans: list[ReceivedSpan] = []
        self._exports = 0

    def spans(self) -> list[ReceivedSpan]:
        """Every span taken in so far (a copy), in the order they arrived."""
        with self._arrived:
            return list(self._spans)

    def exports(self) -> int:
        """How many export requests were taken in."""
        with self._arrived:
            return self._exports

    def take(self, body: bytes) -> None:
        """Decode and keep one export request's spans (DecodeError when it is not one)."""
        spans = decode(body)
        with self._arrived:
            self._spans.extend(spans)
            self._exports += 1
            self._arrived.notify_all()

    def wait_for(
        self,
        matching: Callable[[ReceivedSpan], bool],
        count: int = 1,
        timeout: float = WAIT_SECONDS,
    ) -> list[ReceivedSpan]:
        """The spans `matching` picks, once at least `count` of them have arrived."""

        def picked() -> list[ReceivedSpan]:
            return [span for span in self._spans if matching(span)]

        with self._arrived:
            if not self._arrived.wait_for(lambda: len(picked()) >= count, timeout):
                arrived = [(span.name, span.trace_id) for span in self._spans]
                raise SpansDidNotArrive(
                    f"{len(picked())} of {count} spans within {timeout:g} s; arrived: {arrived}"
                )
            return picked()


def _handler(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the exporter's session expects
        timeout = IDLE_SECONDS

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path != PATH:
                self._answer(HTTPStatus.NOT_FOUND)
                return
            if self.headers.get("content-type", "").split(";")[0].strip() != CONTENT_TYPE:
                self._answer(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
                return
            encoding = self.headers.get("content-encoding", "identity").strip().lower()
            try:
                if encoding != "identity":
                    body = _DECOMPRESS[encoding](body)
                receiver.take(body)
            except (KeyError, OSError, zlib.error, DecodeError):
                self._answer(HTTPStatus.BAD_REQUEST)
                return
            self._answer(HTTPStatus.OK, ExportTraceServiceResponse().SerializeToString())

        def _answer(self, status: HTTPStatus, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("content-type", CONTENT_TYPE)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the receiver keeps its own record."""

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextlib.contextmanager
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """A receiver on a free port of 127.0.0.1 while the block runs (start a server that
    exports to it inside the block, so that its last spans, flushed as it stops, arrive)."""
    receiver = OtlpReceiver()
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    receiver.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    receiver.traces_url = f"{receiver.endpoint}{PATH}"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": STOP_POLL_SECONDS},
        name="otlp receiver",
        daemon=True,
    )
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STOP_SECONDS)
