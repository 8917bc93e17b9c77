"""Logging in (username and password for a bearer token) and out (the token stops working)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from service.api.deps import CurrentUser, SessionDep, SettingsDep
from service.api.schemas import ErrorResponse, Token
from service.auth import authenticate, issue_token, revoke
from service.sign_in_limits import client_address

router = APIRouter(prefix="/auth", tags=["auth"])


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
    """Exchange a username and password (OAuth2 password form) for a bearer token.

    After 10 failures in 15 minutes for an account, or from a client address, further
    attempts are refused for 15 minutes with 429 and ``Retry-After``."""
    client = client_address(request, settings.auth.proxies)
    user = authenticate(session, form.username, form.password, client)
    return Token(
        access_token=issue_token(user, settings.auth),
        role=user.role,
        expires_in=settings.auth.token_minutes * 60,
    )


@router.post("/logout", status_code=204, responses={401: {"model": ErrorResponse}})
def logout(session: SessionDep, user: CurrentUser) -> None:
    """End this token (or page session) now: it is refused from here on, and alert streams
    opened with it close."""
    revoke(session, user)
    session.commit()
