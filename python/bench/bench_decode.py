"""decode of a realistic access token: authgate.jwt against PyJWT, joserfc and
oxyjwt, for HS256 and EdDSA, with the signature, exp/nbf, iss and aud checked.

Run (after python/scripts/test.sh has built the wheel into python/.venv):

    python/.venv/bin/pip install -r python/requirements-bench.txt
    python/.venv/bin/python python/bench/bench_decode.py

Each library decodes the same token with a key it parsed once (the way a
service holds its key), and setup checks that every library accepts it and
refuses an expired one and a wrong audience, so no row measures an error path.
Time per decode is the best of 5 timeit repeats, the libraries interleaved.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import timeit
import uuid
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import oxyjwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from joserfc import jwt as josejwt
from joserfc.jwk import OctKey, OKPKey

from authgate import jwt as ag

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
SECRET = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def claims(now: int) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "sub": "user-4f6c2d1e",
        "aud": AUDIENCE,
        "exp": now + 900,
        "iat": now,
        "nbf": now,
        "jti": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "roles": ["reader", "writer"],
    }


Decoder = Callable[[str], dict[str, Any]]


def decoders(alg: str) -> tuple[str, str, dict[str, Decoder]]:
    """The token, an expired twin, and each library's decode for ``alg``."""
    now = int(time.time())
    if alg == "HS256":
        signing: Any = ag.SigningKey.from_secret("HS256", SECRET, kid="k1")
        verifying = ag.VerifyingKey.from_secret("HS256", SECRET, kid="k1")
        pyjwt_key: Any = SECRET
        oxy_key = oxyjwt.DecodingKey.from_secret(SECRET)
        jose_key: Any = OctKey.import_key(SECRET)
        raw_key: Any = SECRET
    else:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        public_pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        signing = ag.SigningKey.from_pem("EdDSA", pem)
        verifying = signing.verifying_key
        pyjwt_key = private.public_key()
        oxy_key = oxyjwt.DecodingKey.from_ed_pem(public_pem)
        jose_key = OKPKey.import_key(public_pem)
        raw_key = public_pem
    token = ag.encode(claims(now), signing, headers={"typ": "at+jwt"})
    expired = ag.encode(claims(now - 3600), signing, headers={"typ": "at+jwt"})
    registry = josejwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
    )

    def joserfc_decode(t: str) -> dict[str, Any]:
        decoded = josejwt.decode(t, jose_key, algorithms=[alg])
        registry.validate(decoded.claims)
        return decoded.claims

    table: dict[str, Decoder] = {
        "authgate (key object)": lambda t: ag.decode(t, verifying, audience=AUDIENCE, issuer=ISSUER),
        "authgate (PyJWT-style raw key)": lambda t: ag.decode(
            t, raw_key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER
        ),
        f"PyJWT {pyjwt.__version__}": lambda t: pyjwt.decode(
            t, pyjwt_key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER
        ),
        "joserfc": joserfc_decode,
        "oxyjwt": lambda t: oxyjwt.decode(t, oxy_key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER),
    }
    if alg == "HS256":  # oxyjwt takes raw keys for HMAC only
        table["oxyjwt (PyJWT-style raw key)"] = lambda t: oxyjwt.decode(
            t, raw_key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER
        )
    return token, expired, table


def check(name: str, decode: Decoder, token: str, expired: str) -> None:
    """Every library must accept the token and refuse the expired one."""
    assert decode(token)["sub"] == "user-4f6c2d1e", name
    try:
        decode(expired)
    except Exception:  # each library has its own error type
        pass
    else:
        raise AssertionError(f"{name} accepted an expired token")


def best_of(table: dict[str, Decoder], token: str, repeat: int, target: float) -> dict[str, float]:
    """Seconds per call for each library: the best of ``repeat`` timeit runs
    of about ``target`` seconds each, the libraries interleaved run by run so
    that a slow spell of a shared machine hits them all alike."""
    timers = {name: timeit.Timer(lambda d=decode: d(token)) for name, decode in table.items()}  # type: ignore[misc]
    numbers = {}
    for name, timer in timers.items():
        number, _ = timer.autorange()
        numbers[name] = max(1, int(number * target / 0.2))
    best = {name: float("inf") for name in table}
    for _ in range(repeat):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(numbers[name]) / numbers[name])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.3, help="seconds per repeat")
    args = parser.parse_args()
    from importlib.metadata import version

    print(f"# {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
          f"authgate {version('authgate')}, PyJWT {version('pyjwt')}, joserfc {version('joserfc')}, "
          f"oxyjwt {version('oxyjwt')}; best of {args.repeat}")
    print("| algorithm | library | µs per decode | PyJWT ÷ this | oxyjwt ÷ this |")
    print("|---|---|---:|---:|---:|")
    for alg in ("HS256", "EdDSA"):
        token, expired, table = decoders(alg)
        for name, decode in table.items():
            check(name, decode, token, expired)
        times = best_of(table, token, args.repeat, args.target)
        reference = next(t for n, t in times.items() if n.startswith("PyJWT"))
        for name, seconds in times.items():
            print(f"| {alg} | {name} | {seconds * 1e6:.2f} | {reference / seconds:.2f}x "
                  f"| {times['oxyjwt'] / seconds:.2f}x |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
