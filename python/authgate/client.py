"""The client: for Python programs that log in to an authgate server.

``AuthClient`` is authgate-client's Rust ``Client`` (reqwest, rustls) with
its single-flight refresh: the access token is refreshed when less than
``refresh_margin`` of it is left and once after a 401, and however many
threads or tasks need a refresh at the same time, one ``POST /auth/refresh``
is sent and every caller gets its answer. Token expiry is judged by the
server's clock, learnt from the ``iat`` of the tokens received (clock skew).

``AuthStore`` holds the session (tokens and user) and tells listeners about
every change in order; ``route_guard(store, "/login")`` says which route a
UI should render for the session it holds.

Blocking calls release the GIL while the request is on the network; each
has an ``_async`` twin that runs it in a worker thread, so the event loop
never waits on the server.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Optional, Union

from authgate import _authgate
from authgate.models import Me, PublicUser

__all__ = ["AuthClient", "AuthStore", "AuthChange", "RouteGuard", "route_guard"]

ChangeKind = Literal["logged_in", "token_refreshed", "logged_out"]


@dataclass(frozen=True)
class AuthChange:
    """One change of an ``AuthStore``, as its listeners hear it."""

    kind: ChangeKind
    """``logged_in``, ``token_refreshed`` or ``logged_out``."""
    user: Optional[PublicUser]
    """The user who logged in (``logged_in`` only)."""


def _user(text: Optional[str]) -> Optional[PublicUser]:
    return None if text is None else PublicUser.from_dict(json.loads(text))


class AuthStore:
    """The session's tokens and user, shared by threads; observable.

    ``subscribe(listener)`` calls ``listener(change)`` after every change
    (login, refresh, logout), in the order they happened, on the thread that
    made the change; it returns a function that unsubscribes. A listener that
    raises is reported through ``sys.unraisablehook`` and the other listeners
    still hear the change. Listeners must not call the client's blocking
    methods (a refresh may be what is calling them).
    """

    def __init__(self) -> None:
        self._core = _authgate.AuthStoreCore()

    @property
    def token(self) -> Optional[str]:
        """The access token, or ``None`` when logged out."""
        return self._core.token()

    @property
    def refresh_token(self) -> Optional[str]:
        """The refresh token, or ``None``."""
        return self._core.refresh_token()

    @property
    def user(self) -> Optional[PublicUser]:
        """The logged-in user, or ``None``."""
        return _user(self._core.user())

    @property
    def is_authenticated(self) -> bool:
        """Whether a session is held."""
        return self._core.is_authenticated()

    def set_token(self, access: str, refresh: Optional[str] = None) -> bool:
        """Replaces the current session's access token (and refresh token,
        if given); listeners hear ``token_refreshed``. ``False`` when logged out."""
        return self._core.set_token(access, refresh)

    def logout(self) -> None:
        """Forgets the session here, without telling the server (see ``AuthClient.logout``)."""
        self._core.logout()

    def subscribe(self, listener: Callable[[AuthChange], object]) -> Callable[[], None]:
        """Calls ``listener`` after every change; returns the unsubscribe function."""

        def deliver(kind: ChangeKind, user: Optional[str]) -> None:
            listener(AuthChange(kind, _user(user)))

        subscription = self._core.subscribe(deliver)
        done = threading.Event()

        def unsubscribe() -> None:
            if not done.is_set():
                done.set()
                self._core.unsubscribe(subscription)

        return unsubscribe


class RouteGuard:
    """Which route to render for an ``AuthStore``'s session; see ``route_guard``."""

    def __init__(
        self,
        store: AuthStore,
        redirect_to: str,
        *,
        public: Iterable[str] = (),
        role: Optional[str] = None,
    ) -> None:
        self._core = _authgate.RouteGuardCore(store._core, redirect_to, public=list(public), role=role)

    def resolve(self, requested: str) -> str:
        """``requested`` if it is public or the user may see it, else the redirect target."""
        return self._core.resolve(requested)

    def allows(self, requested: str) -> bool:
        """Whether ``requested`` may be rendered as it is."""
        return self._core.allows(requested)


