"""decode_jwt, get_unverified_header and is_jwt_expired: unverified reading
with authgate-jwt's rules (no exp never expires, malformed counts as expired)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from authgate import errors, jwt

from .conftest import forge

SECRET = b"u" * 32


def test_decode_jwt_returns_the_claims_without_checking_the_signature() -> None:
    token = jwt.encode({"sub": "alice", "exp": 10}, SECRET)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert jwt.decode_jwt(forged) == {"sub": "alice", "exp": 10}


@pytest.mark.parametrize("token", ["", "x", "a.b.c", "a.b.c.d", "e30.e30"])
def test_decode_jwt_gives_a_clear_error_for_malformed_input(token: str) -> None:
    with pytest.raises(errors.MalformedTokenError) as raised:
        jwt.decode_jwt(token)
    assert raised.value.reason == "malformed"
    assert "malformed token" in str(raised.value)


def test_decode_jwt_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        jwt.decode_jwt(42)  # type: ignore[arg-type]


def test_decode_jwt_accepts_bytes() -> None:
    token = jwt.encode({"exp": 10}, SECRET)
    assert jwt.decode_jwt(token.encode()) == {"exp": 10}


def test_is_jwt_expired_at_and_after_exp() -> None:
    token = jwt.encode({"exp": 1000}, SECRET)
    assert not jwt.is_jwt_expired(token, now=999)
    assert jwt.is_jwt_expired(token, now=1000)
    assert jwt.is_jwt_expired(token, now=1001.5)
    assert jwt.is_jwt_expired(token, now=datetime.fromtimestamp(1000, timezone.utc))
    assert jwt.is_jwt_expired(token)  # the real clock is far past 1000


def test_a_token_without_exp_never_expires() -> None:
    assert not jwt.is_jwt_expired(jwt.encode({"sub": "a"}, SECRET), now=2**40)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", forge({"alg": "HS256"}, {"exp": "soon"})])
def test_a_malformed_token_counts_as_expired(token: str) -> None:
    assert jwt.is_jwt_expired(token, now=0)


def test_get_unverified_header() -> None:
    key = jwt.SigningKey.generate("ES256")
    header = jwt.get_unverified_header(jwt.encode({"exp": 1}, key, headers={"typ": "at+jwt"}))
    assert header == {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
    # Tools can display tokens whose algorithm authgate refuses to verify.
    assert jwt.get_unverified_header(forge({"alg": "none"}, {}))["alg"] == "none"
