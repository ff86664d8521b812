"""Guard.authenticate_request against a bare authgate.jwt.decode of the same
access token: what the guard adds (the Authorization header, the public-route
policy, the principal) on top of verification.

Run (after python/scripts/test.sh has built the wheel into python/.venv):

    python/.venv/bin/python python/bench/bench_guard.py

The token is shaped like the server's (``typ: at+jwt``, iss, aud, exp/nbf/iat,
sid, jti, roles), signed with EdDSA (the server's default) and HS256; the
guard holds the key (``keys=``), as it does between JWKS fetches. The guard
caches verified tokens (a hit re-checks the time claims), which is what a
service sees as a client reuses its access token for minutes, so both rows
are given: the same token every call, and 5,000 distinct tokens in turn
(the first pass fills the cache; later passes hit it too: the cache holds
them, which is the point of it). Best of 5 runs, interleaved.
"""

from __future__ import annotations

import argparse
import platform
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench_decode import AUDIENCE, ISSUER, SECRET, best_of, claims

from authgate import jwt as ag
from authgate.guard import Guard


def keys(alg: str) -> tuple[ag.SigningKey, ag.VerifyingKey]:
    if alg == "HS256":
        return ag.SigningKey.from_secret("HS256", SECRET, kid="k1"), ag.VerifyingKey.from_secret("HS256", SECRET, kid="k1")
    signing = ag.SigningKey.generate("EdDSA")
    return signing, signing.verifying_key


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.3, help="seconds per repeat")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}; best of {args.repeat}")
    print("| algorithm | call | µs per call | ÷ bare decode |")
    print("|---|---|---:|---:|")
    for alg in ("HS256", "EdDSA"):
        signing, verifying = keys(alg)
        now = int(time.time())
        token = ag.encode(claims(now), signing, headers={"typ": "at+jwt"})
        tokens = [ag.encode(dict(claims(now), sid=str(uuid.uuid4())), signing, headers={"typ": "at+jwt"}) for _ in range(5000)]
        headers = {"authorization": f"Bearer {token}"}
        many = [{"authorization": f"Bearer {t}"} for t in tokens]
        guard = Guard(issuer=ISSUER, audience=AUDIENCE, keys=ag.KeySet([verifying]))
        turn = iter(range(1 << 62))

        def decode(t: str) -> dict[str, Any]:
            return ag.decode(t, verifying, audience=AUDIENCE, issuer=ISSUER, typ="at+jwt")

        def guarded(_: str) -> Any:
            return guard.authenticate_request("GET", "/orders", headers)

        def guarded_many(_: str) -> Any:
            return guard.authenticate_request("GET", "/orders", many[next(turn) % len(many)])

        table: dict[str, Callable[[str], Any]] = {
            "jwt.decode (key object)": decode,
            "Guard.authenticate_request, same token": guarded,
            "Guard.authenticate_request, 5,000 tokens": guarded_many,
        }
        assert guarded(token).subject == decode(token)["sub"]
        times = best_of(table, token, args.repeat, args.target)  # type: ignore[arg-type]
        bare = times["jwt.decode (key object)"]
        for name, seconds in times.items():
            print(f"| {alg} | {name} | {seconds * 1e6:.2f} | {seconds / bare:.2f}x |")


if __name__ == "__main__":
    main()
