"""A local JWKS endpoint (http.server on 127.0.0.1), one that never answers, and Ed25519 keys."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

JWKS_PATH = "/api/auth/jwks"


@dataclass(frozen=True)
class Ed25519Key:
    """An Ed25519 key pair: signs tokens, publishes its public half as a JWK."""

    kid: str
    private_key: ed25519.Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> Ed25519Key:
        return cls(kid or uuid.uuid4().hex, ed25519.Ed25519PrivateKey.generate())

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk = OKPAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    @property
    def public_key_bytes(self) -> bytes:
        """The raw 32-byte public key: what an alg-confusion attacker would use as HMAC key."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_key_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, payload: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(
            payload, self.private_key, algorithm="EdDSA", headers={"kid": self.kid, **headers}
        )


@dataclass
class JwksEndpoint:
    """What the local JWKS server serves, and how often it was asked."""

    url: str
    keys: list[dict[str, Any]] = field(default_factory=list)
    fetches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, *keys: Ed25519Key) -> None:
        with self.lock:
            self.keys = [key.public_jwk for key in keys]

    def document(self) -> bytes:
        with self.lock:
            self.fetches += 1
            return json.dumps({"keys": self.keys}).encode()


@contextmanager
def serve_jwks(*keys: Ed25519Key) -> Iterator[JwksEndpoint]:
    """Serve `keys` as a JWK Set on 127.0.0.1 (random port) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    endpoint = JwksEndpoint(url=f"http://127.0.0.1:{server.server_address[1]}{JWKS_PATH}")
    endpoint.publish(*keys)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != JWKS_PATH:
                self.send_error(404)
                return
            body = endpoint.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    server.RequestHandlerClass = Handler
    # A short poll interval: shutdown() waits for the loop to notice, up to one interval.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_silence() -> Iterator[str]:
    """A JWKS URL on 127.0.0.1 whose server takes connections and never answers a request.

    Nothing accepts them: the kernel completes each connection into the listen queue, the
    request is sent, and the reply never comes, as from an endpoint that hangs.
    """
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}{JWKS_PATH}"
