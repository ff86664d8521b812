"""Embedded auth: authgate-core in this Python process, no separate server.

``Auth.open(database_url, data_dir=...)`` builds the service exactly as
``authgate serve`` does at start-up (the extension links authgate-server's
start-up code): the same settings (defaults, an optional TOML file, then
``AUTHGATE_SECTION__KEY``-style overrides), the same SQLite or PostgreSQL
store and migrations, the same master key (``storage.master_key``, or the
file ``data_dir/master.key``, generated 0600 on first start), the same
keyring, argon2id pool, refresh rotation with reuse detection, revocation
list and audit log. So a data directory (or PostgreSQL database) written by
``Auth`` can be served by ``authgate serve`` and the other way round.

Blocking calls release the GIL (argon2 runs on the core's own threads, the
stores on the extension's Tokio runtime); each has an ``_async`` twin that
runs it in a worker thread. A background task does the server's upkeep
(the key schedule, purges) until ``close()``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Optional, Union

from authgate import _authgate
from authgate.models import Me, PublicUser

__all__ = ["Auth", "LoginResponse", "RefreshResponse", "TokenPayload", "IntrospectResponse"]

# Settings the server takes verbatim (never parsed as TOML values).
_VERBATIM = {
    ("storage", "master_key"),
    ("storage", "master_key_file"),
    ("storage", "database_url"),
    ("storage", "redis_url"),
    ("tokens", "hmac_secret"),
}

Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class LoginResponse:
    """A login: the tokens and the user (docs/http-api.md ``LoginResponse``)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    """Seconds the access token lasts."""
    refresh_expires_in: int
    """Seconds the refresh token (and the session, unless refreshed on) lasts."""
    user: PublicUser
    token_type: str = "Bearer"


