"""Dependencies as named ``Annotated`` aliases: the session, the settings, the current user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from service.auth import Forbidden, NotAuthenticated, User, read_token
from service.settings import Settings
from zones.model import Role

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; handlers commit before answering, anything else rolls back."""
    with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def current_user(settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]) -> User:
    if not token:
        raise NotAuthenticated("a bearer token is required: POST /api/v1/auth/token")
    return read_token(token, settings.auth)


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: Role) -> Callable[[User], User]:
    """A dependency admitting only users with one of ``roles`` (admins always)."""
    allowed = {*roles, Role.ADMIN}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"role {user.role.value!r} may not do this (needs one of: {names})")
        return user

    return check


Editor = Annotated[User, Depends(require(Role.OFFICER))]
Checker = Annotated[User, Depends(require(Role.OFFICER, Role.CONTROL_ROOM, Role.SUPERVISOR))]
Feeder = Annotated[User, Depends(require(Role.OFFICER, Role.CONTROL_ROOM))]
Viewer = Annotated[User, Depends(require(Role.OFFICER, Role.CONTROL_ROOM, Role.SUPERVISOR))]
