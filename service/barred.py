"""Starting from a place: which subjects are barred from it at a time, and by what.

The control room hears "a man from the register is by the swings on Jesus Green" before it
knows who. PostGIS narrows the zones of orders in force to those near the place (with a
margin), then the domain judges the place against each candidate subject's conditions
exactly as a sighting would be judged, so both answers always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import judging, stays_sync
from service.db import orders_store, tables
from zones import model

# Geography distances in PostGIS and ours differ by far less than this; it only widens the
# candidate set, never the answer.
MARGIN_M = 100.0
MARGIN_SHARE = 0.01


@dataclass(frozen=True)
class Barred:
    subject: model.Subject
    verdict: model.Verdict


def candidates(session: Session, lon: float, lat: float, day: object) -> list[int]:
    """Subjects with an order in force on ``day`` whose zones (plus buffer) come near."""
    o, v, c = tables.Order, tables.OrderVersion, tables.Condition
    cz, z, zv = tables.ConditionZone, tables.Zone, tables.ZoneVersion
    here = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    reach = c.buffer_m * (1 + MARGIN_SHARE) + MARGIN_M
    q = (
        select(o.subject_id)
        .distinct()
        .join(v, (v.order_id == o.id) & (v.version == o.current_version))
        .join(c, c.order_version_id == v.id)
        .join(cz, cz.condition_id == c.id)
        .join(z, z.id == cz.zone_id)
        .join(zv, (zv.zone_id == z.id) & (zv.version == z.current_version))
        .where(
            v.status == model.OrderStatus.ACTIVE.value,
            v.starts <= day,
            (v.ends.is_(None)) | (v.ends >= day),
            func.ST_DWithin(func.geography(zv.geom), func.geography(here), reach),
        )
    )
    return sorted(session.scalars(q))


def barred_at(session: Session, lon: float, lat: float, time: datetime) -> list[Barred]:
    """Every subject barred from ``lon``, ``lat`` at ``time``, with the verdict that bars them
    (inside a zone, or within a condition's buffer), subjects by reference."""
    [day] = orders_store.civil_day([time])
    found: list[Barred] = []
    for subject_id in candidates(session, lon, lat, day):
        # What held at that instant, schedules included, as for any other judgement.
        context = stays_sync.load_context(session, subject_id, time, time, 0, 0)
        [verdicts] = judging.judge(context, [model.Observation(lon, lat, time)])
        breaches = [v for v in verdicts if v.is_breach]
        if breaches:
            subject = orders_store.get_subject(session, subject_id)
            found.extend(Barred(subject, v) for v in breaches)
    return sorted(found, key=lambda b: (b.subject.reference, b.verdict.distance_m))
