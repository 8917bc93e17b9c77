"""Who may see a page: the session cookie, checked against the database like any token
(and renewed while the pages are in use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from service.api.deps import SessionDep, SettingsDep
from service.auth import NotAuthenticated, User
from service.session_cookie import user_of_cookie
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
    try:
        return user_of_cookie(request, session, settings.auth)  # renewed when due
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
