"""Shared helpers of the authgate Python tests."""

from __future__ import annotations

import base64
import json
from typing import Any


def b64(data: bytes) -> str:
    """Unpadded base64url, as JWS writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge(header: dict[str, Any], claims: dict[str, Any], signature: str = "c2ln") -> str:
    """A token with these header and claims and a made-up signature."""
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), signature]
    )


def raw_token(header: bytes, payload: bytes, signature: str = "c2ln") -> str:
    """A token from exact header and payload bytes."""
    return f"{b64(header)}.{b64(payload)}.{signature}"
