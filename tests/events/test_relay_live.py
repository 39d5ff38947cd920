"""The relay in real processes: inside the server by default, or as a process of its own;
and a receiver that never answers holds no request and no more than WEBHOOK_CONCURRENCY
connections."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SECRET, new_owner, token_for
from tests.events.conftest import new_secret
from tests.support.live_server import ROOT, live_server, stop_process_group
from tests.support.webhook_receiver import webhook_receiver

DEADLINE_SECONDS = 30.0


class HangingReceiver:
    """Accepts connections and never answers; counts how many it holds at once."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.open = 0
        self.most_open = 0
        self.accepted = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.open += 1
                self.accepted += 1
                self.most_open = max(self.most_open, self.open)
            threading.Thread(target=self._hold, args=(connection,), daemon=True).start()

    def _hold(self, connection: socket.socket) -> None:
        with connection:
            while connection.recv(65536):  # read the request, answer nothing, until closed
                pass
        with self._lock:
            self.open -= 1

    def close(self) -> None:
        self.listener.close()


def endpoints(url: str, secret: str) -> str:
    return json.dumps([{"name": "live", "url": url, "secrets": [secret]}])


@pytest.fixture
def hanging() -> Iterator[HangingReceiver]:
    receiver = HangingReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


def test_a_receiver_that_never_answers_slows_no_request(
    hanging: HangingReceiver, tmp_path: Path
) -> None:
    env = {
        "WEBHOOK_ENDPOINTS": endpoints(f"http://127.0.0.1:{hanging.port}/hooks", new_secret()),
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "WEBHOOK_CONCURRENCY": "4",
        "WEBHOOK_POLL_SECONDS": "0.1",
    }
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    owner = new_owner()
    with (
        live_server(url, SECRET, tmp_path / "server.log", extra_env=env) as server,
        httpx.Client(base_url=server.base_url, headers=token_for(owner), timeout=2) as client,
    ):
        for number in range(100):  # each answered within 2 s while deliveries hang for 5
            created = client.post(f"/api/{owner}/tasks", json={"title": f"task {number}"})
            assert created.status_code == 201
        deadline = time.monotonic() + DEADLINE_SECONDS
        while hanging.accepted < 4:
            assert time.monotonic() < deadline, "the relay never tried the receiver"
            time.sleep(0.05)  # a poll interval, bounded by the deadline above
    assert hanging.most_open <= 4  # WEBHOOK_CONCURRENCY: 100 events, 4 connections


def test_the_relay_as_a_process_of_its_own(tmp_path: Path) -> None:
    secret = new_secret()
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    owner = new_owner()
    with webhook_receiver(secret) as receiver:
        env = {
            "WEBHOOK_ENDPOINTS": endpoints(receiver.url, secret),
            "WEBHOOK_RELAY": "false",
            "WEBHOOK_POLL_SECONDS": "0.1",
        }
        with (
            live_server(url, SECRET, tmp_path / "server.log", extra_env=env) as server,
            httpx.Client(base_url=server.base_url, headers=token_for(owner), timeout=5) as client,
        ):
            created = client.post(f"/api/{owner}/tasks", json={"title": "relayed"})
            assert created.status_code == 201
            relay_env = {
                **os.environ,
                **env,
                "DATABASE_URL": url,
                "BETTER_AUTH_SECRET": SECRET,
                "MIGRATE_ON_START": "false",
            }
            relay = subprocess.Popen(
                [sys.executable, "-m", "backend.events", "relay"],
                cwd=ROOT,
                env=relay_env,
                start_new_session=True,
            )
            try:
                deadline = time.monotonic() + DEADLINE_SECONDS
                while not receiver.deliveries():
                    assert relay.poll() is None, "the relay exited"
                    assert time.monotonic() < deadline, "nothing delivered"
                    time.sleep(0.05)  # a poll interval, bounded by the deadline above
                os.killpg(relay.pid, signal.SIGTERM)
                assert relay.wait(timeout=DEADLINE_SECONDS) == 0
            finally:
                stop_process_group(relay)
        [delivery] = receiver.deliveries()
    body = delivery.payload
    assert (body["type"], body["data"]["task"]) == ("task.created", created.json())