def route_guard(
    store: AuthStore, redirect_to: str, *, public: Iterable[str] = (), role: Optional[str] = None
) -> RouteGuard:
    """A guard sending visitors of ``store`` to ``redirect_to`` (always public).

    Every route is protected unless listed in ``public`` (``/docs/*`` covers
    ``/docs`` and everything below it; a query or fragment is ignored). With
    ``role``, a logged-in user without that role is sent away too. The guard
    reads the store at each call, so it follows logins and logouts.
    """
    return RouteGuard(store, redirect_to, public=public, role=role)


_Seconds = Union[int, float, timedelta]


class AuthClient:
    """A client of one authgate server for one user session (thread-safe).

    ``server`` is the server's base URL: ``https://…``, or ``http://`` to
    this machine (``allow_http=True`` lifts that for a trusted network:
    passwords and tokens would cross it in clear). ``store`` holds the
    session (a new ``AuthStore`` by default); ``refresh_margin`` (60 s) is
    how long before expiry the access token is refreshed; ``clock`` is a
    ``() -> float`` of Unix seconds, for tests.

    Errors are ``authgate.errors`` classes: ``ApiError`` for a refusal (its
    ``error_code``: ``invalid_credentials``, ``rate_limited`` with
    ``retry_after``, ...), ``SessionEndedError`` when the refresh token is
    refused (the store is logged out), ``NotAuthenticatedError`` without a
    session, ``AuthServiceUnavailable`` when the server cannot be reached.
    """

    def __init__(
        self,
        server: str,
        *,
        store: Optional[AuthStore] = None,
        refresh_margin: _Seconds = 60,
        clock: Optional[Callable[[], float]] = None,
        allow_http: bool = False,
    ) -> None:
        self.store = store if store is not None else AuthStore()
        margin = refresh_margin.total_seconds() if isinstance(refresh_margin, timedelta) else float(refresh_margin)
        self._core = _authgate.AuthClientCore(
            server, self.store._core, refresh_margin=margin, clock=clock, allow_http=allow_http
        )

    def login(self, identifier: str, password: str) -> PublicUser:
        """``POST /auth/login`` with an email or username; the session goes into the store."""
        return PublicUser.from_dict(json.loads(self._core.login(identifier, password)))

    def refresh(self) -> str:
        """Refreshes now (joining a refresh already in flight); the new access token."""
        return self._core.refresh()

    def access_token(self) -> str:
        """An access token good for at least the refresh margin, refreshed first if needed."""
        return self._core.access_token()

    def logout(self) -> None:
        """``POST /auth/logout`` for this session; the store is emptied even if the server cannot be told."""
        self._core.logout()

    def me(self) -> Me:
        """``GET /me``: the user and their session (refreshing ahead of expiry, and once after a 401)."""
        return Me.from_dict(json.loads(self._core.me()))

    def server_now(self) -> int:
        """Now by the server's clock as the client knows it (Unix seconds)."""
        return self._core.server_now()

    async def login_async(self, identifier: str, password: str) -> PublicUser:
        """``login`` without blocking the event loop."""
        return await asyncio.to_thread(self.login, identifier, password)

    async def refresh_async(self) -> str:
        """``refresh`` without blocking the event loop."""
        return await asyncio.to_thread(self.refresh)

    async def access_token_async(self) -> str:
        """``access_token`` without blocking the event loop."""
        return await asyncio.to_thread(self.access_token)

    async def logout_async(self) -> None:
        """``logout`` without blocking the event loop."""
        await asyncio.to_thread(self.logout)

    async def me_async(self) -> Me:
        """``me`` without blocking the event loop."""
        return await asyncio.to_thread(self.me)
