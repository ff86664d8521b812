"""The guard: for Python services that trust an authgate server.

``Guard`` verifies the access tokens authgate issues, on authgate-guard's
Rust ``Guard`` (``authgate._authgate.GuardCore``): keys from a JWKS URL
(cached, refreshed in the background, refetched at most once per interval
for an unknown ``kid``, refused past a maximum staleness), static keys, or
RFC 7662 introspection. On top of it: a public-route policy
(``should_skip_authentication``), ``authenticate_request`` for any
framework, a FastAPI dependency (``Guard.require``) and an ASGI middleware
(``authgate.asgi.AuthgateMiddleware``).

Blocking calls release the GIL while they verify or wait on the network
(the extension's Tokio runtime does the I/O); each has an ``_async`` twin
that runs it in a worker thread (``asyncio.to_thread``), so the event loop
never waits on a JWKS fetch or an introspection request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Optional, TypedDict, Union

from authgate import _authgate
from authgate._authgate import Principal
from authgate.jwt import KeySet

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

__all__ = ["Guard", "Principal", "IntrospectionResult"]

_Seconds = Union[int, float, timedelta]


class IntrospectionResult(TypedDict):
    """What ``Guard.introspect_token`` answers: never an exception."""

    active: bool
    """Whether the token is accepted now."""
    user: Optional[Principal]
    """Its principal when active, else ``None``."""
    reason: str
    """``"active"``, or the refusal's stable reason (``"expired"``, ``"inactive"``, ``"unavailable"``, ...)."""


