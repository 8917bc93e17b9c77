"""Logging in: username and password for a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from service.api.deps import SessionDep, SettingsDep
from service.api.schemas import ErrorResponse, Token
from service.auth import authenticate, issue_token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token, responses={401: {"model": ErrorResponse}})
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password (OAuth2 password form) for a bearer token."""
    user = authenticate(session, form.username, form.password)
    return Token(
        access_token=issue_token(user, settings.auth),
        role=user.role,
        expires_in=settings.auth.token_minutes * 60,
    )
