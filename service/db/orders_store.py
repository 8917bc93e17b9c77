"""Subjects, their orders and conditions, and the targets an observation is judged against."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import convert, tables, zones_store
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
    )
    try:
        with session.begin_nested():
            session.add(row)
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


def list_subjects(session: Session) -> list[model.Subject]:
    return [convert.subject(r) for r in session.scalars(select(tables.Subject).order_by("id"))]


def create_order(session: Session, order: model.Order, user: str | None = None) -> model.Order:
    """Store an order with its conditions; every named zone must exist."""
    get_subject(session, order.subject_id)
    zone_ids = sorted({z for c in order.conditions for z in c.zone_ids})
    versions = dict(
        session.execute(
            select(tables.Zone.id, tables.Zone.current_version).where(tables.Zone.id.in_(zone_ids))
        ).all()
    )
    for i, cond in enumerate(order.conditions):
        for j, z in enumerate(cond.zone_ids):
            if z not in versions:
                raise UnknownZone(f"no zone with id {z}", field=f"conditions[{i}].zone_ids[{j}]")
    row = tables.Order(
        subject_id=order.subject_id,
        reference=order.reference,
        type=order.type.value,
        court=order.court,
        starts=order.starts,
        ends=order.ends,
        status="active",
        created_by=user,
    )
    session.add(row)
    session.flush()
    conditions = []
    for position, cond in enumerate(order.conditions, start=1):
        crow = tables.Condition(
            order_id=row.id,
            position=position,
            text=cond.text,
            kind=cond.kind.value,
            buffer_m=cond.buffer_m,
        )
        session.add(crow)
        session.flush()
        unique_zones = tuple(dict.fromkeys(cond.zone_ids))
        session.add_all(
            tables.ConditionZone(condition_id=crow.id, zone_id=z, zone_version_at_link=versions[z])
            for z in unique_zones
        )
        conditions.append(convert.condition(crow, unique_zones))
    session.flush()
    return convert.order(row, tuple(conditions))


def get_order(session: Session, order_id: int) -> model.Order:
    row = session.get(tables.Order, order_id)
    if row is None:
        raise UnknownOrder(f"no order with id {order_id}", field="order_id")
    return _with_conditions(session, [row])[0]


def orders_of(session: Session, subject_id: int) -> list[model.Order]:
    rows = session.scalars(
        select(tables.Order).where(tables.Order.subject_id == subject_id).order_by(tables.Order.id)
    ).all()
    return _with_conditions(session, list(rows))


def list_orders(session: Session) -> list[model.Order]:
    rows = session.scalars(select(tables.Order).order_by(tables.Order.id)).all()
    return _with_conditions(session, list(rows))


def _with_conditions(session: Session, rows: list[tables.Order]) -> list[model.Order]:
    if not rows:
        return []
    crow = session.scalars(
        select(tables.Condition)
        .where(tables.Condition.order_id.in_([r.id for r in rows]))
        .order_by(tables.Condition.position)
    ).all()
    links: dict[int, list[int]] = defaultdict(list)
    for cid, zid in session.execute(
        select(tables.ConditionZone.condition_id, tables.ConditionZone.zone_id)
        .where(tables.ConditionZone.condition_id.in_([c.id for c in crow]))
        .order_by(tables.ConditionZone.zone_id)
    ):
        links[cid].append(zid)
    by_order: dict[int, list[model.Condition]] = defaultdict(list)
    for c in crow:
        by_order[c.order_id].append(convert.condition(c, tuple(links[c.id])))
    return [convert.order(r, tuple(by_order[r.id])) for r in rows]


def targets(
    session: Session, subject_id: int, first_day: date, last_day: date
) -> tuple[list[model.Target], list[model.Order]]:
    """Current zone versions of every condition of the subject's orders in force on any day
    between ``first_day`` and ``last_day``; the orders come along to check each day."""
    orders = [
        o
        for o in orders_of(session, subject_id)
        if o.starts <= last_day and (o.ends is None or o.ends >= first_day)
    ]
    zone_ids = sorted({z for o in orders for c in o.conditions for z in c.zone_ids})
    zones = {z.id: z for z in zones_store.current(session, ids=zone_ids)} if zone_ids else {}
    out = []
    for o in orders:
        for c in o.conditions:
            for zid in c.zone_ids:
                z = zones[zid]
                assert o.id is not None and c.id is not None
                out.append(model.Target(o.id, c.id, zid, z.version, z.geometry, c.buffer_m))
    return out, orders


def civil_day(instants: Sequence[datetime]) -> list[date]:
    """The civil date in Great Britain of each aware instant."""
    return [i.astimezone(CIVIL_TIME).date() for i in instants]


def assign_device(session: Session, identifier: str, subject_id: int | None) -> tables.Device:
    """Register a device, or move it to another subject."""
    if subject_id is not None:
        get_subject(session, subject_id)
    row = session.scalar(select(tables.Device).where(tables.Device.identifier == identifier))
    if row is None:
        row = tables.Device(identifier=identifier)
        session.add(row)
    row.subject_id = subject_id
    session.flush()
    return row


def device_subjects(session: Session, identifiers: list[str]) -> dict[str, int | None]:
    """The subject each known device is assigned to now."""
    rows = session.execute(
        select(tables.Device.identifier, tables.Device.subject_id).where(
            tables.Device.identifier.in_(identifiers)
        )
    ).all()
    return dict(rows)
