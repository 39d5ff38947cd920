"""Group 1: forged and broken tokens are all 401 with a Bearer challenge, in both auth modes.

Every kind is sent to `POST /api/{owner}/tasks` with `sub` naming the path's owner, so
the only thing wrong with the request is the token; afterwards the owner has no task.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from backend.settings import Settings
from tests.conftest import SECRET, new_owner
from tests.security.conftest import AUDIENCE, ISSUER, client_for, jwks_settings
from tests.support.jwks import Ed25519Key, JwksEndpoint, serve_jwks

pytestmark = pytest.mark.anyio

SHARED_SECRET = "shared-secret"
JWKS = "jwks"
MODES = (SHARED_SECRET, JWKS)
DROP = object()
"""A claim or header value meaning: leave this member out."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return b64url(raw)


def hs256_signature(signing_input: str, key: bytes) -> str:
    return b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


@dataclass
class Forger:
    """Builds tokens the way one auth mode's real issuer would, so kinds can break one thing."""

    mode: str
    trusted_key: Ed25519Key
    """The key the JWKS-mode server trusts; its public half is what an attacker can read."""
    attacker: dict[str, Any] = field(default_factory=dict)

    @property
    def algorithm(self) -> str:
        return "HS256" if self.mode == SHARED_SECRET else "EdDSA"

    def claims(self, owner: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"sub": owner, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600}
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not DROP}

    def header(self, **overrides: Any) -> dict[str, Any]:
        header: dict[str, Any] = {"alg": self.algorithm, "typ": "JWT"}
        if self.mode == JWKS:
            header["kid"] = self.trusted_key.kid
        header.update(overrides)
        return {name: value for name, value in header.items() if value is not DROP}

    def signature(self, signing_input: str) -> str:
        """The signature the real issuer would put on `signing_input`."""
        if self.mode == SHARED_SECRET:
            return hs256_signature(signing_input, SECRET.encode())
        return b64url(self.trusted_key.private_key.sign(signing_input.encode()))

    def sign(self, header: Any, payload: Any) -> str:
        signing_input = f"{segment(header)}.{segment(payload)}"
        return f"{signing_input}.{self.signature(signing_input)}"

    def valid(self, owner: str, **claims: Any) -> str:
        return self.sign(self.header(), self.claims(owner, **claims))


@dataclass(frozen=True)
class Attempt:
    """How the credential is presented."""

    headers: dict[str, str] | dict[bytes, bytes] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    token_presented: bool = True
    """Whether an Authorization: Bearer token reached the server (RFC 6750 error= expected)."""


def bearer(token: str) -> Attempt:
    return Attempt(headers={"Authorization": f"Bearer {token}"})


Build = Callable[[Forger, str], Attempt]


@dataclass(frozen=True)
class Kind:
    name: str
    build: Build
    modes: tuple[str, ...] = MODES


def token(make: Callable[[Forger, str], str]) -> Build:
    return lambda forger, owner: bearer(make(forger, owner))


def with_header(**overrides: Any) -> Build:
    return token(lambda f, owner: f.sign(f.header(**overrides), f.claims(owner)))


def with_claims(**overrides: Any) -> Build:
    return token(lambda f, owner: f.sign(f.header(), f.claims(owner, **overrides)))


def unsigned(alg: str) -> Build:
    return token(lambda f, owner: f"{segment(f.header(alg=alg))}.{segment(f.claims(owner))}.")


def alg_confusion(public_key: Callable[[Ed25519Key], bytes]) -> Build:
    """HS256 keyed with the trusted public key: works where the token picks the algorithm."""

    def make(f: Forger, owner: str) -> str:
        signing_input = f"{segment(f.header(alg='HS256'))}.{segment(f.claims(owner))}"
        return f"{signing_input}.{hs256_signature(signing_input, public_key(f.trusted_key))}"

    return token(make)


def payload_edited(f: Forger, owner: str) -> str:
    """A genuine token of another user whose payload was rewritten to name `owner`."""
    header, _, signature = f.valid(new_owner()).split(".")
    return f"{header}.{segment(f.claims(owner))}.{signature}"


