"""Users, passwords (argon2), the principal of a request, disabling, CSRF tokens.

Every request is checked against the database: a deleted or disabled user, a sign-in that
was logged out and a revoked personal access token all stop working at once, and the role
is the one the database holds now. How a request proves who it is lives beside this
module: ``service.sign_ins`` (access and refresh tokens, the pages' session cookie) and
``service.personal_tokens``; ``service.credentials`` tells them apart.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import sign_in_limits
from service.db import tables
from service.password_hashing import hash_password, verify_password
from service.passwords import check_password
from service.settings import AuthSettings
from zones.errors import Conflict, Forbidden, ZonesError
from zones.model import Role

__all__ = ["Forbidden", "NotAuthenticated", "PrincipalKind", "TokenScope", "User"]

EVENTS_CHANNEL = "zones_events"  # also carries alert events (see the 0002 migration)


class NotAuthenticated(ZonesError):
    code = "not_authenticated"


class UnknownUser(ZonesError):
    code = "unknown_user"


class PrincipalKind(enum.StrEnum):
    """What a request was authorised with."""

    SESSION = "session"  # a person signed in: an access token or the pages' cookie
    PAT = "pat"  # a personal access token (desktop GIS, scripts)
    # Tracker devices' credentials come with the feeds.


class TokenScope(enum.StrEnum):
    READ = "read"  # safe methods only (GET, HEAD, OPTIONS)
    FULL = "full"  # whatever the user's role may do


@dataclass(frozen=True)
class User:
    """The principal of a request: who, with what role now, and by what credential.

    ``credential`` names the sign-in or personal token the request came with: log-out ends
    it, open streams watch for its end, and page CSRF tokens are bound to it.
    """

    username: str
    role: Role
    credential: str | None = None
    kind: PrincipalKind = PrincipalKind.SESSION
    scope: TokenScope = TokenScope.FULL
    units: frozenset[str] = frozenset()


def add_user(session: Session, username: str, password: str, role: Role) -> User:
    """Create a user with an argon2-hashed password (see :mod:`service.passwords`)."""
    check_password(password, username)
    try:
        with session.begin_nested():
            session.add(
                tables.User(
                    username=username, password_hash=hash_password(password), role=role.value
                )
            )
    except IntegrityError as exc:
        raise Conflict(f"user {username!r} already exists", field="username") from exc
    return User(username, role)


def authenticate(session: Session, username: str, password: str, client: str = "unknown") -> User:
    """The user these credentials name; refused (429) after too many failures lately, for
    the account or for the client address (see :mod:`service.sign_in_limits`)."""
    sign_in_limits.check(session, username, client)
    row = session.scalar(select(tables.User).where(tables.User.username == username))
    try:
        if row is None or row.password_hash is None:
            # Spend the same time whether or not the user exists; a user who signs in
            # through single sign-on has no password here and is refused the same way.
            hash_password(password)
            raise VerificationError
        verify_password(row.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        sign_in_limits.record_failure(session, username, client)
        raise NotAuthenticated("wrong username or password") from exc
    if row.disabled:
        raise NotAuthenticated("this account is disabled")
    return User(row.username, Role(row.role))


def signing_key(settings: AuthSettings) -> str:
    """The signing secret, resolved when the settings were made (see ``Settings``)."""
    if settings.secret is None:
        raise RuntimeError("no signing secret: build AuthSettings through Settings()")
    return settings.secret


def change_password(
    session: Session, username: str, new_password: str, *, keep: str | None = None
) -> None:
    """Set a user's password; every sign-in of theirs but ``keep`` ends (personal access
    tokens stay: they are revoked one by one)."""
    check_password(new_password, username)
    row = session.scalar(select(tables.User).where(tables.User.username == username))
    if row is None:
        raise UnknownUser(f"no user {username!r}", field="username")
    row.password_hash = hash_password(new_password)
    end_sign_ins(session, row.id, "password", keep=keep)


def end_sign_ins(session: Session, user_id: int, reason: str, *, keep: str | None = None) -> None:
    """End a user's open sign-ins (but ``keep``): their tokens, cookies and streams stop."""
    s = tables.SignIn
    ended = session.scalars(
        update(s)
        .where(s.user_id == user_id, s.ended_at.is_(None), s.id != (keep or ""))
        .values(ended_at=func.now(), end_reason=reason)
        .returning(s.id)
    ).all()
    for sign_in in ended:
        notify(session, {"kind": "revoked", "credential": sign_in})


def units_column(user_id: Any) -> Any:
    """The codes of the units of the user whose id is ``user_id`` (a column), as one array
    column: read with the credential's own row, not in a statement of its own."""
    uu = tables.UserUnit
    return func.array(select(uu.unit).where(uu.user_id == user_id).scalar_subquery()).label("units")


def set_disabled(session: Session, username: str, disabled: bool) -> None:
    """Disable (or enable) a user: their sign-ins and personal tokens end, their streams close."""
    row = session.scalar(select(tables.User).where(tables.User.username == username))
    if row is None:
        raise UnknownUser(f"no user {username!r}", field="username")
    row.disabled = disabled
    if disabled:
        # Ended for good, not only refused while disabled: enabling again means a new log-in
        # and new personal tokens.
        end_sign_ins(session, row.id, "disabled")
        p = tables.PersonalToken
        session.execute(
            update(p)
            .where(p.user_id == row.id, p.revoked_at.is_(None))
            .values(revoked_at=func.now(), revoked_by="(user disabled)")
        )
        notify(session, {"kind": "user_disabled", "username": username})


def user_exists(session: Session, username: str) -> bool:
    found = session.scalar(
        select(tables.User.id).where(tables.User.username == username, ~tables.User.disabled)
    )
    return found is not None


def csrf_token(user: User, settings: AuthSettings) -> str:
    """The CSRF token of a page session: bound to its sign-in, so it lives as long as the
    sign-in does (across cookie renewals) and dies with it."""
    mac = hmac.new(
        signing_key(settings).encode(), f"csrf:{user.credential}".encode(), hashlib.sha256
    )
    return mac.hexdigest()[:40]


def csrf_ok(user: User, settings: AuthSettings, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(user, settings), given)


def notify(session: Session, payload: dict[str, str]) -> None:
    """Tell every server process's streams (a sign-in ended, a user disabled)."""
    # Delivered to listeners when (and only if) the transaction commits.
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": EVENTS_CHANNEL, "payload": json.dumps(payload)},
    )
