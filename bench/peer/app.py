"""The FastAPI + PyJWT peer of bench/run.sh: the equivalent of authgate's GET /me.

GET /me does the same check authgate does: parse `Authorization: Bearer`, pick
the key by the header's `kid` (pre-loaded, never parsed per request), verify
the signature with PyJWT, require and check exp/nbf/iat/iss/aud/sub/jti and
the header's `typ: at+jwt`, check the session is not revoked, look the user
and session up by `sub`/`sid`, and answer the same JSON shape (PublicUser plus
`session`). Users and sessions live in dicts that are never re-read, where
authgate re-reads SQLite at most once a second per record, so the comparison
flatters the peer if anything.

GET /token?alg=EdDSA|HS256&user=N mints an access token in authgate's claim
shape (iss, sub, aud, exp, iat, nbf, jti, sid, roles; header typ at+jwt, kid)
for user N. It is only for setting the benchmark up, never measured.
GET /healthz is the no-auth route of this server.

Run: python app.py --port 8200 [--workers 2] [--users 100] [--http h11] [--loop asyncio]

The launcher generates one Ed25519 key and one HS256 secret and hands them to
the uvicorn workers through the environment, so a token minted by one worker
verifies on the other; users and sessions are derived deterministically from
their index, so every worker holds the same ones.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ISSUER = "http://127.0.0.1:8080"
AUDIENCE = "authgate"
ACCESS_TTL = 900
LEEWAY = 60
NAMESPACE = uuid.UUID("6f1c3a52-8c1e-4d2b-9a57-0b3e1c7d9e10")
REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]


def _load_keys() -> dict[str, tuple[str, object, object]]:
    """kid → (alg, signing key, verifying key), from the launcher's environment."""
    pem = os.environ["PEER_ED25519_PEM"].encode()
    private = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    secret = base64.b64decode(os.environ["PEER_HMAC_SECRET"])
    return {
        "peer-ed25519": ("EdDSA", private, private.public_key()),
        "peer-hs256": ("HS256", secret, secret),
    }


def _make_users(n: int) -> tuple[dict[str, dict], dict[str, dict]]:
    """User i has a deterministic id and one live session (same in every worker)."""
    users: dict[str, dict] = {}
    sessions: dict[str, dict] = {}
    for i in range(n):
        uid = str(uuid.uuid5(NAMESPACE, f"user-{i}"))
        sid = str(uuid.uuid5(NAMESPACE, f"session-{i}"))
        users[uid] = {
            "id": uid,
            "email": f"user{i}@example.com",
            "username": f"user{i}",
            "name": None,
            "roles": ["user"],
            "is_active": True,
            "created_at": "2026-01-01T00:00:00Z",
        }
        sessions[sid] = {
            "id": sid,
            "user_id": uid,
            "created_at": "2026-01-01T00:00:00Z",
            "expires_at": "2099-01-01T00:00:00Z",
        }
    return users, sessions


# Loaded in the workers (module "app"); the launcher (__main__) makes the keys first.
if __name__ != "__main__":
    KEYS = _load_keys()
    KID_BY_ALG = {alg: kid for kid, (alg, _, _) in KEYS.items()}
    USERS, SESSIONS = _make_users(int(os.environ.get("PEER_USERS", "100")))
REVOKED_SIDS: set[str] = set()

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def _invalid_token(bare: bool = False) -> JSONResponse:
    return JSONResponse(
        {"error": "invalid_token", "error_description": "The access token is invalid."},
        status_code=401,
        headers={
            "WWW-Authenticate": 'Bearer realm="authgate"'
            if bare
            else 'Bearer error="invalid_token"'
        },
    )


@app.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@app.get("/token")
async def token(alg: str = "EdDSA", user: int = 0) -> JSONResponse:
    kid = KID_BY_ALG[alg]
    _, signing_key, _ = KEYS[kid]
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(uuid.uuid5(NAMESPACE, f"user-{user}")),
        "aud": AUDIENCE,
        "exp": now + ACCESS_TTL,
        "iat": now,
        "nbf": now,
        "jti": str(uuid.uuid4()),
        "sid": str(uuid.uuid5(NAMESPACE, f"session-{user}")),
        "roles": ["user"],
    }
    encoded = jwt.encode(
        claims, signing_key, algorithm=alg, headers={"typ": "at+jwt", "kid": kid}
    )
    return JSONResponse({"access_token": encoded, "token_type": "Bearer", "expires_in": ACCESS_TTL})


@app.get("/me")
async def me(request: Request) -> JSONResponse:
    header = request.headers.get("authorization")
    if header is None:
        return _invalid_token(bare=True)
    if len(header) > 8192:
        return _invalid_token()
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw:
        return _invalid_token()
    try:
        head = jwt.get_unverified_header(raw)
        entry = KEYS.get(head.get("kid", ""))
        if entry is None or head.get("alg") != entry[0] or head.get("typ") != "at+jwt":
            return _invalid_token()
        alg, _, verifying_key = entry
        claims = jwt.decode(
            raw,
            verifying_key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": REQUIRED},
        )
    except jwt.PyJWTError:
        return _invalid_token()
    sid = claims.get("sid")
    if not isinstance(sid, str) or sid in REVOKED_SIDS:
        return _invalid_token()
    user = USERS.get(claims["sub"])
    session = SESSIONS.get(sid)
    if user is None or session is None or not user["is_active"] or session["user_id"] != user["id"]:
        return _invalid_token()
    body = dict(user)
    body["session"] = {
        "id": session["id"],
        "created_at": session["created_at"],
        "expires_at": session["expires_at"],
    }
    return JSONResponse(body)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=100)
    # uvicorn's own choices; "auto" takes httptools and uvloop when installed
    # (requirements.txt installs them). `--http h11 --loop asyncio` is the
    # pure-Python stack a plain `pip install uvicorn` runs on.
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"])
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    args = parser.parse_args()
    os.environ["PEER_USERS"] = str(args.users)
    os.environ["PEER_ED25519_PEM"] = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    os.environ["PEER_HMAC_SECRET"] = base64.b64encode(secrets.token_bytes(32)).decode()
    uvicorn.run(
        "app:app",
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host=args.host,
        port=args.port,
        workers=args.workers,
        http=args.http,
        loop=args.loop,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
