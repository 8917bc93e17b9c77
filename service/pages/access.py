"""Who may see a page: the session cookie, checked against the database like any token
(and renewed while the pages are in use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from service.api.deps import NOT_FOUND, Access, SessionDep, SettingsDep
from service.auth import NotAuthenticated, User
from service.session_cookie import user_of_cookie
from zones.errors import Forbidden
from zones.permissions import Action, grant


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


def page_for(action: Action) -> Callable[..., Access]:
    """Only users whose role the permission table grants ``action`` may open the page; a
    subject or order the path names must be within their reach (else: not found)."""

    def check(request: Request, user: PageUser, session: SessionDep) -> Access:
        granted = grant(action, user.role, user.units)
        if granted is None:
            raise Forbidden(f"this page is not for the {user.role.value} role")
        access = Access(user, granted)
        for name, value in request.path_params.items():
            if name in NOT_FOUND and value.isdigit() and int(value) < 2**63:
                access.check(session, name, int(value))
        return access

    check.action = action  # type: ignore[attr-defined]
    return check


OfficerPage = Annotated[Access, Depends(page_for(Action.SUBJECT_WRITE))]
CheckerPage = Annotated[Access, Depends(page_for(Action.SIGHTING_CHECK))]
ViewerPage = Annotated[Access, Depends(page_for(Action.ALERT_READ))]
TrackPage = Annotated[Access, Depends(page_for(Action.POSITIONS_READ))]
