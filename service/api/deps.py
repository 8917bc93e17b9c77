"""Dependencies as named ``Annotated`` aliases: the session, the settings, the current user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from service.audit_mac import AuditKey
from service.auth import PrincipalKind, TokenScope, User, csrf_ok
from service.credentials import from_bearer
from service.db import audit_store, units_store
from service.session_cookie import user_of_cookie
from service.settings import Settings
from service.sign_in_limits import client_address
from zones.errors import (
    Forbidden,
    NotFound,
    UnknownAlert,
    UnknownOrder,
    UnknownParameter,
    UnknownSubject,
)
from zones.model import Role
from zones.permissions import DESCRIPTIONS, Action, Grant, grant

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
    the page's CSRF token in the ``X-CSRF-Token`` header; a bearer token needs none. A
    read-only personal access token may only read.
    """
    if token:
        user = from_bearer(session, token, settings.auth)
        if user.scope is TokenScope.READ and request.method not in SAFE_METHODS:
            raise Forbidden("this personal access token may only read (scope 'read')")
        return user
    user = user_of_cookie(request, session, settings.auth)
    if request.method not in SAFE_METHODS and not csrf_ok(
        user, settings.auth, request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(f"a change made with the session cookie needs the {CSRF_HEADER} header")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@dataclass(frozen=True)
class Access:
    """A signed-in user granted one action, and how far it reaches (see zones.permissions)."""

    user: User
    grant: Grant

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def units(self) -> frozenset[str] | None:
        """The units this action reaches; None for the whole force."""
        return self.grant.units

    def check(self, session: Session, kind: str, record_id: int) -> None:
        """Refuse a record beyond reach as if it did not exist (404, never 403)."""
        if self.grant.units is None:
            return
        unit = units_store.unit_of(session, kind, record_id)
        if unit is None or not self.grant.reaches(unit):
            noun = kind.removesuffix("_id")
            raise NOT_FOUND[kind](f"no {noun} with id {record_id}", field=kind)

    def reaches(self, unit: str | None) -> bool:
        return self.grant.reaches(unit)


# Path and query parameters that name a personal record: each is checked against the user's
# units before the handler runs, on every route, so that a new route cannot forget it.
NOT_FOUND: dict[str, type[NotFound]] = {
    "subject_id": UnknownSubject,
    "order_id": UnknownOrder,
    "alert_id": UnknownAlert,
    "visit_id": NotFound,
}


def allow(action: Action) -> Callable[..., Access]:
    """A dependency admitting the roles the permission table grants ``action``, and checking
    every record the path names against their units."""

    def check(request: Request, user: CurrentUser, session: SessionDep) -> Access:
        granted = grant(action, user.role, user.units)
        if granted is None:
            raise Forbidden(f"role {user.role.value!r} may not {DESCRIPTIONS[action]}")
        access = Access(user, granted)
        named = [*request.path_params.items(), *request.query_params.multi_items()]
        for name, value in named:
            # Larger than 2**63: not an id (the parameter's own check says so).
            if name in NOT_FOUND and value.isdigit() and int(value) < 2**63:
                access.check(session, name, int(value))
        return access

    check.action = action  # type: ignore[attr-defined]  # read by the permission tests
    return check


def signed_in(user: CurrentUser) -> User:
    """Only a person signed in (not a personal access token): for making tokens and the like."""
    if user.kind is not PrincipalKind.SESSION:
        raise Forbidden("a personal access token cannot do this: sign in with a password")
    return user


SignedIn = Annotated[User, Depends(signed_in)]


def _may(action: Action) -> Any:
    return Annotated[Access, Depends(allow(action))]


ZoneReader = _may(Action.ZONE_READ)
ZoneDrawer = _may(Action.ZONE_DRAW)
ZoneCreator = _may(Action.ZONE_CREATE)
ZoneEditor = _may(Action.ZONE_EDIT)
SubjectReader = _may(Action.SUBJECT_READ)
SubjectWriter = _may(Action.SUBJECT_WRITE)
SubjectMover = _may(Action.SUBJECT_MOVE)
PositionsReader = _may(Action.POSITIONS_READ)
SightingChecker = _may(Action.SIGHTING_CHECK)
FeedWriter = _may(Action.FEED_WRITE)
DeviceCredentialIssuer = _may(Action.DEVICE_CREDENTIALS)
GatewayManager = _may(Action.GATEWAY_MANAGE)
AlertReader = _may(Action.ALERT_READ)
AlertHandler = _may(Action.ALERT_HANDLE)
PlaceSearcher = _may(Action.PLACE_SEARCH)
HoldManager = _may(Action.HOLD_MANAGE)
AuditReader = _may(Action.AUDIT_READ)
UserLister = _may(Action.USER_LIST)
UserManager = _may(Action.USER_MANAGE)
WebhookManager = _may(Action.WEBHOOK_MANAGE)
Utility = _may(Action.UTILITY)

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
