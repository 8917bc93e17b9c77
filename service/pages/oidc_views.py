"""Signing in through single sign-on: off to the provider, and back with a session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from service import sign_ins
from service.api.deps import SessionDep, SettingsDep
from service.api.errors import status_of
from service.oidc import pending
from service.oidc.client import OidcClient
from service.oidc.flow import finish_sign_in
from service.pages.auth_views import _safe_next
from service.pages.render import render
from service.session_cookie import set_cookie
from service.settings import Environment, Settings
from zones.errors import NotFound, ZonesError

router = APIRouter(prefix=pending.PATH, include_in_schema=False)
Param = Annotated[str, Query(max_length=4000)]


def _client(request: Request) -> OidcClient:
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        raise NotFound("single sign-on is not configured in this service")
    return client


def _refused(request: Request, settings: Settings, exc: ZonesError) -> Response:
    response = render(
        request, "error.html", title="Sign-in refused", user=None, settings=settings,
        heading="Sign-in refused", message=exc.message, status_code=status_of(exc),
    )  # fmt: skip
    response.delete_cookie(pending.COOKIE, path=pending.PATH)
    return response


@router.get("/login")
def oidc_login(request: Request, settings: SettingsDep, next: Param = "/") -> Response:
    """Off to the provider, carrying state, nonce and PKCE verifier in a short cookie."""
    client = _client(request)
    try:
        started = client.start()
    except ZonesError as exc:
        return _refused(request, settings, exc)
    response = RedirectResponse(started.url, status_code=303)
    carried = pending.Pending(started.state, started.nonce, started.code_verifier, _safe_next(next))
    assert settings.auth.secret is not None  # resolved when the settings were made
    response.set_cookie(
        pending.COOKIE,
        pending.seal(carried, settings.auth.secret),
        max_age=pending.MINUTES * 60,
        path=pending.PATH,
        httponly=True,
        samesite="lax",  # it must come back on the provider's cross-site redirect
        secure=settings.environment is Environment.PRODUCTION,
    )
    return response


@router.get("/callback")
def oidc_callback(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    state: Param = "",
    code: Param = "",
    error: Param = "",
    iss: Annotated[str | None, Query(max_length=4000)] = None,
) -> Response:
    """Back from the provider: checked, the user signed in, and on to where they were going.

    The answer is a page that forwards at once rather than a redirect: the browser arrived
    here by a redirect from the provider's site, and would not send the session cookie
    (SameSite=Strict) on a further redirect in that chain.
    """
    client = _client(request)
    assert settings.auth.secret is not None
    carried = pending.unseal(request.cookies.get(pending.COOKIE), settings.auth.secret)
    try:
        user = finish_sign_in(
            client, session, carried, state=state, code=code, error=error, iss=iss
        )
    except ZonesError as exc:
        session.rollback()
        return _refused(request, settings, exc)
    cookie = sign_ins.sign_in_page(session, user, settings.auth)
    session.commit()
    assert carried is not None
    response = render(
        request, "signed_in.html", title="Signed in", user=None, settings=settings,
        username=user.username, next=carried.next,
    )  # fmt: skip
    set_cookie(response, cookie, settings.auth)
    response.delete_cookie(pending.COOKIE, path=pending.PATH)
    return response