def _seconds(value: Optional[_Seconds]) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class Guard:
    """Verifies authgate access tokens for a service.

    Exactly one key source: ``jwks_url`` (authgate's
    ``/.well-known/jwks.json``), ``keys`` (a ``KeySet``), or
    ``introspection=(endpoint, client_id, client_secret)``.

    - ``audience``: one accepted audience or several; ``issuer``: the only accepted ``iss``.
    - ``public``: ``(method, path)`` pairs that need no token; a path ending
      in ``/*`` covers everything below it, method ``*`` any method, ``GET``
      also ``HEAD``. Unclean paths (``..``, ``//``, encoded separators) are
      never public.
    - ``permissions``: role → permissions, the server's ``[roles]`` table
      (``admin`` holds every permission).
    - ``max_staleness``: how long keys from the JWKS URL are trusted after
      the last successful fetch while fetches fail (24 h by default); past
      it every token is refused with ``AuthServiceUnavailable``.
    - ``unknown_kid_interval``: at most one refetch per this many seconds
      (30) for tokens naming a key id not held.
    - ``clock``: a ``() -> float`` of Unix seconds (``time.time`` by default).
    - ``allow_http``: accept plain ``http`` to a non-loopback host (never in production).

    Errors (``authgate.errors``) carry what to answer: ``status``,
    ``error_code``, ``description`` and ``www_authenticate``.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: Union[str, Sequence[str]],
        jwks_url: Optional[str] = None,
        keys: Optional[KeySet] = None,
        introspection: Optional[tuple[str, str, str]] = None,
        public: Iterable[tuple[str, str]] = (),
        permissions: Optional[Mapping[str, Iterable[str]]] = None,
        leeway: int = 60,
        max_staleness: Optional[_Seconds] = None,
        unknown_kid_interval: Optional[_Seconds] = None,
        clock: Optional[Callable[[], float]] = None,
        allow_http: bool = False,
    ) -> None:
        audiences = [audience] if isinstance(audience, str) else list(audience)
        self._core = _authgate.GuardCore(
            issuer,
            audiences,
            jwks_url=jwks_url,
            keys=keys,
            introspection=introspection,
            public=list(public),
            permissions=[(role, list(granted)) for role, granted in (permissions or {}).items()],
            leeway=leeway,
            max_staleness=_seconds(max_staleness),
            unknown_kid_interval=_seconds(unknown_kid_interval),
            clock=clock,
            allow_http=allow_http,
        )

    def should_skip_authentication(self, method: str, path: str) -> bool:
        """Whether ``method`` on ``path`` is public (no token read at all)."""
        return self._core.should_skip_authentication(method, path)

    def authenticate_request(
        self, method: str, path: str, headers: Mapping[str, str]
    ) -> Optional[Principal]:
        """``None`` for a public route, else the principal of the request's
        ``Authorization`` header (looked up case-insensitively).

        Raises ``InvalidTokenError`` (a subclass per reason; 401),
        ``AuthServiceUnavailable`` (503) when the keys or the server are unavailable.
        """
        authorization = headers.get("authorization")
        if authorization is None:
            authorization = _authorization(headers)
        # Answered at once when no network is involved, else waited for.
        done, principal = self._core.authenticate_request_now(method, path, authorization)
        if done:
            return principal
        return self._core.authenticate_request(method, path, authorization)

    async def authenticate_request_async(
        self, method: str, path: str, headers: Mapping[str, str]
    ) -> Optional[Principal]:
        """``authenticate_request`` without blocking the event loop: answered
        inline when no network is involved (a public route, a token verified
        with the keys held or from the cache, a refusal decided locally:
        microseconds, less than a thread hop; the GIL is released while it
        verifies), in a worker thread when it may be (introspection, or a key
        id the guard does not hold, which may fetch the JWKS)."""
        authorization = headers.get("authorization")
        if authorization is None:
            authorization = _authorization(headers)
        done, principal = self._core.authenticate_request_now(method, path, authorization)
        if done:
            return principal
        return await asyncio.to_thread(self._core.authenticate_request, method, path, authorization)

    def verify_token(self, token: str) -> Principal:
        """The principal of a bare access token; raises like ``authenticate_request``."""
        return self._core.verify_token(token)

    async def verify_token_async(self, token: str) -> Principal:
        """``verify_token`` in a worker thread."""
        return await asyncio.to_thread(self.verify_token, token)

    def introspect_token(self, token: str) -> IntrospectionResult:
        """``{"active", "user", "reason"}`` for ``token``; never raises for a
        refused token or an unreachable server (then ``active`` is false)."""
        user, reason = self._core.introspect_token(token)
        return {"active": user is not None, "user": user, "reason": reason}

    async def introspect_token_async(self, token: str) -> IntrospectionResult:
        """``introspect_token`` in a worker thread."""
        return await asyncio.to_thread(self.introspect_token, token)

    def allows(self, principal: Principal, permission: str) -> bool:
        """Whether the principal's roles grant ``permission`` by this guard's map."""
        return self._core.allows(principal, permission)

    def check_scope(
        self, principal: Principal, *, roles: Sequence[str] = (), permissions: Sequence[str] = ()
    ) -> None:
        """Raises ``InsufficientScopeError`` (403) unless the principal holds
        every role in ``roles`` and is granted every permission in ``permissions``."""
        self._core.check_scope(principal, list(roles), list(permissions))

    def require(
        self, *, roles: Sequence[str] = (), permissions: Sequence[str] = ()
    ) -> Callable[[HTTPConnection], Any]:
        """A FastAPI dependency: ``Depends(guard.require(roles=[...], permissions=[...]))``.

        Resolves to the ``Principal``; the principal must hold every listed
        role and be granted every listed permission. Answers 401 (bad or no
        token), 403 (``insufficient_scope``) or 503 with the server's
        ``WWW-Authenticate`` and ``{"detail": {"error", "error_description"}}``.
        Public routes of the guard's policy resolve to ``None``.
        """
        from authgate._fastapi import dependency

        return dependency(self, tuple(roles), tuple(permissions))

    def jwks_status(self) -> Optional[dict[str, Any]]:
        """The JWKS fetcher's counters, ``None`` without a JWKS URL."""
        status = self._core.jwks_status()
        if status is None:
            return None
        key_ids, requests, failures, refetches, stale = status
        return {
            "key_ids": key_ids,
            "requests": requests,
            "failures": failures,
            "unknown_kid_refetches": refetches,
            "stale_refusals": stale,
        }


def _authorization(headers: Mapping[str, str]) -> Optional[str]:
    value = headers.get("authorization")
    if value is not None:
        return value
    for name, header in headers.items():
        if name.lower() == "authorization":
            return header
    return None
