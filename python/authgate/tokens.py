"""TokenManager: an application signs and verifies its own tokens, with
signing keys that rotate on a schedule and keep verifying until every token
they signed has expired. No server involved.

Keys live in a key store: ``MemoryKeyStore`` (one process; the default) or
``authgate.redis_store.RedisKeyStore`` (every process of the app, sealed).
Every store call has an async twin, and so do ``sign`` and ``verify``.
Time comes from ``clock`` (Unix seconds), so tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, AsyncIterator, Callable, Iterator, Optional, Protocol, Union

from authgate import jwt
from authgate.errors import KeyMismatchError, KeyStoreError

__all__ = ["Clock", "KeyStore", "MemoryKeyStore", "StoredKey", "TokenManager"]

Clock = Callable[[], float]
"""Returns the current time in Unix seconds (``time.time`` by default)."""

Seconds = Union[int, float, timedelta]

_REGISTERED = ("exp", "iat", "nbf", "iss", "aud")


def _seconds(value: Seconds) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass(frozen=True)
class StoredKey:
    """One signing key as a store keeps it.

    ``material`` is the PKCS#8 DER private key (or the HMAC secret): a store
    that leaves the process must seal it. ``retired_at`` is when a newer key
    took over signing (``None`` for the current key).
    """

    kid: str
    algorithm: str
    material: bytes
    created_at: float
    retired_at: Optional[float] = None

    def __repr__(self) -> str:  # never show the key material
        return (
            f"StoredKey(kid={self.kid!r}, algorithm={self.algorithm!r}, "
            f"created_at={self.created_at!r}, retired_at={self.retired_at!r})"
        )


@dataclass(frozen=True)
class KeySnapshot:
    """The keys of a store at one ``version`` (which changes on every ``replace``)."""

    version: int
    keys: tuple[StoredKey, ...]


class KeyStore(Protocol):
    """Where a TokenManager keeps its keys. ``replace`` is only called inside ``lock``.

    ``refresh_interval``: seconds a manager may go on using the keys it read
    before reading them again (0 for a store in this process).
    """

    refresh_interval: float

    def load(self) -> KeySnapshot: ...
    def replace(self, keys: Sequence[StoredKey]) -> None: ...
    def lock(self) -> Any: ...  # a context manager: one rotator at a time
    async def load_async(self) -> KeySnapshot: ...
    async def replace_async(self, keys: Sequence[StoredKey]) -> None: ...
    def lock_async(self) -> Any: ...  # an async context manager


class MemoryKeyStore:
    """Keys in this process's memory; share one instance between managers of one app."""

    refresh_interval = 0.0

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._rotation = threading.Lock()
        self._snapshot = KeySnapshot(0, ())

    def load(self) -> KeySnapshot:
        with self._mutex:
            return self._snapshot

    def replace(self, keys: Sequence[StoredKey]) -> None:
        with self._mutex:
            self._snapshot = KeySnapshot(self._snapshot.version + 1, tuple(keys))

    @contextmanager
    def lock(self) -> Iterator[None]:
        with self._rotation:
            yield

    async def load_async(self) -> KeySnapshot:
        return self.load()

    async def replace_async(self, keys: Sequence[StoredKey]) -> None:
        self.replace(keys)

    @asynccontextmanager
    async def lock_async(self) -> AsyncIterator[None]:
        # Rotation holds this lock for microseconds (an Ed25519 or EC keygen);
        # only RSA keygen is slower, and it runs in a thread.
        while not self._rotation.acquire(blocking=False):
            await asyncio.sleep(0.001)
        try:
            yield
        finally:
            self._rotation.release()


