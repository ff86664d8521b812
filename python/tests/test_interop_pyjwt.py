"""Tokens cross-verify with PyJWT both ways, for every algorithm both implement,
with keys passed as PEM text (PyJWT style) and as authgate key objects, and
public keys exchanged as JWKs."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt as pyjwt
import pytest
from jwt.algorithms import get_default_algorithms

from authgate import jwt

HMAC = ["HS256", "HS384", "HS512"]
ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
SECRET = b"k" * 64
ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


def claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": "alice",
        "aud": AUDIENCE,
        "exp": now + 600,
        "iat": now,
        "nbf": now,
        "roles": ["admin", "user"],
        "nested": {"a": 1, "b": [True, None, 1.5]},
        "name": "Zoë ✓",
    }


def test_pyjwt_knows_every_algorithm_tested_here() -> None:
    assert set(HMAC + ASYMMETRIC) <= set(get_default_algorithms())
    assert set(HMAC + ASYMMETRIC) <= set(jwt.ALGORITHMS)


@pytest.mark.parametrize("alg", HMAC)
def test_hmac_authgate_to_pyjwt(alg: str) -> None:
    token = jwt.encode(claims(), SECRET, algorithm=alg)
    decoded = pyjwt.decode(token, SECRET, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)
    assert decoded == claims() | {"exp": decoded["exp"], "iat": decoded["iat"], "nbf": decoded["nbf"]}
    assert pyjwt.get_unverified_header(token) == {"alg": alg, "typ": "JWT"}


@pytest.mark.parametrize("alg", HMAC)
def test_hmac_pyjwt_to_authgate(alg: str) -> None:
    expected = claims()
    token = pyjwt.encode(expected, SECRET, algorithm=alg)
    assert jwt.decode(token, SECRET, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER) == expected
    key = jwt.VerifyingKey.from_secret(alg, SECRET)
    assert jwt.decode(token, key, audience=AUDIENCE, issuer=ISSUER) == expected


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_asymmetric_authgate_to_pyjwt(alg: str) -> None:
    key = jwt.SigningKey.generate(alg)
    expected = claims()
    token = jwt.encode(expected, key, headers={"typ": "at+jwt"})
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": alg, "typ": "at+jwt", "kid": key.kid}
    public_pem = key.verifying_key.to_pem()
    assert pyjwt.decode(token, public_pem, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER) == expected
    # The public key as a JWK, read by PyJWT.
    jwk = pyjwt.PyJWK.from_json(json.dumps(key.verifying_key.to_jwk()))
    assert pyjwt.decode(token, jwk, algorithms=[alg], audience=AUDIENCE) == expected


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_asymmetric_pyjwt_to_authgate(alg: str) -> None:
    # The private key made by authgate, exported as PKCS#8 PEM and used by PyJWT.
    key = jwt.SigningKey.generate(alg)
    expected = claims()
    token = pyjwt.encode(expected, key.to_pem(), algorithm=alg)
    public_pem = key.verifying_key.to_pem()
    assert jwt.decode(token, public_pem, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER) == expected
    assert jwt.decode(token, key.verifying_key, audience=AUDIENCE) == expected
    # PyJWT's JWK export of the public key, imported by authgate.
    algorithm = get_default_algorithms()[alg]
    exported = json.loads(algorithm.to_jwk(algorithm.prepare_key(public_pem)))
    exported["alg"] = alg
    imported = jwt.VerifyingKey.from_jwk(exported)
    assert jwt.decode(token, imported, audience=AUDIENCE) == expected
    assert imported.thumbprint() == key.verifying_key.thumbprint()


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_pem_round_trips_through_der(alg: str) -> None:
    key = jwt.SigningKey.generate(alg)
    again = jwt.SigningKey.from_der(alg, key.to_der())
    assert again.kid == key.kid
    assert jwt.SigningKey.from_pem(alg, key.to_pem()).kid == key.kid
    public = jwt.VerifyingKey.from_der(alg, key.verifying_key.to_der())
    assert public.to_pem() == key.verifying_key.to_pem()


def test_a_jwks_from_authgate_verifies_in_pyjwt_and_back() -> None:
    keys = [jwt.SigningKey.generate(alg) for alg in ("EdDSA", "ES256", "RS256")]
    jwks = jwt.KeySet(keys).to_jwks()
    assert [k["kid"] for k in jwks["keys"]] == [k.kid for k in keys]
    pyjwt_set = pyjwt.PyJWKSet.from_dict(jwks)
    for key in keys:
        token = jwt.encode(claims(), key)
        found = pyjwt_set[key.kid or ""]
        assert pyjwt.decode(token, found, algorithms=[key.algorithm], audience=AUDIENCE)["sub"] == "alice"
        assert jwt.decode(token, jwt.KeySet.from_jwks(jwks), audience=AUDIENCE)["sub"] == "alice"
        assert jwt.decode(token, jwks, audience=AUDIENCE)["sub"] == "alice"


def test_datetimes_in_time_claims_are_written_as_unix_seconds_as_pyjwt_does() -> None:
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    payload = {"sub": "a", "exp": now + timedelta(minutes=5), "iat": now}
    ours = jwt.decode_jwt(jwt.encode(payload, SECRET))
    theirs = pyjwt.decode(pyjwt.encode(payload, SECRET), options={"verify_signature": False})
    assert ours == theirs
