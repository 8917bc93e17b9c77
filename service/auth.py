"""Users, password hashing (argon2) and bearer tokens (JWT, HS256)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import tables
from service.settings import AuthSettings
from zones.errors import Conflict, ZonesError
from zones.model import Role

_hasher = PasswordHasher()


class NotAuthenticated(ZonesError):
    code = "not_authenticated"


class Forbidden(ZonesError):
    code = "forbidden"


@dataclass(frozen=True)
class User:
    username: str
    role: Role


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


def authenticate(session: Session, username: str, password: str) -> User:
    row = session.scalar(select(tables.User).where(tables.User.username == username))
    try:
        if row is None:
            _hasher.hash(password)  # spend the same time whether or not the user exists
            raise VerificationError
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise NotAuthenticated("wrong username or password") from exc
    return User(row.username, Role(row.role))


def issue_token(user: User, settings: AuthSettings) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "role": user.role.value,
        "iat": now,
        "exp": now + timedelta(minutes=settings.token_minutes),
    }
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def read_token(token: str, settings: AuthSettings) -> User:
    try:
        claims = jwt.decode(token, settings.secret, algorithms=["HS256"])
        return User(str(claims["sub"]), Role(claims["role"]))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise NotAuthenticated("invalid or expired token; log in again") from exc
