"""The FastAPI dependency behind ``Guard.require`` (imported only when used,
so the package does not need FastAPI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from fastapi import HTTPException
from starlette.requests import HTTPConnection

from authgate.errors import AuthgateError

if TYPE_CHECKING:
    from authgate.guard import Guard, Principal


def http_exception(error: AuthgateError) -> HTTPException:
    """The ``HTTPException`` answering ``error`` as the authgate server would."""
    headers = {} if error.www_authenticate is None else {"WWW-Authenticate": error.www_authenticate}
    body = {"error": error.error_code, "error_description": error.description}
    return HTTPException(status_code=error.status, detail=body, headers=headers)


def dependency(
    guard: Guard, roles: tuple[str, ...], permissions: tuple[str, ...]
) -> Callable[[HTTPConnection], Any]:
    """A dependency resolving to the request's ``Principal`` (see ``Guard.require``)."""

    async def require(connection: HTTPConnection) -> Optional[Principal]:
        try:
            principal = await guard.authenticate_request_async(
                connection.scope.get("method", "GET"), connection.url.path, connection.headers
            )
            if principal is not None:
                guard.check_scope(principal, roles=roles, permissions=permissions)
        except AuthgateError as error:
            raise http_exception(error) from None
        return principal

    # FastAPI reads the parameter's type to inject the connection; with
    # postponed annotations it would see the string "HTTPConnection".
    require.__annotations__["connection"] = HTTPConnection
    require.__annotations__.pop("return", None)
    return require
