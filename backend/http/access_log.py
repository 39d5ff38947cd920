"""Request ids and the access log: every response carries an id, every request one log line.

A pure ASGI middleware, so it sees every response, problems included, and costs no extra
task per request. It knows nothing of the API's rules: it reads the method, the route
template the router matched and the status, never the path's values, the query or a header
other than `X-Request-ID`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Final, Protocol

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.http.log_redaction import looks_like_jwt

REQUEST_ID_HEADER: Final = "x-request-id"
_REQUEST_ID_HEADER_BYTES: Final = REQUEST_ID_HEADER.encode()
_TRACEPARENT_HEADER_BYTES: Final = b"traceparent"
_TRACESTATE_HEADER_BYTES: Final = b"tracestate"
# W3C Trace Context: version-trace_id-parent_id-flags; an all-zero trace id is invalid.
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-(?!0{32})([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
MAX_REQUEST_ID_LENGTH: Final = 64
# A caller's id is kept when it is a short token of safe characters (a UUID, a load
# balancer's trace id); anything else is replaced, so a log line never carries what a
# client chose to hide in this header.
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_REQUEST_ID_LENGTH}}}")
HTTP_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
ACCESS_LINE: Final = "%s %s %d %.2f ms"
NO_ROUTE: Final = "-"
"""The route of a request no route matched (its path is not logged: it may hold anything)."""

access_logger = logging.getLogger("backend.access")
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def request_id_from(supplied: str | None) -> str:
    """The caller's id when it is a short safe token, else a new random one."""
    if (
        supplied is not None
        and _SAFE_REQUEST_ID.fullmatch(supplied)
        and not looks_like_jwt(supplied)
    ):
        return supplied
    return uuid.uuid4().hex


def _supplied_ids(scope: Scope) -> tuple[str | None, dict[str, str] | None]:
    """The caller's `X-Request-ID`, and its W3C trace context headers (`traceparent`,
    `tracestate`) if it sent any."""
    request_id = None
    carrier: dict[str, str] | None = None
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_HEADER_BYTES:
            request_id = value.decode("latin-1")
        elif name in (_TRACEPARENT_HEADER_BYTES, _TRACESTATE_HEADER_BYTES):
            carrier = carrier or {}
            carrier[name.decode()] = value.decode("latin-1")
    return request_id, carrier


def _callers_trace(carrier: dict[str, str] | None) -> str | None:
    """The trace id of a well-formed `traceparent`."""
    parent = _TRACEPARENT.fullmatch(carrier.get("traceparent", "").strip()) if carrier else None
    return parent.group(1) if parent else None


def request_id_of(scope: Scope) -> str | None:
    """The id AccessLog gave this request (for responses sent outside it, such as the 500)."""
    state = scope.get("state")
    request_id = state.get("request_id") if isinstance(state, dict) else None
    return request_id if isinstance(request_id, str) else None


class RouteOf:
    """The route a request is logged and measured under: the template the router matched
    (`/api/{user_id}/tasks`). Routes outside the API (probes, documentation, metrics) do not
    all record it in the request, so their fixed paths are given and named as they are;
    anything else is NO_ROUTE."""

    def __init__(self, fixed_paths: Iterable[str] = ()) -> None:
        self.fixed_paths = frozenset(fixed_paths)

    def __call__(self, scope: Scope) -> str:
        template = getattr(scope.get("route"), "path", None)
        if isinstance(template, str):
            return template
        path = scope["path"]
        return path if path in self.fixed_paths else NO_ROUTE


def current_trace_id() -> str | None:
    """The trace of the span the server is in, as the 32 hex digits tracing tools show;
    None outside any."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class RequestObserver(Protocol):
    """Another reader of each request's method, route, status and duration (the metrics):
    told here, where they are known already, rather than by a middleware of its own."""

    def started(self, method: str) -> None: ...

    def finished(self, method: str, route: str, status: int, seconds: float) -> None: ...


class RequestTracer(Protocol):
    """Whoever makes a span of a request (telemetry): started before the app, with the
    caller's trace context headers; finished after the access line, so that the line is
    written inside the span."""

    def start(self, method: str, scheme: str, carrier: dict[str, str] | None) -> object | None:
        """A handle for `finish`, or None when the request is not traced."""

    def finish(
        self, traced: object, route: str, status: int, error: BaseException | None
    ) -> None: ...


class AccessLog:
    """Gives each request an id, echoes it in `X-Request-ID`, logs one line per request,
    with the route (RouteOf) and its trace (the server's span's, else the caller's
    `traceparent`'s); tells the `observer` of each request, and lets the `tracer` make its
    span. The one place that sees every request's method, route, status and duration."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        fixed_paths: Iterable[str] = (),
        observer: RequestObserver | None = None,
        tracer: RequestTracer | None = None,
    ) -> None:
        self.app = app
        self.route_of = RouteOf(fixed_paths)
        self.observer = observer
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied_id, carrier = _supplied_ids(scope)
        request_id = request_id_from(supplied_id)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (_REQUEST_ID_HEADER_BYTES, request_id.encode())
        status = 500  # what the client gets when the app raises before answering

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        method = scope["method"] if scope["method"] in HTTP_METHODS else "OTHER"
        observer = self.observer
        if observer is not None:
            observer.started(method)
        tracer = self.tracer
        traced = tracer.start(method, scope["scheme"], carrier) if tracer is not None else None
        failure: BaseException | None = None
        context = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_request_id)
        except BaseException as error:
            failure = error
            raise
        finally:
            seconds = time.perf_counter() - started
            duration_ms = round(seconds * 1000, 2)
            route = self.route_of(scope)
            if observer is not None:
                observer.finished(method, route, status, seconds)
            if access_logger.isEnabledFor(logging.INFO):
                # Made here rather than by `access_logger.info`, which first walks the stack
                # for the caller's file and line, on every request, for fields no line shows.
                fields = {
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": duration_ms,
                    "trace_id": current_trace_id() or _callers_trace(carrier),
                }
                arguments = (method, route, status, duration_ms)
                access_logger.handle(
                    access_logger.makeRecord(
                        access_logger.name,
                        logging.INFO,
                        __file__,
                        0,
                        ACCESS_LINE,
                        arguments,
                        None,
                        extra=fields,
                    )
                )
            if tracer is not None and traced is not None:
                tracer.finish(traced, route, status, failure)
            current_request_id.reset(context)
