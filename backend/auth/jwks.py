"""The signing keys of a JWKS URL: fetched, cached, and refetched when a token names a new one.

Better Auth publishes a new key at the moment it signs the first token with it, so a token
with an unknown `kid` may be brand new: it waits for the next fetch instead of being refused.
Fetches are rate-limited so that tokens with made-up `kid`s cannot flood the endpoint: one
fetch at a time, and a fetch starts at least `min_refresh_interval` after the previous one.
Over any period of T seconds a process therefore fetches at most 1 + T / interval times,
whatever it is sent; tokens that arrive together share one fetch.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
import jwt

logger = logging.getLogger(__name__)

MAX_JWKS_BYTES: Final = 256 * 1024

# Which algorithms a JWK can serve when it does not name one itself (RFC 7518 §6).
_ALGORITHMS_BY_KEY_TYPE: Final[Mapping[tuple[str, str | None], frozenset[str]]] = {
    ("RSA", None): frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("OKP", "Ed448"): frozenset({"EdDSA"}),
}


def _algorithms_for_jwk(jwk: Mapping[str, Any], configured: tuple[str, ...]) -> list[str]:
    """The configured algorithms this JWK may verify; empty when it must be ignored."""
    if "d" in jwk:
        # A private key published in a JWKS is a misconfiguration; never use it.
        return []
    if jwk.get("use", "sig") != "sig":
        return []
    key_type = jwk.get("kty")
    curve = None if key_type == "RSA" else jwk.get("crv")
    if not isinstance(key_type, str) or not (curve is None or isinstance(curve, str)):
        return []
    possible = _ALGORITHMS_BY_KEY_TYPE.get((key_type, curve), frozenset())
    declared = jwk.get("alg")
    if declared is not None:
        possible = possible & {declared} if isinstance(declared, str) else frozenset()
    return [name for name in configured if name in possible]


@dataclass(frozen=True, slots=True)
class KeySet:
    """The usable keys of one JWKS document."""

    by_id: Mapping[tuple[str, str], jwt.PyJWK]
    """(kid, algorithm) -> key."""
    sole_key: Mapping[str, jwt.PyJWK]
    """algorithm -> key, filled only when the JWKS holds exactly one usable key."""

    def lookup(self, key_id: str | None, algorithm: str) -> jwt.PyJWK | None:
        if key_id is None:
            return self.sole_key.get(algorithm)
        return self.by_id.get((key_id, algorithm))


EMPTY_KEY_SET: Final = KeySet(by_id={}, sole_key={})


def parse_jwks(body: bytes, configured: tuple[str, ...]) -> KeySet:
    """Build the usable keys of a JWKS document; raises ValueError if it is not one."""
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    by_id: dict[tuple[str, str], jwt.PyJWK] = {}
    usable: list[dict[str, jwt.PyJWK]] = []
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        keys_by_algorithm: dict[str, jwt.PyJWK] = {}
        for algorithm in _algorithms_for_jwk(jwk, configured):
            try:
                key = jwt.PyJWK(jwk, algorithm=algorithm)
            except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                continue  # malformed key material: one bad entry must not hide the rest
            if key.Algorithm.check_key_length(key.key) is not None:
                continue  # e.g. RSA below 2048 bits
            keys_by_algorithm[algorithm] = key
        if not keys_by_algorithm:
            continue
        usable.append(keys_by_algorithm)
        key_id = jwk.get("kid")
        if isinstance(key_id, str):
            for algorithm, key in keys_by_algorithm.items():
                by_id.setdefault((key_id, algorithm), key)
    if not usable:
        # Like PyJWKSet: a set with nothing usable is a broken response, not a revocation.
        raise ValueError("JWK Set has no usable keys")
    return KeySet(by_id=by_id, sole_key=usable[0] if len(usable) == 1 else {})


class JwksKeys:
    """The keys published at one JWKS URL, as this process last fetched them."""

    def __init__(
        self,
        url: str,
        algorithms: tuple[str, ...],
        *,
        min_refresh_interval_seconds: float,
        cache_ttl_seconds: float,
        fetch_timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
        monotonic_clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if min_refresh_interval_seconds < 0 or cache_ttl_seconds <= 0:
            raise ValueError("refresh intervals must be positive")
        self._url = url
        self._algorithms = algorithms
        self._min_refresh_interval = min_refresh_interval_seconds
        self._cache_ttl = cache_ttl_seconds
        self._fetch_timeout = fetch_timeout_seconds
        self._transport = transport
        self._monotonic = monotonic_clock
        self._sleep = sleep
        self._client: httpx.AsyncClient | None = None
        self._keys = EMPTY_KEY_SET
        self._loaded_at: float | None = None
        self._fetch_started_at: float | None = None
        self._lock = asyncio.Lock()
        self.version = 0
        """Incremented each time a fetch replaces the keys."""

    @property
    def current(self) -> KeySet:
        return self._keys

    def now(self) -> float:
        """The clock the fetch schedule is kept on."""
        return self._monotonic()

    def are_stale(self) -> bool:
        """True before the first successful fetch and once cache_ttl has passed since the last."""
        return self._loaded_at is None or self._monotonic() - self._loaded_at >= self._cache_ttl

    async def refresh_if_stale(self) -> None:
        """Fetch when the keys are stale and the rate allows it now; never waits for a slot.

        A JWKS endpoint that is down therefore costs one fetch per interval, not a delay on
        every request: the cached keys keep serving.
        """
        if self.are_stale():
            await self._refresh(self._monotonic(), wait=False)

    async def refresh_for_unknown_key(self, asked_at: float) -> None:
        """Return once a fetch that started at or after `asked_at` has finished.

        A token naming a key absent from the cache may have been signed with a key published
        after the last fetch; one fetch that started after the token arrived settles it. The
        wait for the next slot is at most min_refresh_interval.
        """
        await self._refresh(asked_at, wait=True)

    async def _refresh(self, asked_at: float, *, wait: bool) -> None:
        async with self._lock:
            started = self._fetch_started_at
            if started is not None and started >= asked_at:
                return  # a fetch begun after the question was asked has just finished
            if started is not None:
                delay = started + self._min_refresh_interval - self._monotonic()
                if delay > 0:
                    if not wait:
                        return
                    await self._sleep(delay)
            self._fetch_started_at = self._monotonic()
            keys = await self._fetch()
            if keys is not None:
                self._keys = keys
                self._loaded_at = self._monotonic()
                self.version += 1

    async def _fetch(self) -> KeySet | None:
        """The freshly fetched keys, or None (logged) when the endpoint fails."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=self._fetch_timeout,
                follow_redirects=False,
            )
        try:
            async with self._client.stream("GET", self._url) as response:
                if response.status_code != httpx.codes.OK:
                    logger.warning(
                        "JWKS fetch from %s returned HTTP %d; keeping the cached keys",
                        self._url,
                        response.status_code,
                    )
                    return None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise ValueError("JWKS document is too large")
            return parse_jwks(bytes(body), self._algorithms)
        except (httpx.HTTPError, ValueError, RecursionError) as error:
            logger.warning(
                "JWKS fetch from %s failed (%s); keeping the cached keys",
                self._url,
                type(error).__name__,
            )
            return None

    async def aclose(self) -> None:
        """Close the HTTP client used to fetch the JWKS."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
