"""Alert rows: the episodes of one subject, and the alert list supervisors filter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from service.db import convert, tables
from zones import model
from zones.errors import UnknownAlert


def episodes(
    session: Session, subject_id: int, since: datetime, until: datetime
) -> list[tables.Alert]:
    """The subject's alerts that are open or whose span comes near ``since``..``until``."""
    return list(
        session.scalars(
            select(tables.Alert)
            .where(tables.Alert.subject_id == subject_id)
            .where(
                or_(
                    tables.Alert.status == model.AlertStatus.OPEN.value,
                    (tables.Alert.first_at <= until)
                    & (func.coalesce(tables.Alert.closed_at, tables.Alert.last_at) >= since),
                )
            )
            .order_by(tables.Alert.first_at)
            .with_for_update()
        )
    )


@dataclass(frozen=True)
class AlertFilter:
    subject_id: int | None = None
    status: model.AlertStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    limit: int = 500


def _with_position() -> Select[tables.Alert, float, float]:
    return select(tables.Alert, func.ST_X(tables.Alert.geom), func.ST_Y(tables.Alert.geom))


def _filtered(f: AlertFilter) -> Select[tables.Alert, float, float]:
    q = _with_position()
    if f.subject_id is not None:
        q = q.where(tables.Alert.subject_id == f.subject_id)
    if f.status is not None:
        q = q.where(tables.Alert.status == f.status.value)
    if f.since is not None:
        q = q.where(func.coalesce(tables.Alert.closed_at, tables.Alert.last_at) >= f.since)
    if f.until is not None:
        q = q.where(tables.Alert.first_at <= f.until)
    if f.bbox is not None:
        q = q.where(func.ST_Intersects(tables.Alert.geom, func.ST_MakeEnvelope(*f.bbox, 4326)))
    return q.order_by(tables.Alert.first_at.desc(), tables.Alert.id.desc()).limit(f.limit)


def search(session: Session, f: AlertFilter) -> list[model.Alert]:
    """Alerts matching the filter, newest first."""
    return [convert.alert(row[0], row[1], row[2]) for row in session.execute(_filtered(f))]


@dataclass(frozen=True)
class Evidence:
    """One observation counted towards an alert, with the verdict it got."""

    observation_id: int
    kind: str
    observed_at: datetime
    received_at: datetime
    late: bool
    lon: float
    lat: float
    accuracy_m: float | None
    reporter: str | None
    device_id: str | None
    zone_version: int
    status: str
    distance_m: float
    evidence: str
    disc_fraction_inside: float | None


def evidence(session: Session, alert_id: int) -> list[Evidence]:
    """The observations behind an alert, by when they happened, each with its verdict."""
    get(session, alert_id)
    o, v = tables.Observation, tables.Verdict
    q = (
        select(
            o.id, o.kind, o.observed_at, o.received_at, o.late, func.ST_X(o.geom),
            func.ST_Y(o.geom), o.accuracy_m, o.reporter, o.device_id, v.zone_version, v.status,
            v.distance_m, v.evidence, v.disc_fraction_inside,
        )
        .join(v, v.observation_id == o.id)
        .where(v.alert_id == alert_id)
        .order_by(o.observed_at, o.id)
    )  # fmt: skip
    return [Evidence(*row) for row in session.execute(q)]


def get(session: Session, alert_id: int) -> model.Alert:
    """One alert."""
    found = session.execute(_with_position().where(tables.Alert.id == alert_id)).first()
    if found is None:
        raise UnknownAlert(f"no alert with id {alert_id}", field="alert_id")
    return convert.alert(found[0], found[1], found[2])
