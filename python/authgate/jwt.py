"""Tokens: ``encode``/``decode`` with PyJWT-shaped arguments and authgate's
strict rules, unverified helpers, and key objects with PEM, DER and JWK/JWKS.

Strict rules (RFC 8725), whatever the arguments: a key verifies exactly one
algorithm and a token naming another is refused (no algorithm confusion, no
``none``); ``exp`` is required and ``exp``/``nbf``/``iat`` must be numbers;
a token with an ``aud`` is refused unless ``audience`` is given; duplicate
claim names, ``crit`` headers and non-canonical base64url are malformed;
tokens over 8 KiB are refused before decoding.

Every function is implemented in Rust (``authgate._authgate``); errors are
the classes of ``authgate.errors``.
"""

from __future__ import annotations

from authgate._authgate import (
    ALGORITHMS,
    KeySet,
    SigningKey,
    VerifyingKey,
    decode,
    decode_jwt,
    encode,
    get_unverified_header,
    is_jwt_expired,
)
from authgate.errors import (
    AuthgateError,
    ExpiredTokenError,
    ImmatureTokenError,
    InvalidClaimError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidTokenError,
    KeyMismatchError,
    MalformedTokenError,
    SigningError,
)

__all__ = [
    "ALGORITHMS",
    "KeySet",
    "SigningKey",
    "VerifyingKey",
    "decode",
    "decode_jwt",
    "encode",
    "get_unverified_header",
    "is_jwt_expired",
    "AuthgateError",
    "ExpiredTokenError",
    "ImmatureTokenError",
    "InvalidClaimError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "KeyMismatchError",
    "MalformedTokenError",
    "SigningError",
]
