"""Subjects, their orders (as versions) and conditions, and the targets judging needs."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import alert_events, convert, like, plain, tables
from service.db.arrays import among
from zones import model
from zones.errors import Conflict, UnknownOrder, UnknownSubject, UnknownZone

CIVIL_TIME = ZoneInfo("Europe/London")  # order dates are civil dates where the court sits


def create_subject(session: Session, subject: model.Subject) -> model.Subject:
    row = tables.Subject(
        reference=subject.reference,
        name=subject.name,
        risk_level=subject.risk_level,
        officer=subject.officer,
        unit=subject.unit,
        photo_ref=subject.photo_ref,
        travel_mode=subject.travel_mode.value,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise Conflict(
            f"a subject with reference {subject.reference!r} already exists", field="reference"
        ) from exc
    return convert.subject(row)


def update_subject(session: Session, subject: model.Subject) -> model.Subject:
    """Change a subject's details (their reference too, if it stays unique)."""
    row = session.get(tables.Subject, subject.id, with_for_update=True)
    if row is None:
        raise UnknownSubject(f"no subject with id {subject.id}", field="subject_id")
    try:
        with session.begin_nested():
            row.reference, row.name = subject.reference, subject.name
            row.risk_level, row.officer = subject.risk_level, subject.officer
            if subject.unit is not None:
                row.unit = subject.unit
            row.photo_ref = subject.photo_ref
            row.travel_mode = subject.travel_mode.value
            row.updated_at = datetime.now(UTC)
    except IntegrityError as exc:
        raise Conflict(
            f"a subject with reference {subject.reference!r} already exists", field="reference"
        ) from exc
    return convert.subject(row)


def get_subject(session: Session, subject_id: int, *, lock: bool = False) -> model.Subject:
    row = session.get(tables.Subject, subject_id, with_for_update=lock)
    if row is None:
        raise UnknownSubject(f"no subject with id {subject_id}", field="subject_id")
    return convert.subject(row)


def subject_order(q: str | None) -> str:
    """The name of the subject list's order: by id, or by how well ``q`` matches (so a
    cursor made for one ``q`` is refused for another)."""
    if not q:
        return "subjects:id"
    return "subjects:match:" + hashlib.sha256(q.lower().encode()).hexdigest()[:16]


def list_subjects(
    session: Session,
    q: str | None = None,
    limit: int | None = None,
    units: frozenset[str] | None = None,
    after: tuple[Any, ...] | None = None,
) -> list[tuple[model.Subject, tuple[Any, ...]]]:
    """Subjects, all or those whose reference or name contains ``q`` (any case), of
    ``units`` only when given, each with its sort key; after the key ``after`` if given.

    Exact reference matches come first, then references and names that start with ``q``;
    the id breaks any tie, so the order is total and pages neither skip nor repeat.
    """
    s = tables.Subject
    if q:
        key: tuple[Any, ...] = (
            (func.lower(s.reference) != q.lower()),
            ~(func.lower(s.reference).startswith(q.lower(), autoescape=True)),
            ~(func.lower(s.name).startswith(q.lower(), autoescape=True)),
            s.reference,
            s.id,
        )
    else:
        key = (s.id,)
    query = select(s, *key)
    if units is not None:
        query = query.where(s.unit.in_(units))
    if q:
        pattern = like.contains(q)
        query = query.where(
            or_(
                s.reference.ilike(pattern, escape=like.ESCAPE),
                s.name.ilike(pattern, escape=like.ESCAPE),
            )
        )
    if after is not None:
        query = query.where(tuple_(*key) > tuple_(*after))
    query = query.order_by(*key)
    if limit is not None:
        query = query.limit(limit)
    return [(convert.subject(row[0]), tuple(row[1:])) for row in session.execute(query)]


def _check_zones(session: Session, conditions: Sequence[model.Condition]) -> dict[int, int]:
    """The current version of every zone the conditions name; unknown zones are refused."""
    zone_ids = sorted({z for c in conditions for z in c.zone_ids})
    versions = dict(
        session.execute(
            select(tables.Zone.id, tables.Zone.current_version).where(tables.Zone.id.in_(zone_ids))
        ).all()
    )
    for i, cond in enumerate(conditions):
        for j, z in enumerate(cond.zone_ids):
            if z not in versions:
                raise UnknownZone(f"no zone with id {z}", field=f"conditions[{i}].zone_ids[{j}]")
    return versions


def create_order(
    session: Session, order: model.Order, user: str | None = None, reason: str | None = None
) -> model.Order:
    """Store an order at version 1 with its conditions; every named zone must exist."""
    get_subject(session, order.subject_id)
    row = tables.Order(subject_id=order.subject_id, current_version=1)
    session.add(row)
    session.flush()
    return _add_version(session, row, order, user, reason or "order recorded")


