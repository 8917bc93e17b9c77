"""The error table: every domain and service error class mapped to one HTTP status, here only.

Clients get ``{"error": {"code", "message", "field"}}`` with a stable code and a safe
message; the log gets the detail. A 500 never echoes internals.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth import NotAuthenticated, UnknownUser
from service.oidc import ProviderUnavailable
from service.passwords import WeakPassword
from service.personal_tokens import InvalidToken
from service.sign_in_limits import TooManyAttempts
from zones import errors

log = logging.getLogger(__name__)
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
DATABASE_RETRY_S = 5  # what a client is told to wait when the database cannot be reached


class BodyTooLarge(errors.ZonesError):
    code = "body_too_large"


class EmptyBatch(errors.ZonesError):
    code = "empty_batch"


class BatchTooLarge(errors.ZonesError):
    code = "batch_too_large"


class InvalidAuditQuery(errors.ZonesError):
    code = "invalid_audit_query"


class InvalidCursor(errors.ZonesError):
    code = "invalid_cursor"


class UnsupportedMediaType(errors.ZonesError):
    code = "unsupported_media_type"


# Starlette's own errors, before any route runs: a body that is not JSON, a method the path
# does not take.
HTTP_CODES = {
    400: "malformed_body",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


STATUS: dict[type[errors.ZonesError], int] = {
    errors.NotFound: 404,
    errors.InvalidGeometry: 422,
    TooManyAttempts: 429,
    errors.InvalidSchedule: 422,
    errors.InvalidCoordinates: 422,
    errors.InvalidObservation: 422,
    errors.InvalidOrder: 422,
    errors.ImportFailed: 422,
    EmptyBatch: 422,
    BatchTooLarge: 413,
    InvalidAuditQuery: 422,
    InvalidCursor: 422,
    errors.Conflict: 409,
    errors.InvalidAlertAction: 409,
    errors.InvalidWebhook: 422,
    errors.UnknownParameter: 400,
    UnknownUser: 404,
    WeakPassword: 422,
    InvalidToken: 422,
    UnsupportedMediaType: 415,
    NotAuthenticated: 401,
    errors.Forbidden: 403,
    BodyTooLarge: 413,
    ProviderUnavailable: 502,
    errors.Busy: 503,
    errors.ZonesError: 400,
}


def allowed_methods(request: Request) -> list[str]:
    """The methods some route takes at this request's path (several routes may share one)."""
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def status_of(exc: errors.ZonesError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, Any]]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_body(exc: errors.ZonesError) -> dict[str, dict[str, Any]]:
    """The client's view of a domain error; ``location`` ([lon, lat]) only when it has one."""
    answer = body(exc.code, exc.message, exc.field)
    if exc.location is not None:
        answer["error"]["location"] = [round(exc.location[0], 7), round(exc.location[1], 7)]
    return answer


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe_validation(errs: Sequence[Any]) -> tuple[str, str | None]:
    """One readable message (and the first field) from pydantic's error list."""
    parts, first = [], None
    for e in errs:
        loc = tuple(e.get("loc", ()))
        if loc[:1] == ("body",) and len(loc) > 1:
            loc = loc[1:]  # fields of the body are named as the domain names them
        where = _field(loc)
        first = first or where
        parts.append(f"{where}: {e.get('msg')}")
    return "; ".join(parts), first


def install(app: FastAPI) -> None:
    """Register the handlers that apply the table."""

    async def zones_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.ZonesError)
        status = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(error_body(exc), status_code=status, headers=headers)

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        message, where = describe_validation(list(exc.errors()))
        return JSONResponse(body("validation_error", message, where), status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not of one route (HTTP's Allow)
            headers["Allow"] = ", ".join(allowed_methods(request))
        return JSONResponse(body(code, str(exc.detail)), exc.status_code, headers=headers)

    async def database_refused(request: Request, exc: Exception) -> JSONResponse:
        # A value the wire schemas let through but PostgreSQL cannot hold: still the
        # client's input, never a 500. The detail (with no parameters) goes to the log.
        ref = uuid.uuid4().hex[:12]
        log.warning("database refused a value %s on %s %s: %s", ref, request.method,
                    request.url.path, type(getattr(exc, "orig", exc)).__name__)  # fmt: skip
        return JSONResponse(
            body("invalid_value", f"a value is out of range or not storable (ref {ref})"),
            status_code=422,
        )

    app.add_exception_handler(errors.ZonesError, zones_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)

    async def clashed(request: Request, exc: Exception) -> JSONResponse:
        # Two requests inserting the same unique thing at once (a device identifier, say):
        # both looked, found nothing, and the second insert meets the unique index.
        assert isinstance(exc, IntegrityError)
        if getattr(exc.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise exc
        log.warning("unique clash on %s %s", request.method, request.url.path)
        return JSONResponse(
            body("conflict", "another request stored the same thing at the same time: try again"),
            status_code=409,
        )

    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        # The database cannot be reached, dropped the connection, or gave up on the
        # statement (a deadlock, a timeout, a pool with no connection free): nothing of the
        # request was committed, so the client may send it again, and is told to.
        ref = uuid.uuid4().hex[:12]
        log.error("database unavailable %s on %s %s: %s", ref, request.method,
                  request.url.path, type(getattr(exc, "orig", exc)).__name__)  # fmt: skip
        return JSONResponse(
            body(
                "database_unavailable",
                f"the database is unavailable; nothing was stored: try again (ref {ref})",
            ),
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_S)},
        )

    app.add_exception_handler(DataError, database_refused)
    app.add_exception_handler(OperationalError, database_down)
    app.add_exception_handler(PoolTimeout, database_down)
    app.add_exception_handler(IntegrityError, clashed)
    app.add_middleware(LastResort)  # the first added: innermost, inside the other middleware


class LastResort:
    """Any other error: logged with a reference, answered 500 with that reference only.

    Unlike an ``Exception`` handler (which Starlette calls, then raises the error again to
    the server), the error stops here, so uvicorn keeps the connection open: it closes one
    whose app raised, and the client's next request on it was reset.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:  # part of an answer is out: only ending the connection can say so
                raise
            ref = uuid.uuid4().hex[:12]
            log.exception("unhandled error %s on %s %s", ref, scope["method"], scope["path"])
            answer = JSONResponse(
                body(
                    "internal_error", f"internal error; the server log has the detail (ref {ref})"
                ),
                status_code=500,
            )
            await answer(scope, receive, send)
