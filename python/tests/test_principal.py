"""The guard's ``Principal`` and its fast path, with keys held (``keys=``):
the principal carries exactly the token's claims, is read-only, and a
token answered from the guard's cache is still refused once it expires,
once its signature is altered, and on a route that needs a role it lacks."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from authgate import jwt
from authgate.errors import (
    ExpiredTokenError,
    InsufficientScopeError,
    InvalidSignatureError,
    MissingCredentialsError,
)
from authgate.guard import Guard, Principal

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
SECRET = b"0123456789abcdef0123456789abcdef"


class Clock:
    """A clock the test moves: Unix seconds, starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def access_claims(now: int, **extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-4f6c2d1e",
        "aud": AUDIENCE,
        "exp": now + 900,
        "iat": now,
        "nbf": now,
        "jti": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "roles": ["reader", "writer"],
    }
    claims.update(extra)
    return claims


def setup(**options: Any) -> tuple[Guard, jwt.SigningKey]:
    signing = jwt.SigningKey.from_secret("HS256", SECRET, kid="k1")
    verifying = jwt.VerifyingKey.from_secret("HS256", SECRET, kid="k1")
    guard = Guard(issuer=ISSUER, audience=AUDIENCE, keys=jwt.KeySet([verifying]), **options)
    return guard, signing


def sign(key: jwt.SigningKey, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key, headers={"typ": "at+jwt"})


def test_the_principal_carries_exactly_the_tokens_claims() -> None:
    guard, key = setup()
    claims = access_claims(int(time.time()))
    token = sign(key, claims)
    principal = guard.authenticate_request("GET", "/orders", {"authorization": f"Bearer {token}"})
    assert isinstance(principal, Principal)
    assert principal.subject == "user-4f6c2d1e"
    assert principal.roles == ("reader", "writer")
    assert principal.token_id == claims["jti"]
    assert principal.session_id == claims["sid"]
    assert principal.client_id is None
    assert principal.expires_at == claims["exp"]
    assert dict(principal.claims) == claims
    assert principal.claims is principal.claims, "built once, then the same dict"
    assert principal.has_role("reader") and not principal.has_role("read")


def test_a_client_token_with_several_audiences_keeps_their_shapes() -> None:
    guard, key = setup()
    now = int(time.time())
    claims = access_claims(now, aud=["https://other.example.com", AUDIENCE], client_id="billing", scope="a b")
    del claims["sid"]
    principal = guard.verify_token(sign(key, claims))
    assert principal.session_id is None
    assert principal.client_id == "billing"
    assert dict(principal.claims) == claims


def test_a_principal_is_read_only_comparable_and_printable() -> None:
    guard, key = setup()
    token = sign(key, access_claims(int(time.time())))
    first = guard.verify_token(token)
    second = guard.authenticate_request("GET", "/orders", {"Authorization": f"Bearer {token}"})
    assert first == second and hash(first) == hash(second)
    assert first != guard.verify_token(sign(key, access_claims(int(time.time()))))
    assert first != "a string"
    with pytest.raises(AttributeError):
        first.subject = "mallory"  # type: ignore[misc]
    text = repr(first)
    assert text.startswith("Principal(subject='user-4f6c2d1e', roles=('reader', 'writer'), token_id=")
    assert token not in text


def test_a_cached_token_is_still_refused_once_expired() -> None:
    clock = Clock()
    guard, key = setup(clock=clock)
    token = sign(key, access_claims(int(clock.now)))
    headers = {"authorization": f"Bearer {token}"}
    assert guard.authenticate_request("GET", "/orders", headers) is not None
    assert guard.authenticate_request("GET", "/orders", headers) is not None  # from the cache
    clock.now += 900 + 61  # past exp and the 60 s leeway
    with pytest.raises(ExpiredTokenError):
        guard.authenticate_request("GET", "/orders", headers)


def test_a_cached_tokens_altered_signature_is_refused() -> None:
    guard, key = setup()
    token = sign(key, access_claims(int(time.time())))
    assert guard.verify_token(token) is not None
    head, payload, signature = token.split(".")
    altered = "A" if signature[0] != "A" else "B"
    forged = f"{head}.{payload}.{altered}{signature[1:]}"
    with pytest.raises(InvalidSignatureError):
        guard.authenticate_request("GET", "/orders", {"authorization": f"Bearer {forged}"})


def test_public_routes_and_missing_headers_are_decided_before_any_token() -> None:
    guard, _ = setup(public=[("GET", "/healthz")])
    assert guard.authenticate_request("GET", "/healthz", {"authorization": "Bearer garbage"}) is None
    with pytest.raises(MissingCredentialsError):
        guard.authenticate_request("GET", "/orders", {"accept": "*/*"})


def test_scope_checks_read_the_principals_roles() -> None:
    guard, key = setup(permissions={"writer": ["orders:write"]})
    principal = guard.verify_token(sign(key, access_claims(int(time.time()))))
    assert guard.allows(principal, "orders:write")
    assert not guard.allows(principal, "orders:delete")
    guard.check_scope(principal, roles=["reader"], permissions=["orders:write"])
    with pytest.raises(InsufficientScopeError):
        guard.check_scope(principal, roles=["admin"])
    with pytest.raises(InsufficientScopeError):
        guard.check_scope(principal, permissions=["orders:delete"])
