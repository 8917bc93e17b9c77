"""Who may see a page: the session cookie, checked against the database like any token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from service.api.deps import SessionDep, SettingsDep
from service.auth import NotAuthenticated, User, check_user, read_token
from zones.errors import Forbidden
from zones.model import Role


class LoginRequired(Exception):
    """A page was asked for without a valid session: the app sends the browser to log in."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def _next(request: Request) -> str:
    path = request.url.path
    return quote(path + (f"?{request.url.query}" if request.url.query else ""), safe="/")


def page_user(request: Request, settings: SettingsDep, session: SessionDep) -> User:
    token = request.cookies.get(settings.auth.cookie_name)
    if not token:
        raise LoginRequired(_next(request))
    try:
        return check_user(session, read_token(token, settings.auth))
    except NotAuthenticated as exc:
        raise LoginRequired(_next(request)) from exc


PageUser = Annotated[User, Depends(page_user)]


def page_for(*roles: Role) -> Callable[[User], User]:
    """Only users with one of ``roles`` (admins always) may open the page."""
    allowed = {*roles, Role.ADMIN}

    def check(user: PageUser) -> User:
        if user.role not in allowed:
            raise Forbidden(f"this page is not for the {user.role.value} role")
        return user

    return check


OfficerPage = Annotated[User, Depends(page_for(Role.OFFICER))]
CheckerPage = Annotated[User, Depends(page_for(Role.OFFICER, Role.CONTROL_ROOM, Role.SUPERVISOR))]
ViewerPage = Annotated[User, Depends(page_for(Role.OFFICER, Role.CONTROL_ROOM, Role.SUPERVISOR))]
