"""Trackers and who wore each one when (``device_assignments``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.db import orders_store, tables
from zones.devices import Assignment
from zones.errors import Conflict


def assign_device(
    session: Session, identifier: str, subject_id: int | None, at: datetime, by: str | None
) -> tables.Device:
    """Register a device, or move it to another subject (None: take it off) from ``at``.

    The wearer's period ends at ``at`` and the new one begins there: fixes before it still
    count for the previous wearer. A move may not begin before the current period did.
    """
    if subject_id is not None:
        orders_store.get_subject(session, subject_id)
    d = tables.Device
    # Two registrations of one new identifier at once: one inserts, the other finds it.
    session.execute(insert(d).values(identifier=identifier).on_conflict_do_nothing())
    row = session.scalars(select(d).where(d.identifier == identifier).with_for_update()).one()
    a = tables.DeviceAssignment
    last = session.scalars(
        select(a)
        .where(a.device_id == row.id)
        .order_by(a.assigned_from.desc().nulls_last(), a.id.desc())
        .limit(1)
    ).first()
    if last is not None and last.assigned_until is None and last.subject_id == subject_id:
        return row  # already worn by this subject
    if last is not None:
        since = last.assigned_until or last.assigned_from
        if since is not None and at <= since:
            raise Conflict(
                f"device {identifier!r} has an assignment from {since.isoformat()}: a change "
                "must begin after it",
                field="assigned_from",
            )
        if last.assigned_until is None:
            last.assigned_until = at
    if subject_id is not None:
        session.add(
            tables.DeviceAssignment(
                device_id=row.id, subject_id=subject_id, assigned_from=at, assigned_by=by
            )
        )
    row.subject_id = subject_id
    row.assigned_from, row.assigned_until = (at, None) if subject_id is not None else (None, at)
    session.flush()
    return row


def assignments(session: Session, identifiers: list[str]) -> dict[str, list[Assignment]]:
    """Every period each known device was worn, oldest first; a known device never worn
    has an empty list, an unknown one no entry."""
    d, a = tables.Device, tables.DeviceAssignment
    found: dict[str, list[Assignment]] = defaultdict(list)
    for start in range(0, len(identifiers), 5_000):
        rows = session.execute(
            select(d.identifier, a.subject_id, a.assigned_from, a.assigned_until)
            .outerjoin(a, a.device_id == d.id)
            .where(d.identifier.in_(identifiers[start : start + 5_000]))
            .order_by(d.identifier, a.assigned_from.asc().nulls_first(), a.id)
        )
        for identifier, subject_id, starts, ends in rows:
            periods = found[identifier]  # known, even with no period
            if subject_id is not None:
                periods.append(Assignment(subject_id, starts, ends))
    return dict(found)


def current_wearer(session: Session, identifier: str) -> int | None:
    """The subject wearing the device now; None for an unknown or unworn device."""
    d = tables.Device
    return session.scalar(select(d.subject_id).where(d.identifier == identifier))
