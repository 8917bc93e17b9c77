"""Sign-ins: short access tokens, rotating refresh tokens, and the pages' sliding cookie.

A log-in starts a *sign-in*: a row with an absolute end (``ZONES_AUTH_SESSION_HOURS``, a
shift). Every token it hands out names it, and every request checks the row, so ending it
(log-out, the user disabled, a refresh token used twice) stops all of them at once.

- API clients get an access token (a JWT, HS256, ``ZONES_AUTH_ACCESS_MINUTES``) and a
  refresh token (random, ``zrt_...``, stored as its SHA-256). A refresh spends the refresh
  token and answers a new pair. A spent refresh token presented again means two parties
  hold it, one of them a thief: the whole sign-in ends (reuse detection, as in RFC 9700).
- Pages get the same kind of access token in a cookie, valid for ``ZONES_AUTH_IDLE_MINUTES``
  and re-issued on any request once it is a few minutes old: a page in use stays signed in
  until the sign-in's end; one left alone ends when the cookie does.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from service.auth import (
    NotAuthenticated,
    PrincipalKind,
    User,
    notify,
    signing_key,
    units_column,
)
from service.db import tables
from service.settings import AuthSettings
from zones.model import Role

REFRESH_PREFIX = "zrt_"
RENEW_AFTER = timedelta(minutes=5)
KEEP_ENDED = timedelta(days=1)  # ended sign-ins are kept this long (their end is explained)
ENDED = {
    "logout": "this session was logged out; log in again",
    "disabled": "this account is disabled",
    "password": "the password was changed; log in again",
    "reuse": "a refresh token of this sign-in was used twice, so it was ended to be safe; "
    "log in again",
}


@dataclass(frozen=True)
class Access:
    """What a well-signed, unexpired access token (or page cookie) says."""

    username: str
    sign_in: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Tokens:
    """What a log-in or a refresh answers an API client."""

    access_token: str
    expires_in: int
    refresh_token: str


def start(session: Session, user: User, kind: str, settings: AuthSettings) -> tuple[str, datetime]:
    """Begin a sign-in (``api`` or ``page``) for ``user``; its id and absolute end."""
    user_id = session.scalar(select(tables.User.id).where(tables.User.username == user.username))
    if user_id is None:
        raise NotAuthenticated("this account no longer exists or is disabled")
    s = tables.SignIn
    # The user's sign-ins that ended a while ago go: the table holds what is live.
    session.execute(
        delete(s).where(
            s.user_id == user_id,
            func.coalesce(s.ended_at, s.ends_at) < func.now() - KEEP_ENDED,
        )
    )
    sign_in = secrets.token_hex(16)
    ends_at = datetime.now(UTC) + timedelta(hours=settings.session_hours)
    session.add(s(id=sign_in, user_id=user_id, kind=kind, ends_at=ends_at))
    session.flush()
    return sign_in, ends_at


def sign_in_api(session: Session, user: User, settings: AuthSettings) -> Tokens:
    """A new API sign-in: an access token and a refresh token."""
    sign_in, ends_at = start(session, user, "api", settings)
    return _pair(session, user.username, sign_in, ends_at, settings)


def sign_in_page(session: Session, user: User, settings: AuthSettings) -> str:
    """A new page sign-in: the session cookie's value."""
    sign_in, ends_at = start(session, user, "page", settings)
    return cookie_token(user.username, sign_in, ends_at, settings)


def access_token(
    username: str, sign_in: str, lifetime: timedelta, ends_at: datetime, settings: AuthSettings
) -> str:
    """A signed access token of ``sign_in``, never outliving it."""
    now = datetime.now(UTC)
    claims = {
        "sub": username,
        "sid": sign_in,
        "jti": secrets.token_hex(8),
        "iat": now,
        "exp": min(now + lifetime, ends_at),
    }
    return jwt.encode(claims, signing_key(settings), algorithm="HS256")


def cookie_token(username: str, sign_in: str, ends_at: datetime, settings: AuthSettings) -> str:
    return access_token(
        username, sign_in, timedelta(minutes=settings.idle_minutes), ends_at, settings
    )


