"""Signing in (a password for an access token and a refresh token), refreshing, who is
signed in, changing one's password, and signing out (the sign-in ends at once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from service import credentials, sign_ins
from service.api.deps import CurrentUser, SessionDep, SettingsDep, SignedIn
from service.api.schemas import ErrorResponse, Token
from service.api.token_schemas import PasswordChange, RefreshIn, SessionOut
from service.auth import NotAuthenticated, PrincipalKind, authenticate, change_password
from service.db import audit_store
from service.sign_in_limits import client_address
from zones.errors import Forbidden

router = APIRouter(prefix="/auth", tags=["auth"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse},
    403: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.post(
    "/token",
    response_model=Token,
    responses={401: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
)
def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password (OAuth2 password form) for an access token (15
    minutes) and a refresh token (spent at `POST /auth/refresh` for a new pair).

    After 10 failures in 15 minutes for an account, or from a client address, further
    attempts are refused for 15 minutes with 429 and ``Retry-After``."""
    client = client_address(request, settings.auth.proxies)
    user = authenticate(session, form.username, form.password, client)
    issued = sign_ins.sign_in_api(session, user, settings.auth)
    session.commit()
    return Token(
        access_token=issued.access_token,
        role=user.role,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
    )


@router.post("/refresh", response_model=Token, responses=ERRORS)
def refresh(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> Token:
    """Spend a refresh token for a new access token and refresh token.

    Each refresh token works once. One used a second time means someone else holds it: the
    whole sign-in ends (every token of it), and the client signs in again."""
    issued = sign_ins.refresh(session, body.refresh_token, settings.auth)
    user = credentials.from_bearer(session, issued.access_token, settings.auth)
    session.commit()
    return Token(
        access_token=issued.access_token,
        role=user.role,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
    )


@router.get("/session", response_model=SessionOut, responses=ERRORS)
def current_session(session: SessionDep, user: CurrentUser) -> SessionOut:
    """Who is signed in, how, and until when. Open pages ask every few minutes: that keeps
    their session cookie renewed while they are open."""
    return SessionOut(
        username=user.username,
        role=user.role,
        kind=user.kind,
        scope=user.scope,
        ends_at=credentials.ends_at(session, user),
    )


@router.post("/password", status_code=204, responses={**ERRORS, 429: {"model": ErrorResponse}})
def password(
    request: Request,
    body: PasswordChange,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedIn,
) -> None:
    """Change one's password (at least 12 characters, not a common one, not the username).
    Every other sign-in of the user ends; this one goes on."""
    client = client_address(request, settings.auth.proxies)
    try:
        authenticate(session, user.username, body.current_password, client)
    except NotAuthenticated as exc:  # not 401: the caller is signed in, the old password wrong
        raise Forbidden("the current password is wrong", field="current_password") from exc
    change_password(session, user.username, body.new_password, keep=user.credential)
    audit_store.record(session, user.username, "user.password", "user", user.username)
    session.commit()


@router.post("/logout", status_code=204, responses=ERRORS)
def logout(request: Request, response: Response, session: SessionDep, user: CurrentUser) -> None:
    """End this sign-in now: its access and refresh tokens (or page cookie) are refused from
    here on, and alert streams opened with them close. With a personal access token, that
    token is revoked."""
    credentials.end(session, user)
    session.commit()
    cookie = request.app.state.settings.auth.cookie_name
    if user.kind is PrincipalKind.SESSION and "authorization" not in request.headers:
        response.delete_cookie(cookie)
