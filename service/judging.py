"""Judging a subject's observations against what was in force at each one's own time.

Live recording, the sighting check and replay all come through here, so they judge alike:

* :func:`judge` gives every observation its verdicts against the targets that held at its
  time (bitemporal, see :mod:`service.db.context_store`), each marked whether the
  condition's schedule applied then;
* :func:`segments` says when one track (a clause's zone) applies: its schedule windows
  while its order is in force, cut where authorised visits begin and end;
* :func:`stays` derives the stays of every track from judged fixes (:mod:`zones.stays`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from service.db.context_store import Period, Visit
from zones import judge as judging
from zones import model
from zones.schedule import Schedule
from zones.stays import Mark, Rules, Segment, Stay, cut_by_visits, derive, merge_segments

BREACH, WARNING = "breach", "warning"
SEVERITIES = (BREACH, WARNING)
# Schedule windows last a day at most; computing them from this long before a range is
# enough to know whether one was already open when the range begins.
SCHEDULE_LEAD = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Context:
    """What one subject was judged against over a span of time, as known at an instant."""

    subject_id: int
    periods: list[Period]
    visits: list[Visit]
    gap_seconds: float
    last_known_seconds: float
    as_of: datetime | None = None

    def targets(self, at: datetime | None = None) -> list[model.Target]:
        """Each distinct target (a zone version of a condition) once; with ``at``, only
        those in force at that instant."""
        seen: dict[tuple[int, int, int], model.Target] = {}
        for p in self.periods:
            if at is None or p.holds(at):
                t = p.target
                seen.setdefault((t.condition_id, t.zone_id, t.zone_version), t)
        return list(seen.values())

    def rules_for(self, clause: int, zone_id: int) -> Rules:
        """The rules of the clause as its latest version in the context states them."""
        mine = [
            p for p in self.periods if p.target.clause == clause and p.target.zone_id == zone_id
        ]
        base = (
            max(mine, key=lambda p: (p.start, p.condition.id or 0)).condition.rules
            if mine
            else Rules()
        )
        return replace(
            base, gap_seconds=self.gap_seconds, last_known_seconds=self.last_known_seconds
        )


def judge(context: Context, observations: Sequence[model.Observation]) -> list[list[model.Verdict]]:
    """Every observation's verdicts against the targets in force at its own time."""
    return judge_many([(context, observations)])[0]


def judge_many(
    batch: Sequence[tuple[Context, Sequence[model.Observation]]],
    *,
    outside: bool = True,
    near_m: float | None = None,
) -> list[list[list[model.Verdict]]]:
    """:func:`judge` for many subjects in one vectorised pass: each subject's observations
    against its own targets only. ``outside=False`` leaves out the verdicts of fixes plainly
    outside a zone (outside, with no evidence of being in): those of sightings are kept,
    and they are all that is stored of a fix (see :mod:`service.monitoring`).

    ``near_m`` None judges every fix against every zone in force. A number judges only the
    zones a fix is inside, in the buffer or warning ring of, possibly inside, or within
    ``near_m`` of, and the nearest zone of each condition (for sightings, or for every fix
    with ``outside``): a condition of 1,000 zones then costs about what one does
    (:func:`zones.judge.judge_groups`)."""
    groups: list[tuple[int, int, list[model.Target]]] = []
    every: list[model.Observation] = []
    for context, observations in batch:
        groups.append((len(every), len(observations), context.targets()))
        every.extend(observations)
    nearest = near_m is not None and (
        outside or any(o.kind is model.ObservationKind.SIGHTING for o in every)
    )
    j, targets = judging.judge_groups(
        [o.lon for o in every],
        [o.lat for o in every],
        [np.nan if o.accuracy_m is None else o.accuracy_m for o in every],
        groups,
        near_m=near_m,
        nearest=nearest,
    )
    if not outside:
        sighting = np.array([o.kind is model.ObservationKind.SIGHTING for o in every], bool)
        j = j.where((j.status != 0) | (j.evidence != 0) | sighting[j.observation])
    verdicts = j.verdicts_by_observation(targets, len(every))
    out: list[list[list[model.Verdict]]] = []
    for (context, observations), (first, count, _) in zip(batch, groups, strict=True):
        holds: dict[tuple[int, int, int], list[Period]] = defaultdict(list)
        for p in context.periods:
            holds[(p.target.condition_id, p.target.zone_id, p.target.zone_version)].append(p)
        out.append(
            [
                _in_force(o, found, holds)
                for o, found in zip(observations, verdicts[first : first + count], strict=True)
            ]
        )
    return out


