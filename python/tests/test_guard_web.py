"""The guard's FastAPI dependency and ASGI middleware, through their test
client, against a real ``authgate serve``: the same ``WWW-Authenticate``
as the server for each refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authgate import jwt
from authgate.asgi import AuthgateMiddleware
from authgate.guard import Guard, Principal
from tests.server import Server, binary

pytestmark = pytest.mark.skipif(binary() is None, reason="authgate binary not built (cargo build -p authgate)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("authgate"))
    running.add_user("alice@example.com", "user")
    running.add_user("root@example.com", "admin")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def guard(server: Server) -> Guard:
    token = server.login("alice@example.com")["access_token"]
    aud = jwt.decode_jwt(token)["aud"]
    return Guard(
        issuer=server.issuer,
        audience=aud if isinstance(aud, str) else aud[0],
        jwks_url=server.jwks_url,
        public=[("GET", "/healthz")],
        permissions={"support": ["users:read"]},
    )


def fastapi_app(guard: Guard) -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    async def me(principal: Principal = Depends(guard.require(roles=["user"]))) -> dict[str, str]:
        return {"sub": principal.subject}

    @app.get("/users")
    async def users(
        principal: Principal = Depends(guard.require(permissions=["users:read"])),
    ) -> dict[str, str]:
        return {"sub": principal.subject}

    @app.get("/healthz")
    async def healthz(principal: Optional[Principal] = Depends(guard.require())) -> dict[str, bool]:
        return {"anonymous": principal is None}

    return app


def test_the_dependency_answers_like_the_server(server: Server, guard: Guard) -> None:
    alice = server.login("alice@example.com")["access_token"]
    root = server.login("root@example.com")["access_token"]
    client = TestClient(fastapi_app(guard))

    ok = client.get("/me", headers={"Authorization": f"Bearer {alice}"})
    assert ok.status_code == 200 and ok.json()["sub"] == jwt.decode_jwt(alice)["sub"]

    for authorization in [None, "Basic YTpi", "Bearer not.a.jwt", f"Bearer {alice}x"]:
        headers = {} if authorization is None else {"Authorization": authorization}
        refused = client.get("/me", headers=headers)
        assert (refused.status_code, refused.headers.get("www-authenticate")) == server.challenge(
            "/me", authorization
        )
        assert refused.json()["detail"]["error"] == "invalid_token"

    # alice's roles do not grant users:read; admin holds every permission.
    forbidden = client.get("/users", headers={"Authorization": f"Bearer {alice}"})
    assert forbidden.status_code == 403
    assert forbidden.headers["www-authenticate"] == 'Bearer realm="authgate", error="insufficient_scope"'
    assert forbidden.json()["detail"]["error"] == "insufficient_scope"
    assert client.get("/users", headers={"Authorization": f"Bearer {root}"}).status_code == 200
    assert client.get("/me", headers={"Authorization": f"Bearer {root}"}).status_code == 403

    assert client.get("/healthz").json() == {"anonymous": True}


def test_the_middleware_guards_every_route_but_the_public_ones(server: Server, guard: Guard) -> None:
    async def me(request: Request) -> JSONResponse:
        principal: Principal = request.state.principal
        return JSONResponse({"sub": principal.subject})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/me", me), Route("/healthz", healthz)])
    app.add_middleware(AuthgateMiddleware, guard=guard)
    client = TestClient(app)

    assert client.get("/healthz").json() == {"ok": True}
    alice = server.login("alice@example.com")["access_token"]
    ok = client.get("/me", headers={"Authorization": f"Bearer {alice}"})
    assert ok.json() == {"sub": jwt.decode_jwt(alice)["sub"]}

    for authorization in [None, "Bearer not.a.jwt"]:
        headers = {} if authorization is None else {"Authorization": authorization}
        refused = client.get("/me", headers=headers)
        assert (refused.status_code, refused.headers.get("www-authenticate")) == server.challenge(
            "/me", authorization
        )
        assert refused.json()["error"] == "invalid_token"
