"""CORS for the front end's origins: preflights, and readable responses, for listed origins only."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The headers every front end sends beyond the CORS-safelisted ones; the contract's header
# parameters (request_headers) join them.
REQUEST_HEADERS: Final = ("Authorization", "Content-Type")
# How long a browser may reuse a preflight (Chromium caps it at 7200 s).
MAX_AGE_SECONDS: Final = 600
VARY: Final = "Origin"


def success_headers(contract: Mapping[str, Any]) -> tuple[str, ...]:
    """Every header a success (2xx) response of the contract names: what a script must read."""
    found: dict[str, None] = {}
    for methods in contract["paths"].values():
        for operation in methods.values():
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    found.update(dict.fromkeys(response.get("headers", {})))
    return tuple(found)


def request_headers(contract: Mapping[str, Any]) -> tuple[str, ...]:
    """The headers a front end may send: the token, the body's type, the header parameters."""
    found: dict[str, None] = dict.fromkeys(REQUEST_HEADERS)
    for methods in contract["paths"].values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header":
                    found[parameter["name"]] = None
    return tuple(found)


@dataclass(frozen=True)
class CorsPolicy:
    """Which origins may call the API from a browser, and what their scripts may do."""

    origins: frozenset[str]
    exposed_headers: tuple[str, ...]
    methods_for: Callable[[str], list[str]]  # the methods a request path supports
    request_headers: tuple[str, ...] = REQUEST_HEADERS
    max_age_seconds: int = MAX_AGE_SECONDS
    # Cookies or HTTP authentication sent by the browser (`credentials: "include"`): the
    # answer must then name the origin exactly, which it always does here.
    allow_credentials: bool = False

    def credentials_headers(self) -> list[tuple[str, str]]:
        return [("Access-Control-Allow-Credentials", "true")] if self.allow_credentials else []

    def preflight_headers(self, origin: str, path: str, request: Headers) -> list[tuple[str, str]]:
        """The answer to an allowed preflight; empty when the preflight is not allowed."""
        methods = self.methods_for(path)
        if request["access-control-request-method"] not in methods:
            return []
        allowed = {name.lower() for name in self.request_headers}
        asked = request.get("access-control-request-headers", "")
        if any(name.strip().lower() not in allowed for name in asked.split(",") if name.strip()):
            return []
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", ", ".join(methods)),
            ("Access-Control-Allow-Headers", ", ".join(self.request_headers)),
            ("Access-Control-Max-Age", str(self.max_age_seconds)),
            *self.credentials_headers(),
        ]


class Cors:
    """Answers the preflights of listed origins and marks their responses readable.

    A request from any other origin, or without one, passes through as if CORS were off:
    no CORS header at all, so the browser refuses its script the response. A preflight
    for a method the path does not support, or a header the API does not read, passes
    through too (the API answers it 405).
    """

    def __init__(self, app: ASGIApp, *, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        origin = request.get("origin")
        if origin is None or origin not in self.policy.origins:
            await self.app(scope, receive, vary_on_origin(send))
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in request:
            headers = self.policy.preflight_headers(origin, scope["path"], request)
            if headers:
                await send_preflight(send, headers)
                return
            await self.app(scope, receive, vary_on_origin(send))
            return
        await self.app(scope, receive, self.readable_by(origin, send))

    def readable_by(self, origin: str, send: Send) -> Send:
        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = origin
                for name, value in self.policy.credentials_headers():
                    headers[name] = value
                if self.policy.exposed_headers:
                    headers["Access-Control-Expose-Headers"] = ", ".join(
                        self.policy.exposed_headers
                    )
                headers.add_vary_header(VARY)
            await send(message)

        return send_with_cors


def vary_on_origin(send: Send) -> Send:
    """Responses differ by Origin once CORS is on, so caches must key on it."""

    async def send_varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header(VARY)
        await send(message)

    return send_varying


async def send_preflight(send: Send, headers: Iterable[tuple[str, str]]) -> None:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers]
    raw.append((b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"))
    await send({"type": "http.response.start", "status": 204, "headers": raw})
    await send({"type": "http.response.body", "body": b""})
