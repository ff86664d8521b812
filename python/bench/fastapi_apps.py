"""The two FastAPI apps bench_fastapi.py drives with wrk: one route, the same
body, verifying the Bearer token with authgate's guard dependency
(``guard_app``) or with PyJWT in a dependency doing the same checks
(``pyjwt_app``: signature, exp/nbf, iss, aud, typ; inline in an ``async``
dependency, its fastest form: no thread hop). Both answer 401 with
``WWW-Authenticate`` for a bad token. The public key (a JWK), issuer and audience
come from the environment bench_fastapi.py sets."""

from __future__ import annotations

import json
import os
from typing import Any, Optional

import jwt as pyjwt
from fastapi import Depends, FastAPI, Header, HTTPException

from authgate import jwt as ag
from authgate.guard import Guard, Principal

ISSUER = os.environ["BENCH_ISSUER"]
AUDIENCE = os.environ["BENCH_AUDIENCE"]
PUBLIC_JWK = json.loads(os.environ["BENCH_PUBLIC_JWK"])

guard = Guard(issuer=ISSUER, audience=AUDIENCE, keys=ag.KeySet.from_jwks({"keys": [PUBLIC_JWK]}))
guard_app = FastAPI()


@guard_app.get("/orders")
async def guarded_orders(principal: Principal = Depends(guard.require(roles=["reader"]))) -> dict[str, Any]:
    return {"owner": principal.subject, "orders": []}


pyjwt_key = pyjwt.PyJWK.from_dict(PUBLIC_JWK)
pyjwt_app = FastAPI()


async def pyjwt_principal(authorization: Optional[str] = Header(default=None)) -> dict[str, Any]:
    challenge = {"WWW-Authenticate": 'Bearer realm="authgate", error="invalid_token"'}
    if authorization is None or not authorization.startswith("Bearer "):
        raise HTTPException(401, headers={"WWW-Authenticate": 'Bearer realm="authgate"'})
    token = authorization[7:]
    try:
        if pyjwt.get_unverified_header(token).get("typ") != "at+jwt":
            raise HTTPException(401, headers=challenge)
        claims: dict[str, Any] = pyjwt.decode(
            token, pyjwt_key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER, leeway=60
        )
    except pyjwt.PyJWTError:
        raise HTTPException(401, headers=challenge) from None
    if "reader" not in claims.get("roles", ()):
        raise HTTPException(403)
    return claims


@pyjwt_app.get("/orders")
async def pyjwt_orders(claims: dict[str, Any] = Depends(pyjwt_principal)) -> dict[str, Any]:
    return {"owner": claims["sub"], "orders": []}
