"""The client and its store against a real ``authgate serve``: login, me,
logout, listeners hearing changes in order, the route guard, 20 concurrent
callers sharing one refresh (ahead of expiry and after a 401, counted by the
server's ``authgate_refreshes_total``), a refused refresh token ending the
session, the server down, the async twins."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from authgate import jwt
from authgate.client import AuthChange, AuthClient, AuthStore, route_guard
from authgate.errors import (
    ApiError,
    AuthServiceUnavailable,
    ClientConfigError,
    NotAuthenticatedError,
    SessionEndedError,
)
from tests.server import PASSWORD, Server, binary

pytestmark = pytest.mark.skipif(binary() is None, reason="authgate binary not built (cargo build -p authgate)")

CALLERS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(Path(tmp_path_factory.mktemp("client")))
    for index in range(8):
        running.add_user(f"user{index}@example.com", "user")
    running.add_user("root@example.com", "admin")
    yield running
    running.stop()


class Clock:
    """A clock the test moves: Unix seconds, starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def refreshes(server: Server) -> float:
    return server.metric("authgate_refreshes_total", outcome="success")


def test_login_me_and_logout_and_listeners_hear_each_change_in_order(server: Server) -> None:
    client = AuthClient(server.url)
    heard: list[AuthChange] = []
    unsubscribe = client.store.subscribe(heard.append)
    user = client.login("user0@example.com", PASSWORD)
    assert user.email == "user0@example.com" and user.roles == ("user",)
    assert client.store.is_authenticated and client.store.user == user
    me = client.me()
    assert me.user.id == user.id
    client.refresh()
    client.logout()
    assert [change.kind for change in heard] == ["logged_in", "token_refreshed", "logged_out"]
    assert heard[0].user == user
    assert not client.store.is_authenticated and client.store.token is None
    unsubscribe()
    client.login("user0@example.com", PASSWORD)
    assert len(heard) == 3, "an unsubscribed listener hears nothing"
    unsubscribe()  # twice is harmless


def test_a_listener_that_raises_is_reported_and_the_others_still_hear(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: reported.append(hook.exc_value))
    client = AuthClient(server.url)
    heard: list[str] = []

    def broken(change: AuthChange) -> None:
        raise RuntimeError("listener bug")

    client.store.subscribe(broken)
    client.store.subscribe(lambda change: heard.append(change.kind))
    client.login("user1@example.com", PASSWORD)
    client.store.logout()
    assert heard == ["logged_in", "logged_out"]
    assert [str(error) for error in reported] == ["listener bug", "listener bug"]


def test_a_wrong_password_is_refused_and_leaves_the_store_empty(server: Server) -> None:
    client = AuthClient(server.url)
    with pytest.raises(ApiError) as refused:
        client.login("user1@example.com", "not-the-password-at-all")
    assert refused.value.error_code == "invalid_credentials" and refused.value.status == 401
    assert not client.store.is_authenticated
    with pytest.raises(NotAuthenticatedError):
        client.me()


def test_twenty_callers_near_expiry_share_one_refresh(server: Server) -> None:
    clock = Clock()
    client = AuthClient(server.url, clock=clock)
    client.login("user2@example.com", PASSWORD)
    old = client.store.token
    before = refreshes(server)
    clock.now += 15 * 60 - 30  # 30 s left of the 15 min token: inside the 60 s margin
    start = threading.Barrier(CALLERS)

    def call(_: int) -> str:
        start.wait()
        return client.me().user.email

    with ThreadPoolExecutor(CALLERS) as pool:
        emails = list(pool.map(call, range(CALLERS)))
    assert emails == ["user2@example.com"] * CALLERS
    assert refreshes(server) - before == 1
    assert client.store.token != old


def test_twenty_callers_refused_with_401_share_one_refresh_and_retry(server: Server) -> None:
    client = AuthClient(server.url)
    client.login("user3@example.com", PASSWORD)
    # A well-formed, unexpired token the server refuses (signed by another
    # key): the client cannot tell, so every caller gets a 401.
    forged = jwt.encode({"sub": "x", "exp": int(time.time()) + 900}, jwt.SigningKey.generate("EdDSA"))
    assert client.store.set_token(forged)
    before = refreshes(server)
    start = threading.Barrier(CALLERS)

    def call(_: int) -> str:
        start.wait()
        return client.me().user.email

    with ThreadPoolExecutor(CALLERS) as pool:
        emails = list(pool.map(call, range(CALLERS)))
    assert emails == ["user3@example.com"] * CALLERS
    assert refreshes(server) - before == 1


def test_a_refused_refresh_token_ends_the_session(server: Server) -> None:
    client = AuthClient(server.url)
    client.login("user4@example.com", PASSWORD)
    heard: list[str] = []
    client.store.subscribe(lambda change: heard.append(change.kind))
    # The session is ended elsewhere (another device logs it out).
    status, _ = server.request(
        "POST", "/auth/logout", {"refresh_token": client.store.refresh_token}, token=client.store.token
    )
    assert status == 200
    with pytest.raises(SessionEndedError):
        client.refresh()
    assert not client.store.is_authenticated
    assert heard == ["logged_out"]


def test_the_route_guard_follows_the_session_and_the_role(server: Server) -> None:
    client = AuthClient(server.url)
    guard = route_guard(client.store, "/login", public=["/about", "/docs/*"])
    admin_only = route_guard(client.store, "/login", role="admin")
    assert guard.resolve("/dashboard") == "/login"
    assert guard.resolve("/docs/api?x=1") == "/docs/api?x=1"
    assert guard.resolve("/login?next=/dashboard") == "/login?next=/dashboard"
    client.login("user5@example.com", PASSWORD)
    assert guard.resolve("/dashboard") == "/dashboard"
    assert admin_only.resolve("/admin") == "/login"
    client.login("root@example.com", PASSWORD)
    assert admin_only.allows("/admin")
    client.logout()
    assert not guard.allows("/dashboard")


def test_plain_http_to_another_host_is_refused_and_a_dead_server_is_unavailable() -> None:
    with pytest.raises(ClientConfigError) as refused:
        AuthClient("http://auth.example.com")
    assert refused.value.reason == "plain_http"
    client = AuthClient("http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(AuthServiceUnavailable) as down:
        client.login("user6@example.com", PASSWORD)
    assert down.value.status == 503 and down.value.reason == "unreachable"


def test_async_twins_share_one_refresh_without_blocking_the_loop(server: Server) -> None:
    clock = Clock()
    client = AuthClient(server.url, clock=clock)

    async def scenario() -> list[str]:
        await client.login_async("user7@example.com", PASSWORD)
        clock.now += 15 * 60 - 30
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        running = asyncio.ensure_future(ticker())
        answers = await asyncio.gather(*(client.me_async() for _ in range(CALLERS)))
        running.cancel()
        assert ticks > CALLERS, "the loop kept running while the requests were out"
        await client.logout_async()
        return [me.user.email for me in answers]

    before = refreshes(server)
    assert asyncio.run(scenario()) == ["user7@example.com"] * CALLERS
    assert refreshes(server) - before == 1
    assert not client.store.is_authenticated
