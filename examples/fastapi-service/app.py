"""An orders service with its own accounts: authgate embedded in a FastAPI app.

- ``POST /auth/register``, ``/auth/login``, ``/auth/refresh``, ``/auth/logout``
  run authgate-core in this process (``authgate.embedded.Auth``): the same
  stores, argon2id, refresh rotation and revocation as ``authgate serve``,
  whose data directory this is (``authgate serve`` can serve it instead).
- ``GET /orders`` and ``GET /admin/report`` are behind the guard dependency
  (``Guard.require``): the token is verified with the keys the service
  publishes, no database read per request.
- ``GET /me`` asks the embedded service, so a logout is seen at once.

``main.py`` opens the data directory and serves it: see README.md.
"""

from __future__ import annotations

from typing import Any, Optional

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

from authgate.embedded import Auth
from authgate.errors import ApiError, AuthgateError
from authgate.guard import Guard, Principal
from authgate.jwt import KeySet


class Credentials(BaseModel):
    email: str
    password: str


class RefreshBody(BaseModel):
    refresh_token: str


def refusal(error: AuthgateError) -> HTTPException:
    """The HTTP answer authgate's error carries (the server's code and status)."""
    headers = {"WWW-Authenticate": error.www_authenticate} if error.www_authenticate else None
    detail = {"error": error.error_code, "error_description": error.description}
    return HTTPException(status_code=error.status, detail=detail, headers=headers)


def create_app(auth: Auth) -> FastAPI:
    """The service around an opened ``Auth`` (tests pass their own)."""
    guard = Guard(
        issuer=auth.issuer,
        audience=auth.audience,
        keys=KeySet.from_jwks(auth.jwks()),
        public=[("GET", "/healthz"), ("POST", "/auth/*")],
    )
    app = FastAPI(title="orders")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/auth/register", status_code=201)
    async def register(body: Credentials) -> dict[str, Any]:
        try:
            user = await auth.register_user_async(body.email, body.password)
        except ApiError as error:
            raise refusal(error) from None
        return {"id": user.id, "email": user.email}

    @app.post("/auth/login")
    async def login(body: Credentials) -> dict[str, Any]:
        try:
            tokens = await auth.login_user_async(body.email, body.password)
        except ApiError as error:
            raise refusal(error) from None
        return {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
        }

    @app.post("/auth/refresh")
    async def refresh(body: RefreshBody) -> dict[str, Any]:
        try:
            tokens = await auth.refresh_async(body.refresh_token)
        except AuthgateError as error:
            raise refusal(error) from None
        return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}

    @app.post("/auth/logout")
    async def logout(authorization: Optional[str] = Header(default=None)) -> dict[str, str]:
        token = (authorization or "").removeprefix("Bearer ").strip()
        try:
            await auth.logout_user_async(token)
        except AuthgateError as error:
            raise refusal(error) from None
        return {"message": "Logged out."}

    @app.get("/me")
    async def me(authorization: Optional[str] = Header(default=None)) -> dict[str, Any]:
        token = (authorization or "").removeprefix("Bearer ").strip()
        try:
            user = await auth.get_logged_in_user_async(token)
        except AuthgateError as error:
            raise refusal(error) from None
        return {"id": user.id, "email": user.email, "roles": list(user.roles)}

    @app.get("/orders")
    async def orders(principal: Principal = Depends(guard.require(roles=["user"]))) -> dict[str, Any]:
        return {"owner": principal.subject, "orders": []}

    @app.get("/admin/report")
    async def report(principal: Principal = Depends(guard.require(roles=["admin"]))) -> dict[str, Any]:
        return {"by": principal.subject, "orders": 0}

    return app
