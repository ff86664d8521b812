"""``AuthgateMiddleware``: an ASGI (Starlette, FastAPI, any ASGI app)
middleware that authenticates every HTTP request with a ``Guard``.

Public routes (the guard's ``public`` policy) pass untouched. Otherwise
the request's Bearer token must verify: the ``Principal`` is then put in
``scope["state"]["principal"]`` (``request.state.principal`` in
Starlette), and a refusal is answered as the authgate server answers it:
the status (401, 503), its ``WWW-Authenticate`` header and the JSON body
``{"error", "error_description"}``. WebSocket and lifespan scopes pass
through; pure ASGI, no framework needed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable

from authgate.errors import AuthgateError
from authgate.guard import Guard

__all__ = ["AuthgateMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AuthgateMiddleware:
    """``app.add_middleware(AuthgateMiddleware, guard=guard)``, or wrap any ASGI app."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        try:
            principal = await self.guard.authenticate_request_async(
                scope["method"], scope["path"], headers
            )
        except AuthgateError as error:
            await _refuse(send, error)
            return
        if principal is not None:
            scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


async def _refuse(send: Send, error: AuthgateError) -> None:
    body = json.dumps({"error": error.error_code, "error_description": error.description}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if error.www_authenticate is not None:
        headers.append((b"www-authenticate", error.www_authenticate.encode("latin-1")))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