def edit_order(
    session: Session, order_id: int, draft: model.Order, user: str, reason: str
) -> model.Order:
    """Store an edit as a new version; the earlier version and its clauses stay as they were.

    A condition of the draft whose ``clause_id`` names a clause of this order is a new
    wording of that clause (a stay inside one of its zones goes on); one without is a new
    clause. Stays in clauses or zones that the new version drops end now.
    """
    row = session.get(tables.Order, order_id, with_for_update=True)
    if row is None:
        raise UnknownOrder(f"no order with id {order_id}", field="order_id")
    if draft.subject_id != row.subject_id:
        raise Conflict("an order stays with its subject; record a new order", field="subject_id")
    known = set(
        session.scalars(
            select(tables.Condition.clause_id).where(tables.Condition.order_id == row.id)
        )
    )
    for i, c in enumerate(draft.conditions):
        if c.clause_id is not None and c.clause_id not in known:
            raise UnknownOrder(
                f"clause {c.clause_id} is not a clause of order {order_id}",
                field=f"conditions[{i}].clause_id",
            )
    old = _current_version(session, row)
    old.superseded_at = func.clock_timestamp()
    row.current_version += 1
    new = _add_version(session, row, draft, user, reason)
    kept = {(c.clause_id, z) for c in new.conditions for z in c.zone_ids}
    _end_dropped_stays(session, row.id, kept)
    return new


def _end_dropped_stays(session: Session, order_id: int, kept: set[tuple[int | None, int]]) -> None:
    now = datetime.now(UTC)
    for alert in session.scalars(
        select(tables.Alert)
        .where(tables.Alert.order_id == order_id, tables.Alert.status == "open")
        .where(tables.Alert.kind == model.AlertKind.ZONE.value)  # the worker ends silences
        .with_for_update()
    ):
        if (alert.clause_id, alert.zone_id) not in kept:
            alert.status, alert.closed_at, alert.updated_at = "closed", now, now
            alert.closed_by = "window_closed"  # the clause no longer applies to the zone
            alert_events.announce(session, alert.id, "closed")


def _add_version(
    session: Session,
    row: tables.Order,
    order: model.Order,
    user: str | None,
    reason: str,
) -> model.Order:
    versions = _check_zones(session, order.conditions)
    vrow = tables.OrderVersion(
        order_id=row.id,
        version=row.current_version,
        reference=order.reference,
        type=order.type.value,
        court=order.court,
        starts=order.starts,
        ends=order.ends,
        status=order.status.value,
        reason=reason,
        created_by=user,
        created_at=func.clock_timestamp(),  # recorded: the statement's time
        # A first version holds from the beginning; a later one from when it was made,
        # unless it says otherwise (a correction effective from an earlier date).
        effective_from=order.effective_from
        if order.effective_from is not None or row.current_version == 1
        else func.clock_timestamp(),
    )
    session.add(vrow)
    session.flush()
    conditions = []
    for position, cond in enumerate(order.conditions, start=1):
        crow = tables.Condition(
            order_id=row.id,
            order_version_id=vrow.id,
            clause_id=cond.clause_id or 0,
            position=position,
            text=cond.text,
            kind=cond.kind.value,
            buffer_m=cond.buffer_m,
            warning_m=cond.warning_m,
            schedule=None if cond.schedule is None else cond.schedule.to_json(),
            confirm_fixes=cond.rules.confirm_fixes,
            confirm_seconds=int(cond.rules.confirm_seconds),
            clear_fixes=cond.rules.clear_fixes,
            clear_seconds=int(cond.rules.clear_seconds),
            tag_required=cond.tag_required,
            silence_minutes=cond.silence_minutes,
        )
        session.add(crow)
        session.flush()
        if not cond.clause_id:
            crow.clause_id = crow.id  # a new clause is named by its first wording
        unique_zones = tuple(dict.fromkeys(cond.zone_ids))
        session.add_all(
            tables.ConditionZone(condition_id=crow.id, zone_id=z, zone_version_at_link=versions[z])
            for z in unique_zones
        )
        conditions.append(convert.condition(crow, unique_zones))
    session.flush()
    return convert.order(row, vrow, tuple(conditions))


def _current_version(session: Session, row: tables.Order) -> tables.OrderVersion:
    found = session.scalar(
        select(tables.OrderVersion).where(
            tables.OrderVersion.order_id == row.id,
            tables.OrderVersion.version == row.current_version,
        )
    )
    assert found is not None, f"order {row.id} has no version {row.current_version}"
    return found


def _current() -> Select[tables.Order, tables.OrderVersion]:
    o, v = tables.Order, tables.OrderVersion
    return (
        select(o, v).join(v, (v.order_id == o.id) & (v.version == o.current_version)).order_by(o.id)
    )


def get_order(session: Session, order_id: int, version: int | None = None) -> model.Order:
    """An order at its current version, or at ``version``."""
    o, v = tables.Order, tables.OrderVersion
    if version is None:
        found = session.execute(_current().where(o.id == order_id)).first()
    else:
        found = session.execute(
            select(o, v).join(v, v.order_id == o.id).where(o.id == order_id, v.version == version)
        ).first()
    if found is None:
        what = f"order {order_id} has no version {version}" if version else f"no order {order_id}"
        raise UnknownOrder(what, field="version" if version else "order_id")
    return with_conditions(session, [(found[0], found[1])])[0]


