"""Bearer-token verification: a token string in, the verified claims out (no HTTP, no settings).

Follows RFC 8725 (JWT Best Current Practices): the accepted algorithms come from
configuration, never from the token; `exp` and `sub` are required; `iss`/`aud` are
checked whenever they are configured; every failure becomes `TokenRejected` with a
short, client-safe reason that never echoes the token or key material.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx
import jwt
from jwt.exceptions import InvalidSubjectError
from jwt.types import Options

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH: Final = 8 * 1024
"""Longer tokens are rejected before any parsing: no base64 or JSON work for junk."""

VERIFIED_TOKEN_CACHE_SIZE: Final = 4096
MAX_JWKS_BYTES: Final = 256 * 1024

HMAC_ALGORITHMS: Final = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
# RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
_HMAC_MINIMUM_SECRET_BYTES: Final = {"HS256": 32, "HS384": 48, "HS512": 64}

# The three base64url segments of a compact JWS. Checked before PyJWT sees the token, so
# non-ASCII text, whitespace, extra segments and JWE (five segments) fail cheaply and alike.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")

# Which algorithms a JWK can serve when it does not name one itself (RFC 7518 §6).
_ALGORITHMS_BY_KEY_TYPE: Final[Mapping[tuple[str, str | None], frozenset[str]]] = {
    ("RSA", None): frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("OKP", "Ed448"): frozenset({"EdDSA"}),
}


class TokenRejected(Exception):
    """The token was not accepted; `reason` is a short sentence safe to show a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token tells the server."""

    subject: str
    """The `sub` claim: the user id."""
    expires_at: int
    """The `exp` claim, seconds since the epoch."""


class TokenVerifier(Protocol):
    """Anything that turns a bearer token into `Claims` or raises `TokenRejected`."""

    async def verify(self, token: str) -> Claims: ...


@dataclass(frozen=True, slots=True)
class _Verified:
    claims: Claims
    not_before: float | None


def _reason_for(error: jwt.PyJWTError) -> str:
    """Map a PyJWT failure to a client-safe sentence (PyJWT's own messages may quote input)."""
    # Order matters: InvalidSignatureError is a DecodeError, and so on.
    if isinstance(error, jwt.InvalidSignatureError):
        return "signature verification failed"
    if isinstance(error, jwt.InvalidAlgorithmError):
        return "token algorithm is not allowed"
    if isinstance(error, jwt.MissingRequiredClaimError):
        if error.claim == "sub":
            return "token subject is missing or not a string"
        return f"token is missing the required '{error.claim}' claim"
    if isinstance(error, InvalidSubjectError):
        return "token subject is missing or not a string"
    if isinstance(error, jwt.InvalidIssuerError):
        return "token issuer is not accepted"
    if isinstance(error, jwt.InvalidAudienceError):
        return "token audience is not accepted"
    if isinstance(error, jwt.InvalidKeyError):
        return "signing key is not acceptable"
    if isinstance(error, jwt.DecodeError):
        return "token is not a JWT"
    return "token is invalid"


def _numeric_date(payload: Mapping[str, Any], claim: str) -> float | None:
    """A NumericDate claim (RFC 7519 §2) as a float; None when absent."""
    value = payload.get(claim)
    if value is None:
        return None
    # bool is an int subclass and strings are what PyJWT would coerce: both are malformed.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenRejected(f"token '{claim}' claim is not a number")
    return float(value)


def _check_times(expires_at: float, not_before: float | None, now: float, leeway: float) -> None:
    if expires_at <= now - leeway:
        raise TokenRejected("token has expired")
    if not_before is not None and not_before > now + leeway:
        raise TokenRejected("token is not yet valid")


def _claims_from(payload: Mapping[str, Any], now: float, leeway: float) -> _Verified:
    """Validate the claims PyJWT left to us and build the result."""
    expires_at = _numeric_date(payload, "exp")
    if expires_at is None:
        raise TokenRejected("token is missing the required 'exp' claim")
    not_before = _numeric_date(payload, "nbf")
    _numeric_date(payload, "iat")  # allowed, but must be well formed when present
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise TokenRejected("token subject is missing or not a string")
    _check_times(expires_at, not_before, now, leeway)
    return _Verified(Claims(subject=subject, expires_at=int(expires_at)), not_before)


def _check_shape(token: str) -> None:
    if not isinstance(token, str):
        raise TokenRejected("token is not a JWT")
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenRejected("token is too large")
    if _COMPACT_JWS.fullmatch(token) is None:
        raise TokenRejected("token is not a JWT")


class _VerifiedTokenCache:
    """A bounded LRU of token -> claims; every hit re-checks `exp` and `nbf` against now."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, _Verified] = OrderedDict()

    def get(self, token: str, now: float, leeway: float) -> Claims | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        try:
            _check_times(entry.claims.expires_at, entry.not_before, now, leeway)
        except TokenRejected:
            del self._entries[token]
            raise
        self._entries.move_to_end(token)
        return entry.claims

    def put(self, token: str, entry: _Verified) -> None:
        self._entries[token] = entry
        self._entries.move_to_end(token)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


class _Decoder:
    """The PyJWT call shared by both verifiers, with its options built once."""

    def __init__(self, issuer: str | None, audience: str | None, leeway_seconds: float) -> None:
        if leeway_seconds < 0:
            raise ValueError("leeway_seconds must not be negative")
        required = ["exp", "sub"]
        if issuer is not None:
            required.append("iss")
        if audience is not None:
            required.append("aud")
        # Time claims are checked by _claims_from against the injectable clock, so the
        # first verification and later cache hits apply exactly the same rule.
        self.options: Options = {
            "require": required,
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
            "verify_iss": issuer is not None,
            # Unconfigured audience means "not checked", not "must be absent".
            "verify_aud": audience is not None,
            "enforce_minimum_key_length": True,
        }
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_seconds

    def decode(
        self, token: str, key: jwt.PyJWK | bytes, algorithms: Sequence[str], now: float
    ) -> _Verified:
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                options=self.options,
                issuer=self.issuer,
                audience=self.audience,
            )
        except jwt.PyJWTError as error:
            raise TokenRejected(_reason_for(error)) from None
        return _claims_from(payload, now, self.leeway)


def _validated_algorithms(
    algorithms: Sequence[str], allowed: frozenset[str], kind: str
) -> tuple[str, ...]:
    if isinstance(algorithms, str):
        raise ValueError("algorithms must be a sequence of names, not a single string")
    chosen = tuple(dict.fromkeys(algorithms))
    if not chosen:
        raise ValueError("at least one algorithm must be configured")
    refused = [name for name in chosen if name not in allowed]
    if refused:
        raise ValueError(f"{kind} accepts only {sorted(allowed)}; refused {refused}")
    return chosen


class SharedSecretVerifier:
    """Mode (a): HMAC tokens signed with the secret shared with Better Auth."""

    def __init__(
        self,
        secret: bytes,
        *,
        algorithms: Sequence[str] = ("HS256",),
        issuer: str | None = None,
        audience: str | None = None,
        leeway_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._algorithms = _validated_algorithms(
            algorithms, HMAC_ALGORITHMS, "SharedSecretVerifier"
        )
        minimum = max(_HMAC_MINIMUM_SECRET_BYTES[name] for name in self._algorithms)
        if len(secret) < minimum:
            raise ValueError(f"the shared secret must be at least {minimum} bytes long")
        self._secret = bytes(secret)
        self._decoder = _Decoder(issuer, audience, leeway_seconds)
        self._clock = clock
        self._cache = _VerifiedTokenCache(VERIFIED_TOKEN_CACHE_SIZE)

    async def verify(self, token: str) -> Claims:
        """Return the token's claims or raise `TokenRejected`."""
        _check_shape(token)
        now = self._clock()
        cached = self._cache.get(token, now, self._decoder.leeway)
        if cached is not None:
            return cached
        verified = self._decoder.decode(token, self._secret, self._algorithms, now)
        self._cache.put(token, verified)
        return verified.claims


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
class _KeySet:
    by_id: Mapping[tuple[str, str], jwt.PyJWK]
    """(kid, algorithm) -> key."""
    sole_key: Mapping[str, jwt.PyJWK]
    """algorithm -> key, filled only when the JWKS holds exactly one usable key."""


_EMPTY_KEY_SET: Final = _KeySet(by_id={}, sole_key={})


def _parse_jwks(body: bytes, configured: tuple[str, ...]) -> _KeySet:
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
    return _KeySet(by_id=by_id, sole_key=usable[0] if len(usable) == 1 else {})


class JwksVerifier:
    """Mode (b): asymmetric tokens checked against a Better Auth deployment's JWKS URL."""

    def __init__(
        self,
        jwks_url: str,
        *,
        algorithms: Sequence[str] = ("EdDSA",),
        issuer: str | None = None,
        audience: str | None = None,
        leeway_seconds: float = 5.0,
        min_refresh_interval_seconds: float = 30.0,
        cache_ttl_seconds: float = 300.0,
        fetch_timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        monotonic_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._algorithms = _validated_algorithms(algorithms, ASYMMETRIC_ALGORITHMS, "JwksVerifier")
        if min_refresh_interval_seconds < 0 or cache_ttl_seconds <= 0:
            raise ValueError("refresh intervals must be positive")
        self._jwks_url = jwks_url
        self._decoder = _Decoder(issuer, audience, leeway_seconds)
        self._min_refresh_interval = min_refresh_interval_seconds
        self._cache_ttl = cache_ttl_seconds
        self._fetch_timeout = fetch_timeout_seconds
        self._transport = transport
        self._clock = clock
        self._monotonic = monotonic_clock
        self._client: httpx.AsyncClient | None = None
        self._keys = _EMPTY_KEY_SET
        self._loaded_at: float | None = None
        self._last_attempt: float | None = None
        self._attempts = 0
        self._lock = asyncio.Lock()
        self._cache = _VerifiedTokenCache(VERIFIED_TOKEN_CACHE_SIZE)

    async def verify(self, token: str) -> Claims:
        """Return the token's claims or raise `TokenRejected`."""
        _check_shape(token)
        now = self._clock()
        # Past cache_ttl the token cache is not trusted: a refresh clears it, so tokens
        # signed by a withdrawn key stop being accepted within one cache_ttl.
        if not self._keys_are_stale():
            cached = self._cache.get(token, now, self._decoder.leeway)
            if cached is not None:
                return cached
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenRejected(_reason_for(error)) from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise TokenRejected("token algorithm is not allowed")
        key = await self._key_for(header.get("kid"), algorithm)
        verified = self._decoder.decode(token, key, (algorithm,), now)
        self._cache.put(token, verified)
        return verified.claims

    async def aclose(self) -> None:
        """Close the HTTP client used to fetch the JWKS."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _keys_are_stale(self) -> bool:
        return self._loaded_at is None or self._monotonic() - self._loaded_at >= self._cache_ttl

    async def _key_for(self, key_id: str | None, algorithm: str) -> jwt.PyJWK:
        if self._keys_are_stale():
            await self._refresh()
        key = self._lookup(key_id, algorithm)
        if key is None and key_id is not None:
            # Maybe the key was rotated in; _refresh rate-limits, so random kids stay cheap.
            await self._refresh()
            key = self._lookup(key_id, algorithm)
        if key is None:
            raise TokenRejected("unknown signing key")
        return key

    def _lookup(self, key_id: str | None, algorithm: str) -> jwt.PyJWK | None:
        if key_id is None:
            return self._keys.sole_key.get(algorithm)
        return self._keys.by_id.get((key_id, algorithm))

    async def _refresh(self) -> None:
        """Fetch the JWKS at most once per min_refresh_interval, one fetch at a time."""
        attempts_seen = self._attempts
        async with self._lock:
            if self._attempts != attempts_seen:
                return  # a fetch finished while we waited: use its result
            now = self._monotonic()
            if (
                self._last_attempt is not None
                and now - self._last_attempt < self._min_refresh_interval
            ):
                return
            self._last_attempt = now
            self._attempts += 1
            keys = await self._fetch()
            if keys is not None:
                self._keys = keys
                self._loaded_at = self._monotonic()
                # Tokens cached under a key that has just been withdrawn must not outlive it.
                self._cache.clear()

    async def _fetch(self) -> _KeySet | None:
        """The freshly fetched keys, or None (logged) when the endpoint fails."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=self._fetch_timeout,
                follow_redirects=False,
            )
        try:
            async with self._client.stream("GET", self._jwks_url) as response:
                if response.status_code != httpx.codes.OK:
                    logger.warning(
                        "JWKS fetch from %s returned HTTP %d; keeping the cached keys",
                        self._jwks_url,
                        response.status_code,
                    )
                    return None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise ValueError("JWKS document is too large")
            return _parse_jwks(bytes(body), self._algorithms)
        except (httpx.HTTPError, ValueError, RecursionError) as error:
            logger.warning(
                "JWKS fetch from %s failed (%s); keeping the cached keys",
                self._jwks_url,
                type(error).__name__,
            )
            return None


def mint_token(
    subject: str,
    secret: bytes,
    *,
    expires_in_seconds: int = 3600,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """HS256 token for development and tests (used by a `mint-token` dev command)."""
    if not subject.strip():
        raise ValueError("subject must be a non-empty string")
    if len(secret) < _HMAC_MINIMUM_SECRET_BYTES["HS256"]:
        raise ValueError("the shared secret must be at least 32 bytes long")
    issued_at = int(time.time())
    payload: dict[str, Any] = {
        "sub": subject,
        "iat": issued_at,
        "exp": issued_at + expires_in_seconds,
    }
    if issuer is not None:
        payload["iss"] = issuer
    if audience is not None:
        payload["aud"] = audience
    return jwt.encode(payload, secret, algorithm="HS256")
