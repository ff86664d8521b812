#!/usr/bin/env python3
"""Writes a small seed corpus for the fuzz targets (python3, stdlib only).

usage (from fuzz/): python3 seeds.py   -> corpus/verify/*, corpus/decode_unverified/*

Each seed is one mode byte (see the targets) followed by a token or claims.
The HS256 tokens are signed with the verify target's fixed secret, so they
reach claim validation; the EdDSA one is RFC 8037 appendix A.4.
"""

import base64
import hashlib
import hmac
import json
from pathlib import Path

SECRET = b"authgate-fuzz-hs256-secret-0123456789"
NOW = 1_800_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(header: dict, claims: dict) -> str:
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(sig)


CLAIMS = {
    "iss": "https://auth.example.com",
    "sub": "3f6c1a9e-8b2d-4e7f-9a1c-5d2e8f7b3c4a",
    "aud": "https://api.example.com",
    "exp": NOW + 900,
    "iat": NOW,
    "nbf": NOW,
    "jti": "01978f2a-6c3b-7d4e-8f5a-9b0c1d2e3f40",
    "sid": "a7d3e9b1-2c4f-4a6e-b8d0-f1e3c5a7b9d2",
    "roles": ["user", "admin"],
}
HEADER = {"alg": "HS256", "typ": "at+jwt", "kid": "hs-1"}

TOKENS = [
    hs256(HEADER, CLAIMS),
    hs256(HEADER, {**CLAIMS, "aud": ["https://api.example.com", "other"], "exp": NOW + 0.5}),
    hs256(HEADER, {**CLAIMS, "exp": NOW - 3600}),
    hs256({**HEADER, "kid": "ed-1", "alg": "EdDSA"}, CLAIMS),
    hs256({**HEADER, "crit": ["exp"]}, CLAIMS),
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MZCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
]


def main() -> None:
    here = Path(__file__).resolve().parent
    for target in ("verify", "decode_unverified"):
        (here / "corpus" / target).mkdir(parents=True, exist_ok=True)
    for i, token in enumerate(TOKENS):
        for target in ("verify", "decode_unverified"):
            (here / "corpus" / target / f"token-{i}").write_bytes(b"\x00" + token.encode())
    # Claims the verify target signs itself (mode bit 0 set).
    for i, claims in enumerate([CLAIMS, {**CLAIMS, "exp": "1800000900"}, {**CLAIMS, "exp": 1, "exp2": 2}]):
        (here / "corpus" / "verify" / f"claims-{i}").write_bytes(b"\x01" + json.dumps(claims).encode())
    (here / "corpus" / "verify" / "claims-dup").write_bytes(
        b"\x01" + b'{"iss":"https://auth.example.com","exp":1800000900,"exp":1}'
    )
    print(f"seeds written under {here / 'corpus'}")


if __name__ == "__main__":
    main()
