"""The guard against a real ``authgate serve``: JWKS fetch, rotation with
the next key pre-published, expired and revoked tokens, an unknown kid,
the server down past the staleness limit, introspection, async twins."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authgate import jwt
from authgate.errors import (
    AuthServiceUnavailable,
    ExpiredTokenError,
    GuardConfigError,
    InactiveTokenError,
    KeyMismatchError,
    MalformedTokenError,
    MissingCredentialsError,
)
from authgate.guard import Guard
from tests.server import Server, binary

pytestmark = pytest.mark.skipif(binary() is None, reason="authgate binary not built (cargo build -p authgate)")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    running.add_user("alice@example.com", "user")
    running.add_user("root@example.com", "admin")
    yield running
    running.stop()


class Clock:
    """A clock the test moves: Unix seconds, starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def audience_of(token: str) -> str:
    aud = jwt.decode_jwt(token)["aud"]
    return aud if isinstance(aud, str) else aud[0]


def jwks_guard(server: Server, token: str, **options: Any) -> Guard:
    return Guard(issuer=server.issuer, audience=audience_of(token), jwks_url=server.jwks_url, **options)


def test_a_login_token_verifies_with_keys_fetched_from_the_jwks_url(server: Server) -> None:
    login = server.login("alice@example.com")
    guard = jwks_guard(server, login["access_token"])
    principal = guard.verify_token(login["access_token"])
    assert principal.subject == login["user"]["id"]
    assert principal.roles == ("user",)
    assert principal.session_id is not None
    assert principal.claims["iss"] == server.issuer
    status = guard.jwks_status()
    assert status is not None and status["requests"] >= 1
    assert jwt.get_unverified_header(login["access_token"])["kid"] in status["key_ids"]


def test_authenticate_request_skips_public_routes_and_reads_the_bearer_header(server: Server) -> None:
    token = server.login("alice@example.com")["access_token"]
    guard = jwks_guard(server, token, public=[("GET", "/healthz"), ("*", "/docs/*")])
    assert guard.authenticate_request("GET", "/healthz", {}) is None
    assert guard.authenticate_request("POST", "/docs/a/b", {}) is None
    assert guard.should_skip_authentication("GET", "/docs")
    assert not guard.should_skip_authentication("GET", "/docs/../admin")
    principal = guard.authenticate_request("GET", "/me", {"Authorization": f"Bearer {token}"})
    assert principal is not None and principal.has_role("user")

    with pytest.raises(MissingCredentialsError) as missing:
        guard.authenticate_request("GET", "/me", {})
    assert missing.value.status == 401
    assert missing.value.www_authenticate == server.challenge("/me", None)[1]
    with pytest.raises(MalformedTokenError) as malformed:
        guard.authenticate_request("GET", "/me", {"authorization": "Bearer not.a.jwt"})
    assert (401, malformed.value.www_authenticate) == server.challenge("/me", "Bearer not.a.jwt")
    assert malformed.value.error_code == "invalid_token"


def test_an_expired_token_is_refused(server: Server) -> None:
    token = server.login("alice@example.com")["access_token"]
    clock = Clock()
    guard = jwks_guard(server, token, clock=clock)
    guard.verify_token(token)
    clock.now += 3600
    with pytest.raises(ExpiredTokenError) as refused:
        guard.verify_token(token)
    assert refused.value.reason == "expired"
    assert guard.introspect_token(token) == {"active": False, "user": None, "reason": "expired"}


def test_an_unknown_kid_refetches_once_then_waits_out_the_cooldown(server: Server) -> None:
    token = server.login("alice@example.com")["access_token"]
    clock = Clock()
    guard = jwks_guard(server, token, clock=clock, unknown_kid_interval=30)
    guard.verify_token(token)
    claims = jwt.decode_jwt(token)
    stranger = jwt.SigningKey.generate("EdDSA", kid="not-authgates")
    forged = jwt.encode(claims, stranger, headers={"typ": "at+jwt"})

    def refetches() -> int:
        status = guard.jwks_status()
        assert status is not None
        count: int = status["unknown_kid_refetches"]
        return count

    for _ in range(2):
        clock.now += 31  # past the cooldown of any earlier refetch
        start = refetches()
        for _ in range(3):
            with pytest.raises(KeyMismatchError) as refused:
                guard.verify_token(forged)
            assert refused.value.reason == "unknown_kid"
        assert refetches() == start + 1


