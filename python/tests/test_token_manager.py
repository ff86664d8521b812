"""TokenManager: registered claims filled in, audience short names, and key
rotation on a moved clock: old keys verify until their tokens aged out, then
leave the store. Sync and async."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from authgate import TokenManager, errors, jwt
from authgate.tokens import MemoryKeyStore

START = 1_800_000_000.0
HOUR = 3600.0
ISSUER = "https://app.example"
AUDIENCES = {"api": "https://api.example", "admin": "https://admin.example"}


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def manager(clock: Clock, store: MemoryKeyStore | None = None, algorithm: str = "EdDSA") -> TokenManager:
    return TokenManager(
        algorithm=algorithm,
        issuer=ISSUER,
        audiences=AUDIENCES,
        expiry=timedelta(minutes=15),
        rotation_interval=timedelta(hours=1),
        store=store,
        clock=clock,
    )


def test_sign_fills_the_registered_claims_and_verify_checks_them() -> None:
    clock = Clock()
    tokens = manager(clock)
    token = tokens.sign({"sub": "alice", "roles": ["admin"]}, audience="admin")
    claims = tokens.verify(token)
    assert claims == {
        "sub": "alice",
        "roles": ["admin"],
        "iss": ISSUER,
        "aud": "https://admin.example",
        "iat": int(START),
        "nbf": int(START),
        "exp": int(START) + 900,
    }
    assert tokens.verify(token, audience="admin")["sub"] == "alice"
    with pytest.raises(errors.InvalidClaimError) as raised:
        tokens.verify(token, audience="api")
    assert raised.value.reason == "wrong_audience"
    assert jwt.get_unverified_header(token)["typ"] == "JWT"


def test_sign_refuses_claims_it_owns_and_unknown_audiences() -> None:
    tokens = manager(Clock())
    with pytest.raises(ValueError):
        tokens.sign({"exp": 1})
    with pytest.raises(ValueError):
        tokens.sign({"sub": "a"}, audience="nobody")
    both = tokens.verify(tokens.sign({"sub": "a"}, audience=["api", "admin"]))
    assert both["aud"] == list(AUDIENCES.values())


def test_tokens_expire_on_the_moved_clock() -> None:
    clock = Clock()
    tokens = manager(clock)
    token = tokens.sign({"sub": "a"})
    clock.now += 900 + 59
    tokens.verify(token)  # within the 60 s leeway
    clock.now += 1
    with pytest.raises(errors.ExpiredTokenError):
        tokens.verify(token)


def test_keys_rotate_and_old_keys_verify_until_their_tokens_aged_out() -> None:
    clock = Clock()
    store = MemoryKeyStore()
    tokens = manager(clock, store)
    first = tokens.sign({"sub": "a"})
    first_kid = jwt.get_unverified_header(first)["kid"]

    clock.now += HOUR - 1
    last_of_first = tokens.sign({"sub": "last"})
    assert jwt.get_unverified_header(last_of_first)["kid"] == first_kid

    clock.now += 1  # the rotation interval has passed: a new key signs
    late = tokens.sign({"sub": "a"})  # signed by the first key's successor
    second_kid = jwt.get_unverified_header(late)["kid"]
    assert second_kid != first_kid
    assert {key.kid for key in store.load().keys} == {first_kid, second_kid}
    retired = next(key for key in store.load().keys if key.kid == first_kid)
    assert retired.retired_at == START + HOUR

    # The first key's last token still verifies while it lives.
    clock.now = START + HOUR + 600
    assert tokens.verify(last_of_first)["sub"] == "last"
    assert {k["kid"] for k in tokens.jwks()["keys"]} == {first_kid, second_kid}

    # Two rotations later, the first key is gone from the store and the key set.
    clock.now = START + 2 * HOUR
    tokens.sign({"sub": "a"})
    kids = {key.kid for key in store.load().keys}
    assert first_kid not in kids and second_kid in kids and len(kids) == 2
    with pytest.raises(errors.KeyMismatchError) as raised:
        tokens.verify(first)
    assert raised.value.reason == "unknown_kid"


def test_a_retired_key_keeps_verifying_its_tokens_until_they_expire() -> None:
    clock = Clock()
    tokens = manager(clock)
    clock.now = START + HOUR - 10
    tokens.sign({"sub": "warm-up"})  # first key created at START + HOUR - 10
    clock.now = START + 2 * HOUR - 11
    old = tokens.sign({"sub": "old"})  # the first key's last token
    clock.now = START + 2 * HOUR
    new = tokens.sign({"sub": "new"})  # rotation
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]
    clock.now = START + 2 * HOUR - 11 + 900 + 59  # the old token's last valid second
    assert tokens.verify(old)["sub"] == "old"
    assert tokens.verify(new)["sub"] == "new"


def test_managers_sharing_a_store_share_keys_and_rotate_once() -> None:
    clock = Clock()
    store = MemoryKeyStore()
    one, two = manager(clock, store), manager(clock, store)
    token = one.sign({"sub": "a"})
    assert two.verify(token)["sub"] == "a"
    clock.now += HOUR
    rotated = two.sign({"sub": "b"})
    assert one.verify(rotated)["sub"] == "b"
    one.sign({"sub": "c"})
    assert len(store.load().keys) == 2  # one rotation, not two


@pytest.mark.parametrize("algorithm", ["HS256", "ES256", "RS256"])
def test_every_key_family_rotates(algorithm: str) -> None:
    clock = Clock()
    tokens = manager(clock, algorithm=algorithm)
    tokens.sign({"sub": "warm-up"})  # the first key is made at START
    clock.now += HOUR - 1
    first = tokens.sign({"sub": "a"})
    clock.now += 1
    second = tokens.sign({"sub": "b"})
    assert tokens.verify(first)["sub"] == "a"
    assert tokens.verify(second)["sub"] == "b"
    assert jwt.get_unverified_header(first)["kid"] != jwt.get_unverified_header(second)["kid"]


def test_stored_keys_never_show_their_material() -> None:
    store = MemoryKeyStore()
    manager(Clock(), store).sign({"sub": "a"})
    (key,) = store.load().keys
    assert key.material.hex() not in repr(key)


def test_async_twins_rotate_and_verify_on_the_moved_clock() -> None:
    async def scenario() -> None:
        clock = Clock()
        tokens = manager(clock)
        await tokens.sign_async({"sub": "warm-up"})
        clock.now += HOUR - 1
        first = await tokens.sign_async({"sub": "a"})
        clock.now += 1
        second = await tokens.sign_async({"sub": "b"})
        assert (await tokens.verify_async(first))["sub"] == "a"
        assert (await tokens.verify_async(second))["sub"] == "b"
        results = await asyncio.gather(*(tokens.sign_async({"sub": str(i)}) for i in range(20)))
        assert len({jwt.get_unverified_header(t)["kid"] for t in results}) == 1
        clock.now += 900 + 60
        with pytest.raises(errors.ExpiredTokenError):
            await tokens.verify_async(first)

    asyncio.run(scenario())
