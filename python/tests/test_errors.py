"""Malformed and refused tokens raise the typed errors of authgate.errors,
each with its stable reason, and authgate's strict rules hold through the
PyJWT-shaped arguments."""

from __future__ import annotations

import time
from typing import Any

import pytest

from authgate import errors, jwt

from .conftest import b64, forge, raw_token

SECRET = b"s" * 32
NOW = 1_800_000_000


def good(**extra: Any) -> str:
    return jwt.encode({"sub": "a", "exp": NOW + 600} | extra, SECRET)


def refused(token: object, key: Any = SECRET, **kwargs: Any) -> errors.AuthgateError:
    kwargs.setdefault("algorithms", ["HS256"])
    kwargs.setdefault("now", NOW)
    with pytest.raises(errors.AuthgateError) as raised:
        jwt.decode(token, key, **kwargs)  # type: ignore[arg-type]
    return raised.value


def test_every_error_is_an_authgate_error_with_a_reason() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.AuthgateError)
    error = errors.ExpiredTokenError("token has expired", "expired")
    assert isinstance(error, errors.InvalidTokenError)
    assert error.reason == "expired"
    assert str(error) == "token has expired"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",
        "!!!.???.***",
        raw_token(b"[1]", b"{}"),
        raw_token(b"not json", b"{}"),
        b64(b'{"alg":"HS256"}') + "=.e30.c2ln",  # padded base64url
    ],
)
def test_malformed_tokens_raise_malformed_token_error(token: str) -> None:
    error = refused(token)
    assert isinstance(error, errors.MalformedTokenError)
    assert error.reason == "malformed"


def test_oversized_tokens_are_refused_before_decoding() -> None:
    error = refused("a" * 9000)
    assert isinstance(error, errors.MalformedTokenError)
    assert error.reason == "too_large"


def test_alg_none_is_never_accepted() -> None:
    token = forge({"alg": "none"}, {"exp": NOW + 60}, signature="")
    error = refused(token, algorithms=["HS256", "none"])
    assert isinstance(error, errors.MalformedTokenError)
    assert error.reason == "unsupported_algorithm"
    with pytest.raises(errors.MalformedTokenError):
        jwt.decode(token, SECRET, algorithms=["none"])


def test_crit_headers_are_refused() -> None:
    token = forge({"alg": "HS256", "crit": ["exp"]}, {"exp": NOW + 60})
    assert refused(token, key=jwt.VerifyingKey.from_secret("HS256", SECRET)).reason == "critical_header"


def test_a_tampered_token_is_a_bad_signature() -> None:
    token = good()
    head, payload, signature = token.split(".")
    other = jwt.encode({"sub": "b", "exp": NOW + 600}, SECRET).split(".")[1]
    error = refused(f"{head}.{other}.{signature}")
    assert isinstance(error, errors.InvalidSignatureError)
    assert error.reason == "bad_signature"


