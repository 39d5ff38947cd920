"""Group 7: no token, secret or Authorization header value ever reaches the server's logs.

Two views of the same traffic: a live uvicorn (access log on, uvicorn at DEBUG) whose
whole output is read back, and the in-process app with every logger captured at DEBUG,
where a route that raises also exercises the 500 path.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.http.log_redaction import REDACTED, redact_query
from backend.main import create_app
from backend.settings import Settings
from backend.storage.schema import upgrade_to_head
from tests.conftest import DATABASES, SECRET, new_owner
from tests.security.test_tokens import KINDS, SHARED_SECRET, Attempt, Forger
from tests.support.jwks import Ed25519Key
from tests.support.live_server import LiveServer, live_server, own_database

pytestmark = pytest.mark.anyio

LOG_DEADLINE_SECONDS = 10.0
# An HTTP client will not send some forged headers, and uvicorn drops a 100 KB one itself:
# at most this many requests never reach the app (each one is a case the logs cannot show).
UNDELIVERED_AT_MOST = 3
CLIENT_LOGGERS = ("httpx", "httpcore")
JSON = {"Content-Type": "application/json"}
TITLE = {"title": "x"}


@dataclass
class Traffic:
    """What was sent: every credential that must not be logged, and how many requests."""

    credentials: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: set[int] = field(default_factory=set)
    undelivered: int = 0

    def remember(self, *values: str | bytes) -> None:
        for value in values:
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            text = text.removeprefix("Bearer ").removeprefix("Basic ").strip()
            if len(text) >= 16:
                self.credentials.add(text)
                # A signature or payload logged alone would still be a leak.
                self.credentials.update(part for part in text.split(".") if len(part) >= 16)


async def send_representative_traffic(client: httpx.AsyncClient) -> Traffic:
    """Valid calls, every forged-token kind, tokens in the query and cookies, and errors."""
    traffic = Traffic()
    traffic.remember(SECRET)
    forger = Forger(SHARED_SECRET, Ed25519Key.generate())
    owner = new_owner()
    valid = forger.valid(owner)
    mine = {"Authorization": f"Bearer {valid}"}
    traffic.remember(valid)

    async def send(method: str, url: str, **options: Any) -> httpx.Response:
        response = await client.request(method, url, **options)
        traffic.requests += 1
        traffic.statuses.add(response.status_code)
        return response

    tasks = f"/api/{owner}/tasks"
    created = await send("POST", tasks, json={"title": "logged?"}, headers=mine)
    assert created.status_code == 201, created.text
    task_url = f"{tasks}/{created.json()['id']}"
    await send("GET", tasks, params={"status": "pending", "limit": "5"}, headers=mine)
    await send("GET", task_url, headers=mine)
    await send("PUT", task_url, json={"completed": True}, headers=mine)
    await send("PATCH", f"{task_url}/complete", headers=mine)

    for kind in KINDS:
        if SHARED_SECRET not in kind.modes or kind.name.startswith(("jku", "x5u", "jwk")):
            continue
        attempt: Attempt = kind.build(forger, owner)
        traffic.remember(*attempt.headers.values(), *attempt.params.values())
        try:
            await send("POST", tasks, json=TITLE, headers=attempt.headers, params=attempt.params)
        except httpx.TransportError:
            # An HTTP client will not send some of these (h11: "Bearer " with its trailing
            # space), and uvicorn may drop a 100 KB header itself: nothing reached the app.
            traffic.undelivered += 1
    for name in ("access_token", "token", "jwt", "id_token"):
        await send("GET", tasks, params={name: valid, "status": "all"})
    await send("GET", tasks, params={"cursor": valid}, headers=mine)
    await send("GET", tasks, headers={"Cookie": f"better-auth.session_token={valid}"})

    # The request id is logged: a token sent as one is replaced, never kept.
    await send("GET", tasks, headers={**mine, "X-Request-ID": valid})

    stranger = forger.valid(new_owner())
    traffic.remember(stranger)
    await send("GET", tasks, headers={"Authorization": f"Bearer {stranger}"})  # 403
    await send("GET", f"{tasks}/999999999", headers=mine)  # 404
    await send("GET", tasks, params={"limit": "1000"}, headers=mine)  # 422
    await send("POST", tasks, content=b"title=x", headers={**mine, "Content-Type": "text/plain"})
    await send("POST", tasks, content=b"{" * 70_000, headers={**mine, **JSON})  # 413
    await send("TRACE", tasks, headers=mine)  # 405
    await send("DELETE", task_url, headers=mine)
    return traffic


def assert_no_credential_in(logged: str, traffic: Traffic) -> None:
    assert traffic.credentials, "nothing to look for: the test would prove nothing"
    leaked = sorted(credential for credential in traffic.credentials if credential in logged)
    assert not leaked, f"{len(leaked)} credential(s) in the log, e.g. {leaked[0][:40]}..."


# --- a live uvicorn -----------------------------------------------------------------------


@pytest.fixture(scope="module", params=DATABASES, ids=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return own_database(request, tmp_path_factory.mktemp("logs"), "logs")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log_path = tmp_path_factory.mktemp("logs") / "server.log"
    with live_server(
        database_url, SECRET, log_path, extra_env={"UVICORN_LOG_LEVEL": "debug"}
    ) as running:
        yield running


def wait_for_log(server: LiveServer, marker: str) -> str:
    """The log once `marker` shows up in it (the access line is written after the response)."""
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    while True:
        logged = server.log_text()
        if marker in logged or time.monotonic() > deadline:
            return logged
        time.sleep(0.05)  # a poll interval, bounded by the deadline


async def test_a_live_servers_output_holds_no_credential(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        traffic = await send_representative_traffic(client)
        marker = f"/api/{new_owner()}/tasks"
        await client.get(marker)
    logged = wait_for_log(server, marker)
    assert marker in logged, "the access log is off: the test would prove nothing"
    assert logged.count('HTTP/1.1"') >= traffic.requests
    assert traffic.undelivered <= UNDELIVERED_AT_MOST
    assert {401, 403, 404, 405, 413, 415, 422} <= traffic.statuses
    assert_no_credential_in(logged, traffic)
    assert "access_token=[redacted]" in logged
    assert "status=all" in logged  # the contract's own parameters stay readable


@pytest.fixture(scope="module")
def json_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The production setting: uvicorn's access log off, the app's JSON access log on. It
    migrates the module's database itself: under parallel workers the `server` fixture,
    which also does, may run in another process (upgrading a database at head is a no-op)."""
    log_path = tmp_path_factory.mktemp("logs") / "json-server.log"
    with live_server(
        database_url,
        SECRET,
        log_path,
        access_log=False,
        extra_env={"LOG_FORMAT": "json"},
    ) as running:
        yield running


