"""Dependencies as named ``Annotated`` aliases: the session, the settings, the current user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from service.audit_mac import AuditKey
from service.auth import NotAuthenticated, User, check_user, csrf_ok, read_token
from service.db import audit_store
from service.settings import Settings
from service.sign_in_limits import client_address
from zones.errors import Forbidden, UnknownParameter
from zones.model import Role

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; handlers commit before answering, anything else rolls back.

    It writes the audit with the installation's key, as from the request's client address.
    """
    settings: Settings = request.app.state.settings
    with request.app.state.sessionmaker() as session:
        client = client_address(request, settings.auth.proxies)
        audit_store.bind(session, AuditKey.of(settings), client=client)
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def current_user(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> User:
    """The user of a bearer token, or of the pages' session cookie."""
    return user_of(request, settings, session, token)


def user_of(request: Request, settings: Settings, session: Session, token: str | None) -> User:
    """The user of a bearer token, or of the pages' session cookie, checked in the database.

    The cookie is sent by the browser on its own, so a change made with it must also carry
    the page's CSRF token in the ``X-CSRF-Token`` header; a bearer token needs none.
    """
    if token:
        return check_user(session, read_token(token, settings.auth))
    cookie = request.cookies.get(settings.auth.cookie_name)
    if not cookie:
        raise NotAuthenticated("a bearer token is required: POST /api/v1/auth/token")
    user = check_user(session, read_token(cookie, settings.auth))
    if request.method not in SAFE_METHODS and not csrf_ok(
        user, settings.auth, request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(f"a change made with the session cookie needs the {CSRF_HEADER} header")
    return user


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
Handler = Annotated[User, Depends(require(Role.CONTROL_ROOM, Role.SUPERVISOR))]
Admin = Annotated[User, Depends(require())]

_known_params: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    """Every query parameter a route takes, its own and its dependencies'."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def no_unknown_query(request: Request) -> None:
    """Refuse query parameters the route does not take (400), instead of ignoring them.

    A filter a client believes it applied but the server ignored (``?reference=`` on a list
    that does not filter by it) returns everyone: worse than an error.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _known_params.get(id(route))
    if known is None:
        known = _known_params[id(route)] = frozenset(_query_names(route.dependant))
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "no query parameters"
        raise UnknownParameter(
            f"unknown query parameter {unknown[0]!r} (this call takes: {takes})",
            field=unknown[0],
        )
