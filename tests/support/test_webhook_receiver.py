"""The test receiver itself: it takes in what is signed right, refuses what is not, and fails
the attempts its seed says, the same ones on every run."""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from urllib.parse import urlsplit

import httpx
import pytest

from backend.events.signing import signature_header
from backend.settings import secret_key
from tests.events.conftest import new_secret
from tests.support.webhook_receiver import (
    ACCEPTED,
    FAULTS,
    INCOMPLETE,
    Faults,
    webhook_receiver,
)


def signed(secret: str, webhook_id: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header((secret_key(secret),), webhook_id, timestamp, body),
    }


def test_a_signed_delivery_is_taken_in_and_a_forged_one_refused() -> None:
    secret = new_secret()
    body = json.dumps({"id": "evt_1", "type": "task.created"}).encode()
    with webhook_receiver(secret) as receiver, httpx.Client() as client:
        taken = client.post(receiver.url, content=body, headers=signed(secret, "evt_1", body))
        forged_headers = signed(new_secret(), "evt_2", body)
        forged = client.post(receiver.url, content=body, headers=forged_headers)
        assert (taken.status_code, forged.status_code) == (204, 400)
        [delivery] = receiver.deliveries()
        assert (delivery.webhook_id, delivery.body) == ("evt_1", body)
        assert delivery.payload == {"id": "evt_1", "type": "task.created"}
        assert [attempt.fate for attempt in receiver.attempts()] == [ACCEPTED, "bad signature"]


def test_faults_are_the_seeds_share_and_the_same_on_every_run() -> None:
    faults = Faults(fraction=0.3, seed=7)
    fates = [faults.fate(f"evt_{index}", attempt) for index in range(2000) for attempt in (0, 1)]
    counted = Counter(fates)
    assert 0.26 < sum(counted[fault] for fault in FAULTS) / len(fates) < 0.34
    assert all(counted[fault] > 0 for fault in FAULTS)
    again = [faults.fate(f"evt_{index}", attempt) for index in range(2000) for attempt in (0, 1)]
    assert fates == again
    assert Faults().fate("evt_1", 0) == ACCEPTED


def test_a_429_says_when_to_come_back_and_a_held_answer_outlasts_the_timeout() -> None:
    secret = new_secret()
    faults = Faults(fraction=1.0, seed=1, hold_seconds=0.5, retry_after=1)
    # The first ids whose first attempt meets each fault.
    first = {faults.fate(f"evt_{index}", 0): f"evt_{index}" for index in range(100, 0, -1)}
    body = b"{}"
    with webhook_receiver(secret, faults) as receiver, httpx.Client(timeout=0.2) as client:
        limited = client.post(
            receiver.url, content=body, headers=signed(secret, first["429"], body)
        )
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        failed = client.post(receiver.url, content=body, headers=signed(secret, first["500"], body))
        assert failed.status_code == 500
        held = signed(secret, first["timeout"], body)
        with pytest.raises(httpx.ReadTimeout):
            client.post(receiver.url, content=body, headers=held)
        # A held delivery was taken in: its sender will send it again, under the same id.
        assert [delivery.webhook_id for delivery in receiver.deliveries()] == [first["timeout"]]


def test_a_request_cut_short_by_its_senders_death_is_no_delivery() -> None:
    """A sender killed between its headers and its body: the body ends early. That is no
    forged signature (the relays' kills cause it): it is counted apart, and not taken in."""
    secret = new_secret()
    body = b'{"id": "evt_cut"}'
    lines = [
        "POST /hooks HTTP/1.1",
        "host: 127.0.0.1",
        f"content-length: {len(body)}",
        *(f"{name}: {value}" for name, value in signed(secret, "evt_cut", body).items()),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with webhook_receiver(secret) as receiver:
        address = urlsplit(receiver.url)
        with socket.create_connection((address.hostname, address.port or 80), timeout=5) as sender:
            sender.sendall(head + body[:5])
            sender.shutdown(socket.SHUT_WR)
            assert sender.recv(1024) == b""  # no answer: the receiver hangs up too
        assert [(attempt.webhook_id, attempt.fate) for attempt in receiver.attempts()] == [
            ("evt_cut", INCOMPLETE)
        ]
        assert receiver.deliveries() == []