def header_edited(f: Forger, owner: str) -> str:
    _, payload, signature = f.valid(owner).split(".")
    return f"{segment(f.header(typ='at+jwt'))}.{payload}.{signature}"


def signed_by_stranger(f: Forger, owner: str) -> str:
    """A well-formed EdDSA token claiming the trusted kid, signed by an unpublished key."""
    stranger = Ed25519Key.generate(kid=f.trusted_key.kid)
    return stranger.sign(f.claims(owner), typ="JWT")


def hs256_other_secret(f: Forger, owner: str) -> str:
    signing_input = f"{segment(f.header(alg='HS256'))}.{segment(f.claims(owner))}"
    return f"{signing_input}.{hs256_signature(signing_input, b'another-secret-of-32-bytes-long!!')}"


def hs512_right_secret(f: Forger, owner: str) -> str:
    """The right secret, but an algorithm the server was not configured for."""
    signing_input = f"{segment(f.header(alg='HS512'))}.{segment(f.claims(owner))}"
    digest = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha512).digest()
    return f"{signing_input}.{b64url(digest)}"


def key_injection(member: str) -> Build:
    """The header points at (jku, x5u) or embeds (jwk) the attacker's own key."""

    def make(f: Forger, owner: str) -> str:
        attacker: Ed25519Key = f.attacker["key"]
        endpoint: JwksEndpoint = f.attacker["endpoint"]
        reference = attacker.public_jwk if member == "jwk" else endpoint.url
        return attacker.sign(f.claims(owner), **{member: reference})

    return token(make)


def replace_segment(index: int, text: str) -> Build:
    def make(f: Forger, owner: str) -> str:
        parts = f.valid(owner).split(".")
        parts[index] = text
        return ".".join(parts)

    return token(make)


def signed_raw(header: bytes | None = None, payload: bytes | None = None) -> Build:
    """Correctly signed, but a segment is not a JSON object."""

    def make(f: Forger, owner: str) -> str:
        signing_input = (
            f"{segment(header if header is not None else f.header())}."
            f"{segment(payload if payload is not None else f.claims(owner))}"
        )
        return f"{signing_input}.{f.signature(signing_input)}"

    return token(make)


def oversized(f: Forger, owner: str) -> str:
    return f.sign(f.header(), f.claims(owner, padding="x" * 100_000))


JWKS_ONLY = (JWKS,)

