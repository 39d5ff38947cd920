"""Which keys of a JWK Set may verify which algorithms (RFC 7517, RFC 7518 §6)."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from backend.auth.jwks import _algorithms_for_jwk, parse_jwks
from tests.support.jwks import Ed25519Key

RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
CONFIGURED = ("EdDSA", "ES256", "ES384", "ES512", *RSA_ALGORITHMS)


@pytest.mark.parametrize(
    ("jwk", "expected"),
    [
        ({"kty": "RSA"}, list(RSA_ALGORITHMS)),
        ({"kty": "RSA", "crv": "P-256"}, list(RSA_ALGORITHMS)),  # crv means nothing for RSA
        ({"kty": "RSA", "use": "sig"}, list(RSA_ALGORITHMS)),
        ({"kty": "RSA", "use": "enc"}, []),
        ({"kty": "RSA", "d": "private"}, []),
        ({"kty": "RSA", "alg": "PS384"}, ["PS384"]),
        ({"kty": "RSA", "alg": "ES256"}, []),
        ({"kty": "RSA", "alg": 256}, []),
        ({"kty": "RSA", "alg": ["RS256"]}, []),
        ({"kty": "EC", "crv": "P-256"}, ["ES256"]),
        ({"kty": "EC", "crv": "P-521"}, ["ES512"]),
        ({"kty": "EC"}, []),
        ({"kty": "EC", "crv": ["P-256"]}, []),
        ({"kty": ["EC"], "crv": "P-256"}, []),
        ({"kty": "OKP", "crv": "Ed25519"}, ["EdDSA"]),
        ({"kty": "OKP", "crv": "Ed448", "alg": "EdDSA"}, ["EdDSA"]),
        ({"kty": "oct"}, []),
    ],
)
def test_the_algorithms_a_jwk_may_verify(jwk: dict[str, Any], expected: list[str]) -> None:
    assert _algorithms_for_jwk(jwk, CONFIGURED) == expected


def test_only_configured_algorithms_count_in_their_configured_order() -> None:
    assert _algorithms_for_jwk({"kty": "RSA"}, ("PS256", "RS256", "EdDSA")) == ["PS256", "RS256"]
    assert _algorithms_for_jwk({"kty": "RSA", "alg": "RS512"}, ("RS256",)) == []


@pytest.mark.parametrize("document", [[], {"keys": {}}, {"keys": None}, {"key": []}, "keys"])
def test_a_document_that_is_not_a_jwk_set_is_refused(document: object) -> None:
    with pytest.raises(ValueError, match=r"^not a JWK Set$"):
        parse_jwks(json.dumps(document).encode(), CONFIGURED)


def test_entries_that_are_not_usable_keys_are_passed_over() -> None:
    first, second = Ed25519Key.generate("first"), Ed25519Key.generate("second")
    document = {"keys": [5, {"kty": "oct", "kid": "x"}, first.public_jwk, second.public_jwk]}
    keys = parse_jwks(json.dumps(document).encode(), CONFIGURED)
    assert set(keys.by_id) == {("first", "EdDSA"), ("second", "EdDSA")}
    assert keys.sole_key == {}


def test_a_set_with_one_usable_key_serves_tokens_without_a_kid() -> None:
    key = Ed25519Key.generate("only")
    document = {"keys": ["junk", key.public_jwk]}
    keys = parse_jwks(json.dumps(document).encode(), CONFIGURED)
    assert set(keys.sole_key) == {"EdDSA"}
    assert keys.lookup(None, "EdDSA") is keys.sole_key["EdDSA"]
    assert keys.lookup("only", "EdDSA") is keys.by_id["only", "EdDSA"]
    assert keys.lookup("other", "EdDSA") is None


def test_a_set_without_a_usable_key_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^JWK Set has no usable keys$"):
        parse_jwks(json.dumps({"keys": [{"kty": "RSA", "use": "enc"}]}).encode(), CONFIGURED)


@pytest.mark.parametrize("algorithm", ["RS384", "PS256"])
def test_an_rsa_key_that_names_no_algorithm_verifies_each_configured_one(algorithm: str) -> None:
    """Without `alg`, PyJWK would bind an RSA key to RS256: each key is built for its algorithm."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True), "kid": "rsa"}
    assert "alg" not in jwk
    keys = parse_jwks(json.dumps({"keys": [jwk]}).encode(), (algorithm,))
    token = jwt.encode({"sub": "user-1"}, private_key, algorithm=algorithm, headers={"kid": "rsa"})
    key = keys.lookup("rsa", algorithm)
    assert key is not None
    assert jwt.decode(token, key, algorithms=[algorithm]) == {"sub": "user-1"}
