"""Request ids and the access log: every answer carries `X-Request-ID`, every request one line."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.auth.tokens import mint_token
from backend.http.access_log import MAX_REQUEST_ID_LENGTH, NO_ROUTE
from backend.main import create_app
from backend.settings import Settings
from tests.conftest import SECRET, make_task, new_owner, token_for

pytestmark = pytest.mark.anyio

ACCESS_LOGGER = "backend.access"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
JSON_FIELDS = {"time", "level", "logger", "pid", "message", "request_id", "method", "route"}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@dataclass(frozen=True)
class Call:
    """One request of the tour and what its access line must say."""

    method: str
    url: str
    status: int
    route: str
    options: dict[str, Any]


def with_failing_route(app: FastAPI) -> FastAPI:
    async def fail() -> None:
        raise RuntimeError("provoked by test_access_log")

    app.add_api_route("/api/{user_id}/explode", fail, methods=["GET"])
    return app


async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def settings_for(sqlite_url: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=sqlite_url,
        better_auth_secret=SECRET,
        migrate_on_start=False,
        _env_file=None,
        **overrides,
    )


@pytest.fixture
async def text_client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_of(with_failing_route(create_app(settings_for(sqlite_url)))):
        yield client


@pytest.fixture
async def json_client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = with_failing_route(create_app(settings_for(sqlite_url, log_format="json")))
    async for client in client_of(app):
        yield client
    # The format is process-wide: put the default back for the tests that follow.
    create_app(settings_for(sqlite_url))


async def tour(client: httpx.AsyncClient) -> list[Call]:
    """One request for each kind of answer, problems included."""
    owner = new_owner()
    mine = token_for(owner)
    task = await make_task(client, owner)
    tasks, one = "/api/{user_id}/tasks", "/api/{user_id}/tasks/{task_id}"
    base, task_url = f"/api/{owner}/tasks", f"/api/{owner}/tasks/{task['id']}"
    json_body = {"json": {"title": "t"}, "headers": mine}
    return [
        Call("GET", base, 200, tasks, {"headers": mine, "params": {"status": "all"}}),
        Call("POST", base, 201, tasks, json_body),
        Call("GET", task_url, 200, one, {"headers": mine}),
        Call("PATCH", f"{task_url}/complete", 200, one + "/complete", {"headers": mine}),
        Call("DELETE", task_url, 204, one, {"headers": mine}),
        Call("GET", task_url, 404, one, {"headers": mine}),
        Call("GET", base, 401, tasks, {}),
        Call("GET", base, 401, tasks, {"headers": {"Authorization": "Bearer not.a.token"}}),
        Call("GET", f"/api/{new_owner()}/tasks", 403, tasks, {"headers": mine}),
        Call("GET", base, 422, tasks, {"headers": mine, "params": {"limit": "0"}}),
        Call("POST", base, 413, NO_ROUTE, {"content": b"x" * 70_000, "headers": mine}),
        Call("POST", base, 415, NO_ROUTE, {"content": b"title", "headers": mine}),
        Call("TRACE", base, 405, tasks, {"headers": mine}),
        Call("GET", f"/nowhere/{owner}", 404, NO_ROUTE, {}),
        Call("GET", f"/api/{owner}/explode", 500, "/api/{user_id}/explode", {"headers": mine}),
        Call("GET", "/livez", 200, "/livez", {}),
        Call("GET", "/readyz", 200, "/readyz", {}),
    ]


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == ACCESS_LOGGER]


async def test_every_answer_echoes_the_callers_request_id_and_logs_one_line(
    text_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    calls = await tour(text_client)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    caplog.clear()
    for index, call in enumerate(calls):
        request_id = f"tour-{index}.{call.status}"
        options = {**call.options}
        options["headers"] = {**options.get("headers", {}), "X-Request-ID": request_id}
        response = await text_client.request(call.method, call.url, **options)
        assert response.status_code == call.status, (call, response.text)
        assert response.headers["x-request-id"] == request_id, call
    records = access_records(caplog)
    assert len(records) == len(calls)  # one line per request, none for the setup
    for index, (call, record) in enumerate(zip(calls, records, strict=True)):
        line = record.__dict__
        assert line["request_id"] == f"tour-{index}.{call.status}"
        assert (line["method"], line["route"], line["status"]) == (
            call.method,
            call.route,
            call.status,
        )
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert "?" not in record.getMessage()  # no query string, no path values
        assert "user-" not in record.getMessage()


@pytest.mark.parametrize(
    "supplied",
    [
        "",
        "has space",
        "x" * (MAX_REQUEST_ID_LENGTH + 1),
        "id\u00e9",
        "a/b",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0",
        '{"json":1}',
    ],
    ids=["empty", "space", "too-long", "non-ascii", "slash", "jwt-shaped", "json"],
)
async def test_an_unsafe_request_id_is_replaced(
    text_client: httpx.AsyncClient, supplied: str
) -> None:
    headers = {"X-Request-ID": supplied.encode("utf-8")}
    response = await text_client.get("/livez", headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def test_without_one_each_request_gets_a_new_id(text_client: httpx.AsyncClient) -> None:
    owner = new_owner()
    ids = [
        (await text_client.get(f"/api/{owner}/tasks", headers=token_for(owner))).headers[
            "x-request-id"
        ]
        for _ in range(3)
    ]
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == 3


async def test_the_500_log_line_names_the_request_id_the_client_got(
    text_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    owner = new_owner()
    response = await text_client.get(f"/api/{owner}/explode", headers=token_for(owner))
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    [error] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert getattr(error, "request_id", None) == request_id
    assert error.getMessage() == "unexpected error on GET /api/{user_id}/explode"


async def test_text_lines_by_default(
    text_client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = new_owner()
    capsys.readouterr()
    response = await text_client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    request_id = response.headers["x-request-id"]
    [line] = [line for line in capsys.readouterr().out.splitlines() if request_id in line]
    timestamp, level, logger, rest = line.split(" ", 3)
    assert ISO_UTC.fullmatch(timestamp) and (level, logger) == ("INFO", ACCESS_LOGGER)
    assert re.fullmatch(
        rf"\[\d+ {request_id}\] GET /api/\{{user_id\}}/tasks 200 \d+\.\d\d ms", rest
    ), rest


async def test_json_lines_when_log_format_is_json(
    json_client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = new_owner()
    token = mint_token(owner, SECRET.encode())
    capsys.readouterr()
    response = await json_client.get(
        f"/api/{owner}/tasks",
        params={"status": "pending", "access_token": token},
        headers={"Authorization": f"Bearer {token}"},
    )
    failed = await json_client.get(f"/api/{owner}/explode", headers=token_for(owner))
    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines()]
    by_id = {line["request_id"]: line for line in lines if line["logger"] == ACCESS_LOGGER}
    line = by_id[response.headers["x-request-id"]]
    assert JSON_FIELDS | {"status", "duration_ms"} <= set(line)
    assert ISO_UTC.fullmatch(line["time"])
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/{user_id}/tasks", 200)
    assert isinstance(line["duration_ms"], float)
    assert by_id[failed.headers["x-request-id"]]["status"] == 500
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == failed.headers["x-request-id"]
    assert "RuntimeError" in error["exception"]
    assert token not in output and owner not in json.dumps(line)


@pytest.mark.parametrize(
    ("traceparent", "logged"),
    [
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "4bf92f3577b34da6a3ce929d0e0e4736",
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            "4bf92f3577b34da6a3ce929d0e0e4736",
        ),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", None),  # invalid: all zero
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", None),  # upper case
        ("not a traceparent at all, eyJhbGciOiJIUzI1NiJ9", None),
    ],
)
async def test_without_tracing_the_line_names_the_callers_trace(
    text_client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    traceparent: str,
    logged: str | None,
) -> None:
    """A server that exports no spans still names the caller's trace, so its lines join the
    caller's; anything but a well-formed W3C traceparent names none."""
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    caplog.clear()
    await text_client.get("/livez", headers={"traceparent": traceparent})
    [record] = access_records(caplog)
    assert getattr(record, "trace_id", None) == logged