def test_the_algorithm_is_pinned_by_the_key() -> None:
    rsa = jwt.SigningKey.generate("RS256")
    public_pem = rsa.verifying_key.to_pem()
    # The classic confusion: an HS256 token "signed" with the RSA public key as secret.
    with pytest.raises(errors.InvalidKeyError):
        jwt.encode({"exp": NOW + 60}, public_pem, algorithm="HS256")
    import hashlib
    import hmac

    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64(b'{"exp":1800000600}')
    mac = hmac.new(public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{b64(mac)}"
    # With the key object, the token's alg differs from the key's.
    error = refused(forged, key=rsa.verifying_key, algorithms=None)
    assert isinstance(error, errors.KeyMismatchError)
    assert error.reason == "algorithm_mismatch"
    # With the PEM text and both algorithms allowed, the PEM is never an HMAC secret.
    error = refused(forged, key=public_pem, algorithms=["RS256", "HS256"])
    assert isinstance(error, errors.InvalidKeyError)
    assert error.reason == "invalid_key"
    # With only RS256 allowed, the HS256 token does not match the key.
    assert refused(forged, key=public_pem, algorithms=["RS256"]).reason == "algorithm_mismatch"


def test_a_header_alg_outside_algorithms_is_refused() -> None:
    token = jwt.encode({"exp": NOW + 60}, SECRET, algorithm="HS256")
    error = refused(token, key=b"s" * 64, algorithms=["HS384", "HS512"])
    assert isinstance(error, errors.KeyMismatchError)


def test_a_key_object_outside_algorithms_is_a_key_usage_error() -> None:
    key = jwt.VerifyingKey.from_secret("HS256", SECRET)
    error = refused(good(), key=key, algorithms=["RS256"])
    assert isinstance(error, errors.InvalidKeyError)
    assert error.reason == "key_usage"


def test_raw_keys_need_algorithms() -> None:
    with pytest.raises(TypeError):
        jwt.decode(good(), SECRET)


def test_exp_is_required_and_must_be_a_number() -> None:
    error = refused(jwt.encode({"sub": "a"}, SECRET))
    assert isinstance(error, errors.InvalidClaimError)
    assert error.reason == "missing_claim"
    error = refused(jwt.encode({"exp": str(NOW + 60)}, SECRET))
    assert isinstance(error, errors.MalformedTokenError)


def test_duplicate_claim_names_are_malformed() -> None:
    import hashlib
    import hmac

    header = b64(b'{"alg":"HS256"}')
    payload = b64(b'{"exp":1800000600,"sub":"a","sub":"b"}')
    mac = hmac.new(SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert refused(f"{header}.{payload}.{b64(mac)}").reason == "malformed"


def test_time_claims_with_leeway_and_now() -> None:
    token = jwt.encode({"exp": NOW, "nbf": NOW - 10, "iat": NOW - 10}, SECRET)
    jwt.decode(token, SECRET, algorithms=["HS256"], now=NOW + 59)
    assert isinstance(refused(token, now=NOW + 60), errors.ExpiredTokenError)
    assert isinstance(refused(token, now=NOW + 1, leeway=0), errors.ExpiredTokenError)
    from datetime import timedelta

    jwt.decode(token, SECRET, algorithms=["HS256"], now=NOW + 100, leeway=timedelta(minutes=5))
    early = jwt.encode({"exp": NOW + 600, "nbf": NOW + 100}, SECRET)
    error = refused(early, leeway=0)
    assert isinstance(error, errors.ImmatureTokenError)
    assert error.reason == "not_yet_valid"
    future = jwt.encode({"exp": NOW + 600, "iat": NOW + 100}, SECRET)
    assert refused(future, leeway=0).reason == "issued_in_future"


def test_issuer_audience_type_and_required_claims() -> None:
    token = good(iss="https://auth.example", aud=["api", "other"])
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="https://auth.example", audience="api", now=NOW)
    assert claims["aud"] == ["api", "other"]
    assert refused(token, issuer="https://evil.example", audience="api").reason == "wrong_issuer"
    assert refused(token, audience=["nobody"]).reason == "wrong_audience"
    # A token with an audience is refused by a verifier that names none (RFC 7519 §4.1.3).
    assert refused(token).reason == "wrong_audience"
    assert refused(token, audience="api", typ="at+jwt").reason == "wrong_type"
    assert refused(token, audience="api", require=["jti"]).reason == "missing_claim"


def test_invalid_keys() -> None:
    with pytest.raises(errors.InvalidKeyError) as raised:
        jwt.SigningKey.from_secret("HS256", b"short")
    assert raised.value.reason == "invalid_key"
    with pytest.raises(errors.InvalidKeyError):
        jwt.VerifyingKey.from_pem("RS256", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(errors.InvalidKeyError):
        jwt.VerifyingKey.from_jwk({"kty": "RSA", "n": "AQAB", "e": "AQAB"})  # no alg
    with pytest.raises(errors.InvalidKeyError) as raised:
        jwt.VerifyingKey.from_secret("HS256", SECRET).to_jwk()
    assert raised.value.reason == "key_usage"
    with pytest.raises(errors.MalformedTokenError) as unsupported:
        jwt.SigningKey.generate("none")
    assert unsupported.value.reason == "unsupported_algorithm"


def test_a_keyset_picks_by_kid() -> None:
    a, b = jwt.SigningKey.generate("EdDSA"), jwt.SigningKey.generate("ES256")
    keys = jwt.KeySet([a, b.verifying_key])
    assert len(keys) == 2 and a.kid in keys and keys.kids == [a.kid, b.kid]
    for key in (a, b):
        assert jwt.decode(jwt.encode({"exp": time.time() + 60}, key), keys)["exp"] > 0
    stranger = jwt.SigningKey.generate("EdDSA")
    assert refused(jwt.encode({"exp": NOW + 60}, stranger), key=keys, algorithms=None).reason == "unknown_kid"
    no_kid = jwt.encode({"exp": NOW + 60}, SECRET)
    assert refused(no_kid, key=keys, algorithms=None).reason == "missing_kid"


def test_encode_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError):
        jwt.encode({"exp": 1}, SECRET, headers={"jku": "https://evil"})
    ed25519 = jwt.SigningKey.generate("EdDSA")
    for key in (SECRET, ed25519):
        unserialisable: list[Any] = [{"exp": float("nan")}, {"when": object()}, {1: "not a str name"}]
        for claims in unserialisable:
            with pytest.raises(errors.SigningError) as raised:
                jwt.encode(claims, key)
            assert raised.value.reason == "serialize"
    with pytest.raises(TypeError):
        jwt.encode([1, 2], SECRET)  # type: ignore[arg-type]
    key = jwt.SigningKey.generate("EdDSA")
    with pytest.raises(errors.InvalidKeyError):
        jwt.encode({"exp": 1}, key, algorithm="HS256")
    # A raw secret can take a kid; a key object's kid is fixed.
    token = jwt.encode({"exp": NOW + 60}, SECRET, headers={"kid": "k1", "typ": None})
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": "k1"}
    with pytest.raises(ValueError):
        jwt.encode({"exp": 1}, key, headers={"kid": "other"})