@dataclass(frozen=True)
class RefreshResponse:
    """New tokens for a refresh token (which is now rotated out)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class TokenPayload:
    """The verified claims of an access token."""

    sub: str
    """The user id (or a service client's id)."""
    roles: tuple[str, ...]
    sid: Optional[str]
    """The session; ``None`` for client tokens."""
    jti: str
    exp: int
    iat: int
    iss: str
    aud: Union[str, tuple[str, ...]]
    claims: Mapping[str, Any] = field(repr=False, compare=False)
    """Every claim."""

    @classmethod
    def from_dict(cls, claims: Mapping[str, Any]) -> TokenPayload:
        aud = claims["aud"]
        return cls(
            sub=claims["sub"],
            roles=tuple(claims.get("roles", ())),
            sid=claims.get("sid"),
            jti=claims["jti"],
            exp=claims["exp"],
            iat=claims["iat"],
            iss=claims["iss"],
            aud=aud if isinstance(aud, str) else tuple(aud),
            claims=claims,
        )


@dataclass(frozen=True)
class IntrospectResponse:
    """RFC 7662's answer, as ``POST /oauth/introspect`` gives it."""

    active: bool
    sub: Optional[str] = None
    username: Optional[str] = None
    roles: Optional[tuple[str, ...]] = None
    sid: Optional[str] = None
    jti: Optional[str] = None
    exp: Optional[int] = None
    token_type: Optional[str] = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The whole answer (``client_id``, ``scope``, ``iat``, ``iss``, ``aud``, ...)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IntrospectResponse:
        roles = data.get("roles")
        return cls(
            active=bool(data.get("active")),
            sub=data.get("sub"),
            username=data.get("username"),
            roles=None if roles is None else tuple(roles),
            sid=data.get("sid"),
            jti=data.get("jti"),
            exp=data.get("exp"),
            token_type=data.get("token_type"),
            raw=data,
        )


def _setting_pairs(settings: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """``{"section": {"key": value}}`` as the server's ``AUTHGATE_SECTION__KEY`` pairs."""
    pairs = []
    for section, values in settings.items():
        for key, value in values.items():
            name = f"AUTHGATE_{section.upper()}__{key.upper()}"
            if (section, key) in _VERBATIM:
                pairs.append((name, str(value)))
            else:
                # JSON scalars and arrays are TOML values too ("15m" stays a string).
                pairs.append((name, json.dumps(value)))
    return pairs


def _authorization(headers: Headers) -> Optional[str]:
    """The ``Authorization`` header's value (matched case-insensitively)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        if name.lower() == "authorization":
            return value
    return None


class Auth:
    """authgate in this process. Build it with ``Auth.open``; thread-safe.

    Errors are ``authgate.errors`` classes with the server's ``error_code``
    and ``status``: ``ApiError`` (``invalid_credentials``, ``conflict``,
    ``invalid_request``, ``rate_limited`` with ``retry_after``, ...),
    ``InvalidToken`` for a refused access or refresh token (``reason``
    ``invalid_grant`` for a refresh token), ``UserNotFound``,
    ``AuthServiceUnavailable`` when a store is down, ``AuthConfigError``.
    """

    def __init__(self, core: _authgate.AuthCore, public: Iterable[tuple[str, str]] = ()) -> None:
        self._core = core
        self._public = list(public)

    @classmethod
    def open(
        cls,
        database_url: str = "",
        *,
        data_dir: Union[str, "os.PathLike[str]", None] = None,
        master_key: Optional[str] = None,
        config: Union[str, "os.PathLike[str]", None] = None,
        settings: Optional[Mapping[str, Mapping[str, Any]]] = None,
        env: Optional[Mapping[str, str]] = None,
        public: Iterable[tuple[str, str]] = (),
        clock: Optional[Callable[[], float]] = None,
    ) -> Auth:
        """Opens (creating and migrating on first use) an authgate store.

        - ``database_url``: ``postgres://…``, ``sqlite:PATH`` (``sqlite:///abs/path``
          is ``/abs/path``, as the server reads it), or empty for
          ``authgate.db`` in ``data_dir``: the server's ``storage.database_url``.
        - ``data_dir``: the server's ``storage.data_dir`` (default
          ``./authgate-data``), where the master key file lives.
        - ``master_key``: base64 of 32 bytes, instead of the key file
          (``AUTHGATE_STORAGE__MASTER_KEY`` of the server).
        - ``config``: a TOML file in the server's format; ``settings``:
          ``{"section": {"key": value}}`` over it (e.g.
          ``{"tokens": {"issuer": "https://auth.example.com"}}``).
        - ``env``: pass ``os.environ`` to read ``AUTHGATE_*`` variables like
          ``authgate serve`` (before ``settings`` and the arguments above);
          nothing is read from the environment otherwise.
          Audit events go to the database only (the server's default adds
          ``stdout``) unless ``config``, ``env`` or ``settings`` set ``audit.sinks``.
        - ``public``: ``(method, path)`` routes ``authenticate_request`` lets
          through without a token (``/*`` covers a subtree).
        - ``clock``: ``() -> float`` Unix seconds, for tests.
        """
        pairs: list[tuple[str, str]] = []
        if config is None:
            # The server also prints audit events on stdout; a library keeps
            # them in the database unless told otherwise.
            pairs.append(("AUTHGATE_AUDIT__SINKS", '["database"]'))
        if env is not None:
            pairs.extend((name, value) for name, value in env.items() if name.startswith("AUTHGATE_"))
        pairs.extend(_setting_pairs(settings or {}))
        if database_url:
            pairs.append(("AUTHGATE_STORAGE__DATABASE_URL", database_url))
        if data_dir is not None:
            pairs.append(("AUTHGATE_STORAGE__DATA_DIR", json.dumps(os.fspath(data_dir))))
        if master_key is not None:
            pairs.append(("AUTHGATE_STORAGE__MASTER_KEY", master_key))
        path = None if config is None else Path(config)
        return cls(_authgate.AuthCore(pairs, config=path, clock=clock), public)

    @property
    def issuer(self) -> str:
        """``iss`` of the tokens issued here."""
        return self._core.issuer()

    @property
    def audience(self) -> str:
        """``aud`` of tokens issued without an audience name (``tokens.audiences.default``)."""
        return self._core.audience()

    def jwks(self) -> dict[str, Any]:
        """The public keys in force, as ``GET /.well-known/jwks.json`` serves
        them (the next key is published ahead of a rotation): for a
        ``Guard(keys=KeySet.from_jwks(auth.jwks()))`` that verifies without
        touching the database."""
        keys: dict[str, Any] = json.loads(self._core.jwks())
        return keys

    @property
    def database(self) -> str:
        """The database in use (no password)."""
        return self._core.report()[0]

    def register_user(
        self,
        email: str,
        password: str,
        *,
        username: Optional[str] = None,
        name: Optional[str] = None,
        ip: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> PublicUser:
        """Registers a user with the configured default roles (the password policy applies)."""
        text = self._core.register_user(email, password, username=username, name=name, ip=ip, user_agent=user_agent)
        return PublicUser.from_dict(json.loads(text))

    def login_user(
        self,
        identifier: str,
        password: str,
        *,
        audience: Optional[str] = None,
        ip: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> LoginResponse:
        """Logs in with an email or username: a new session with its tokens."""
        data = json.loads(self._core.login_user(identifier, password, audience=audience, ip=ip, user_agent=user_agent))
        return LoginResponse(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_in=data["expires_in"],
            refresh_expires_in=data["refresh_expires_in"],
            user=PublicUser.from_dict(data["user"]),
        )

    def refresh(self, refresh_token: str, *, ip: Optional[str] = None, user_agent: Optional[str] = None) -> RefreshResponse:
        """Rotates a refresh token. Presenting a rotated one again after the
        grace window (10 s) revokes the whole session (``InvalidToken``)."""
        data = json.loads(self._core.refresh(refresh_token, ip=ip, user_agent=user_agent))
        return RefreshResponse(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_in=data["expires_in"],
            refresh_expires_in=data["refresh_expires_in"],
        )

    def logout_user(
        self,
        access_token: str,
        *,
        refresh_token: Optional[str] = None,
        all: bool = False,
        ip: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> None:
        """Ends the access token's session (``all``: every session of its user)."""
        self._core.logout_user(access_token, refresh_token=refresh_token, all=all, ip=ip, user_agent=user_agent)

    def get_logged_in_user(self, access_token: str) -> PublicUser:
        """The user of a valid access token whose session is live (``InvalidToken`` otherwise)."""
        return self.get_session(access_token).user

    def get_session(self, access_token: str) -> Me:
        """The user and session of an access token (what ``GET /me`` answers)."""
        return Me.from_dict(json.loads(self._core.get_logged_in_user(access_token)))

    def introspect_token(self, token: str) -> IntrospectResponse:
        """RFC 7662 introspection of an access or refresh token; never raises
        for a bad token (``active=False``)."""
        return IntrospectResponse.from_dict(json.loads(self._core.introspect_token(token)))

    def authenticate_request(self, method: str, path: str, headers: Headers) -> Optional[TokenPayload]:
        """``None`` for a public route; else the claims of the request's
        Bearer token, verified, its session not revoked (``InvalidToken``
        otherwise, with ``status`` and ``www_authenticate`` to answer)."""
        claims = self._core.authenticate_request(method, path, _authorization(headers), self._public)
        return None if claims is None else TokenPayload.from_dict(json.loads(claims))

    def rotate_keys(self) -> None:
        """Rotates the signing keys now; the old key keeps verifying its tokens."""
        self._core.rotate_keys()

    def close(self) -> None:
        """Stops the background upkeep."""
        self._core.close()

    def __enter__(self) -> Auth:
        return self

    def __exit__(
        self,
        kind: Optional[type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    async def register_user_async(self, email: str, password: str, **options: Optional[str]) -> PublicUser:
        """``register_user`` without blocking the event loop."""
        return await asyncio.to_thread(lambda: self.register_user(email, password, **options))

    async def login_user_async(self, identifier: str, password: str, **options: Optional[str]) -> LoginResponse:
        """``login_user`` without blocking the event loop."""
        return await asyncio.to_thread(lambda: self.login_user(identifier, password, **options))

    async def refresh_async(self, refresh_token: str, **options: Optional[str]) -> RefreshResponse:
        """``refresh`` without blocking the event loop."""
        return await asyncio.to_thread(lambda: self.refresh(refresh_token, **options))

    async def logout_user_async(self, access_token: str, **options: Any) -> None:
        """``logout_user`` without blocking the event loop."""
        await asyncio.to_thread(lambda: self.logout_user(access_token, **options))

    async def get_logged_in_user_async(self, access_token: str) -> PublicUser:
        """``get_logged_in_user`` without blocking the event loop."""
        return await asyncio.to_thread(self.get_logged_in_user, access_token)

    async def introspect_token_async(self, token: str) -> IntrospectResponse:
        """``introspect_token`` without blocking the event loop."""
        return await asyncio.to_thread(self.introspect_token, token)

    async def authenticate_request_async(self, method: str, path: str, headers: Headers) -> Optional[TokenPayload]:
        """``authenticate_request`` without blocking the event loop."""
        return await asyncio.to_thread(self.authenticate_request, method, path, headers)