def test_the_async_twin_answers_inline_unless_a_jwks_fetch_may_be_needed(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = server.login("alice@example.com")["access_token"]
    clock = Clock()
    guard = jwks_guard(server, token, clock=clock, unknown_kid_interval=30, public=[("GET", "/healthz")])
    guard.verify_token(token)  # the first JWKS fetch may still be on its way: wait for the keys
    hops: list[str] = []
    real_to_thread = asyncio.to_thread

    async def counting_to_thread(function: Any, /, *args: Any) -> Any:
        hops.append(getattr(function, "__name__", "?"))
        return await real_to_thread(function, *args)

    monkeypatch.setattr("authgate.guard.asyncio.to_thread", counting_to_thread)
    stranger = jwt.SigningKey.generate("EdDSA", kid="not-authgates")
    forged = jwt.encode(jwt.decode_jwt(token), stranger, headers={"typ": "at+jwt"})

    async def scenario() -> None:
        principal = await guard.authenticate_request_async("GET", "/orders", {"Authorization": f"Bearer {token}"})
        assert principal is not None and principal.roles == ("user",)
        assert await guard.authenticate_request_async("GET", "/healthz", {}) is None
        with pytest.raises(MissingCredentialsError):
            await guard.authenticate_request_async("GET", "/orders", {})
        assert hops == [], "answered with the keys held: no thread"
        before = guard.jwks_status()
        assert before is not None
        clock.now += 31
        with pytest.raises(KeyMismatchError):
            await guard.authenticate_request_async("GET", "/orders", {"Authorization": f"Bearer {forged}"})
        assert hops == ["authenticate_request"], "an unknown kid may fetch: in a thread"
        status = guard.jwks_status()
        assert status is not None and status["unknown_kid_refetches"] == before["unknown_kid_refetches"] + 1

    asyncio.run(scenario())


def test_after_a_rotation_the_pre_published_next_key_verifies_without_a_refetch(server: Server) -> None:
    admin = server.login("root@example.com")["access_token"]
    # The first rotation makes a key at once (none was waiting) and
    # publishes the next one; the guard starts after it, like a service
    # started between rotations.
    status, first = server.request("POST", "/admin/keys/rotate", token=admin)
    assert status == 200, first
    guard = jwks_guard(server, admin)
    guard.verify_token(admin)
    before = guard.jwks_status()
    assert before is not None and first["next"]["kid"] in before["key_ids"]

    status, second = server.request("POST", "/admin/keys/rotate", token=admin)
    assert status == 200, second
    assert second["active"]["kid"] == first["next"]["kid"]
    token = server.login("alice@example.com")["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == first["next"]["kid"]

    assert guard.verify_token(token).roles == ("user",)
    after = guard.jwks_status()
    assert after is not None
    assert (after["requests"], after["unknown_kid_refetches"]) == (
        before["requests"],
        before["unknown_kid_refetches"],
    ), "no fetch: the new key was held before the rotation"


def test_with_the_server_down_keys_serve_until_the_staleness_limit(server: Server) -> None:
    token = server.login("alice@example.com")["access_token"]
    clock = Clock()
    guard = jwks_guard(server, token, clock=clock, max_staleness=120)
    guard.verify_token(token)
    server.stop()
    clock.now += 60
    assert guard.verify_token(token).roles == ("user",)
    clock.now += 61
    with pytest.raises(AuthServiceUnavailable) as refused:
        guard.verify_token(token)
    assert refused.value.reason == "stale_keys"
    assert refused.value.status == 503
    assert refused.value.www_authenticate is None
    assert guard.introspect_token(token)["reason"] == "stale_keys"


def test_introspection_sees_a_logout_and_never_raises(server: Server) -> None:
    client_id, secret = server.add_client("billing")
    endpoint = server.introspection_url
    kept = server.login("alice@example.com")["access_token"]
    revoked = server.login("alice@example.com")["access_token"]
    guard = Guard(
        issuer=server.issuer, audience=audience_of(kept), introspection=(endpoint, client_id, secret)
    )
    answer = guard.introspect_token(kept)
    assert answer["active"] and answer["user"] is not None and answer["user"].has_role("user")

    status, _ = server.request("POST", "/auth/logout", {}, token=revoked)
    assert status == 200
    assert guard.introspect_token(revoked) == {"active": False, "user": None, "reason": "inactive"}
    with pytest.raises(InactiveTokenError):
        guard.verify_token(revoked)

    server.stop()
    other = jwt.encode(
        jwt.decode_jwt(kept) | {"jti": "another"}, jwt.SigningKey.generate("EdDSA"), headers={"typ": "at+jwt"}
    )
    assert guard.introspect_token(other) == {"active": False, "user": None, "reason": "unavailable"}
    with pytest.raises(AuthServiceUnavailable):
        guard.verify_token(other)


def test_async_twins_give_the_same_answers(server: Server) -> None:
    token = server.login("alice@example.com")["access_token"]
    guard = jwks_guard(server, token)

    async def main() -> None:
        principal = await guard.verify_token_async(token)
        assert principal.roles == ("user",)
        headers = {"Authorization": f"Bearer {token}"}
        assert await guard.authenticate_request_async("GET", "/x", headers) == principal
        assert (await guard.introspect_token_async(token))["active"]
        with pytest.raises(MissingCredentialsError):
            await guard.authenticate_request_async("GET", "/x", {})

    asyncio.run(main())


def test_a_guard_needs_exactly_one_key_source() -> None:
    with pytest.raises(GuardConfigError):
        Guard(issuer="https://auth.example", audience="api")
    with pytest.raises(GuardConfigError):
        Guard(issuer="https://auth.example", audience="api", jwks_url="http://auth.example/jwks.json")
