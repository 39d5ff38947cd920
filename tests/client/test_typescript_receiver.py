"""The TypeScript receiver example gets real deliveries: a live server on each database sends
its events, signed, to the receiver clients/typescript/test/receiver.test.ts starts, while
that test creates, updates, completes and deletes a task through the example client."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.auth.tokens import mint_token
from tests.conftest import DATABASES, SECRET, new_owner
from tests.support.live_server import LiveServer, free_port, live_server, own_database
from tests.support.tools import ROOT, node_binary

NODE_TEST_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Receiver:
    """Where the node test listens for deliveries, and the secret they are signed with."""

    port: int
    secret: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@pytest.fixture
def receiver() -> Receiver:
    # A Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return Receiver(free_port(), secret)


@pytest.fixture(params=DATABASES, ids=DATABASES)
def own_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the test's own: a relay dispatches every event of its database, to its
    own endpoints, so another test's server beside this one would take this one's events."""
    return own_database(request, tmp_path, "receiver")


@pytest.fixture
def server(own_url: str, tmp_path: Path, receiver: Receiver) -> Iterator[LiveServer]:
    """The API, delivering its events to the receiver."""
    endpoint = {
        "name": f"ts-{uuid.uuid4().hex[:12]}",
        "url": receiver.url,
        "secrets": [receiver.secret],
    }
    extra_env = {
        "WEBHOOK_ENDPOINTS": json.dumps([endpoint]),
        # The relay looks for new events every 0.2 s, and a delivery that met a receiver not
        # yet listening is tried again within a second.
        "WEBHOOK_POLL_SECONDS": "0.2",
        "WEBHOOK_RETRY_BASE_SECONDS": "1",
    }
    log = tmp_path / "server.log"
    with live_server(own_url, SECRET, log, extra_env=extra_env) as running:
        yield running


def test_the_receiver_example_gets_the_servers_deliveries(
    compiled_client: Path, server: LiveServer, receiver: Receiver
) -> None:
    owner = new_owner()
    users = [{"user": owner, "token": mint_token(owner, SECRET.encode())}]
    result = subprocess.run(
        [
            node_binary(),
            "--test",
            "--test-reporter=tap",
            str(compiled_client / "test" / "receiver.test.js"),
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "TODO_API_URL": server.base_url,
            "TODO_API_USERS": json.dumps(users),
            "RECEIVER_PORT": str(receiver.port),
            "RECEIVER_SECRET": receiver.secret,
        },
        capture_output=True,
        text=True,
        timeout=NODE_TEST_TIMEOUT_SECONDS,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"{report}\nserver log:\n{server.log_text()[-4000:]}"
    assert "# pass 3" in report, report
    assert "# fail 0" in report, report