KINDS = [
    # The algorithm: never chosen by the token (RFC 8725 §2.1, §3.1).
    Kind("alg-none", unsigned("none")),
    Kind("alg-None-capitalised", unsigned("None")),
    Kind("alg-none-with-genuine-signature", with_header(alg="none")),
    Kind("alg-missing", with_header(alg=DROP)),
    Kind("crit-unknown-extension", with_header(crit=["x-unknown"], **{"x-unknown": 1})),
    Kind("hs256-keyed-with-public-key-raw", alg_confusion(lambda key: key.public_key_bytes)),
    Kind("hs256-keyed-with-public-key-pem", alg_confusion(lambda key: key.public_key_pem)),
    Kind("hs512-not-configured", token(hs512_right_secret)),
    # The signature.
    Kind("wrong-secret", token(hs256_other_secret)),
    Kind("signed-by-unpublished-key", token(signed_by_stranger)),
    Kind("payload-edited-after-signing", token(payload_edited)),
    Kind("header-edited-after-signing", token(header_edited)),
    Kind("signature-truncated", token(lambda f, owner: f.valid(owner)[:-10])),
    Kind("signature-stripped", replace_segment(2, "")),
    Kind("signature-of-other-token", token(lambda f, owner: f.valid(owner)[:-4] + "AAAA")),
    # The shape (RFC 7515 compact serialization).
    Kind("two-segments", token(lambda f, owner: f.valid(owner).rsplit(".", 1)[0])),
    Kind("extra-segment", token(lambda f, owner: f.valid(owner) + ".e30")),
    Kind("five-segments-jwe-shape", token(lambda f, owner: f.valid(owner) + ".e30.e30")),
    Kind("bad-base64-characters", replace_segment(1, "e30*!$")),
    Kind("base64-padding", token(lambda f, owner: f.valid(owner).replace(".", "==.", 1))),
    Kind("non-json-header", signed_raw(header=b"not json")),
    Kind("non-json-payload", signed_raw(payload=b"{sub: nobody")),
    Kind("payload-is-an-array", signed_raw(payload=b'["sub", "exp"]')),
    Kind("header-is-a-string", signed_raw(header=b'"EdDSA"')),
    Kind(
        "non-ascii-token",
        lambda f, owner: Attempt(
            headers={b"Authorization": f"Bearer {f.valid(owner)}\u00e9".encode("latin-1")}
        ),
    ),
    Kind("whitespace-inside-token", token(lambda f, owner: f.valid(owner).replace(".", ". ", 1))),
    # Time claims (RFC 7519 §4.1.4, §4.1.5).
    Kind("expired", with_claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)),
    Kind("exp-not-a-number", with_claims(exp="9999999999")),
    Kind("exp-missing", with_claims(exp=DROP)),
    Kind("nbf-in-the-future", with_claims(nbf=int(time.time()) + 3600)),
    # The subject.
    Kind("sub-missing", with_claims(sub=DROP)),
    Kind("sub-empty", with_claims(sub="")),
    Kind("sub-blank", with_claims(sub="   ")),
    Kind("sub-number", with_claims(sub=12345)),
    Kind("sub-null", with_claims(sub=None)),
    Kind("sub-list", with_claims(sub=["a"])),
    # Issuer and audience, configured on every app of this module (RFC 8725 §3.8, §3.9).
    Kind("iss-wrong", with_claims(iss="https://evil.test")),
    Kind("iss-missing", with_claims(iss=DROP)),
    Kind("aud-wrong", with_claims(aud="another-api")),
    Kind("aud-list-without-ours", with_claims(aud=["another-api", "a-third-api"])),
    Kind("aud-missing", with_claims(aud=DROP)),
    # The key id and key-carrying headers (RFC 8725 §3.10): JWKS mode looks keys up.
    Kind("kid-unknown", with_header(kid="not-a-published-key"), JWKS_ONLY),
    Kind("kid-path-traversal", with_header(kid="../../etc/passwd"), JWKS_ONLY),
    Kind("kid-sql-injection", with_header(kid="' OR 1=1 --"), JWKS_ONLY),
    Kind("kid-url", with_header(kid="http://127.0.0.1:9/keys"), JWKS_ONLY),
    Kind("kid-number", with_header(kid=1), JWKS_ONLY),
    Kind("kid-object", with_header(kid={"kid": "x"}), JWKS_ONLY),
    Kind("kid-list", with_header(kid=["x"]), JWKS_ONLY),
    Kind("jku-to-attacker-jwks", key_injection("jku")),
    Kind("x5u-to-attacker", key_injection("x5u")),
    Kind("jwk-embedded-attacker-key", key_injection("jwk")),
    # Size: a fast 4xx before any parsing.
    # Refused as a header before it is read as a token, so the challenge names no error.
    Kind(
        "oversized-100kb-header",
        lambda f, owner: Attempt(
            headers={"Authorization": f"Bearer {'a' * 100_000}"}, token_presented=False
        ),
    ),
    Kind(
        "oversized-genuinely-signed",
        lambda f, owner: Attempt(
            headers={"Authorization": f"Bearer {oversized(f, owner)}"}, token_presented=False
        ),
    ),
    # Where and how the credential is presented: only `Authorization: Bearer` counts.
    Kind(
        "query-access_token",
        lambda f, owner: Attempt(params={"access_token": f.valid(owner)}, token_presented=False),
    ),
    Kind(
        "query-token",
        lambda f, owner: Attempt(params={"token": f.valid(owner)}, token_presented=False),
    ),
    Kind(
        "cookie",
        lambda f, owner: Attempt(
            headers={"Cookie": f"access_token={f.valid(owner)}; token={f.valid(owner)}"},
            token_presented=False,
        ),
    ),
    Kind(
        "basic-scheme-credentials",
        lambda f, owner: Attempt(
            headers={"Authorization": "Basic " + b64url(f"{owner}:{SECRET}".encode())},
            token_presented=False,
        ),
    ),
    Kind(
        "basic-scheme-with-token",
        lambda f, owner: Attempt(
            headers={"Authorization": f"Basic {f.valid(owner)}"}, token_presented=False
        ),
    ),
    Kind(
        "token-scheme",
        lambda f, owner: Attempt(
            headers={"Authorization": f"Token {f.valid(owner)}"}, token_presented=False
        ),
    ),
    Kind(
        "bearer-empty",
        lambda f, owner: Attempt(headers={"Authorization": "Bearer "}, token_presented=False),
    ),
    Kind(
        "bearer-without-token",
        lambda f, owner: Attempt(headers={"Authorization": "Bearer"}, token_presented=False),
    ),
    Kind(
        "bare-token-without-scheme",
        lambda f, owner: Attempt(headers={"Authorization": f.valid(owner)}, token_presented=False),
    ),
]


