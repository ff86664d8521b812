"""Embedded auth (authgate-core in this process): register, login, refresh,
reuse of a rotated refresh token revoking the session, logout,
introspection, authenticate_request, on SQLite and PostgreSQL; and one data
directory served by ``authgate serve`` after the package wrote it, and the
other way round."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authgate.embedded import Auth
from authgate.errors import (
    ApiError,
    AuthConfigError,
    AuthError,
    InvalidToken,
    MissingCredentialsError,
)
from tests.server import PASSWORD, Server, binary

# Cheap argon2, as the server tests use.
CHEAP = {"passwords": {"argon2_memory_kib": 64, "argon2_iterations": 1}}


class Clock:
    """A clock the test moves: Unix seconds, starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def postgres_url() -> str:
    url = os.environ.get("AUTHGATE_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("AUTHGATE_TEST_REQUIRE_SERVICES") == "1":
        raise RuntimeError("AUTHGATE_TEST_REQUIRE_SERVICES=1 but AUTHGATE_TEST_POSTGRES_URL is not set")
    pytest.skip("AUTHGATE_TEST_POSTGRES_URL is not set")


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database (psql), dropped afterwards."""
    base = postgres_url()
    name = f"authgate_py_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    yield base.rsplit("/", 1)[0] + "/" + name
    subprocess.run(["psql", base, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)


@pytest.fixture(params=["sqlite", "postgres"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Auth, Clock]]:
    clock = Clock()
    url = "" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    auth = Auth.open(url, data_dir=tmp_path, settings=CHEAP, clock=clock, public=[("GET", "/healthz")])
    yield auth, clock
    auth.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_register_login_and_the_logged_in_user(opened: tuple[Auth, Clock]) -> None:
    auth, _ = opened
    user = auth.register_user("Alice@Example.com", PASSWORD, username="alice")
    assert user.email == "alice@example.com" and user.roles == ("user",)
    with pytest.raises(ApiError) as taken:
        auth.register_user("alice@example.com", PASSWORD)
    assert taken.value.error_code == "conflict" and taken.value.status == 409
    with pytest.raises(ApiError) as weak:
        auth.register_user("bob@example.com", "short")
    assert weak.value.error_code == "invalid_request" and "password" in str(weak.value)
    with pytest.raises(ApiError) as wrong:
        auth.login_user("alice", "not-the-password-at-all")
    assert wrong.value.error_code == "invalid_credentials" and wrong.value.status == 401
    login = auth.login_user("alice", PASSWORD)
    assert login.user == user and login.expires_in == 900 and "access_token" not in repr(login)
    assert auth.get_logged_in_user(login.access_token) == user
    assert auth.get_session(login.access_token).session.id == auth.introspect_token(login.access_token).sid
    payload = auth.authenticate_request("GET", "/orders", bearer(login.access_token))
    assert payload is not None and payload.sub == user.id and payload.roles == ("user",)
    assert payload.iss == auth.issuer
    assert auth.authenticate_request("GET", "/healthz", {}) is None
    with pytest.raises(MissingCredentialsError) as missing:
        auth.authenticate_request("GET", "/orders", {})
    assert missing.value.status == 401 and missing.value.www_authenticate == 'Bearer realm="authgate"'
    with pytest.raises(InvalidToken):
        auth.get_logged_in_user(login.access_token[:-4] + "AAAA")


def test_refresh_rotates_and_reuse_after_the_grace_revokes_the_session(opened: tuple[Auth, Clock]) -> None:
    auth, clock = opened
    auth.register_user("carol@example.com", PASSWORD)
    login = auth.login_user("carol@example.com", PASSWORD)
    first = auth.refresh(login.refresh_token)
    assert first.refresh_token != login.refresh_token
    # Within the grace window a lost answer can be asked for again: the same successor.
    assert auth.refresh(login.refresh_token).refresh_token == first.refresh_token
    second = auth.refresh(first.refresh_token)
    assert auth.introspect_token(second.refresh_token).active
    clock.now += 11  # past the 10 s reuse grace
    with pytest.raises(InvalidToken) as reused:
        auth.refresh(first.refresh_token)
    assert reused.value.reason == "invalid_grant"
    # Theft suspected: the whole family is dead, access tokens included.
    with pytest.raises(InvalidToken):
        auth.refresh(second.refresh_token)
    with pytest.raises(InvalidToken):
        auth.get_logged_in_user(second.access_token)
    assert not auth.introspect_token(second.access_token).active
    assert not auth.introspect_token(second.refresh_token).active


def test_logout_ends_the_session_and_introspection_never_raises(opened: tuple[Auth, Clock]) -> None:
    auth, _ = opened
    auth.register_user("dave@example.com", PASSWORD)
    login = auth.login_user("dave@example.com", PASSWORD)
    other = auth.login_user("dave@example.com", PASSWORD)
    answer = auth.introspect_token(login.access_token)
    assert answer.active and answer.sub == login.user.id and answer.username is None
    auth.logout_user(login.access_token, refresh_token=login.refresh_token)
    with pytest.raises(InvalidToken):
        auth.get_logged_in_user(login.access_token)
    with pytest.raises(InvalidToken):
        auth.refresh(login.refresh_token)
    assert not auth.introspect_token(login.access_token).active
    assert auth.get_logged_in_user(other.access_token) == login.user, "only that session ended"
    auth.logout_user(other.access_token, all=True)
    assert not auth.introspect_token(other.refresh_token).active
    for junk in ["", "a.b.c", "x" * 10_000, "not a token"]:
        assert not auth.introspect_token(junk).active


def test_async_twins(opened: tuple[Auth, Clock]) -> None:
    auth, _ = opened

    async def scenario() -> None:
        user = await auth.register_user_async("erin@example.com", PASSWORD)
        logins = await asyncio.gather(*(auth.login_user_async("erin@example.com", PASSWORD) for _ in range(4)))
        assert len({login.access_token for login in logins}) == 4
        assert await auth.get_logged_in_user_async(logins[0].access_token) == user
        refreshed = await auth.refresh_async(logins[0].refresh_token)
        payload = await auth.authenticate_request_async("GET", "/x", bearer(refreshed.access_token))
        assert payload is not None and payload.sub == user.id
        await auth.logout_user_async(refreshed.access_token)
        assert not (await auth.introspect_token_async(refreshed.access_token)).active

    asyncio.run(scenario())


def test_bad_settings_are_refused_saying_which(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError) as bad:
        Auth.open("mysql://ann:secret@127.0.0.1/authgate", data_dir=tmp_path)
    assert "storage.database_url" in str(bad.value) and "secret" not in str(bad.value)
    with pytest.raises(AuthError):
        Auth.open(data_dir=tmp_path, master_key="too-short")


needs_binary = pytest.mark.skipif(binary() is None, reason="authgate binary not built (cargo build -p authgate)")


@needs_binary
def test_a_data_directory_written_by_the_package_is_served_by_authgate_serve(tmp_path: Path) -> None:
    auth = Auth.open(data_dir=tmp_path, settings=CHEAP)
    user = auth.register_user("frank@example.com", PASSWORD)
    login = auth.login_user("frank@example.com", PASSWORD)
    auth.close()
    del auth
    server = Server(tmp_path)
    try:
        # The package wrote the server's audit trail, in the same database
        # (registration queues the email-verification message as the server's does).
        trail = [json.loads(line) for line in server.cli("audit", "tail", "--json", "--user", user.id).splitlines()]
        assert [event["kind"] for event in trail] == [
            "user.registered",
            "email.verification_requested",
            "login.succeeded",
        ]
        assert PASSWORD not in json.dumps(trail) and login.access_token not in json.dumps(trail)
        # The package's token verifies there: same master key, same keys.
        status, me = server.request("GET", "/me", token=login.access_token)
        assert status == 200 and me["id"] == user.id
        status, refreshed = server.request("POST", "/auth/refresh", {"refresh_token": login.refresh_token})
        assert status == 200
        assert server.login("frank@example.com")["user"]["id"] == user.id
    finally:
        server.stop()
    # And back: the tokens the server rotated to work in the package.
    again = Auth.open(data_dir=tmp_path, settings=CHEAP)
    assert again.get_logged_in_user(refreshed["access_token"]) == user
    assert again.refresh(refreshed["refresh_token"]).refresh_token != refreshed["refresh_token"]
    again.close()


@needs_binary
def test_a_data_directory_written_by_authgate_serve_is_opened_by_the_package(tmp_path: Path) -> None:
    server = Server(tmp_path)
    try:
        server.add_user("grace@example.com", "admin")
        login: dict[str, Any] = server.login("grace@example.com")
        status, _ = server.request("POST", "/admin/keys/rotate", {}, token=login["access_token"])
        assert status in (200, 204)
    finally:
        server.stop()
    auth = Auth.open(data_dir=tmp_path, settings=CHEAP)
    try:
        user = auth.get_logged_in_user(login["access_token"])
        assert user.email == "grace@example.com" and user.roles == ("admin",)
        refreshed = auth.refresh(login["refresh_token"])
        # Signed with the key the server rotated to.
        assert auth.get_logged_in_user(refreshed.access_token) == user
        assert auth.login_user("grace@example.com", PASSWORD).user == user
    finally:
        auth.close()
