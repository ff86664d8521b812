"""RedisKeyStore: keys shared by processes through Redis, sealed under a
master key, one rotator at a time. Needs AUTHGATE_TEST_REDIS_URL (skipped
without it, failed without it when AUTHGATE_TEST_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authgate import TokenManager, errors, jwt
from authgate.tokens import StoredKey

from .redis_worker import AUDIENCES, EXPIRY, ISSUER, ROTATION

REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL")
if not REDIS_URL:
    if os.environ.get("AUTHGATE_TEST_REQUIRE_SERVICES") == "1":
        raise RuntimeError("AUTHGATE_TEST_REQUIRE_SERVICES=1 but AUTHGATE_TEST_REDIS_URL is not set")
    pytest.skip("AUTHGATE_TEST_REDIS_URL is not set", allow_module_level=True)

import redis  # noqa: E402  (only with a Redis to talk to)

from authgate.redis_store import RedisKeyStore  # noqa: E402

START = 1_800_000_000.0
MASTER = bytes(range(32))
WORKER = Path(__file__).with_name("redis_worker.py")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"authgate-test:{uuid.uuid4()}"
    yield name
    client = redis.Redis.from_url(REDIS_URL or "")
    client.delete(f"{name}:keys", f"{name}:lock")


def manager(prefix: str, clock: Clock) -> TokenManager:
    return TokenManager(
        algorithm="EdDSA",
        issuer=ISSUER,
        audiences=AUDIENCES,
        expiry=EXPIRY,
        rotation_interval=ROTATION,
        store=RedisKeyStore(REDIS_URL or "", MASTER, prefix=prefix),
        clock=clock,
    )


def worker(prefix: str, now: float, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(WORKER), REDIS_URL or "", prefix, MASTER.hex(), str(now), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def test_keys_are_sealed_in_redis_and_need_the_master_key(prefix: str) -> None:
    store = RedisKeyStore(REDIS_URL or "", MASTER, prefix=prefix)
    secret = b"\x01" * 64
    with store.lock():
        store.replace([StoredKey("k1", "HS256", secret, START)])
    raw = redis.Redis.from_url(REDIS_URL or "").get(f"{prefix}:keys")
    assert raw is not None and secret not in raw and secret.hex().encode() not in raw
    (loaded,) = store.load().keys
    assert loaded.material == secret and loaded.kid == "k1"
    wrong = RedisKeyStore(REDIS_URL or "", bytes(32), prefix=prefix)
    with pytest.raises(errors.KeyStoreError) as raised:
        wrong.load()
    assert raised.value.reason == "key_store"
    # A sealed key moved to another kid does not open.
    document = json.loads(raw)
    document["keys"][0]["kid"] = "k2"
    redis.Redis.from_url(REDIS_URL or "").set(f"{prefix}:keys", json.dumps(document))
    with pytest.raises(errors.KeyStoreError):
        store.load()


def test_master_keys_are_32_bytes() -> None:
    with pytest.raises(errors.KeyStoreError):
        RedisKeyStore(REDIS_URL or "", b"short")
    assert repr(RedisKeyStore(REDIS_URL or "", "A" * 43)).startswith("RedisKeyStore(")


def test_two_processes_share_keys_and_each_others_rotations(prefix: str) -> None:
    clock = Clock()
    here = manager(prefix, clock)
    first = here.sign({"sub": "from-test"})
    # The other process verifies what this one signed.
    assert result(worker(prefix, START, "verify", first)) == {"sub": "from-test"}
    # An hour later the other process rotates and signs with the new key.
    signed = result(worker(prefix, START + ROTATION, "sign"))
    assert signed["kid"] != jwt.get_unverified_header(first)["kid"]
    clock.now = START + ROTATION
    assert here.verify(signed["token"])["sub"] == "from-worker"
    assert here.verify(first)["sub"] == "from-test"  # the old key still verifies
    # And this process signs with the other's new key, without rotating again.
    assert jwt.get_unverified_header(here.sign({"sub": "x"}))["kid"] == signed["kid"]


def test_a_key_from_a_fresh_rotation_is_read_at_once_when_a_token_names_it(prefix: str) -> None:
    clock = Clock()
    here = manager(prefix, clock)
    first = here.sign({"sub": "a"})
    clock.now = START + ROTATION
    here.verify(first)  # reads the store now: the next read is not due for 5 s
    signed = result(worker(prefix, START + ROTATION, "sign"))
    # The unknown kid makes `here` read the store again at once.
    assert here.verify(signed["token"])["sub"] == "from-worker"
    # A made-up kid does not: one forced read a second at most.
    stranger = jwt.SigningKey.generate("EdDSA")
    forged = jwt.encode({"iss": ISSUER, "aud": AUDIENCES["api"], "exp": START + 9000}, stranger)
    with pytest.raises(errors.KeyMismatchError):
        here.verify(forged)


def test_concurrent_rotators_make_one_key(prefix: str) -> None:
    manager(prefix, Clock()).sign({"sub": "a"})
    later = START + 2 * ROTATION
    processes = [worker(prefix, later, "sign") for _ in range(3)]
    kids = {result(process)["kid"] for process in processes}
    assert len(kids) == 1
    keys = RedisKeyStore(REDIS_URL or "", MASTER, prefix=prefix).load().keys
    assert len(keys) == 2
    assert [key.kid for key in keys if key.retired_at is None] == list(kids)


def test_async_twins_on_redis(prefix: str) -> None:
    async def scenario() -> None:
        clock = Clock()
        tokens = manager(prefix, clock)
        first = await tokens.sign_async({"sub": "a"})
        clock.now += ROTATION
        second = await tokens.sign_async({"sub": "b"})
        assert jwt.get_unverified_header(first)["kid"] != jwt.get_unverified_header(second)["kid"]
        assert (await tokens.verify_async(first))["sub"] == "a"
        assert (await tokens.verify_async(second))["sub"] == "b"
        assert len((await RedisKeyStore(REDIS_URL or "", MASTER, prefix=prefix).load_async()).keys) == 2

    asyncio.run(scenario())