def _in_force(
    o: model.Observation,
    verdicts: list[model.Verdict],
    holds: dict[tuple[int, int, int], list[Period]],
) -> list[model.Verdict]:
    """The verdicts of targets in force at the observation's time, marked whether their
    schedule applied then."""
    kept = []
    for v in verdicts:
        key = targets_key(v)
        if not any(p.holds(o.time) for p in holds[key]):
            continue
        schedule = next(p.target.schedule for p in holds[key])
        if schedule is None:
            kept.append(v)
            continue
        applies = schedule.active_at(o.time)
        kept.append(replace(v, applies=applies, window=window_said(schedule, o.time, applies)))
    return kept


def window_said(schedule: Schedule, at: datetime, applies: bool) -> str | None:
    """What a verdict says of its clause's schedule: the window the instant fell in, or,
    when the schedule did not apply then, the schedule it missed."""
    return schedule.window_at(at) if applies else schedule.describe()


def track_of(v: model.Verdict) -> tuple[int, int, str] | None:
    """The track a verdict puts its fix in: the clause's area, its warning ring, or none."""
    if v.in_area:
        return (v.clause, v.zone_id, BREACH)
    if v.status is model.Status.WARNING:
        return (v.clause, v.zone_id, WARNING)
    return None


def targets_key(v: model.Verdict) -> tuple[int, int, int]:
    return (v.condition_id, v.zone_id, v.zone_version)


def tracks(context: Context) -> list[tuple[int, int]]:
    """Every (clause, zone) the context judges against."""
    return sorted({(p.target.clause, p.target.zone_id) for p in context.periods})


def segments(
    context: Context, clause: int, zone_id: int, lo: datetime, hi: datetime
) -> list[Segment]:
    """When the clause applies to the zone around ``[lo, hi]``: its schedule's windows
    while its order is in force, cut where authorised visits to the zone begin and end."""
    parts: list[Segment] = []
    for p in context.periods:
        if p.target.clause != clause or p.target.zone_id != zone_id:
            continue
        schedule = p.target.schedule
        if schedule is None:
            parts.append(Segment(p.start, p.end))
            continue
        start = max(p.start, lo - SCHEDULE_LEAD)
        end = hi + SCHEDULE_LEAD if p.end is None else min(p.end, hi + SCHEDULE_LEAD)
        if end <= start:
            continue
        for a, b in schedule.intervals(start, end):
            parts.append(Segment(a, None if (p.end is None and b >= end) else b))
    merged = merge_segments(parts)
    visits = [(v.id, v.starts, v.ends) for v in context.visits if v.zone_id == zone_id]
    return cut_by_visits(merged, visits) if visits else merged


def marks(
    observations: Sequence[tuple[int, datetime, bool]],
    verdicts: dict[int, list[model.Verdict]],
    clause: int,
    zone_id: int,
    severity: str,
) -> list[Mark]:
    """The fixes as one track sees them: ``observations`` are ``(id, time, by_person)``;
    ``verdicts`` the stored or fresh verdicts of each (only those not plainly outside)."""
    out = []
    for oid, time, by_person in observations:
        inside = False
        for v in verdicts.get(oid, ()):
            if v.clause == clause and v.zone_id == zone_id:
                inside = v.in_area if severity == BREACH else v.status is model.Status.WARNING
                break
        out.append(Mark(time, oid, inside, by_person))
    return out


def stays(
    context: Context,
    observations: Sequence[tuple[int, datetime, bool]],
    verdicts: dict[int, list[model.Verdict]],
    lo: datetime,
    now: datetime,
    only: set[tuple[int, int, str]] | None = None,
) -> dict[tuple[int, int, str], list[Stay]]:
    """The stays of every track (or of ``only`` those) derived from the given fixes."""
    out: dict[tuple[int, int, str], list[Stay]] = {}
    for clause, zone_id in tracks(context):
        segs: list[Segment] | None = None
        for severity in SEVERITIES:
            key = (clause, zone_id, severity)
            if only is not None and key not in only:
                continue
            if segs is None:
                segs = segments(context, clause, zone_id, lo, now)
            m = marks(observations, verdicts, clause, zone_id, severity)
            if not any(x.inside for x in m):
                out[key] = []
                continue
            out[key] = derive(m, segs, context.rules_for(clause, zone_id), now)
    return out
