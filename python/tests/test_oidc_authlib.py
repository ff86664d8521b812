"""authgate as an OpenID Connect provider for Authlib, Python's most used
OAuth/OIDC client library, as a relying party would use it: a Starlette app
with Authlib's ``OAuth`` registry, configured from discovery, signs a user in
with a confidential client (``client_secret_basic``, PKCE S256, nonce),
validates the ID token against the published JWKS itself, reads userinfo and
logs the user out (RP-initiated logout).

The user's browser is played by plain HTTP (cookies, the login and consent
forms) since Authlib is the relying party here, not the browser; Chromium
drives the same pages in tests/browser."""

from __future__ import annotations

import html
import json
import re
import socket
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from authlib.integrations.starlette_client import OAuth, OAuthError  # type: ignore[import-untyped]
from joserfc.errors import BadSignatureError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from .server import PASSWORD, Server, binary

pytestmark = pytest.mark.skipif(binary() is None, reason="authgate binary not built (cargo build -p authgate)")

# Where the relying party lives; the redirect URIs are registered on the
# loopback address without a port (RFC 8252: any port matches).
RP = "http://127.0.0.1:8765"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    running = Server(
        tmp_path_factory.mktemp("authgate-oidc"),
        {
            "AUTHGATE_SERVER__BIND": f"127.0.0.1:{port}",
            "AUTHGATE_SERVER__PUBLIC_URL": f"http://127.0.0.1:{port}",
            "AUTHGATE_OIDC__ENABLED": "true",
        },
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def registered(server: Server) -> dict[str, Any]:
    """A confidential relying party, registered with the CLI as an operator would."""
    printed: dict[str, Any] = json.loads(
        server.cli(
            "oidc-client", "add", "Authlib RP", "--json",
            "--redirect-uri", "http://127.0.0.1/callback",
            "--post-logout-redirect-uri", "http://127.0.0.1/logged-out",
            "--scope", "profile", "--scope", "email", "--scope", "offline_access",
        )
    )
    return printed


def relying_party(server: Server, registered: dict[str, Any]) -> Starlette:
    """A Starlette app that signs users in through authgate with Authlib."""
    oauth = OAuth()
    oauth.register(
        "authgate",
        client_id=registered["client_id"],
        client_secret=registered["client_secret"],
        server_metadata_url=f"{server.url}/.well-known/openid-configuration",
        code_challenge_method="S256",
        client_kwargs={
            "scope": "openid profile email offline_access",
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    client = oauth.create_client("authgate")

    async def login(request: Request) -> Response:
        response: Response = await client.authorize_redirect(request, f"{RP}/callback")
        return response

    async def callback(request: Request) -> Response:
        try:
            # Exchanges the code with the verifier and validates the ID token
            # (signature against the JWKS, iss, aud, exp, nonce, at_hash).
            token = await client.authorize_access_token(request)
        except OAuthError as error:
            return JSONResponse({"error": error.error}, status_code=400)
        userinfo = await client.userinfo(token=token)
        request.session["id_token"] = token["id_token"]
        request.session["refresh_token"] = token.get("refresh_token")
        return JSONResponse({"claims": dict(token["userinfo"]), "userinfo": dict(userinfo), "token": token})

    async def refresh(request: Request) -> Response:
        """The refresh grant (offline_access), with the client's credentials."""
        try:
            token = await client.fetch_access_token(
                grant_type="refresh_token", refresh_token=request.session["refresh_token"]
            )
        except OAuthError as error:
            return JSONResponse({"error": error.error}, status_code=400)
        request.session["refresh_token"] = token["refresh_token"]
        userinfo = await client.userinfo(token=token)
        return JSONResponse({"token": token, "userinfo": dict(userinfo)})

    async def logout(request: Request) -> Response:
        response: Response = await client.logout_redirect(
            request,
            post_logout_redirect_uri=f"{RP}/logged-out",
            id_token_hint=request.session["id_token"],
        )
        return response

    async def logged_out(request: Request) -> Response:
        try:
            await client.validate_logout_response(request)
        except OAuthError as error:
            return JSONResponse({"error": error.description}, status_code=400)
        return JSONResponse({"logged_out": True})

    return Starlette(
        routes=[
            Route("/login", login),
            Route("/callback", callback),
            Route("/refresh", refresh),
            Route("/logout", logout),
            Route("/logged-out", logged_out),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key="test-only-session-key-0123456789abcdef")],
    )


def field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, page
    return html.unescape(found.group(1))


def continue_target(page: str) -> str:
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]*)"', page)
    assert found, page
    return html.unescape(found.group(1))


