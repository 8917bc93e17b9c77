"""Reading stored observations back: a subject's track."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.orm import Session

from service.db import tables


@dataclass(frozen=True)
class StoredObservation:
    id: int
    lon: float
    lat: float
    observed_at: datetime
    accuracy_m: float | None
    kind: str
    late: bool
    breach: bool
    alert_ids: tuple[int, ...] = field(default=())


def _breach() -> Exists:
    return exists().where(
        tables.Verdict.observation_id == tables.Observation.id, tables.Verdict.status != "outside"
    )


def track(
    session: Session, subject_id: int, since: datetime, until: datetime, limit: int
) -> list[StoredObservation]:
    """The subject's observations from ``since`` to ``until`` in time order, each with whether
    it was a breach and the alerts it counted towards."""
    o = tables.Observation
    rows = session.execute(
        select(
            o.id, func.ST_X(o.geom), func.ST_Y(o.geom), o.observed_at, o.accuracy_m, o.kind,
            o.late, _breach(),
        )
        .where(o.subject_id == subject_id, o.observed_at >= since, o.observed_at <= until)
        .order_by(o.observed_at, o.id)
        .limit(limit)
    ).all()  # fmt: skip
    alerts: dict[int, set[int]] = defaultdict(set)
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 5000):
        for obs_id, alert_id in session.execute(
            select(tables.Verdict.observation_id, tables.Verdict.alert_id).where(
                tables.Verdict.observation_id.in_(ids[start : start + 5000]),
                tables.Verdict.alert_id.is_not(None),
            )
        ):
            if alert_id is not None:
                alerts[obs_id].add(alert_id)
    return [
        StoredObservation(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), tuple(sorted(alerts[r[0]]))
        )
        for r in rows
    ]
