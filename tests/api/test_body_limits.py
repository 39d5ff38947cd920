"""Admission of request bodies (backend/http/body_limits.py) as the ASGI app it is: the size limit
(413), declared or streamed, to the byte; the JSON media types (415); what the app behind it
receives; and, over HTTP, what that means for a task's create."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from backend.http.body_limits import BodyLimits
from tests.conftest import token_for

pytestmark = pytest.mark.anyio

LIMIT = 16


@dataclass
class Inner:
    """The app behind the limits: keeps each message it receives, answers 204."""

    scopes: list[Scope] = field(default_factory=list)
    received: list[Message] = field(default_factory=list)
    receives: int = 1  # how many messages it asks for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] != "http":
            return
        for _ in range(self.receives):
            self.received.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/problem+json"
        problem: dict[str, Any] = json.loads(self.body)
        return problem


async def call(
    inner: Inner,
    messages: Sequence[Message],
    *,
    method: str = "POST",
    headers: Sequence[tuple[str, str]] = (),
) -> Answer:
    """One request through BodyLimits(max_bytes=LIMIT): `messages` are what the client sends."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/api/u/tasks",
        "raw_path": b"/api/u/tasks",
        "root_path": "",
        "query_string": b"",
        "headers": [(name.encode(), value.encode()) for name, value in headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }
    pending = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await BodyLimits(inner, max_bytes=LIMIT)(scope, receive, send)
    start, *bodies = sent
    answered = {name.decode(): value.decode() for name, value in start["headers"]}
    return Answer(start["status"], answered, b"".join(part.get("body", b"") for part in bodies))


def body(content: bytes, *, more: bool = False) -> Message:
    return {"type": "http.request", "body": content, "more_body": more}


DISCONNECT: Message = {"type": "http.disconnect"}
JSON = ("content-type", "application/json")


def declared(size: int) -> tuple[str, str]:
    return ("content-length", str(size))


def assert_too_large(answer: Answer) -> None:
    assert answer.status == 413
    assert answer.headers["connection"] == "close"
    assert answer.problem() == {
        "type": "about:blank",
        "title": HTTPStatus(413).phrase,
        "status": 413,
        "detail": f"the body is larger than {LIMIT} bytes",
        "instance": "/api/u/tasks",
    }


# --- the size limit, to the byte ---------------------------------------------------------


async def test_a_declared_body_of_the_limit_is_admitted_and_one_byte_more_is_413() -> None:
    inner = Inner()
    answer = await call(inner, [body(b"x" * LIMIT)], headers=[JSON, declared(LIMIT)])
    assert answer.status == 204
    assert inner.received == [body(b"x" * LIMIT)]
    refused = Inner()
    assert_too_large(await call(refused, [body(b"x" * 17)], headers=[JSON, declared(17)]))
    assert refused.scopes == []


async def test_a_streamed_body_of_the_limit_is_admitted_and_one_byte_more_is_413() -> None:
    chunked = ("transfer-encoding", "chunked")
    inner = Inner()
    chunks = [body(b"x" * 6, more=True), body(b"x" * 6, more=True), body(b"x" * 4)]
    assert (await call(inner, chunks, headers=[JSON, chunked])).status == 204
    assert inner.received == [body(b"x" * LIMIT)]
    refused = Inner()
    over = [body(b"x" * 6, more=True), body(b"x" * 6, more=True), body(b"x" * 5)]
    assert_too_large(await call(refused, over, headers=[JSON, chunked]))
    assert refused.scopes == []


async def test_a_body_longer_than_it_declared_is_413_when_it_passes_the_limit() -> None:
    inner = Inner()
    streamed = [body(b"x" * 10, more=True), body(b"x" * 10)]
    assert_too_large(await call(inner, streamed, headers=[JSON, declared(4)]))
    assert inner.scopes == []


async def test_a_last_message_without_body_or_more_body_ends_the_body() -> None:
    inner = Inner()
    messages = [body(b"{}", more=True), {"type": "http.request"}]
    assert (await call(inner, messages, headers=[JSON, declared(2)])).status == 204
    assert inner.received == [body(b"{}")]


# --- the media type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "media_type",
    [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json ;charset=utf-8",
        "application/json; charset=utf-8; profile=todo",  # the type ends at the first ';'
        "application/merge-patch+json",
        "application/problem+json",
        "APPLICATION/VND.TODO+JSON; v=1",
    ],
)
async def test_json_media_types_are_admitted(media_type: str) -> None:
    inner = Inner()
    answer = await call(inner, [body(b"{}")], headers=[("content-type", media_type), declared(2)])
    assert answer.status == 204
    assert inner.received == [body(b"{}")]


