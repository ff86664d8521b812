"""A second process for the Redis tests: a TokenManager on the shared
RedisKeyStore with a fixed clock, doing one action and printing the result as JSON.

    python redis_worker.py URL PREFIX MASTER_HEX NOW sign
    python redis_worker.py URL PREFIX MASTER_HEX NOW verify TOKEN
"""

from __future__ import annotations

import json
import sys

from authgate import TokenManager, jwt
from authgate.errors import AuthgateError
from authgate.redis_store import RedisKeyStore

ISSUER = "https://app.example"
AUDIENCES = {"api": "https://api.example"}
EXPIRY = 7200
ROTATION = 3600


def manager(url: str, prefix: str, master: bytes, now: float) -> TokenManager:
    return TokenManager(
        algorithm="EdDSA",
        issuer=ISSUER,
        audiences=AUDIENCES,
        expiry=EXPIRY,
        rotation_interval=ROTATION,
        store=RedisKeyStore(url, master, prefix=prefix),
        clock=lambda: now,
    )


def main(argv: list[str]) -> None:
    url, prefix, master_hex, now, action = argv[:5]
    tokens = manager(url, prefix, bytes.fromhex(master_hex), float(now))
    if action == "sign":
        token = tokens.sign({"sub": "from-worker"})
        print(json.dumps({"token": token, "kid": jwt.get_unverified_header(token)["kid"]}))
    else:
        try:
            print(json.dumps({"sub": tokens.verify(argv[5])["sub"]}))
        except AuthgateError as error:
            print(json.dumps({"error": error.reason}))


if __name__ == "__main__":
    main(sys.argv[1:])