def order_versions(session: Session, order_id: int) -> list[model.Order]:
    """Every version of an order, oldest first."""
    o, v = tables.Order, tables.OrderVersion
    rows = session.execute(
        select(o, v).join(v, v.order_id == o.id).where(o.id == order_id).order_by(v.version)
    ).all()
    if not rows:
        raise UnknownOrder(f"no order with id {order_id}", field="order_id")
    return with_conditions(session, [(r[0], r[1]) for r in rows])


def orders_of(session: Session, subject_id: int) -> list[model.Order]:
    rows = session.execute(_current().where(tables.Order.subject_id == subject_id)).all()
    return with_conditions(session, [(r[0], r[1]) for r in rows])


def order_counts(
    session: Session, subject_ids: Sequence[int], today: date
) -> dict[int, tuple[int, int]]:
    """How many orders each of ``subject_ids`` has (current versions), and how many of them
    are in force on ``today`` (as ``model.Order.in_force_on`` decides); subjects without
    orders are left out."""
    if not subject_ids:
        return {}
    o, v = tables.Order, tables.OrderVersion
    in_force = (
        (v.status == model.OrderStatus.ACTIVE.value)
        & (v.starts <= today)
        & (v.ends.is_(None) | (v.ends >= today))
    )
    rows = session.execute(
        select(o.subject_id, func.count(), func.count().filter(in_force))
        .join(v, (v.order_id == o.id) & (v.version == o.current_version))
        .where(o.subject_id.in_(subject_ids))
        .group_by(o.subject_id)
    ).all()
    return {subject_id: (total, live) for subject_id, total, live in rows}


def list_orders(
    session: Session,
    units: frozenset[str] | None = None,
    *,
    limit: int | None = None,
    after: int | None = None,
) -> list[model.Order]:
    """Every order at its current version, by id; of the subjects of ``units`` only when
    given; at most ``limit``, those with ids above ``after`` when given."""
    query = _current()
    if after is not None:
        query = query.where(tables.Order.id > after)
    if limit is not None:
        query = query.limit(limit)
    if units is not None:
        query = query.where(
            tables.Order.subject_id.in_(
                select(tables.Subject.id).where(tables.Subject.unit.in_(units))
            )
        )
    return with_conditions(session, [(r[0], r[1]) for r in session.execute(query).all()])


def with_conditions(session: Session, rows: Sequence[tuple[Any, Any]]) -> list[model.Order]:
    """Orders from ``(order, order version)`` rows (ORM objects or plain rows with their
    columns), with their conditions."""
    if not rows:
        return []
    crow = plain.rows(  # a batch of fixes reads thousands of conditions
        session,
        select(*tables.Condition.__table__.c)
        .where(among(tables.Condition.order_version_id, [v.id for _, v in rows]))
        .order_by(tables.Condition.position),
    )
    links: dict[int, list[int]] = defaultdict(list)
    for cid, zid in plain.rows(
        session,
        select(tables.ConditionZone.condition_id, tables.ConditionZone.zone_id)
        .where(among(tables.ConditionZone.condition_id, [c.id for c in crow]))
        .order_by(tables.ConditionZone.zone_id),
    ):
        links[cid].append(zid)
    by_version: dict[int, list[model.Condition]] = defaultdict(list)
    for c in crow:
        by_version[c.order_version_id].append(convert.condition(c, tuple(links[c.id])))
    return [convert.order(r, v, tuple(by_version[v.id])) for r, v in rows]


def orders_using_zone(
    session: Session, zone_id: int, units: frozenset[str] | None = None
) -> list[tuple[model.Order, model.Subject]]:
    """The orders (current versions) whose conditions name ``zone_id``, with their subjects;
    of the subjects of ``units`` only when given."""
    o, v, c, cz = tables.Order, tables.OrderVersion, tables.Condition, tables.ConditionZone
    query = (
        select(o.id)
        .distinct()
        .join(v, (v.order_id == o.id) & (v.version == o.current_version))
        .join(c, c.order_version_id == v.id)
        .join(cz, cz.condition_id == c.id)
        .where(cz.zone_id == zone_id)
    )
    if units is not None:
        query = query.join(tables.Subject, tables.Subject.id == o.subject_id).where(
            tables.Subject.unit.in_(units)
        )
    ids = session.scalars(query).all()
    rows = session.execute(_current().where(o.id.in_(ids))).all() if ids else []
    orders = with_conditions(session, [(r[0], r[1]) for r in rows])
    return [(order, get_subject(session, order.subject_id)) for order in orders]


def civil_day(instants: Sequence[datetime]) -> list[date]:
    """The civil date in Great Britain of each aware instant."""
    return [i.astimezone(CIVIL_TIME).date() for i in instants]
