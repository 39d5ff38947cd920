"""Tokens, clocks and runners shared by the verifier tests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import jwt
import pytest

from backend.auth.tokens import TokenRejected, TokenVerifier

SECRET = b"a-test-secret-that-is-32-bytes!!"
OTHER_SECRET = b"another-secret-of-32-bytes-long!"
T = TypeVar("T")
SETTLE_ROUNDS = 20


def run(coroutine: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await coroutine

    return asyncio.run(wrapper())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(payload: dict[str, Any], secret: bytes = SECRET, **headers: Any) -> str:
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers or None)


def hand_signed(header: dict[str, Any], payload: Any, secret: bytes = SECRET) -> str:
    """A token assembled without PyJWT, so headers and payloads can be anything."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"sub": "user-1", "iat": now, "exp": now + 600}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


def rejection(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        run(verifier.verify(token))
    return caught.value.reason


@dataclass
class FakeClock:
    """A clock the test moves; `sleep` moves it too, so waits take no real time."""

    now: float
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # still a suspension point, as a real sleep is


@dataclass
class SteppedClock:
    """A clock only the test moves; a sleep ends once the test has moved it far enough."""

    now: float = 0.0
    sleepers: list[tuple[float, asyncio.Future[None]]] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.now + seconds, woken))
        await woken

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [entry for entry in self.sleepers if entry[0] <= self.now + 1e-9]
        for entry in due:
            self.sleepers.remove(entry)
            entry[1].set_result(None)


async def settle() -> None:
    """Let every task run until it waits on the clock or a lock (the JWKS is in memory)."""
    for _ in range(SETTLE_ROUNDS):
        await asyncio.sleep(0)