def sign_in(browser: httpx.Client, server: Server, authorize_url: str, email: str) -> str:
    """The user's browser: login form, consent form; the redirect back to the RP."""
    first = browser.get(authorize_url)
    assert first.status_code == 303, first.text
    login_url = first.headers["location"]
    assert login_url.startswith("/login?"), login_url
    form = browser.get(login_url)
    origin = {"Origin": server.url}
    done = browser.post(
        "/login",
        data={
            "csrf": field(form.text, "csrf"),
            "identifier": email,
            "password": PASSWORD,
            "return_to": field(form.text, "return_to"),
        },
        headers=origin,
    )
    assert done.status_code == 200, done.text
    consent = browser.get(continue_target(done.text))
    if consent.status_code == 303:
        location: str = consent.headers["location"]
        return location
    assert "Allow Authlib RP?" in consent.text, consent.text
    allowed = browser.post(
        "/oauth/authorize/consent",
        data={"csrf": field(consent.text, "csrf"), "request": field(consent.text, "request"), "decision": "allow"},
        headers=origin,
    )
    assert allowed.status_code == 200, allowed.text
    return continue_target(allowed.text)


def rp_path(url: str) -> str:
    assert url.startswith(f"{RP}/"), url
    return url[len(RP):]


def test_authlib_signs_a_user_in_validates_the_id_token_reads_userinfo_and_logs_out(
    server: Server, registered: dict[str, Any]
) -> None:
    email = "authlib-rp@example.com"
    server.add_user(email)
    rp = TestClient(relying_party(server, registered), base_url=RP, follow_redirects=False)
    with httpx.Client(base_url=server.url, follow_redirects=False, trust_env=False) as browser:
        start = rp.get("/login")
        assert start.status_code == 302
        authorize = start.headers["location"]
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize).query))
        assert authorize.startswith(f"{server.url}/oauth/authorize?")
        assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]

        back = sign_in(browser, server, authorize, email)
        back_query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
        assert back_query["iss"] == server.issuer
        done = rp.get(rp_path(back))
        assert done.status_code == 200, done.text
        result = done.json()
        claims = result["claims"]
        assert claims["iss"] == server.issuer
        assert claims["aud"] == registered["client_id"]
        assert claims["nonce"] == query["nonce"]
        assert claims["email"] == email
        assert result["userinfo"]["sub"] == claims["sub"]
        assert result["userinfo"]["email"] == email
        assert result["token"]["token_type"].lower() == "bearer"

        # A second exchange of the same callback: the state was used up on
        # the RP's side, and the code on authgate's.
        again = rp.get(rp_path(back))
        assert again.status_code == 400

        # offline_access: Authlib's refresh grant rotates the refresh token
        # and the new access token reads userinfo.
        first_refresh = result["token"]["refresh_token"]
        refreshed = rp.get("/refresh")
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["token"]["refresh_token"] != first_refresh
        assert refreshed.json()["token"]["access_token"] != result["token"]["access_token"]
        assert refreshed.json()["userinfo"]["sub"] == claims["sub"]

        # RP-initiated logout through Authlib: back at the registered URI
        # with Authlib's state, and the browser session is over.
        leaving = rp.get("/logout")
        assert leaving.status_code == 302
        end_session = leaving.headers["location"]
        assert end_session.startswith(f"{server.url}/oauth/logout?")
        ended = browser.get(end_session)
        assert ended.status_code == 303, ended.text
        assert rp.get(rp_path(ended.headers["location"])).json() == {"logged_out": True}
        account = browser.get("/account")
        assert account.status_code == 303 and account.headers["location"].startswith("/login")


def test_authlib_refuses_an_id_token_whose_signature_does_not_verify_against_the_jwks(
    server: Server, registered: dict[str, Any]
) -> None:
    email = "authlib-forged@example.com"
    server.add_user(email)
    app = relying_party(server, registered)
    rp = TestClient(app, base_url=RP, follow_redirects=False)
    with httpx.Client(base_url=server.url, follow_redirects=False, trust_env=False) as browser:
        start = rp.get("/login")
        nonce = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start.headers["location"]).query))["nonce"]
        back = sign_in(browser, server, start.headers["location"], email)
        done = rp.get(rp_path(back))
        assert done.status_code == 200, done.text
        token = done.json()["token"]
    # The same token with an altered signature, through Authlib's own check.
    forged = dict(token)
    head, body, signature = forged["id_token"].split(".")
    forged["id_token"] = f"{head}.{body}.{'A' * len(signature)}"
    assert forged["id_token"] != token["id_token"]
    oauth = OAuth()
    oauth.register(
        "authgate",
        client_id=registered["client_id"],
        client_secret=registered["client_secret"],
        server_metadata_url=f"{server.url}/.well-known/openid-configuration",
    )
    client = oauth.create_client("authgate")

    async def check() -> None:
        genuine = await client.parse_id_token(token, nonce=nonce)
        assert genuine["sub"] == done.json()["claims"]["sub"]
        with pytest.raises(BadSignatureError):
            await client.parse_id_token(forged, nonce=nonce)
        with pytest.raises(Exception, match="nonce"):
            await client.parse_id_token(token, nonce="another-nonce")

    anyio.run(check)
