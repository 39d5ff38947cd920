"""Bearer-token verification: a token string in, the verified claims out (no HTTP, no settings).

Follows RFC 8725 (JWT Best Current Practices): the accepted algorithms come from
configuration, never from the token; `exp` and `sub` are required; `iss`/`aud` are
checked whenever they are configured; every failure becomes `TokenRejected` with a
short, client-safe reason that never echoes the token or key material.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx
import jwt
from jwt.exceptions import InvalidSubjectError
from jwt.types import Options

from backend.auth.jwks import JwksKeys

MAX_TOKEN_LENGTH: Final = 8 * 1024
"""Longer tokens are rejected before any parsing: no base64 or JSON work for junk."""

VERIFIED_TOKEN_CACHE_SIZE: Final = 4096

HMAC_ALGORITHMS: Final = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
# RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
_HMAC_MINIMUM_SECRET_BYTES: Final = {"HS256": 32, "HS384": 48, "HS512": 64}

# The three base64url segments of a compact JWS. Checked before PyJWT sees the token, so
# non-ASCII text, whitespace, extra segments and JWE (five segments) fail cheaply and alike.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


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
        min_refresh_interval_seconds: float = 0.5,
        cache_ttl_seconds: float = 300.0,
        fetch_timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        monotonic_clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._algorithms = _validated_algorithms(algorithms, ASYMMETRIC_ALGORITHMS, "JwksVerifier")
        self._keys = JwksKeys(
            jwks_url,
            self._algorithms,
            min_refresh_interval_seconds=min_refresh_interval_seconds,
            cache_ttl_seconds=cache_ttl_seconds,
            fetch_timeout_seconds=fetch_timeout_seconds,
            transport=transport,
            monotonic_clock=monotonic_clock,
            sleep=sleep,
        )
        self._decoder = _Decoder(issuer, audience, leeway_seconds)
        self._clock = clock
        self._cache = _VerifiedTokenCache(VERIFIED_TOKEN_CACHE_SIZE)
        self._cache_keys_version = self._keys.version

    async def verify(self, token: str) -> Claims:
        """Return the token's claims or raise `TokenRejected`."""
        _check_shape(token)
        asked_at = self._keys.now()
        now = self._clock()
        # Past cache_ttl the token cache is not trusted: a refresh clears it, so tokens
        # signed by a withdrawn key stop being accepted within one cache_ttl.
        self._forget_tokens_of_replaced_keys()
        if not self._keys.are_stale():
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
        key = await self._key_for(header.get("kid"), algorithm, asked_at)
        self._forget_tokens_of_replaced_keys()
        verified = self._decoder.decode(token, key, (algorithm,), now)
        self._cache.put(token, verified)
        return verified.claims

    async def aclose(self) -> None:
        """Close the HTTP client used to fetch the JWKS."""
        await self._keys.aclose()

    def _forget_tokens_of_replaced_keys(self) -> None:
        # Tokens cached under a key that a fetch has just withdrawn must not outlive it.
        if self._keys.version != self._cache_keys_version:
            self._cache.clear()
            self._cache_keys_version = self._keys.version

    async def _key_for(self, key_id: str | None, algorithm: str, asked_at: float) -> jwt.PyJWK:
        await self._keys.refresh_if_stale()
        key = self._keys.current.lookup(key_id, algorithm)
        if key is None and key_id is not None:
            # Maybe a key published since the last fetch: wait for a fetch that started after
            # this token arrived (rate-limited, shared by every token waiting with it).
            await self._keys.refresh_for_unknown_key(asked_at)
            key = self._keys.current.lookup(key_id, algorithm)
        if key is None:
            raise TokenRejected("unknown signing key")
        return key


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
