"""Users (for assigning alerts; disabling, for admins) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from service.api.deps import Admin, Handler, SessionDep
from service.api.schemas import AuditOut, ErrorResponse, Line, UserOut
from service.auth import set_disabled
from service.db import audit_store, tables
from zones.model import Role

router = APIRouter(tags=["users and audit"])
UserName = Annotated[Line, Path(min_length=1, max_length=80)]
ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(session: SessionDep, user: Handler) -> list[UserOut]:
    """Active users, by name: whom an alert can be assigned to."""
    rows = session.execute(
        select(tables.User.username, tables.User.role)
        .where(~tables.User.disabled)
        .order_by(tables.User.username)
    )
    return [UserOut(username=name, role=Role(role)) for name, role in rows]


@router.post("/users/{username}/disable", status_code=204, responses=ERRORS)
def disable_user(username: UserName, session: SessionDep, user: Admin) -> None:
    """Disable a user: their tokens stop working and their open alert streams end at once."""
    set_disabled(session, username, True)
    audit_store.record(session, user.username, "user.disable", "user", username)
    session.commit()


@router.post("/users/{username}/enable", status_code=204, responses=ERRORS)
def enable_user(username: UserName, session: SessionDep, user: Admin) -> None:
    """Enable a disabled user again (they sign in anew)."""
    set_disabled(session, username, False)
    audit_store.record(session, user.username, "user.enable", "user", username)
    session.commit()


@router.get("/audit", response_model=list[AuditOut], responses=ERRORS)
def audit_log(
    session: SessionDep,
    user: Admin,
    action: Annotated[Line | None, Query(max_length=60)] = None,
    username: Annotated[Line | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[AuditOut]:
    """The newest audit entries: who read or changed what, when and why."""
    return [
        AuditOut(**vars(e))
        for e in audit_store.entries(session, action=action, username=username, limit=limit)
    ]
