"""Logging in and out of the pages: a session cookie holding an access token of a page
sign-in, renewed while the pages are in use (see ``service.session_cookie``)."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service import sign_ins
from service.api.deps import SessionDep, SettingsDep
from service.auth import NotAuthenticated, authenticate, csrf_ok
from service.pages.render import render
from service.session_cookie import set_cookie, user_of_cookie
from service.sign_in_limits import TooManyAttempts, client_address

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "zones_login_csrf"
LOGIN_ERRORS = {
    "wrong": "wrong username or password",
    "disabled": "this account is disabled",
    "expired": "the form expired; please log in again",
    "locked": "too many failed sign-ins: try again in 15 minutes",
}


def _safe_next(target: str) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    settings: SettingsDep,
    next: str = "/",
    error: str | None = None,
    username: str = "",
) -> HTMLResponse:
    """The login form. ``error`` is a code, never text: an attacker cannot put words here."""
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        title="Log in",
        user=None,
        settings=settings,
        error=LOGIN_ERRORS.get(error or ""),
        next=_safe_next(next),
        username=username[:80],
        login_csrf=token,
        sso=settings.oidc.provider_name if settings.oidc.enabled else None,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/login"
    )
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    target = _safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    back = f"/login?next={quote(target)}&username={quote(username[:80])}"
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return RedirectResponse(back + "&error=expired", status_code=303)
    try:
        client = client_address(request, settings.auth.proxies)
        user = authenticate(session, username, password, client)
    except TooManyAttempts:
        return RedirectResponse(back + "&error=locked", status_code=303)
    except NotAuthenticated as exc:
        code = "disabled" if "disabled" in exc.message else "wrong"
        return RedirectResponse(back + f"&error={code}", status_code=303)
    cookie = sign_ins.sign_in_page(session, user, settings.auth)
    session.commit()
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, cookie, settings.auth)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """End the session: its sign-in ends (streams opened with it close), the cookie goes."""
    response = RedirectResponse("/login", status_code=303)
    if request.cookies.get(settings.auth.cookie_name):
        try:
            user = user_of_cookie(request, session, settings.auth)
        except NotAuthenticated:
            user = None
        if user is not None and user.credential is not None:
            if not csrf_ok(user, settings.auth, csrf_token):
                return RedirectResponse("/", status_code=303)  # a forged log-out does nothing
            sign_ins.end(session, user.credential)
            session.commit()
    response.delete_cookie(settings.auth.cookie_name)
    return response


@router.get("/logout")
def logout_is_a_post() -> Response:
    """Following a link must not log anyone out (a page could embed it); the button posts."""
    return RedirectResponse("/", status_code=303)
