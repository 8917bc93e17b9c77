"""The pages' session cookie: an access token of a page sign-in, renewed while in use.

The cookie lives ``ZONES_AUTH_IDLE_MINUTES``. A request made with a cookie older than a few
minutes gets a fresh one (the same sign-in, so the page's CSRF token stays valid), set by
:class:`RenewSessionCookie` on whatever the answer is: a page, an API answer, an event
stream. Open pages also ask ``GET /api/v1/auth/session`` every few minutes, so an alert
desk left open renews itself. Nothing renews past the sign-in's absolute end.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import sign_ins
from service.auth import NotAuthenticated, User
from service.settings import AuthSettings

RENEWED = "renewed_session_cookie"  # in the request's state: the cookie to set on the answer


def user_of_cookie(request: Request, session: Session, settings: AuthSettings) -> User:
    """The user of the request's session cookie; a fresh cookie is noted when it is due."""
    token = request.cookies.get(settings.cookie_name)
    if not token:
        raise NotAuthenticated("a bearer token is required: POST /api/v1/auth/token")
    access = sign_ins.read(token, settings)
    user, ends_at = sign_ins.check(session, access.sign_in, access.username)
    if sign_ins.renewal_due(access, settings):
        fresh = sign_ins.cookie_token(access.username, access.sign_in, ends_at, settings)
        setattr(request.state, RENEWED, fresh)
    return user


def set_cookie(response: Response, token: str, settings: AuthSettings) -> None:
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=settings.idle_minutes * 60,
        httponly=True,
        samesite="strict",
    )


class RenewSessionCookie:
    """Sets the renewed session cookie a dependency noted, unless the answer sets or clears
    that cookie itself (a log-out)."""

    def __init__(self, app: ASGIApp, settings: AuthSettings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                fresh = scope.get("state", {}).get(RENEWED)
                if fresh is not None:
                    headers = MutableHeaders(scope=message)
                    prefix = f"{self.settings.cookie_name}="
                    if not any(v.startswith(prefix) for v in headers.getlist("set-cookie")):
                        carrier = Response()
                        set_cookie(carrier, fresh, self.settings)
                        headers.append("set-cookie", carrier.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, sending)
