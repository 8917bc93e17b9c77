"""Personal access tokens: make, list and revoke one's own; admins list and revoke anyone's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service import personal_tokens
from service.api.deps import CurrentUser, SessionDep, SettingsDep, SignedIn
from service.api.schemas import ErrorResponse, Id, Line
from service.api.token_schemas import NewPersonalToken, PersonalTokenIn, PersonalTokenOut
from service.auth import signing_key
from service.db import audit_store
from zones.errors import Forbidden
from zones.model import Role

router = APIRouter(prefix="/auth/tokens", tags=["auth"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse},
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def _out(token: personal_tokens.PersonalToken) -> PersonalTokenOut:
    return PersonalTokenOut(**vars(token), active=token.active)


@router.post("", status_code=201, response_model=NewPersonalToken, responses=ERRORS)
def create_token(
    body: PersonalTokenIn, session: SessionDep, settings: SettingsDep, user: SignedIn
) -> NewPersonalToken:
    """Make a personal access token for a desktop GIS client or a script, sent as
    `Authorization: Bearer zpat_...`. The answer holds the token: it is shown this once.
    Only a person signed in with a password may make one (not another token)."""
    token, value = personal_tokens.create(
        session,
        user,
        body.name,
        body.scope,
        body.expires_in_days,
        settings.auth.personal_token_max_days,
        signing_key(settings.auth),
    )
    audit_store.record(
        session,
        user.username,
        "token.create",
        "personal_token",
        token.id,
        detail={"name": token.name, "scope": token.scope.value,
                "expires_at": token.expires_at.isoformat()},
    )  # fmt: skip
    session.commit()
    return NewPersonalToken(**_out(token).model_dump(), token=value)


@router.get("", response_model=list[PersonalTokenOut], responses=ERRORS)
def list_tokens(
    session: SessionDep,
    user: CurrentUser,
    username: Annotated[
        Line | None, Query(max_length=80, description="Admins: this user's")
    ] = None,
    everyone: Annotated[bool, Query(alias="all", description="Admins: everyone's")] = False,
) -> list[PersonalTokenOut]:
    """One's personal access tokens (never the tokens themselves), newest first; admins may
    ask for another user's or everyone's."""
    others = everyone or (username is not None and username != user.username)
    if others and user.role is not Role.ADMIN:
        raise Forbidden("only admins may list other users' tokens")
    owner = None if everyone else (username or user.username)
    return [_out(t) for t in personal_tokens.listed(session, owner)]


@router.delete("/{token_id}", status_code=204, responses=ERRORS)
def revoke_token(token_id: Id, session: SessionDep, user: CurrentUser) -> None:
    """Revoke a personal access token at once (one's own; admins: anyone's). Requests and
    alert streams made with it stop."""
    token = personal_tokens.revoke(session, token_id, user)
    audit_store.record(
        session, user.username, "token.revoke", "personal_token", token_id,
        detail={"owner": token.username, "name": token.name},
    )  # fmt: skip
    session.commit()
