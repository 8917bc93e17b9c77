"""Possible transits between sparse fixes, kept beside the stays and never called breaches.

When a batch lands, each new fix's pairs with its neighbours in time (the fix before and the
fix after, whatever batch they came in) are tested by :func:`zones.transit.possible_transits`
against the targets in force at the earlier fix, at the subject's top speed. A pair that a
late fix has since split is no longer consecutive: its transits are deleted, and the two new
pairs tested instead, so the stored transits are the same however the fixes arrived.

A batch brings fixes of many subjects: their neighbourhoods are read in one statement, the
stale transits of all of them in another, and what is found is inserted in a third.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service import judging
from service.db import tables
from service.db.arrays import among, any_of
from zones import model
from zones.transit import transits_of_groups


@dataclass(frozen=True, slots=True)
class Change:
    """One subject's new fixes: their ids and the span of their times."""

    context: judging.Context
    fresh_ids: Sequence[int]
    first: datetime
    last: datetime
    top_speed_mps: float


# Each subject's fixes from the stored one just before its new fixes to the one just after
# (a fix its device marked invalid places the subject nowhere): one statement for a batch.
_NEIGHBOURHOODS = text(
    "SELECT w.sid, o.id, o.observed_at, ST_X(o.geom), ST_Y(o.geom), o.accuracy_m "
    "FROM unnest(CAST(:sids AS int[]), CAST(:los AS timestamptz[]), "
    "            CAST(:his AS timestamptz[])) AS w(sid, lo, hi) "
    "CROSS JOIN LATERAL (SELECT "
    "  coalesce((SELECT max(p.observed_at) FROM observations p WHERE p.subject_id = w.sid "
    "            AND p.valid AND p.observed_at < w.lo), w.lo) AS a, "
    "  coalesce((SELECT min(p.observed_at) FROM observations p WHERE p.subject_id = w.sid "
    "            AND p.valid AND p.observed_at > w.hi), w.hi) AS b) AS span "
    "JOIN observations o ON o.subject_id = w.sid AND o.valid "
    "  AND o.observed_at >= span.a AND o.observed_at <= span.b "
    "ORDER BY w.sid, o.observed_at, o.id"
)


def update(session: Session, changes: Sequence[Change], min_gap_s: float) -> int:
    """Test the pairs the subjects' new fixes form with their neighbours; store what is
    found. Returns how many transits were stored."""
    todo = {c.context.subject_id: c for c in changes if c.fresh_ids and c.context.periods}
    if not todo:
        return 0
    rows_of: dict[int, list[Any]] = defaultdict(list)
    for r in session.execute(
        _NEIGHBOURHOODS,
        {
            "sids": list(todo),
            "los": [c.first for c in todo.values()],
            "his": [c.last for c in todo.values()],
        },
    ):
        rows_of[r[0]].append(r[1:])
    # Pairs that are no longer consecutive (a late fix fell between them) lose their transits.
    consecutive: set[tuple[int, int]] = set()
    seen: list[int] = []
    for rows in rows_of.values():
        ids = [r[0] for r in rows]
        consecutive.update(pairwise(ids))
        seen += ids
    pt = tables.PossibleTransit
    if seen:
        stale = session.execute(_around(), {"sids": list(rows_of), "seen": seen}).all()
        gone = [s[0] for s in stale if (s[1], s[2]) not in consecutive]
        if gone:
            session.execute(delete(pt).where(among(pt.id, gone)))
    values = _found([(todo[sid], rows) for sid, rows in rows_of.items() if len(rows) >= 2],
                    min_gap_s)  # fmt: skip
    if values:
        session.execute(insert(pt).on_conflict_do_nothing(constraint="uq_transit"), values)
    return len(values)


@cache
def _around() -> Any:
    """The stored transits of the subjects (``sids``) from or to any of the fixes
    (``seen``), built once."""
    pt = tables.PossibleTransit
    return select(pt.id, pt.from_observation_id, pt.to_observation_id).where(
        any_of(pt.subject_id, "sids"),
        any_of(pt.from_observation_id, "seen") | any_of(pt.to_observation_id, "seen"),
    )


def _found(work: list[tuple[Change, list[Any]]], min_gap_s: float) -> list[dict[str, object]]:
    """The transits of the subjects' pairs that involve a new fix, as rows to insert: all
    subjects are tested in one pass, each against the targets holding over its fixes."""
    times: list[datetime] = []
    lon: list[float] = []
    lat: list[float] = []
    acc: list[float] = []
    groups: list[tuple[int, int, list[model.Target], float]] = []
    for change, rows in work:
        groups.append((len(times), len(rows), _targets(change.context, rows[0][1], rows[-1][1]),
                       change.top_speed_mps))  # fmt: skip
        times += [r[1] for r in rows]
        lon += [r[2] for r in rows]
        lat += [r[3] for r in rows]
        acc += [np.nan if r[4] is None else r[4] for r in rows]
    found = transits_of_groups(
        times, np.array(lon), np.array(lat), groups, min_gap_s=min_gap_s, accuracy_m=np.array(acc)
    )
    values: list[dict[str, object]] = []
    for (change, rows), (_, _, targets, _), transits in zip(work, groups, found, strict=True):
        context = change.context
        ids = [r[0] for r in rows]
        fresh = set(change.fresh_ids)
        for t in transits:
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
                    "max_speed_mps": float(change.top_speed_mps),
                    "explanation": t.describe(),
                }
            )
    return values


def _targets(context: judging.Context, lo: datetime, hi: datetime) -> list[model.Target]:
    """The distinct targets holding at some time in ``[lo, hi]`` (each pair is then
    checked against those holding at its first fix)."""
    seen: dict[tuple[int, int, int], model.Target] = {}
    for p in context.periods:
        if p.start <= hi and (p.end is None or p.end > lo):
            t = p.target
            seen.setdefault((t.condition_id, t.zone_id, t.zone_version), t)
    return list(seen.values())


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
