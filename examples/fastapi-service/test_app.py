"""The example through FastAPI's test client: register, login, the guarded
routes (401 with the server's WWW-Authenticate, 403 for a missing role),
refresh, logout seen at once by /me. Run by python/scripts/test.sh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import create_app
from authgate.embedded import Auth

PASSWORD = "violet-harbor-quantum-47-lantern"
CHEAP = {"passwords": {"argon2_memory_kib": 64, "argon2_iterations": 1}}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    auth = Auth.open(data_dir=tmp_path, settings=CHEAP)
    with TestClient(create_app(auth)) as client:
        yield client
    auth.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_user_registers_logs_in_and_reaches_the_orders(client: TestClient) -> None:
    assert client.post("/auth/register", json={"email": "ann@example.com", "password": PASSWORD}).status_code == 201
    taken = client.post("/auth/register", json={"email": "ann@example.com", "password": PASSWORD})
    assert taken.status_code == 409 and taken.json()["detail"]["error"] == "conflict"
    wrong = client.post("/auth/login", json={"email": "ann@example.com", "password": "wrong-password-here"})
    assert wrong.status_code == 401 and wrong.json()["detail"]["error"] == "invalid_credentials"
    tokens = client.post("/auth/login", json={"email": "ann@example.com", "password": PASSWORD}).json()
    orders = client.get("/orders", headers=bearer(tokens["access_token"]))
    assert orders.status_code == 200
    me = client.get("/me", headers=bearer(tokens["access_token"])).json()
    assert orders.json()["owner"] == me["id"] and me["roles"] == ["user"]


def test_the_guarded_routes_refuse_like_the_server(client: TestClient) -> None:
    missing = client.get("/orders")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="authgate"'
    forged = client.get("/orders", headers=bearer("eyJhbGciOiJFZERTQSJ9.e30.c2ln"))
    assert forged.status_code == 401 and 'error="invalid_token"' in forged.headers["WWW-Authenticate"]
    client.post("/auth/register", json={"email": "bo@example.com", "password": PASSWORD})
    tokens = client.post("/auth/login", json={"email": "bo@example.com", "password": PASSWORD}).json()
    report = client.get("/admin/report", headers=bearer(tokens["access_token"]))
    assert report.status_code == 403 and 'error="insufficient_scope"' in report.headers["WWW-Authenticate"]
    assert client.get("/healthz").status_code == 200


def test_refresh_then_logout_is_seen_at_once(client: TestClient) -> None:
    client.post("/auth/register", json={"email": "cy@example.com", "password": PASSWORD})
    tokens = client.post("/auth/login", json={"email": "cy@example.com", "password": PASSWORD}).json()
    fresh = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
    assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 200
    assert client.post("/auth/logout", headers=bearer(fresh["access_token"])).status_code == 200
    after = client.get("/me", headers=bearer(fresh["access_token"]))
    assert after.status_code == 401 and after.json()["detail"]["error"] == "invalid_token"
