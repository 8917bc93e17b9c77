"""What a request carries, and whom it proves: one door for the API, the pages and streams.

A bearer token is a personal access token (``zpat_...``) or an access token (a JWT of a
sign-in); the pages' cookie holds an access token too (see ``service.session_cookie``).
Either way the database decides: the user exists, is active, has the role it now has, and
the sign-in or personal token is live.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import personal_tokens, sign_ins
from service.auth import NotAuthenticated, PrincipalKind, User
from service.db import tables
from service.settings import AuthSettings


def from_bearer(session: Session, token: str, settings: AuthSettings) -> User:
    """The user of a bearer token (an access token or a personal access token)."""
    if personal_tokens.is_personal(token):
        return personal_tokens.check(session, token)
    access = sign_ins.read(token, settings)
    return sign_ins.check(session, access.sign_in, access.username)[0]


def recheck(session: Session, user: User) -> User:
    """``user`` as the database knows them now, if their credential is still live (for a
    long-lived stream: whatever the age of the token it was opened with)."""
    if user.credential is None:
        raise NotAuthenticated("no credential to check")
    if user.kind is PrincipalKind.PAT:
        return personal_tokens.recheck(session, _token_id(user.credential))
    return sign_ins.check(session, user.credential, user.username)[0]


def end(session: Session, user: User) -> None:
    """Log-out: end the sign-in, or revoke the personal access token, the request came with."""
    if user.credential is None:
        return
    if user.kind is PrincipalKind.PAT:
        personal_tokens.revoke(session, _token_id(user.credential), user)
    else:
        sign_ins.end(session, user.credential)


def _token_id(credential: str) -> int:
    return int(credential.removeprefix("pat:"))


def ends_at(session: Session, user: User) -> datetime:
    """When the credential ``user`` came with ends, however much it is used."""
    if user.kind is PrincipalKind.PAT and user.credential is not None:
        column, key = tables.PersonalToken.expires_at, tables.PersonalToken.id
        found = session.scalar(select(column).where(key == _token_id(user.credential)))
    else:
        found = session.scalar(
            select(tables.SignIn.ends_at).where(tables.SignIn.id == user.credential)
        )
    if found is None:
        raise NotAuthenticated("no such sign-in")
    return found