class TokenManager:
    """Signs tokens with the current key and verifies them with every live key.

    ``audiences`` maps short names to the full ``aud`` strings; ``sign``
    takes the short name. A key signs for ``rotation_interval``; after a newer
    key takes over it keeps verifying for ``expiry + leeway`` (every token it
    signed has expired by then) plus the store's ``refresh_interval`` (other
    processes may sign with it that long before they notice the rotation),
    and is then dropped from the store.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audiences: Mapping[str, str],
        algorithm: str = "EdDSA",
        expiry: Seconds = timedelta(minutes=15),
        rotation_interval: Seconds = timedelta(days=1),
        store: Optional[KeyStore] = None,
        clock: Clock = time.time,
        leeway: Seconds = 60,
        typ: str = "JWT",
    ) -> None:
        if algorithm not in jwt.ALGORITHMS:
            raise ValueError(f"unsupported algorithm {algorithm!r}")
        if not audiences:
            raise ValueError("audiences must name at least one audience")
        self.issuer = issuer
        self.audiences = dict(audiences)
        self.algorithm = algorithm
        self.expiry = _seconds(expiry)
        self.rotation_interval = _seconds(rotation_interval)
        if self.expiry <= 0 or self.rotation_interval <= 0:
            raise ValueError("expiry and rotation_interval must be positive")
        self.leeway = _seconds(leeway)
        self.typ = typ
        self.store: KeyStore = store if store is not None else MemoryKeyStore()
        self.clock = clock
        self._version = -1
        self._loaded_at = float("-inf")
        self._forced_at = float("-inf")
        self._current: Optional[tuple[StoredKey, jwt.SigningKey]] = None
        self._keyset = jwt.KeySet()
        self._parsed: dict[str, jwt.SigningKey] = {}

    # -- signing ---------------------------------------------------------

    def sign(self, claims: Mapping[str, Any], audience: Union[str, Sequence[str]] = "api") -> str:
        """Signs ``claims`` plus ``exp``/``iat``/``nbf``/``iss``/``aud``, rotating first if due."""
        now = self.clock()
        if self._refresh_due(now):
            self._sync(self.store.load(), now)
        if self._rotation_due(now):
            with self.store.lock():
                snapshot = self.store.load()
                self._sync(snapshot, now)
                if self._rotation_due(now):
                    keys = self._rotated(snapshot.keys, now)
                    self.store.replace(keys)
                    self._sync(self.store.load(), now)
        return jwt.encode(*self._sign_args(claims, audience, now))

    async def sign_async(
        self, claims: Mapping[str, Any], audience: Union[str, Sequence[str]] = "api"
    ) -> str:
        """``sign`` without blocking the event loop (store I/O awaited, RSA in a thread)."""
        now = self.clock()
        if self._refresh_due(now):
            self._sync(await self.store.load_async(), now)
        if self._rotation_due(now):
            async with self.store.lock_async():
                snapshot = await self.store.load_async()
                self._sync(snapshot, now)
                if self._rotation_due(now):
                    keys = await asyncio.to_thread(self._rotated, snapshot.keys, now)
                    await self.store.replace_async(keys)
                    self._sync(await self.store.load_async(), now)
        args = self._sign_args(claims, audience, now)
        if self.algorithm[:2] in ("RS", "PS"):
            return await asyncio.to_thread(jwt.encode, *args)
        return jwt.encode(*args)

    # -- verification ----------------------------------------------------

    def verify(self, token: str, audience: Optional[Union[str, Sequence[str]]] = None) -> dict[str, Any]:
        """The claims of ``token`` if one of the live keys signed it and it is valid now.

        ``audience`` (short names) defaults to every configured audience.
        """
        now = self.clock()
        if self._refresh_due(now):
            self._sync(self.store.load(), now)
        try:
            return self._decode(token, audience, now)
        except KeyMismatchError as error:
            if not self._may_force(error, now):
                raise
            self._sync(self.store.load(), now)
            return self._decode(token, audience, now)

    async def verify_async(
        self, token: str, audience: Optional[Union[str, Sequence[str]]] = None
    ) -> dict[str, Any]:
        """``verify`` with the store read awaited."""
        now = self.clock()
        if self._refresh_due(now):
            self._sync(await self.store.load_async(), now)
        try:
            return self._decode(token, audience, now)
        except KeyMismatchError as error:
            if not self._may_force(error, now):
                raise
            self._sync(await self.store.load_async(), now)
            return self._decode(token, audience, now)

    def jwks(self) -> dict[str, Any]:
        """The public keys that verify this manager's tokens, as a JWKS (none for HMAC)."""
        now = self.clock()
        if self._refresh_due(now):
            self._sync(self.store.load(), now)
        return self._keyset.to_jwks()

    # -- internals -------------------------------------------------------

    def _full_audiences(self, audience: Union[str, Sequence[str]]) -> list[str]:
        names = [audience] if isinstance(audience, str) else list(audience)
        unknown = [name for name in names if name not in self.audiences]
        if unknown or not names:
            raise ValueError(f"unknown audience {unknown!r}; known: {sorted(self.audiences)}")
        return [self.audiences[name] for name in names]

    def _sign_args(
        self, claims: Mapping[str, Any], audience: Union[str, Sequence[str]], now: float
    ) -> tuple[dict[str, Any], jwt.SigningKey, None, dict[str, str]]:
        taken = [name for name in _REGISTERED if name in claims]
        if taken:
            raise ValueError(f"TokenManager sets {taken} itself")
        if self._current is None:  # pragma: no cover - _sync after rotation always sets it
            raise KeyStoreError("no signing key in the store", "key_store")
        full = self._full_audiences(audience)
        issued = int(now)
        payload = dict(claims)
        payload.update(
            iss=self.issuer,
            aud=full[0] if len(full) == 1 else full,
            iat=issued,
            nbf=issued,
            exp=issued + int(self.expiry),
        )
        return payload, self._current[1], None, {"typ": self.typ}

    def _decode(
        self, token: str, audience: Optional[Union[str, Sequence[str]]], now: float
    ) -> dict[str, Any]:
        wanted = list(self.audiences.values()) if audience is None else self._full_audiences(audience)
        return jwt.decode(
            token,
            self._keyset,
            audience=wanted,
            issuer=self.issuer,
            typ=self.typ,
            leeway=self.leeway,
            now=now,
        )

    def _refresh_due(self, now: float) -> bool:
        interval = self.store.refresh_interval
        return interval <= 0 or not self._loaded_at <= now < self._loaded_at + interval

    def _may_force(self, error: KeyMismatchError, now: float) -> bool:
        """Whether a token naming an unknown key may trigger a store read now
        (another process may have rotated); at most once a second, so tokens
        with made-up kids cannot turn every request into a store read."""
        if error.reason != "unknown_kid" or self.store.refresh_interval <= 0:
            return False
        if self._forced_at <= now < self._forced_at + 1.0:
            return False
        self._forced_at = now
        return True

    def _rotation_due(self, now: float) -> bool:
        return self._current is None or now >= self._current[0].created_at + self.rotation_interval

    def _rotated(self, keys: Sequence[StoredKey], now: float) -> list[StoredKey]:
        """The store's keys after a rotation at ``now``: a new current key,
        the old current retired, and keys whose tokens have all expired dropped."""
        fresh = self._generate(now)
        kept: list[StoredKey] = []
        for key in keys:
            if key.retired_at is None:
                key = replace(key, retired_at=now)
            assert key.retired_at is not None
            if now < key.retired_at + self.expiry + self.leeway + self.store.refresh_interval:
                kept.append(key)
        return kept + [fresh]

    def _generate(self, now: float) -> StoredKey:
        symmetric = self.algorithm.startswith("HS")
        # HMAC keys get a random kid: a thumbprint of a secret would let anyone test guesses.
        kid = secrets.token_urlsafe(12) if symmetric else None
        key = jwt.SigningKey.generate(self.algorithm, kid=kid)
        material = key.to_secret() if symmetric else key.to_der()
        assert key.kid is not None
        return StoredKey(key.kid, self.algorithm, material, now)

    def _parse(self, stored: StoredKey) -> jwt.SigningKey:
        key = self._parsed.get(stored.kid)
        if key is None:
            if stored.algorithm.startswith("HS"):
                key = jwt.SigningKey.from_secret(stored.algorithm, stored.material, kid=stored.kid)
            else:
                key = jwt.SigningKey.from_der(stored.algorithm, stored.material, kid=stored.kid)
            self._parsed[stored.kid] = key
        return key

    def _sync(self, snapshot: KeySnapshot, now: float) -> None:
        """Adopts the store's keys when they changed since the last look."""
        self._loaded_at = now
        if snapshot.version == self._version:
            return
        keys = [key for key in snapshot.keys if key.algorithm == self.algorithm]
        parsed = {key.kid: self._parse(key) for key in keys}
        self._parsed = parsed
        current = [key for key in keys if key.retired_at is None]
        newest = max(current, key=lambda key: key.created_at, default=None)
        self._current = None if newest is None else (newest, parsed[newest.kid])
        self._keyset = jwt.KeySet(parsed.values())
        self._version = snapshot.version
