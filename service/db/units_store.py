"""Units, memberships, and the unit each personal record belongs to (through its subject)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.auth import UnknownUser
from service.db import tables
from zones.errors import Conflict, NotFound, UnknownSubject, ZonesError


class UnknownUnit(NotFound):
    code = "unknown_unit"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    created_at: datetime
    members: tuple[str, ...] = ()


def unit_of(session: Session, kind: str, record_id: int) -> str | None:
    """The unit of the subject a record belongs to; None when there is no such record."""
    if not 1 <= record_id <= (BIGINT_MAX if kind == "alert_id" else INT_MAX):
        return None  # beyond the id column's type: no such record
    s = tables.Subject
    q: Select[str]
    if kind == "subject_id":
        q = select(s.unit).where(s.id == record_id)
    elif kind == "order_id":
        o = tables.Order
        q = select(s.unit).join(o, o.subject_id == s.id).where(o.id == record_id)
    elif kind == "alert_id":
        a = tables.Alert
        q = select(s.unit).join(a, a.subject_id == s.id).where(a.id == record_id)
    elif kind == "visit_id":
        v = tables.AuthorisedVisit
        q = select(s.unit).join(v, v.subject_id == s.id).where(v.id == record_id)
    else:
        raise ValueError(f"no unit rule for {kind!r}")
    return session.scalar(q)


def units_of_zone_users(session: Session, zone_id: int) -> set[str]:
    """The units whose subjects have orders (any version) using ``zone_id``."""
    s, o, c, cz = tables.Subject, tables.Order, tables.Condition, tables.ConditionZone
    q = (
        select(s.unit)
        .distinct()
        .join(o, o.subject_id == s.id)
        .join(c, c.order_id == o.id)
        .join(cz, cz.condition_id == c.id)
        .where(cz.zone_id == zone_id)
    )
    return set(session.scalars(q))


INT_MAX, BIGINT_MAX = 2**31 - 1, 2**63 - 1
CODE = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")


def add_unit(session: Session, code: str, name: str) -> Unit:
    if not CODE.fullmatch(code):
        raise ZonesError(
            f"unit code {code!r}: use up to 60 lower-case letters, digits, '.', '_' or '-'",
            field="code",
        )
    if not name.strip() or len(name) > 200:
        raise ZonesError("a unit needs a name of 1 to 200 characters", field="name")
    try:
        with session.begin_nested():
            row = tables.Unit(code=code, name=name)
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"unit {code!r} already exists", field="code") from exc
    return Unit(row.code, row.name, row.created_at)


def get_unit(session: Session, code: str) -> tables.Unit:
    row = session.get(tables.Unit, code)
    if row is None:
        raise UnknownUnit(f"no unit {code!r}", field="unit")
    return row


def list_units(session: Session) -> list[Unit]:
    members: dict[str, list[str]] = {}
    q = select(tables.UserUnit.unit, tables.User.username).join(
        tables.User, tables.User.id == tables.UserUnit.user_id
    )
    for unit, username in session.execute(q):
        members.setdefault(unit, []).append(username)
    return [
        Unit(r.code, r.name, r.created_at, tuple(sorted(members.get(r.code, []))))
        for r in session.scalars(select(tables.Unit).order_by(tables.Unit.code))
    ]


def memberships(session: Session) -> dict[str, list[str]]:
    """Each user's unit codes, sorted."""
    found: dict[str, list[str]] = {}
    q = (
        select(tables.User.username, tables.UserUnit.unit)
        .join(tables.User, tables.User.id == tables.UserUnit.user_id)
        .order_by(tables.UserUnit.unit)
    )
    for username, unit in session.execute(q):
        found.setdefault(username, []).append(unit)
    return found


def set_members(session: Session, username: str, units: list[str]) -> str:
    """Make ``username`` a member of exactly ``units``; returns their role."""
    user = session.scalar(select(tables.User).where(tables.User.username == username))
    if user is None:
        raise UnknownUser(f"no user {username!r}", field="username")
    for i, code in enumerate(units):
        if session.get(tables.Unit, code) is None:
            raise UnknownUnit(f"no unit {code!r}", field=f"units[{i}]")
    session.execute(delete(tables.UserUnit).where(tables.UserUnit.user_id == user.id))
    session.add_all(tables.UserUnit(user_id=user.id, unit=code) for code in sorted(set(units)))
    session.flush()
    return user.role


def move_subject(session: Session, subject_id: int, unit: str) -> str:
    """Move a subject to ``unit``; their orders, alerts and history follow (they hang off the
    subject). Returns the unit they came from."""
    get_unit(session, unit)
    row = session.get(tables.Subject, subject_id, with_for_update=True)
    if row is None:
        raise UnknownSubject(f"no subject with id {subject_id}", field="subject_id")
    before, row.unit = row.unit, unit
    session.flush()
    return before