async def test_the_json_access_log_holds_no_credential_and_no_query(
    json_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=json_server.base_url, timeout=30) as client:
        traffic = await send_representative_traffic(client)
        marker = (await client.get("/livez")).headers["x-request-id"]
    logged = wait_for_log(json_server, marker)
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "backend.access"]
    assert any(line["request_id"] == marker for line in access)
    # `requests` counts the answered ones: each of them, and the marker, is logged.
    assert traffic.undelivered <= UNDELIVERED_AT_MOST
    assert len(access) >= traffic.requests + 1
    assert {401, 403, 404, 405, 413, 415, 422} <= {line["status"] for line in access}
    assert_no_credential_in(logged, traffic)
    routes = {line["route"] for line in access}
    assert not any("?" in route or "user-" in route for route in routes), routes
    # No query values at all: the contract's own parameters are not logged either.
    assert "access_token" not in logged and "pending" not in logged


# --- the in-process app, every logger at DEBUG ----------------------------------------------


def with_failing_route(app: FastAPI) -> FastAPI:
    async def fail() -> None:
        raise RuntimeError("provoked by test_logs")

    app.add_api_route("/api/{user_id}/explode", fail, methods=["GET"])
    return app


async def test_in_process_logs_hold_no_credential(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade_to_head(database_url)
    settings = Settings(
        database_url=database_url,
        better_auth_secret=SECRET,
        migrate_on_start=False,
        _env_file=None,
    )
    caplog.set_level(logging.DEBUG)  # the root logger: every logger propagates to it
    caplog.set_level(logging.DEBUG, logger="backend")  # which create_app sets to INFO
    app = with_failing_route(create_app(settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            traffic = await send_representative_traffic(client)
            forger = Forger(SHARED_SECRET, Ed25519Key.generate())
            owner = new_owner()
            token = forger.valid(owner)
            traffic.remember(token)
            failed = await client.get(
                f"/api/{owner}/explode",
                params={"access_token": token},
                headers={"Authorization": f"Bearer {token}", "Cookie": f"token={token}"},
            )
            assert failed.status_code == 500
    # The test's own HTTP client logs the URLs it requests (query included): not the server.
    server_records = [
        record for record in caplog.records if not record.name.startswith(CLIENT_LOGGERS)
    ]
    handler = logging.Formatter()
    logged = "\n".join(
        f"{handler.format(record)} {record.args!r} {record.__dict__!r}" for record in server_records
    )
    assert "unexpected error" in logged, "the 500 was not logged: the test would prove nothing"
    assert_no_credential_in(logged, traffic)


# --- the redaction rule itself ----------------------------------------------------------------

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlLWJ5dGVz"
KEEP = frozenset({"status", "sort", "limit", "cursor"})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/u/tasks", "/api/u/tasks"),
        ("/api/u/tasks?status=all&limit=5", "/api/u/tasks?status=all&limit=5"),
        (f"/api/u/tasks?access_token={JWT}", f"/api/u/tasks?access_token={REDACTED}"),
        (f"/api/u/tasks?Access_Token={JWT}", f"/api/u/tasks?Access_Token={REDACTED}"),
        (f"/api/u/tasks?{JWT}", f"/api/u/tasks?{REDACTED}"),
        (f"/api/u/tasks?cursor={JWT}", f"/api/u/tasks?cursor={REDACTED}"),
        (f"/a?cursor={JWT.replace('.', '%2E')}", f"/a?cursor={REDACTED}"),
        ("/a?cursor=MTIzNDU2Nzg5MA", "/a?cursor=MTIzNDU2Nzg5MA"),
        ("/a?x=1&&y", f"/a?x={REDACTED}&{REDACTED}&{REDACTED}"),
        ("/a?st%61tus=all", "/a?st%61tus=all"),
    ],
    ids=[
        "no-query",
        "contract-parameters",
        "access_token",
        "other-casing",
        "bare-value",
        "jwt-as-cursor",
        "percent-encoded-jwt",
        "real-cursor",
        "odd-pairs",
        "encoded-name",
    ],
)
def test_query_redaction(path: str, expected: str) -> None:
    assert redact_query(path, KEEP) == expected