@pytest.mark.parametrize(
    "media_type",
    ["text/plain", "text/json", "text/x+json", "application/jsonx", "application/json+xml", ""],
)
async def test_other_media_types_are_415(media_type: str) -> None:
    inner = Inner()
    answer = await call(inner, [body(b"{}")], headers=[("content-type", media_type), declared(2)])
    assert answer.status == 415
    assert answer.problem()["detail"] == (
        f"the body must be application/json, not {media_type or 'untyped'}"
    )
    assert inner.scopes == []


@pytest.mark.parametrize(
    "headers", [[declared(2)], [("transfer-encoding", "chunked")]], ids=["declared", "streamed"]
)
async def test_a_body_without_a_media_type_is_415_untyped(headers: list[tuple[str, str]]) -> None:
    inner = Inner()
    answer = await call(inner, [body(b"{}")], headers=headers)
    assert answer.status == 415
    assert answer.problem() == {
        "type": "about:blank",
        "title": HTTPStatus(415).phrase,
        "status": 415,
        "detail": "the body must be application/json, not untyped",
        "instance": "/api/u/tasks",
    }


@pytest.mark.parametrize("headers", [[declared(0)], []], ids=["declared-empty", "no-body"])
async def test_a_request_without_a_body_needs_no_media_type(
    headers: list[tuple[str, str]],
) -> None:
    inner = Inner()
    assert (await call(inner, [body(b"")], headers=headers)).status == 204
    assert inner.received == [body(b"")]


# --- what the app behind it receives -------------------------------------------------------


@pytest.mark.parametrize("content_length", ["abc", "-1", "1.5", " 2"])
async def test_a_content_length_that_is_not_a_byte_count_is_422(content_length: str) -> None:
    inner = Inner()
    answer = await call(inner, [body(b"{}")], headers=[JSON, ("content-length", content_length)])
    assert answer.status == 422
    assert answer.problem() == {
        "type": "about:blank",
        "title": HTTPStatus(422).phrase,
        "status": 422,
        "detail": "the request is invalid: header.content-length",
        "instance": "/api/u/tasks",
        "errors": [{"location": "header.content-length", "message": "is not a byte count"}],
    }
    assert inner.scopes == []


async def test_after_the_body_the_app_receives_what_the_client_sends_next() -> None:
    inner = Inner(receives=2)
    closed = {"type": "http.disconnect", "reason": "the client went away"}
    answer = await call(inner, [body(b"{", more=True), body(b"}"), closed], headers=[JSON])
    assert answer.status == 204
    assert inner.received == [body(b"{}"), closed]


async def test_a_client_gone_before_its_body_ends_is_a_disconnect_for_the_app() -> None:
    inner = Inner(receives=2)
    answer = await call(inner, [body(b"{", more=True), DISCONNECT], headers=[JSON, declared(2)])
    assert answer.status == 204
    assert inner.received == [DISCONNECT, DISCONNECT]


@pytest.mark.parametrize("method", ["GET", "DELETE", "HEAD", "OPTIONS"])
async def test_other_methods_pass_untouched_whatever_their_body(method: str) -> None:
    inner = Inner()
    messages = [body(b"x" * 100)]
    headers = [("content-type", "text/plain"), declared(100)]
    assert (await call(inner, messages, method=method, headers=headers)).status == 204
    assert inner.received == [body(b"x" * 100)]


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
async def test_scopes_other_than_http_pass_untouched(kind: str) -> None:
    inner = Inner()
    scope = {"type": kind}

    async def receive() -> Message:
        raise AssertionError("not read")

    async def send(message: Message) -> None:
        raise AssertionError(f"nothing is sent: {message}")

    await BodyLimits(inner, max_bytes=LIMIT)(scope, receive, send)
    assert inner.scopes == [scope]


# --- over HTTP: a task's create --------------------------------------------------------------


@pytest.mark.parametrize(
    "media_type", ["Application/JSON", "application/json;charset=UTF-8", "application/vnd.a+json"]
)
async def test_a_task_is_created_from_any_json_media_type(
    client: httpx.AsyncClient, owner: str, media_type: str
) -> None:
    response = await client.post(
        f"/api/{owner}/tasks",
        content=b'{"title": "typed"}',
        headers={**token_for(owner), "content-type": media_type},
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "typed"
    listed = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert [task["title"] for task in listed.json()] == ["typed"]


async def test_a_task_body_of_the_limit_is_read_and_one_byte_more_is_413(
    client: httpx.AsyncClient, owner: str
) -> None:
    """The settings' limit is 65,536 bytes: a body of exactly that size gets past admission
    (its title is then too long: 422), one byte more does not (413)."""
    limit = 64 * 1024
    prefix, suffix = b'{"title": "', b'"}'
    exact = prefix + b"x" * (limit - len(prefix) - len(suffix)) + suffix
    for content, status in ((exact, 422), (exact + b" ", 413)):
        response = await client.post(
            f"/api/{owner}/tasks",
            content=content,
            headers={**token_for(owner), "content-type": "application/json"},
        )
        assert response.status_code == status, response.text
    listed = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert listed.json() == []