def _cases() -> list[Any]:
    return [
        pytest.param(mode, kind, id=f"{mode}-{kind.name}") for kind in KINDS for mode in kind.modes
    ]


def settings_for(mode: str, database_url: str, jwks_url: str) -> Settings:
    common: dict[str, Any] = {"jwt_issuer": ISSUER, "jwt_audience": AUDIENCE}
    if mode == JWKS:
        return jwks_settings(database_url, jwks_url, **common)
    return Settings(
        database_url=database_url,
        better_auth_secret=SECRET,
        migrate_on_start=False,
        _env_file=None,
        **common,
    )


def assert_unauthorized(response: httpx.Response, attempt: Attempt) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="todo"')
    assert ('error="invalid_token"' in challenge) is attempt.token_presented
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Unauthorized"
    assert problem["detail"]
    assert problem["instance"] == response.request.url.path


def test_there_are_at_least_twenty_kinds() -> None:
    assert len({kind.name for kind in KINDS}) == len(KINDS) >= 20


@pytest.mark.parametrize(("mode", "kind"), _cases())
async def test_forged_or_broken_token_is_401(
    mode: str,
    kind: Kind,
    database_url: str,
    jwks_endpoint: JwksEndpoint,
    signing_key: Ed25519Key,
) -> None:
    owner = new_owner()
    attacker_key = Ed25519Key.generate()
    with serve_jwks(attacker_key) as attacker_endpoint:
        forger = Forger(mode, signing_key, {"key": attacker_key, "endpoint": attacker_endpoint})
        attempt = kind.build(forger, owner)
        settings = settings_for(mode, database_url, jwks_endpoint.url)
        async with client_for(settings) as client:
            response = await client.post(
                f"/api/{owner}/tasks",
                json={"title": "forged"},
                headers=attempt.headers,
                params=attempt.params,
            )
            assert_unauthorized(response, attempt)
            for value in [*attempt.headers.values(), *attempt.params.values()]:
                text = value.decode("latin-1") if isinstance(value, bytes) else value
                credential = text.removeprefix("Bearer ").removeprefix("Basic ")
                if len(credential) > 16:
                    assert credential not in response.text
                    assert credential not in response.headers["www-authenticate"]

            listed = await client.get(
                f"/api/{owner}/tasks", headers={"Authorization": f"Bearer {forger.valid(owner)}"}
            )
            assert listed.status_code == 200, listed.text
            assert listed.json() == []
        assert attacker_endpoint.fetches == 0, "the server fetched a key the token pointed at"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_a_genuine_token_is_accepted_under_any_scheme_casing(
    mode: str,
    scheme: str,
    database_url: str,
    jwks_endpoint: JwksEndpoint,
    signing_key: Ed25519Key,
) -> None:
    """The control: the forgeries above fail for their flaw alone. RFC 7235 §2.1 makes the
    auth-scheme case-insensitive, so `bearer` is accepted like `Bearer`."""
    owner = new_owner()
    forger = Forger(mode, signing_key)
    async with client_for(settings_for(mode, database_url, jwks_endpoint.url)) as client:
        headers = {"Authorization": f"{scheme} {forger.valid(owner)}"}
        response = await client.post(f"/api/{owner}/tasks", json={"title": "mine"}, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["user_id"] == owner
