"""Type stubs of the Rust extension ``authgate._authgate`` (see ``authgate.jwt``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Optional, Union, final

__all__ = [
    "SigningKey",
    "VerifyingKey",
    "KeySet",
    "GuardCore",
    "Principal",
    "AuthStoreCore",
    "AuthClientCore",
    "RouteGuardCore",
    "AuthCore",
    "decode",
    "encode",
    "decode_jwt",
    "get_unverified_header",
    "is_jwt_expired",
    "seal",
    "unseal",
    "ALGORITHMS",
]

_Material = Union[str, bytes]
_Time = Union[int, float, datetime]
_Key = Union["SigningKey", "VerifyingKey", "KeySet", Mapping[str, Any], str, bytes]

ALGORITHMS: tuple[str, ...]

@final
class SigningKey:
    """A private (or shared-secret) key that signs tokens with one algorithm."""

    @staticmethod
    def generate(algorithm: str, *, kid: Optional[str] = None, rsa_bits: int = 2048) -> SigningKey: ...
    @staticmethod
    def from_secret(algorithm: str, secret: _Material, *, kid: Optional[str] = None) -> SigningKey: ...
    @staticmethod
    def from_pem(algorithm: str, pem: _Material, *, kid: Optional[str] = None) -> SigningKey: ...
    @staticmethod
    def from_der(algorithm: str, der: bytes, *, kid: Optional[str] = None) -> SigningKey: ...
    def to_pem(self) -> str: ...
    def to_der(self) -> bytes: ...
    def to_secret(self) -> bytes: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def kid(self) -> Optional[str]: ...
    @property
    def verifying_key(self) -> VerifyingKey: ...

@final
class VerifyingKey:
    """A public (or shared-secret) key that verifies tokens of one algorithm."""

    @staticmethod
    def from_secret(algorithm: str, secret: _Material, *, kid: Optional[str] = None) -> VerifyingKey: ...
    @staticmethod
    def from_pem(algorithm: str, pem: _Material, *, kid: Optional[str] = None) -> VerifyingKey: ...
    @staticmethod
    def from_der(algorithm: str, der: bytes, *, kid: Optional[str] = None) -> VerifyingKey: ...
    @staticmethod
    def from_jwk(jwk: Union[Mapping[str, Any], str]) -> VerifyingKey: ...
    def to_jwk(self) -> dict[str, Any]: ...
    def to_pem(self) -> str: ...
    def to_der(self) -> bytes: ...
    def thumbprint(self) -> str: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def kid(self) -> Optional[str]: ...

@final
class KeySet:
    """Verifying keys chosen by the token's ``kid``."""

    def __new__(cls, keys: Optional[Iterable[Union[VerifyingKey, SigningKey]]] = None) -> KeySet: ...
    @staticmethod
    def from_jwks(jwks: Union[Mapping[str, Any], str]) -> KeySet: ...
    def to_jwks(self) -> dict[str, Any]: ...
    def get(self, kid: str) -> Optional[VerifyingKey]: ...
    @property
    def kids(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def __repr__(self) -> str: ...
    def __contains__(self, kid: object, /) -> bool: ...

def decode(
    token: _Material,
    key: _Key,
    algorithms: Optional[Union[str, Iterable[str]]] = None,
    *,
    audience: Optional[Union[str, Iterable[str]]] = None,
    issuer: Optional[str] = None,
    leeway: Optional[Union[int, float, timedelta]] = None,
    typ: Optional[str] = None,
    require: Optional[Union[str, Iterable[str]]] = None,
    now: Optional[_Time] = None,
) -> dict[str, Any]: ...
def encode(
    payload: dict[str, Any],
    key: Union[SigningKey, str, bytes],
    algorithm: Optional[str] = None,
    headers: Optional[Mapping[str, Optional[str]]] = None,
) -> str: ...
def decode_jwt(token: _Material) -> dict[str, Any]: ...
def get_unverified_header(token: _Material) -> dict[str, str]: ...
def is_jwt_expired(token: _Material, now: Optional[_Time] = None) -> bool: ...
def seal(master_key: bytes, plaintext: bytes, aad: bytes) -> bytes: ...
def unseal(master_key: bytes, sealed: bytes, aad: bytes) -> bytes: ...

@final
class GuardCore:
    """authgate-guard's Guard; ``authgate.guard.Guard`` is its Python face."""

    def __new__(
        cls,
        issuer: str,
        audiences: list[str],
        *,
        jwks_url: Optional[str] = None,
        keys: Optional[KeySet] = None,
        introspection: Optional[tuple[str, str, str]] = None,
        public: list[tuple[str, str]] = ...,
        permissions: list[tuple[str, list[str]]] = ...,
        leeway: int = 60,
        max_staleness: Optional[float] = None,
        unknown_kid_interval: Optional[float] = None,
        clock: Optional[Callable[[], float]] = None,
        allow_http: bool = False,
    ) -> GuardCore: ...
    def should_skip_authentication(self, method: str, path: str) -> bool: ...
    def authenticate_request(self, method: str, path: str, authorization: Optional[str]) -> Optional[Principal]: ...
    def authenticate_request_now(
        self, method: str, path: str, authorization: Optional[str]
    ) -> tuple[bool, Optional[Principal]]: ...
    def verify_token(self, token: str) -> Principal: ...
    def introspect_token(self, token: str) -> tuple[Optional[Principal], str]: ...
    def allows(self, principal: Principal, permission: str) -> bool: ...
    def check_scope(
        self, principal: Principal, required_roles: list[str], required_permissions: list[str]
    ) -> None: ...
    def jwks_status(self) -> Optional[tuple[list[str], int, int, int, int]]: ...

@final
class Principal:
    """Who a verified access token speaks for (its claims, verified); ``authgate.guard.Principal``."""

    @property
    def subject(self) -> str:
        """``sub``: the user id, or the client id of a client token."""
    @property
    def roles(self) -> tuple[str, ...]:
        """The roles the subject had when the token was issued."""
    @property
    def token_id(self) -> str:
        """``jti``: by which this one token can be revoked."""
    @property
    def session_id(self) -> Optional[str]:
        """``sid``: the session; ``None`` for client tokens."""
    @property
    def client_id(self) -> Optional[str]:
        """``client_id``: the service client, for client tokens only."""
    @property
    def expires_at(self) -> int:
        """``exp``, Unix seconds."""
    @property
    def claims(self) -> Mapping[str, Any]:
        """Every claim, for what the fields above do not cover (``aud``, ``scope``)."""
    def has_role(self, role: str) -> bool:
        """Whether ``role`` is literally among the roles (no admin shortcut)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuthStoreCore:
    """authgate-client's AuthStore; ``authgate.client.AuthStore`` is its Python face."""

    def __new__(cls) -> AuthStoreCore: ...
    def token(self) -> Optional[str]: ...
    def refresh_token(self) -> Optional[str]: ...
    def user(self) -> Optional[str]: ...
    def is_authenticated(self) -> bool: ...
    def set_token(self, access: str, refresh: Optional[str] = None) -> bool: ...
    def logout(self) -> None: ...
    def subscribe(self, listener: Callable[[Any, Optional[str]], object]) -> int: ...
    def unsubscribe(self, id: int) -> bool: ...

@final
class AuthClientCore:
    """authgate-client's Client; ``authgate.client.AuthClient`` is its Python face."""

    def __new__(
        cls,
        server: str,
        store: AuthStoreCore,
        *,
        refresh_margin: float = 60.0,
        clock: Optional[Callable[[], float]] = None,
        allow_http: bool = False,
    ) -> AuthClientCore: ...
    def login(self, identifier: str, password: str) -> str: ...
    def refresh(self) -> str: ...
    def access_token(self) -> str: ...
    def logout(self) -> None: ...
    def me(self) -> str: ...
    def server_now(self) -> int: ...

@final
class RouteGuardCore:
    """authgate-client's RouteGuard; ``authgate.client.RouteGuard`` is its Python face."""

    def __new__(
        cls, store: AuthStoreCore, redirect_to: str, *, public: list[str] = ..., role: Optional[str] = None
    ) -> RouteGuardCore: ...
    def resolve(self, requested: str) -> str: ...
    def allows(self, requested: str) -> bool: ...

@final
class AuthCore:
    """authgate-core in-process; ``authgate.embedded.Auth`` is its Python face."""

    def __new__(
        cls,
        env: list[tuple[str, str]],
        *,
        config: Optional[os.PathLike[str]] = None,
        clock: Optional[Callable[[], float]] = None,
    ) -> AuthCore: ...
    def report(self) -> tuple[str, str, str, str]: ...
    def issuer(self) -> str: ...
    def audience(self) -> str: ...
    def jwks(self) -> str: ...
    def register_user(
        self,
        email: str,
        password: str,
        *,
        username: Optional[str] = None,
        name: Optional[str] = None,
        ip: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> str: ...
    def login_user(
        self,
        identifier: str,
        password: str,
        *,
        audience: Optional[str] = None,
        ip: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> str: ...
    def refresh(self, refresh_token: str, *, ip: Optional[str] = None, user_agent: Optional[str] = None) -> str: ...
    def logout_user(
        self,
        access_token: str,
        *,
        refresh_token: Optional[str] = None,
        all: bool = False,
        ip: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> None: ...
    def get_logged_in_user(self, access_token: str) -> str: ...
    def introspect_token(self, token: str) -> str: ...
    def authenticate_request(
        self, method: str, path: str, authorization: Optional[str], public: list[tuple[str, str]] = ...
    ) -> Optional[str]: ...
    def rotate_keys(self) -> None: ...
    def close(self) -> None: ...
