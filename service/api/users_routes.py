"""Users: whom alerts can be assigned to; disabling and enabling them (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select

from service.api.deps import SessionDep, UserLister, UserManager
from service.api.schemas import ErrorResponse, Line, MembershipIn, UnitIn, UnitOut, UserOut
from service.auth import set_disabled
from service.db import audit_store, tables, units_store
from zones.model import Role

router = APIRouter(tags=["users and audit"])
UserName = Annotated[Line, Path(min_length=1, max_length=80)]
ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(session: SessionDep, user: UserLister) -> list[UserOut]:
    """Active users, by name: whom an alert can be assigned to."""
    rows = session.execute(
        select(tables.User.username, tables.User.role)
        .where(~tables.User.disabled)
        .order_by(tables.User.username)
    )
    members = units_store.memberships(session)
    return [
        UserOut(username=name, role=Role(role), units=members.get(name, [])) for name, role in rows
    ]


@router.get("/units", response_model=list[UnitOut], responses=ERRORS)
def list_units(session: SessionDep, user: UserManager) -> list[UnitOut]:
    """The force's units, with their members."""
    return [
        UnitOut(**{**vars(u), "members": list(u.members)}) for u in units_store.list_units(session)
    ]


@router.post("/units", status_code=201, response_model=UnitOut, responses=ERRORS)
def add_unit(body: UnitIn, session: SessionDep, user: UserManager) -> UnitOut:
    """Add a unit (a public-protection team)."""
    unit = units_store.add_unit(session, body.code, body.name.strip())
    audit_store.record(session, user.username, "unit.create", "unit", body.code)
    session.commit()
    return UnitOut(code=unit.code, name=unit.name, created_at=unit.created_at, members=[])


@router.put("/users/{username}/units", response_model=UserOut, responses=ERRORS)
def set_units(
    username: UserName,
    body: MembershipIn,
    session: SessionDep,
    user: UserManager,
) -> UserOut:
    """Set the units a user belongs to (all of them: units left out are left)."""
    role = units_store.set_members(session, username, body.units)
    audit_store.record(
        session, user.username, "user.units", "user", username, detail={"units": body.units}
    )
    session.commit()
    return UserOut(username=username, role=Role(role), units=sorted(set(body.units)))


@router.post("/users/{username}/disable", status_code=204, responses=ERRORS)
def disable_user(username: UserName, session: SessionDep, user: UserManager) -> None:
    """Disable a user: their tokens stop working and their open alert streams end at once."""
    set_disabled(session, username, True)
    audit_store.record(session, user.username, "user.disable", "user", username)
    session.commit()


@router.post("/users/{username}/enable", status_code=204, responses=ERRORS)
def enable_user(username: UserName, session: SessionDep, user: UserManager) -> None:
    """Enable a disabled user again (they sign in anew)."""
    set_disabled(session, username, False)
    audit_store.record(session, user.username, "user.enable", "user", username)
    session.commit()
