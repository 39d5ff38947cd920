"""CORS (backend/http/cors.py) as plain values and the ASGI app it is: the headers a contract
names, the policy's answers to a preflight, and what passes through to the app behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from backend.http.cors import (
    MAX_AGE_SECONDS,
    REQUEST_HEADERS,
    Cors,
    CorsPolicy,
    request_headers,
    send_preflight,
    success_headers,
)

pytestmark = pytest.mark.anyio

FRONT_END = "http://localhost:3000"
PREFLIGHT_VARY = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
CONTRACT: dict[str, Any] = {
    "paths": {
        "/health": {"get": {"responses": {"200": {"description": "up"}}}},
        "/tasks": {
            "get": {
                "parameters": [
                    {"name": "limit", "in": "query"},
                    {"name": "If-None-Match", "in": "header"},
                ],
                "responses": {
                    "200": {"headers": {"X-Next-Cursor": {}, "ETag": {}}},
                    "304": {"headers": {"ETag": {}, "X-Not-Modified": {}}},
                    "400": {"headers": {"X-Problem": {}}},
                },
            },
            "post": {
                "parameters": [{"name": "Idempotency-Key", "in": "header"}],
                "responses": {"201": {"headers": {"Location": {}, "ETag": {}}}},
            },
        },
    }
}


def methods_for(path: str) -> list[str]:
    return ["GET", "POST"] if path == "/tasks" else []


def policy(*, credentials: bool = False) -> CorsPolicy:
    return CorsPolicy(
        origins=frozenset({FRONT_END}),
        exposed_headers=("X-Next-Cursor", "ETag"),
        methods_for=methods_for,
        request_headers=("Authorization", "If-Match"),
        max_age_seconds=60,
        allow_credentials=credentials,
    )


# --- the headers a contract names ----------------------------------------------------------


def test_success_headers_are_those_of_2xx_responses_each_once_in_order() -> None:
    assert success_headers(CONTRACT) == ("X-Next-Cursor", "ETag", "Location")


def test_request_headers_are_the_token_the_media_type_and_the_header_parameters() -> None:
    assert REQUEST_HEADERS == ("Authorization", "Content-Type")
    expected = ("Authorization", "Content-Type", "If-None-Match", "Idempotency-Key")
    assert request_headers(CONTRACT) == expected


def test_the_policy_defaults() -> None:
    default = CorsPolicy(frozenset({FRONT_END}), (), methods_for)
    assert (default.request_headers, default.max_age_seconds) == (REQUEST_HEADERS, 600)
    assert MAX_AGE_SECONDS == 600
    assert default.allow_credentials is False
    assert default.credentials_headers() == []


# --- the policy's answer to a preflight ----------------------------------------------------


def asking(method: str, headers: str | None = None) -> Headers:
    asked = {"access-control-request-method": method}
    if headers is not None:
        asked["access-control-request-headers"] = headers
    return Headers(asked)


@pytest.mark.parametrize("asked", [None, "", "authorization", " Authorization , IF-MATCH ,"])
def test_an_allowed_preflight_is_answered_with_every_header(asked: str | None) -> None:
    assert policy().preflight_headers(FRONT_END, "/tasks", asking("POST", asked)) == [
        ("Access-Control-Allow-Origin", FRONT_END),
        ("Access-Control-Allow-Methods", "GET, POST"),
        ("Access-Control-Allow-Headers", "Authorization, If-Match"),
        ("Access-Control-Max-Age", "60"),
    ]


def test_with_credentials_the_answers_allow_them() -> None:
    answer = policy(credentials=True).preflight_headers(FRONT_END, "/tasks", asking("GET"))
    assert answer[-1] == ("Access-Control-Allow-Credentials", "true")
    assert policy(credentials=True).credentials_headers() == [
        ("Access-Control-Allow-Credentials", "true")
    ]


@pytest.mark.parametrize(
    ("path", "method", "asked"),
    [
        ("/tasks", "DELETE", None),  # a method the path does not support
        ("/other", "GET", None),  # a path that supports none
        ("/tasks", "GET", "Authorization, X-Custom"),  # a header the API does not read
    ],
)
def test_other_preflights_get_no_answer(path: str, method: str, asked: str | None) -> None:
    assert policy().preflight_headers(FRONT_END, path, asking(method, asked)) == []


async def test_a_preflight_is_sent_as_an_empty_204_with_lower_case_names() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await send_preflight(send, [("Access-Control-Allow-Origin", FRONT_END)])
    assert sent == [
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-origin", FRONT_END.encode()),
                (b"vary", PREFLIGHT_VARY),
            ],
        },
        {"type": "http.response.body", "body": b""},
    ]


# --- the ASGI app ----------------------------------------------------------------------------


@dataclass
class Inner:
    """The app behind CORS: notes what it is called with, answers 200 with a Vary."""

    calls: list[tuple[Scope, Receive, Send]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls.append((scope, receive, send))
        if scope["type"] == "http":
            headers = [(b"vary", b"Accept-Encoding")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"ok"})


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def call(
    inner: Inner, method: str, headers: dict[str, str], *, cors: CorsPolicy | None = None
) -> list[Message]:
    scope = {
        "type": "http",
        "method": method,
        "path": "/tasks",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
    }
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await Cors(inner, policy=cors or policy())(scope, receive, send)
    return sent


def headers_of(sent: list[Message]) -> dict[str, str]:
    start = sent[0]
    assert start["type"] == "http.response.start"
    return {name.decode(): value.decode() for name, value in start["headers"]}


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
async def test_scopes_other_than_http_pass_untouched(kind: str) -> None:
    inner = Inner()
    scope = {"type": kind, "headers": [(b"origin", FRONT_END.encode())]}

    async def send(message: Message) -> None:
        raise AssertionError(f"nothing is sent: {message}")

    await Cors(inner, policy=policy())(scope, receive, send)
    assert inner.calls == [(scope, receive, send)]


async def test_a_listed_origin_reads_the_response_of_the_app() -> None:
    inner = Inner()
    sent = await call(inner, "GET", {"origin": FRONT_END})
    assert [call[1] for call in inner.calls] == [receive]
    assert headers_of(sent) == {
        "vary": "Accept-Encoding, Origin",
        "access-control-allow-origin": FRONT_END,
        "access-control-expose-headers": "X-Next-Cursor, ETag",
    }
    assert sent[1] == {"type": "http.response.body", "body": b"ok"}


async def test_with_credentials_the_response_allows_them_and_without_exposed_names_none() -> None:
    inner = Inner()
    bare = CorsPolicy(frozenset({FRONT_END}), (), methods_for, allow_credentials=True)
    sent = await call(inner, "GET", {"origin": FRONT_END}, cors=bare)
    assert headers_of(sent) == {
        "vary": "Accept-Encoding, Origin",
        "access-control-allow-origin": FRONT_END,
        "access-control-allow-credentials": "true",
    }


@pytest.mark.parametrize("origin", [None, "https://evil.example"])
async def test_other_origins_get_no_cors_header_and_a_vary(origin: str | None) -> None:
    inner = Inner()
    sent = await call(inner, "GET", {"origin": origin} if origin else {})
    assert [call[1] for call in inner.calls] == [receive]
    assert headers_of(sent) == {"vary": "Accept-Encoding, Origin"}


async def test_an_allowed_preflight_is_answered_without_the_app() -> None:
    inner = Inner()
    sent = await call(
        inner, "OPTIONS", {"origin": FRONT_END, "access-control-request-method": "GET"}
    )
    assert inner.calls == []
    assert sent[0]["status"] == 204
    assert headers_of(sent)["access-control-allow-origin"] == FRONT_END
    assert headers_of(sent)["vary"] == PREFLIGHT_VARY.decode()


async def test_a_refused_preflight_goes_to_the_app_with_a_vary() -> None:
    inner = Inner()
    sent = await call(
        inner, "OPTIONS", {"origin": FRONT_END, "access-control-request-method": "DELETE"}
    )
    assert [call[1] for call in inner.calls] == [receive]
    assert headers_of(sent) == {"vary": "Accept-Encoding, Origin"}


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("OPTIONS", {}),  # an OPTIONS request that is not a preflight
        ("GET", {"access-control-request-method": "GET"}),  # a GET is never a preflight
    ],
)
async def test_only_an_options_request_naming_a_method_is_a_preflight(
    method: str, headers: dict[str, str]
) -> None:
    inner = Inner()
    sent = await call(inner, method, {"origin": FRONT_END, **headers})
    assert len(inner.calls) == 1
    assert sent[0]["status"] == 200
    assert headers_of(sent)["access-control-allow-origin"] == FRONT_END
