"""The wire models of authgate (docs/http-api.md), shared by the client and
embedded auth: frozen dataclasses parsed from the JSON the Rust crates write."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

__all__ = ["PublicUser", "CurrentSession", "Me"]


def _time(text: str) -> datetime:
    """An RFC 3339 time as an aware ``datetime``: Python 3.9's
    ``fromisoformat`` wants ``+00:00`` for ``Z`` and 6 fractional digits."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)", text)
    if match is not None:
        base, fraction, zone = match.groups()
        text = f"{base}.{((fraction or '') + '000000')[:6]}{zone}"
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class PublicUser:
    """A user as the API shows them: never a password hash or a secret."""

    id: str
    """The user id (UUID v7), the ``sub`` of their tokens."""
    email: str
    """Lower-cased and trimmed; unique."""
    username: Optional[str]
    """Lower-cased and unique, or ``None``."""
    name: Optional[str]
    """The display name, or ``None``."""
    roles: tuple[str, ...]
    """The user's roles (``("user",)``); permissions follow from them."""
    is_active: bool
    """``False`` once an admin disabled the account."""
    created_at: datetime
    """When the user registered."""
    email_verified: bool = False
    """Whether the user proved they receive mail at ``email`` (a
    verification link); ``False`` from servers that predate it."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublicUser:
        """From the JSON object of docs/http-api.md's ``PublicUser``."""
        return cls(
            id=data["id"],
            email=data["email"],
            username=data.get("username"),
            name=data.get("name"),
            roles=tuple(data.get("roles", ())),
            is_active=bool(data.get("is_active", True)),
            created_at=_time(data["created_at"]),
            email_verified=bool(data.get("email_verified", False)),
        )


@dataclass(frozen=True)
class CurrentSession:
    """The session of the token that called ``GET /me``."""

    id: str
    """The session id, the ``sid`` claim of its tokens."""
    created_at: datetime
    """When it started (the login)."""
    expires_at: datetime
    """When it ends unless refreshed on."""


@dataclass(frozen=True)
class Me:
    """``GET /me``: the caller and their session."""

    user: PublicUser
    session: CurrentSession
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The whole JSON answer."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Me:
        session = data["session"]
        return cls(
            user=PublicUser.from_dict(data),
            session=CurrentSession(
                id=session["id"],
                created_at=_time(session["created_at"]),
                expires_at=_time(session["expires_at"]),
            ),
            raw=data,
        )
