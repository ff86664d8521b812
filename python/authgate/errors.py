"""The exceptions authgate raises: one small tree, each with a stable ``reason``.

The mapping from authgate-jwt's Rust error enum to these classes lives in one
place, ``python/src/errors.rs``; ``reason`` is the Rust ``Error::reason()``
label (``"expired"``, ``"bad_signature"``, ...), stable across releases, for
metrics and logs. Messages never contain token content or key material.

::

    AuthgateError                     every error below
    ├── InvalidTokenError             the token is refused
    │   ├── MalformedTokenError       too_large, malformed, unsupported_algorithm, critical_header
    │   ├── KeyMismatchError          missing_kid, unknown_kid, algorithm_mismatch
    │   ├── InvalidSignatureError     bad_signature
    │   ├── ExpiredTokenError         expired
    │   ├── ImmatureTokenError        not_yet_valid, issued_in_future
    │   └── InvalidClaimError         wrong_issuer, wrong_audience, wrong_type, missing_claim
    ├── InvalidKeyError               invalid_key, key_usage
    ├── SigningError                  serialize, crypto
    ├── KeyStoreError                 key_store (TokenManager's key store)
    ├── InsufficientScopeError        insufficient_scope (the guard: a role or permission missing; 403)
    ├── AuthServiceUnavailable        unavailable, stale_keys (the guard: no usable keys or server; 503)
    ├── GuardConfigError              invalid_config (the guard's settings are unusable)
    ├── NotAuthenticatedError         not_authenticated (the client holds no session)
    ├── ApiError                      the server's error code (the client: a refusal; status, error_code)
    │   └── SessionEndedError         session_over (the refresh token was refused: logged out)
    ├── ClientConfigError             invalid_url, plain_http (the client's server URL)
    ├── UserNotFound                  user_not_found (embedded auth: no such user)
    └── AuthConfigError               config (embedded auth: settings it cannot start with)

``AuthError`` and ``InvalidToken`` are other names of ``AuthgateError`` and
``InvalidTokenError`` (the names embedded auth's callers know).

The guard's refusals also say what to answer (set by ``python/src/errors.rs``
from authgate-guard's ``GuardError``): ``status`` (401, 403, 503),
``error_code`` (``invalid_token``, ...), ``description`` and
``www_authenticate`` (the server's header value, or ``None``). The guard
adds two ``InvalidTokenError`` classes: ``MissingCredentialsError``
(missing_credentials, unsupported_scheme) and ``InactiveTokenError``
(inactive: revoked or logged out, said by introspection); a malformed
``Authorization`` header is a ``MalformedTokenError`` (malformed_header,
header_too_large).
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "AuthgateError",
    "InvalidTokenError",
    "MalformedTokenError",
    "KeyMismatchError",
    "InvalidSignatureError",
    "ExpiredTokenError",
    "ImmatureTokenError",
    "InvalidClaimError",
    "InvalidKeyError",
    "SigningError",
    "KeyStoreError",
    "MissingCredentialsError",
    "InactiveTokenError",
    "InsufficientScopeError",
    "AuthServiceUnavailable",
    "GuardConfigError",
    "NotAuthenticatedError",
    "ApiError",
    "SessionEndedError",
    "ClientConfigError",
    "UserNotFound",
    "AuthConfigError",
    "AuthError",
    "InvalidToken",
]


class AuthgateError(Exception):
    """Base of every authgate error; ``reason`` is a short stable label."""

    reason: str
    status: int = 401
    """The HTTP status a server answers (set on guard refusals)."""
    error_code: str = "invalid_token"
    """The API error code (set on guard refusals)."""
    description: str = "The access token is missing, invalid, expired or revoked."
    """The ``error_description`` to send (set on guard refusals)."""
    www_authenticate: Optional[str] = None
    """The ``WWW-Authenticate`` value to send, if any (set on guard refusals)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidTokenError(AuthgateError):
    """The token was refused; a server should answer only ``invalid_token``."""


class MalformedTokenError(InvalidTokenError):
    """Not a well-formed compact JWS/JWT (or too large, or an algorithm we refuse)."""


class KeyMismatchError(InvalidTokenError):
    """No key we hold fits the token: its ``kid`` is absent or unknown, or its ``alg`` is not the key's."""


class InvalidSignatureError(InvalidTokenError):
    """The signature does not verify with the selected key."""


class ExpiredTokenError(InvalidTokenError):
    """``exp`` is in the past, beyond the leeway."""


class ImmatureTokenError(InvalidTokenError):
    """``nbf`` or ``iat`` is in the future, beyond the leeway."""


class InvalidClaimError(InvalidTokenError):
    """``iss``, ``aud`` or the header ``typ`` is wrong, or a required claim is missing."""


class InvalidKeyError(AuthgateError):
    """Key material is malformed or unacceptable, or the key cannot be used this way."""


class SigningError(AuthgateError):
    """The claims could not be serialised, or the crypto library failed to sign."""


class KeyStoreError(AuthgateError):
    """A TokenManager key store could not be read or written."""


class MissingCredentialsError(InvalidTokenError):
    """The guard got no Bearer credentials (no header, or another scheme)."""


class InactiveTokenError(InvalidTokenError):
    """The authorization server says the token is not active (revoked, logged out)."""


class InsufficientScopeError(AuthgateError):
    """The token is valid but lacks a role or permission the route needs."""


class AuthServiceUnavailable(AuthgateError):
    """The guard cannot decide: no keys loaded yet, keys older than the
    maximum staleness, or the introspection endpoint unreachable. Retry later."""


class GuardConfigError(AuthgateError):
    """The guard's settings are unusable (no or several key sources, a bad URL, ...)."""


class NotAuthenticatedError(AuthgateError):
    """The client holds no session (never logged in, logged out, or the session ended)."""


class ApiError(AuthgateError):
    """authgate refused a request (the server, to the client; or embedded
    auth): ``error_code`` is the API's error code (``invalid_credentials``,
    ``conflict``, ``rate_limited``, ...), ``status`` the HTTP status the
    server answers for it, ``retry_after`` the seconds to wait (rate
    limits); ``reason`` is the code too (``unexpected_response`` for an
    answer the client could not read, ``registration_closed``)."""

    retry_after: Optional[int] = None
    """``Retry-After`` seconds, when the server sent one."""


class SessionEndedError(ApiError):
    """The server refused the refresh token (expired, revoked, reused):
    the session is over and the client's store was logged out."""


class ClientConfigError(AuthgateError):
    """The client's server URL is unusable, or plain ``http`` to a host that is not loopback."""


class UserNotFound(AuthgateError):
    """Embedded auth: no user has this id (or it was deleted)."""


class AuthConfigError(AuthgateError):
    """Embedded auth cannot start with these settings (the message is the
    server's start-up message: it names the setting, never a secret)."""


AuthError = AuthgateError
"""The base of every error, by the name embedded auth's callers know."""

InvalidToken = InvalidTokenError
"""``InvalidTokenError``, by the name embedded auth's callers know."""