def renewal_due(access: Access, settings: AuthSettings) -> bool:
    """Whether a page cookie is old enough to be re-issued (sliding expiry)."""
    after = min(RENEW_AFTER, timedelta(minutes=settings.idle_minutes) / 3)
    return datetime.now(UTC) - access.issued_at >= after


def read(token: str, settings: AuthSettings) -> Access:
    """The claims of a well-signed, unexpired access token (not yet checked in the database)."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=["HS256"],
            options={"require": ["exp", "iat", "sid", "sub"]},
        )
        return Access(
            str(claims["sub"]),
            str(claims["sid"]),
            datetime.fromtimestamp(int(claims["iat"]), UTC),
            datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError) as exc:
        raise NotAuthenticated("invalid or expired token; log in again") from exc


_LIVE = (  # built once: it runs on every request
    select(
        tables.User.username, tables.User.role, tables.User.disabled, tables.SignIn.ends_at,
        tables.SignIn.ended_at, tables.SignIn.end_reason, units_column(tables.User.id),
    )
    .join(tables.User, tables.User.id == tables.SignIn.user_id)
    .where(tables.SignIn.id == bindparam("sign_in"))
)  # fmt: skip


def check(session: Session, sign_in: str, username: str) -> tuple[User, datetime]:
    """The user of a live sign-in as the database knows them now, and the sign-in's end."""
    row = session.execute(_LIVE, {"sign_in": sign_in}).first()
    if row is None or row.username != username:
        raise NotAuthenticated("invalid or expired token; log in again")
    if row.disabled:
        raise NotAuthenticated("this account no longer exists or is disabled")
    if row.ended_at is not None:
        raise NotAuthenticated(ENDED.get(row.end_reason or "", ENDED["logout"]))
    if row.ends_at <= datetime.now(UTC):
        raise NotAuthenticated("this sign-in has reached its end; log in again")
    user = User(
        row.username,
        Role(row.role),
        sign_in,
        PrincipalKind.SESSION,
        units=frozenset(row.units),
    )
    return user, row.ends_at


def end(session: Session, sign_in: str, reason: str = "logout") -> None:
    """End a sign-in: its access tokens, refresh tokens, cookie and streams stop now."""
    s = tables.SignIn
    session.execute(
        update(s)
        .where(s.id == sign_in, s.ended_at.is_(None))
        .values(ended_at=func.now(), end_reason=reason)
    )
    notify(session, {"kind": "revoked", "credential": sign_in})


def refresh(session: Session, refresh_token: str, settings: AuthSettings) -> Tokens:
    """Spend a refresh token for a new pair. A spent one used again ends its sign-in."""
    r = tables.RefreshToken
    found = session.execute(
        select(r.id, r.sign_in_id, r.spent_at)
        .where(r.token_hash == _hash(refresh_token))
        .with_for_update()  # two refreshes with one token: the second sees it spent
    ).first()
    if found is None:
        raise NotAuthenticated("invalid refresh token; log in again", field="refresh_token")
    username = session.scalar(
        select(tables.User.username)
        .join(tables.SignIn, tables.SignIn.user_id == tables.User.id)
        .where(tables.SignIn.id == found.sign_in_id)
    )
    user, ends_at = check(session, found.sign_in_id, username or "")
    if found.spent_at is not None:
        end(session, found.sign_in_id, "reuse")
        session.commit()  # the request fails, the sign-in stays ended
        raise NotAuthenticated(ENDED["reuse"], field="refresh_token")
    session.execute(update(r).where(r.id == found.id).values(spent_at=func.now()))
    return _pair(session, user.username, found.sign_in_id, ends_at, settings)


def _pair(
    session: Session, username: str, sign_in: str, ends_at: datetime, settings: AuthSettings
) -> Tokens:
    refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    session.add(tables.RefreshToken(sign_in_id=sign_in, token_hash=_hash(refresh_token)))
    lifetime = timedelta(minutes=settings.access_minutes)
    token = access_token(username, sign_in, lifetime, ends_at, settings)
    expires_in = min(lifetime, ends_at - datetime.now(UTC))
    return Tokens(token, max(0, int(expires_in.total_seconds())), refresh_token)


def _hash(token: str) -> str:
    # A fast hash is right here: the token is 256 random bits, not a guessable password.
    return hashlib.sha256(token.encode()).hexdigest()
