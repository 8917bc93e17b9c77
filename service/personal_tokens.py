"""Personal access tokens, for desktop GIS clients and scripts.

Named, scoped (``read``: safe methods only; ``full``: what the user's role may do), always
expiring, revocable. The token (``zpat_`` and 256 random bits) is shown once, when made,
and stored only as its SHA-256. It is sent as a bearer token; the prefix tells it from an
access token. It acts with its user's role as the database holds it now, and stops when it
is revoked, when it expires, or when its user is disabled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, func, select, update
from sqlalchemy.orm import Session

from service.auth import (
    NotAuthenticated,
    PrincipalKind,
    TokenScope,
    User,
    notify,
    units_column,
)
from service.db import tables
from zones.errors import NotFound, ZonesError
from zones.model import Role

PREFIX = "zpat_"


class UnknownToken(NotFound):
    code = "unknown_token"


class InvalidToken(ZonesError):
    code = "invalid_token"


@dataclass(frozen=True)
class PersonalToken:
    id: int
    username: str
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > datetime.now(UTC)


def is_personal(token: str) -> bool:
    return token.startswith(PREFIX)


def _tag(random_part: str, key: str) -> str:
    mac = hmac.new(key.encode(), f"pat:{random_part}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:12]).decode()


def well_signed(token: str, key: str) -> bool:
    """Whether ``token`` was made by this installation (its tag checks out), without the
    database: enough to tell a stranger's made-up token from a real one before reading a
    request's body (see :mod:`service.body_limit`); whether it is live is checked later."""
    random_part, dot, tag = token.removeprefix(PREFIX).rpartition(".")
    return bool(dot) and is_personal(token) and hmac.compare_digest(tag, _tag(random_part, key))


def credential(token_id: int) -> str:
    """How a request, an open stream and a revocation name this token."""
    return f"pat:{token_id}"


def create(
    session: Session,
    owner: User,
    name: str,
    scope: TokenScope,
    days: int,
    max_days: int,
    key: str,
) -> tuple[PersonalToken, str]:
    """A new token for ``owner``, and its secret value (shown this once, never again)."""
    if owner.kind is not PrincipalKind.SESSION:
        raise InvalidToken("a personal access token cannot make another: sign in", field="name")
    if not 1 <= days <= max_days:
        raise InvalidToken(
            f"a personal access token lives 1 to {max_days} days, not {days}",
            field="expires_in_days",
        )
    if not name.strip():
        raise InvalidToken("give the token a name (what it is for)", field="name")
    user_id = session.scalar(select(tables.User.id).where(tables.User.username == owner.username))
    if user_id is None:
        raise NotAuthenticated("this account no longer exists or is disabled")
    random_part = secrets.token_urlsafe(32)
    value = f"{PREFIX}{random_part}.{_tag(random_part, key)}"  # tagged: see well_signed
    row = tables.PersonalToken(
        user_id=user_id,
        name=name.strip(),
        scope=scope.value,
        token_hash=_hash(value),
        expires_at=datetime.now(UTC) + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return _get(session, row.id), value


def listed(session: Session, username: str | None) -> list[PersonalToken]:
    """The tokens of ``username`` (of everyone when None), newest first."""
    p, u = tables.PersonalToken, tables.User
    q = _select().order_by(p.id.desc())
    if username is not None:
        q = q.where(u.username == username)
    return [_token(row) for row in session.execute(q)]


def revoke(session: Session, token_id: int, by: User) -> PersonalToken:
    """Revoke a token: one's own, or (admins) anyone's. Requests and streams with it stop."""
    found = session.execute(_select().where(tables.PersonalToken.id == token_id)).first()
    if found is None or (found.username != by.username and by.role is not Role.ADMIN):
        # Another user's token is not there for you: not even that it exists.
        raise UnknownToken(f"no personal access token {token_id} of yours", field="token_id")
    p = tables.PersonalToken
    session.execute(
        update(p)
        .where(p.id == token_id, p.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_by=by.username)
    )
    notify(session, {"kind": "revoked", "credential": credential(token_id)})
    return _get(session, token_id)


def check(session: Session, value: str) -> User:
    """The user of a presented token, if it is live and its user active."""
    found = session.execute(
        _select(tables.User.disabled, units_column(tables.User.id)).where(
            tables.PersonalToken.token_hash == _hash(value)
        )
    ).first()
    if found is None:
        raise NotAuthenticated("invalid personal access token")
    return _live(session, found)


def recheck(session: Session, token_id: int) -> User:
    """As :func:`check`, by id: for a stream opened with the token."""
    found = session.execute(
        _select(tables.User.disabled, units_column(tables.User.id)).where(
            tables.PersonalToken.id == token_id
        )
    ).first()
    if found is None:
        raise NotAuthenticated("invalid personal access token")
    return _live(session, found)


def _live(session: Session, found: Row[Any]) -> User:
    token = _token(found)
    if found.disabled:
        raise NotAuthenticated("this account no longer exists or is disabled")
    if token.revoked_at is not None:
        raise NotAuthenticated("this personal access token was revoked")
    if token.expires_at <= datetime.now(UTC):
        raise NotAuthenticated("this personal access token has expired")
    role = Role(found.role)
    units = frozenset(found.units)
    return User(
        token.username, role, credential(token.id), PrincipalKind.PAT, token.scope, units=units
    )


def _select(*extra: Any) -> Select[Any]:
    p, u = tables.PersonalToken, tables.User
    return select(
        p.id, u.username, u.role, p.name, p.scope, p.created_at, p.expires_at, p.revoked_at,
        p.revoked_by, *extra,
    ).join(u, u.id == p.user_id)  # fmt: skip


def _get(session: Session, token_id: int) -> PersonalToken:
    return _token(session.execute(_select().where(tables.PersonalToken.id == token_id)).one())


def _token(r: Row[Any]) -> PersonalToken:
    return PersonalToken(
        r.id, r.username, r.name, TokenScope(r.scope), r.created_at, r.expires_at,
        r.revoked_at, r.revoked_by,
    )  # fmt: skip


def _hash(token: str) -> str:
    # A fast hash is right here: the token is 256 random bits, not a guessable password.
    return hashlib.sha256(token.encode()).hexdigest()
