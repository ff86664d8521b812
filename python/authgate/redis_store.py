"""RedisKeyStore: TokenManager keys in Redis, shared by every process of an
application, each private key sealed (AES-256-GCM) under a master key, and
one rotator at a time through a Redis lock.

Needs the ``redis`` package (``pip install "./python[redis]"``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Union

import redis
import redis.asyncio
import redis.exceptions

from authgate._authgate import seal, unseal
from authgate.errors import KeyStoreError
from authgate.tokens import KeySnapshot, StoredKey

__all__ = ["RedisKeyStore"]


def _master_key(value: Union[bytes, str]) -> bytes:
    if isinstance(value, str):
        try:
            value = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise KeyStoreError("the master key text is not base64", "key_store") from None
    if len(value) != 32:
        raise KeyStoreError("the master key must be 32 bytes (base64 text of 32 bytes)", "key_store")
    return bytes(value)


def _aad(kid: str, algorithm: str) -> bytes:
    """Binds a sealed key to its record: it cannot be moved to another kid or algorithm."""
    return f"authgate-token-key\x00{kid}\x00{algorithm}".encode()


class RedisKeyStore:
    """Keys under ``{prefix}:keys`` (one JSON document, with a version that
    every ``replace`` bumps) and a rotation lock under ``{prefix}:lock``.

    Managers reread the keys at most every ``refresh_interval`` seconds (and
    at once when a token names a key they do not know yet); a retired key is
    kept that much longer, for processes that have not noticed a rotation.
    """

    def __init__(
        self,
        url: str,
        master_key: Union[bytes, str],
        *,
        prefix: str = "authgate:token-keys",
        refresh_interval: float = 5.0,
        lock_timeout: float = 30.0,
    ) -> None:
        self._url = url
        self._master_key = _master_key(master_key)
        self._keys_name = f"{prefix}:keys"
        self._lock_name = f"{prefix}:lock"
        self.refresh_interval = refresh_interval
        self._lock_timeout = lock_timeout
        self._client = redis.Redis.from_url(url)
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"RedisKeyStore(keys={self._keys_name!r})"

    # -- encoding --------------------------------------------------------

    def _decode(self, raw: Any) -> KeySnapshot:
        if raw is None:
            return KeySnapshot(0, ())
        try:
            document = json.loads(raw)
            keys = tuple(
                StoredKey(
                    kid=entry["kid"],
                    algorithm=entry["alg"],
                    material=unseal(
                        self._master_key, base64.b64decode(entry["sealed"]), _aad(entry["kid"], entry["alg"])
                    ),
                    created_at=float(entry["created_at"]),
                    retired_at=None if entry["retired_at"] is None else float(entry["retired_at"]),
                )
                for entry in document["keys"]
            )
            return KeySnapshot(int(document["version"]), keys)
        except KeyStoreError:
            raise
        except (ValueError, KeyError, TypeError):
            raise KeyStoreError("the key store document is malformed", "key_store") from None

    def _encode(self, version: int, keys: Sequence[StoredKey]) -> str:
        entries = [
            {
                "kid": key.kid,
                "alg": key.algorithm,
                "sealed": base64.b64encode(
                    seal(self._master_key, key.material, _aad(key.kid, key.algorithm))
                ).decode(),
                "created_at": key.created_at,
                "retired_at": key.retired_at,
            }
            for key in keys
        ]
        return json.dumps({"version": version, "keys": entries})

    # -- sync ------------------------------------------------------------

    def load(self) -> KeySnapshot:
        try:
            raw = self._client.get(self._keys_name)
        except redis.exceptions.RedisError as error:
            raise KeyStoreError(f"redis: {type(error).__name__}", "key_store") from None
        return self._decode(raw)

    def replace(self, keys: Sequence[StoredKey]) -> None:
        """Writes ``keys`` as the next version; call only while holding ``lock()``."""
        version = self.load().version + 1
        try:
            self._client.set(self._keys_name, self._encode(version, keys))
        except redis.exceptions.RedisError as error:
            raise KeyStoreError(f"redis: {type(error).__name__}", "key_store") from None

    @contextmanager
    def lock(self) -> Iterator[None]:
        lock = self._client.lock(
            self._lock_name, timeout=self._lock_timeout, blocking_timeout=self._lock_timeout
        )
        try:
            acquired = lock.acquire()
        except redis.exceptions.RedisError as error:
            raise KeyStoreError(f"redis: {type(error).__name__}", "key_store") from None
        if not acquired:
            raise KeyStoreError("another process holds the rotation lock", "key_store")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # expired while held: the next rotator re-checks under its own lock

    # -- async -----------------------------------------------------------

    def _async_client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = redis.asyncio.Redis.from_url(self._url)
            self._async_clients[loop] = client
        return client

    async def load_async(self) -> KeySnapshot:
        try:
            raw = await self._async_client().get(self._keys_name)
        except redis.exceptions.RedisError as error:
            raise KeyStoreError(f"redis: {type(error).__name__}", "key_store") from None
        return self._decode(raw)

    async def replace_async(self, keys: Sequence[StoredKey]) -> None:
        version = (await self.load_async()).version + 1
        try:
            await self._async_client().set(self._keys_name, self._encode(version, keys))
        except redis.exceptions.RedisError as error:
            raise KeyStoreError(f"redis: {type(error).__name__}", "key_store") from None

    @asynccontextmanager
    async def lock_async(self) -> AsyncIterator[None]:
        lock = self._async_client().lock(
            self._lock_name, timeout=self._lock_timeout, blocking_timeout=self._lock_timeout
        )
        try:
            acquired = await lock.acquire()
        except redis.exceptions.RedisError as error:
            raise KeyStoreError(f"redis: {type(error).__name__}", "key_store") from None
        if not acquired:
            raise KeyStoreError("another process holds the rotation lock", "key_store")
        try:
            yield
        finally:
            try:
                await lock.release()
            except redis.exceptions.LockError:
                pass
