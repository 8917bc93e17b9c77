"""Reading stored observations back, for maps and reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
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


def recent(session: Session, subject_id: int, limit: int = 500) -> list[StoredObservation]:
    """The subject's latest observations (by when they happened), each marked breach or not."""
    breach = exists().where(
        tables.Verdict.observation_id == tables.Observation.id, tables.Verdict.status != "outside"
    )
    q = (
        select(
            tables.Observation.id,
            func.ST_X(tables.Observation.geom),
            func.ST_Y(tables.Observation.geom),
            tables.Observation.observed_at,
            tables.Observation.accuracy_m,
            tables.Observation.kind,
            tables.Observation.late,
            breach,
        )
        .where(tables.Observation.subject_id == subject_id)
        .order_by(tables.Observation.observed_at.desc())
        .limit(limit)
    )
    return [StoredObservation(*row) for row in session.execute(q)]
