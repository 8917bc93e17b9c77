"""Possible transits between sparse fixes, kept beside the stays and never called breaches.

When a batch lands, each new fix's pairs with its neighbours in time (the fix before and the
fix after, whatever batch they came in) are tested by :func:`zones.transit.possible_transits`
against the targets in force at the earlier fix, at the subject's top speed. A pair that a
late fix has since split is no longer consecutive: its transits are deleted, and the two new
pairs tested instead, so the stored transits are the same however the fixes arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

import numpy as np
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service import judging
from service.db import tables
from zones import model
from zones.transit import possible_transits


def update(
    session: Session,
    context: judging.Context,
    fresh_ids: Sequence[int],
    top_speed_mps: float,
    min_gap_s: float,
) -> int:
    """Test the pairs the new observations ``fresh_ids`` form with their neighbours; store
    what is found. Returns how many transits were stored."""
    if not fresh_ids or not context.periods:
        return 0
    o = tables.Observation
    # The new fixes' span, widened to the stored fix just before it and the one just after,
    # in one statement (its sub-queries run once each): a batch does this for every subject.
    lo = select(func.min(o.observed_at)).where(o.id.in_(fresh_ids)).scalar_subquery()
    hi = select(func.max(o.observed_at)).where(o.id.in_(fresh_ids)).scalar_subquery()
    # A fix its device marked invalid places the subject nowhere.
    mine = (o.subject_id == context.subject_id) & o.valid
    before = select(func.max(o.observed_at)).where(mine, o.observed_at < lo).scalar_subquery()
    after = select(func.min(o.observed_at)).where(mine, o.observed_at > hi).scalar_subquery()
    rows = session.execute(
        select(o.id, o.observed_at, func.ST_X(o.geom), func.ST_Y(o.geom), o.accuracy_m)
        .where(
            mine,
            o.observed_at >= func.coalesce(before, lo),
            o.observed_at <= func.coalesce(after, hi),
        )
        .order_by(o.observed_at, o.id)
    ).all()
    if len(rows) < 2:
        return 0
    ids = [r[0] for r in rows]
    fresh = set(fresh_ids)
    # Pairs that are no longer consecutive (a late fix fell between them) lose their transits.
    consecutive = set(pairwise(ids))
    pt = tables.PossibleTransit
    stale = session.execute(
        select(pt.id, pt.from_observation_id, pt.to_observation_id).where(
            pt.subject_id == context.subject_id,
            or_(pt.from_observation_id.in_(ids), pt.to_observation_id.in_(ids)),
        )
    ).all()
    gone = [s[0] for s in stale if (s[1], s[2]) not in consecutive]
    if gone:
        session.execute(delete(pt).where(pt.id.in_(gone)))
    stored = 0
    for target_set in _target_sets(context, rows[0][1], rows[-1][1]):
        targets = list(target_set)
        found = possible_transits(
            [r[1] for r in rows],
            np.array([r[2] for r in rows], dtype=float),
            np.array([r[3] for r in rows], dtype=float),
            targets,
            top_speed_mps=top_speed_mps,
            min_gap_s=min_gap_s,
            accuracy_m=np.array([np.nan if r[4] is None else r[4] for r in rows], dtype=float),
        )
        values = []
        for t in found:
            a, b = ids[t.from_index], ids[t.to_index]
            if a not in fresh and b not in fresh:
                continue
            target = targets[t.target_index]
            if not _holds(context, target, rows[t.from_index][1]):
                continue
            values.append(
                {
                    "subject_id": context.subject_id,
                    "from_observation_id": a,
                    "to_observation_id": b,
                    "order_id": target.order_id,
                    "condition_id": target.condition_id,
                    "clause_id": target.clause,
                    "zone_id": target.zone_id,
                    "zone_version": target.zone_version,
                    "kind": t.kind.value,
                    "starts": t.start,
                    "ends": t.end,
                    "min_distance_m": float(t.min_distance_m),
                    "implied_speed_mps": float(t.implied_speed_mps),
                    "implausible_speed": bool(t.implausible_speed),
                    "max_speed_mps": float(top_speed_mps),
                    "explanation": t.describe(),
                }
            )
        if values:
            session.execute(insert(pt).on_conflict_do_nothing(constraint="uq_transit"), values)
            stored += len(values)
    return stored


def _target_sets(context: judging.Context, lo: datetime, hi: datetime) -> list[list[model.Target]]:
    """The distinct targets holding at some time in ``[lo, hi]`` (one set: each pair is then
    checked against those holding at its first fix)."""
    seen: dict[tuple[int, int, int], model.Target] = {}
    for p in context.periods:
        if p.start <= hi and (p.end is None or p.end > lo):
            t = p.target
            seen.setdefault((t.condition_id, t.zone_id, t.zone_version), t)
    return [list(seen.values())] if seen else []


def _holds(context: judging.Context, target: model.Target, at: datetime) -> bool:
    for p in context.periods:
        t = p.target
        if (t.condition_id, t.zone_id, t.zone_version) == (
            target.condition_id,
            target.zone_id,
            target.zone_version,
        ) and p.holds(at):
            schedule = t.schedule
            return schedule is None or schedule.active_at(at)
    return False


def between(
    session: Session, subject_id: int, since: datetime, until: datetime
) -> list[tables.PossibleTransit]:
    """The subject's stored possible transits overlapping ``[since, until]``."""
    pt = tables.PossibleTransit
    return list(
        session.scalars(
            select(pt)
            .where(pt.subject_id == subject_id, and_(pt.starts <= until, pt.ends >= since))
            .order_by(pt.starts, pt.id)
        )
    )
