"""Users, password hashing (argon2), bearer tokens (JWT, HS256), revocation and CSRF tokens.

A token is checked against the database on every use: a deleted or disabled user's token,
a token that was logged out, and the old role of a user whose role changed all stop working
at once, not when the token expires.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import sign_in_limits
from service.db import tables
from service.passwords import hash_password, verify_password
from service.settings import AuthSettings
from zones.errors import Conflict, Forbidden, ZonesError
from zones.model import Role

__all__ = ["Forbidden", "NotAuthenticated", "User"]

_hasher = PasswordHasher()
EVENTS_CHANNEL = "zones_events"  # also carries alert events (see the 0002 migration)


class NotAuthenticated(ZonesError):
    code = "not_authenticated"


class UnknownUser(ZonesError):
    code = "unknown_user"


@dataclass(frozen=True)
class User:
    """A signed-in user; ``jti`` names the token they signed in with."""

    username: str
    role: Role
    jti: str | None = None
    expires_at: datetime | None = None


def add_user(session: Session, username: str, password: str, role: Role) -> User:
    """Create a user with an argon2-hashed password."""
    if len(password) < 8:
        raise ZonesError("a password needs at least 8 characters", field="password")
    try:
        with session.begin_nested():
            session.add(
                tables.User(
                    username=username, password_hash=_hasher.hash(password), role=role.value
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
        if row is None:
            hash_password(password)  # spend the same time whether or not the user exists
            raise VerificationError
        verify_password(row.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        sign_in_limits.record_failure(session, username, client)
        raise NotAuthenticated("wrong username or password") from exc
    if row.disabled:
        raise NotAuthenticated("this account is disabled")
    return User(row.username, Role(row.role))


def _key(settings: AuthSettings) -> str:
    """The signing secret, resolved when the settings were made (see ``Settings``)."""
    if settings.secret is None:
        raise RuntimeError("no signing secret: build AuthSettings through Settings()")
    return settings.secret


def issue_token(user: User, settings: AuthSettings) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "role": user.role.value,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(minutes=settings.token_minutes),
    }
    return jwt.encode(claims, _key(settings), algorithm="HS256")


def read_token(token: str, settings: AuthSettings) -> User:
    """The claims of a well-signed, unexpired token (not yet checked against the database)."""
    try:
        claims = jwt.decode(
            token, _key(settings), algorithms=["HS256"], options={"require": ["exp", "jti"]}
        )
        return User(
            str(claims["sub"]),
            Role(claims["role"]),
            str(claims["jti"]),
            datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise NotAuthenticated("invalid or expired token; log in again") from exc


def check_user(session: Session, claimed: User) -> User:
    """The user as the database knows them now: refused if gone, disabled or logged out."""
    row = session.execute(
        select(tables.User.role, tables.User.disabled).where(
            tables.User.username == claimed.username
        )
    ).first()
    if row is None or row.disabled:
        raise NotAuthenticated("this account no longer exists or is disabled")
    if claimed.jti is not None and session.get(tables.RevokedToken, claimed.jti) is not None:
        raise NotAuthenticated("this session was logged out; log in again")
    return User(claimed.username, Role(row.role), claimed.jti, claimed.expires_at)


def revoke(session: Session, user: User) -> None:
    """End the token ``user`` signed in with (log-out); open event streams on it close."""
    if user.jti is None:
        return
    expires = user.expires_at or datetime.now(UTC) + timedelta(days=7)
    session.merge(tables.RevokedToken(jti=user.jti, username=user.username, expires_at=expires))
    _notify(session, {"kind": "revoked", "jti": user.jti})


def set_disabled(session: Session, username: str, disabled: bool) -> None:
    """Disable (or enable) a user; their tokens stop working and their streams close."""
    row = session.scalar(select(tables.User).where(tables.User.username == username))
    if row is None:
        raise UnknownUser(f"no user {username!r}", field="username")
    row.disabled = disabled
    if disabled:
        _notify(session, {"kind": "user_disabled", "username": username})


def user_exists(session: Session, username: str) -> bool:
    found = session.scalar(
        select(tables.User.id).where(tables.User.username == username, ~tables.User.disabled)
    )
    return found is not None


def csrf_token(user: User, settings: AuthSettings) -> str:
    """The CSRF token of a cookie session: bound to its token id, so it dies with it."""
    mac = hmac.new(_key(settings).encode(), f"csrf:{user.jti}".encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def csrf_ok(user: User, settings: AuthSettings, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(user, settings), given)


def _notify(session: Session, payload: dict[str, str]) -> None:
    # Delivered to listeners when (and only if) the transaction commits.
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": EVENTS_CHANNEL, "payload": json.dumps(payload)},
    )
