"""A real webhook receiver on 127.0.0.1: it verifies each delivery's signature with the
Standard Webhooks library, fails a seeded share of the attempts (500, an answer held past
the sender's timeout, 429 with Retry-After) and keeps every delivery it took in.

A threaded stdlib `http.server`, not uvicorn in a thread: a held answer (the timeout fault)
blocks its own connection's thread and nothing else, the receiver needs no event loop of its
own beside the caller's (which drives the API from asyncio), and it starts and stops
synchronously in a `with`. Its speed is ample for the sizes here: thousands of deliveries a
second on keep-alive connections, fewer than the relays send.
"""

from __future__ import annotations

import contextlib
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

import standardwebhooks

FAULTS: Final = ("500", "timeout", "429")
ACCEPTED: Final = "accepted"
HELD: Final = "timeout"
REFUSED_SIGNATURE: Final = "bad signature"
# A request whose body ended before its Content-Length: its sender died while sending it.
INCOMPLETE: Final = "cut short"
PATH: Final = "/hooks"
# An idle keep-alive connection's thread ends after this (the sender reconnects).
IDLE_SECONDS: Final = 30.0
# Connections the listening socket queues before accepting them: the relays open dozens at
# once when reminders come due (socketserver's default of 5 drops their SYNs, and each
# waits a second to retry).
BACKLOG: Final = 1024
STOP_SECONDS: Final = 5.0


@dataclass(frozen=True, slots=True)
class Faults:
    """Which attempts fail: `fraction` of them, each one's fate drawn from `seed`, the
    webhook-id and how many attempts of that id came before (the same run of ids meets the
    same failures, whatever order the threads take them in). A `timeout` holds its answer
    `hold_seconds` (more than the sender waits); a 429 says `Retry-After: retry_after`."""

    fraction: float = 0.0
    seed: int = 0
    hold_seconds: float = 1.5
    retry_after: int = 1

    def fate(self, webhook_id: str, earlier_attempts: int) -> str:
        """ACCEPTED, or the fault this attempt meets."""
        if self.fraction <= 0:
            return ACCEPTED
        draw = random.Random(f"{self.seed}:{webhook_id}:{earlier_attempts}")
        if draw.random() >= self.fraction:
            return ACCEPTED
        return draw.choice(FAULTS)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery the receiver took in: verified, parsed, and when it arrived (epoch s)."""

    webhook_id: str
    body: bytes
    payload: dict[str, Any]
    arrived_at: float


@dataclass(frozen=True, slots=True)
class Attempt:
    """Any attempt, and what the receiver made of it (ACCEPTED, a fault, REFUSED_SIGNATURE,
    INCOMPLETE)."""

    webhook_id: str
    fate: str
    arrived_at: float


class WebhookReceiver:
    """What arrived, kept under a lock for the handler threads."""

    def __init__(self, secret: str, faults: Faults) -> None:
        self.verifier = standardwebhooks.Webhook(secret)
        self.faults = faults
        self.url = ""
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._attempts: list[Attempt] = []
        self._attempts_of: Counter[str] = Counter()

    def deliveries(self) -> list[Delivery]:
        """Every delivery taken in so far (a copy), a held one's included: its sender gave
        up on the answer, but the receiver did the work, as a slow receiver does."""
        with self._lock:
            return list(self._deliveries)

    def attempts(self) -> list[Attempt]:
        """Every attempt so far (a copy), in the order they arrived."""
        with self._lock:
            return list(self._attempts)

    def cut_short(self, headers: dict[str, str]) -> None:
        """Record a request whose sender hung up before its body ended (no answer)."""
        with self._lock:
            self._attempts.append(Attempt(headers.get("webhook-id", ""), INCOMPLETE, time.time()))

    def take(self, headers: dict[str, str], body: bytes) -> str:
        """Verify and record one attempt; its fate."""
        arrived_at = time.time()
        webhook_id = headers.get("webhook-id", "")
        try:
            payload: dict[str, Any] = self.verifier.verify(body, headers)
        except standardwebhooks.WebhookVerificationError:
            with self._lock:
                self._attempts.append(Attempt(webhook_id, REFUSED_SIGNATURE, arrived_at))
            return REFUSED_SIGNATURE
        with self._lock:
            fate = self.faults.fate(webhook_id, self._attempts_of[webhook_id])
            self._attempts_of[webhook_id] += 1
            self._attempts.append(Attempt(webhook_id, fate, arrived_at))
            if fate in (ACCEPTED, HELD):
                self._deliveries.append(Delivery(webhook_id, body, payload, arrived_at))
        return fate


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the relays' connection pools expect
        timeout = IDLE_SECONDS

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            if self.path != PATH:
                self._answer(HTTPStatus.NOT_FOUND)
                return
            if len(body) < length:
                receiver.cut_short(headers)
                self.close_connection = True
                return
            fate = receiver.take(headers, body)
            if fate == ACCEPTED:
                self._answer(HTTPStatus.NO_CONTENT)
            elif fate == HELD:
                # A bounded wait on the receiver's own stop: the sender times out meanwhile.
                receiver.stopping.wait(receiver.faults.hold_seconds)
                with contextlib.suppress(OSError):  # the sender has hung up by now
                    self._answer(HTTPStatus.NO_CONTENT)
            elif fate == "429":
                self._answer(
                    HTTPStatus.TOO_MANY_REQUESTS, {"retry-after": str(receiver.faults.retry_after)}
                )
            elif fate == REFUSED_SIGNATURE:
                self._answer(HTTPStatus.BAD_REQUEST)
            else:
                self._answer(HTTPStatus.INTERNAL_SERVER_ERROR)

        def _answer(self, status: HTTPStatus, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the receiver keeps its own record."""

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = BACKLOG

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about a sender that hung up (a relay killed, a timeout given up on): the
        crash run does that hundreds of times; anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def webhook_receiver(secret: str, faults: Faults | None = None) -> Iterator[WebhookReceiver]:
    """A receiver of deliveries signed with `secret` on a free port of 127.0.0.1 while the
    block runs; `receiver.url` is its endpoint's URL."""
    receiver = WebhookReceiver(secret, faults or Faults())
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{PATH}"
    thread = threading.Thread(target=server.serve_forever, name="webhook receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(STOP_SECONDS)
