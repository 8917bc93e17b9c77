"""Replay: judge a subject's stored fixes again as things stood, and say what differs.

Every stored fix in the span is judged afresh against the zone versions, orders,
schedules and visits in force at its own time, *as recorded by* ``as_of`` (now by default),
and the stays are derived again by the same rules as live judging. The result is compared
with the stored verdicts and stays (alerts), and every difference is reported. Nothing is
written: replay is how a correction's effect is shown before anyone relies on it, and how
any past alert is re-examined as things stood.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import judging, stays_sync
from service.db import orders_store, tables
from service.settings import ApiSettings
from zones import model
from zones.stays import Stay

StayKey = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class StayView:
    """A stay as replay compares it."""

    clause_id: int
    zone_id: int
    severity: str
    first_at: datetime
    last_at: datetime
    closed_at: datetime | None
    fixes: int
    stage: str
    zone_version: int | None
    condition_id: int | None
    alert_id: int | None = None
    closed_by: str | None = None
    opened_by: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "alert_id": self.alert_id,
            "clause_id": self.clause_id,
            "zone_id": self.zone_id,
            "severity": self.severity,
            "stage": self.stage,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "closed_by": self.closed_by,
            "opened_by": self.opened_by,
            "fixes": self.fixes,
            "zone_version": self.zone_version,
            "condition_id": self.condition_id,
        }


COMPARED = ("first_at", "last_at", "closed_at", "fixes", "stage", "zone_version", "condition_id")


@dataclass
class Report:
    subject_id: int
    subject_reference: str
    since: datetime
    until: datetime
    as_of: datetime
    fixes: int = 0
    verdict_changes: list[dict[str, object]] = field(default_factory=list)
    unchanged: list[StayView] = field(default_factory=list)
    changed: list[tuple[StayView, StayView, list[str]]] = field(default_factory=list)
    only_stored: list[StayView] = field(default_factory=list)
    only_replayed: list[StayView] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.verdict_changes or self.changed or self.only_stored or self.only_replayed)

    def as_dict(self) -> dict[str, object]:
        return {
            "subject_id": self.subject_id,
            "subject_reference": self.subject_reference,
            "from": self.since.isoformat(),
            "to": self.until.isoformat(),
            "as_of": self.as_of.isoformat(),
            "fixes": self.fixes,
            "differs": self.differs,
            "verdict_changes": self.verdict_changes,
            "stays_unchanged": [s.as_dict() for s in self.unchanged],
            "stays_changed": [
                {"stored": a.as_dict(), "replayed": b.as_dict(), "fields": f}
                for a, b, f in self.changed
            ],
            "stays_only_stored": [s.as_dict() for s in self.only_stored],
            "stays_only_replayed": [s.as_dict() for s in self.only_replayed],
        }

    def text(self) -> str:
        """The report as lines a person reads."""
        head = (
            f"Replay of {self.subject_reference} from {self.since.isoformat()} to "
            f"{self.until.isoformat()}, as known at {self.as_of.isoformat()}: {self.fixes} "
            f"stored observations judged again."
        )
        lines = [head]
        if not self.differs:
            lines.append(
                f"No difference: the same verdicts and the same {len(self.unchanged)} stay(s)."
            )
            return "\n".join(lines)
        for v in self.verdict_changes:
            lines.append(
                f"  verdict of observation {v['observation_id']} at {v['time']} against clause "
                f"{v['clause_id']}, zone {v['zone_id']}: stored {v['stored']} (zone version "
                f"{v['stored_zone_version']}), replayed {v['replayed']} (zone version "
                f"{v['replayed_zone_version']})"
            )
        for a, b, fields in self.changed:
            lines.append(
                f"  alert {a.alert_id} ({a.severity}, clause {a.clause_id}, zone {a.zone_id}) "
                "would differ in "
                + ", ".join(f"{f}: {getattr(a, f)} -> {getattr(b, f)}" for f in fields)
            )
        for s in self.only_stored:
            lines.append(
                f"  alert {s.alert_id} ({s.severity}, clause {s.clause_id}, zone {s.zone_id}, "
                f"{s.first_at.isoformat()}) would not be raised"
            )
        for s in self.only_replayed:
            lines.append(
                f"  a new {s.stage} {s.severity} stay (clause {s.clause_id}, zone {s.zone_id}) "
                f"from {s.first_at.isoformat()} with {s.fixes} fix(es) would be raised"
            )
        lines.append(f"  {len(self.unchanged)} stay(s) unchanged.")
        return "\n".join(lines)


def replay(
    session: Session,
    subject_id: int,
    since: datetime,
    until: datetime,
    settings: ApiSettings,
    *,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> Report:
    """Judge the subject's stored fixes in ``[since, until]`` again as known at ``as_of``."""
    now = now or datetime.now(tz=since.tzinfo)
    as_of = as_of or now
    subject = orders_store.get_subject(session, subject_id)
    gap = timedelta(seconds=settings.episode_gap_seconds)
    margin = stays_sync.reach(settings)
    lo, hi = since - margin, min(until + margin, now)
    context = stays_sync.load_context(
        session,
        subject_id,
        lo - margin,
        hi,
        settings.episode_gap_seconds,
        settings.last_known_seconds,
        as_of=as_of,
    )
    observations, ids = _observations(session, subject_id, lo, hi, as_of)
    judged = judging.judge(context, observations)
    fresh: dict[int, list[model.Verdict]] = {
        oid: [v for v in vs if v.status is not model.Status.OUTSIDE]
        for oid, vs in zip(ids, judged, strict=True)
    }
    stored_v, _ = stays_sync.stored_verdicts(session, ids)
    report = Report(subject_id, subject.reference, since, until, as_of)
    report.fixes = sum(1 for o in observations if since <= o.time <= until)
    times = {oid: o.time for oid, o in zip(ids, observations, strict=True)}
    for oid in ids:
        if not since <= times[oid] <= until:
            continue
        before = {(v.clause, v.zone_id): v for v in stored_v.get(oid, [])}
        after = {(v.clause, v.zone_id): v for v in fresh.get(oid, [])}
        for key in sorted(set(before) | set(after)):
            a, b = before.get(key), after.get(key)
            sa = a.status.value if a is not None else "outside"
            sb = b.status.value if b is not None else "outside"
            if sa != sb or (a is not None and b is not None and a.zone_version != b.zone_version):
                report.verdict_changes.append(
                    {
                        "observation_id": oid,
                        "time": times[oid].isoformat(),
                        "clause_id": key[0],
                        "zone_id": key[1],
                        "stored": sa,
                        "replayed": sb,
                        "stored_zone_version": None if a is None else a.zone_version,
                        "replayed_zone_version": None if b is None else b.zone_version,
                    }
                )
    people = {
        oid: o.kind is model.ObservationKind.SIGHTING
        for oid, o in zip(ids, observations, strict=True)
    }
    derived = judging.stays(
        context, [(oid, times[oid], people[oid]) for oid in ids], fresh, lo, now
    )
    replayed = [
        _view(key, s, fresh)
        for key, stays in derived.items()
        for s in stays
        if since <= s.first_at <= until
    ]
    stored = [_stored_view(r) for r in _stored(session, subject_id, since, until)]
    _compare(report, stored, replayed, gap)
    return report


def _observations(
    session: Session, subject_id: int, lo: datetime, hi: datetime, as_of: datetime
) -> tuple[list[model.Observation], list[int]]:
    """Stored observations in ``[lo, hi]`` that had arrived by ``as_of``."""
    o = tables.Observation
    rows = session.execute(
        select(o, func.ST_X(o.geom), func.ST_Y(o.geom))
        .where(
            o.subject_id == subject_id,
            o.observed_at >= lo,
            o.observed_at <= hi,
            o.received_at <= as_of,
        )
        .order_by(o.observed_at, o.id)
    ).all()
    out = [
        model.Observation(
            lon=float(x),
            lat=float(y),
            time=r.observed_at,
            accuracy_m=r.accuracy_m,
            subject_id=subject_id,
            device_id=r.device_id,
            kind=model.ObservationKind(r.kind),
        )
        for r, x, y in rows
    ]
    return out, [r[0].id for r in rows]


def _stored(
    session: Session, subject_id: int, since: datetime, until: datetime
) -> list[tables.Alert]:
    a = tables.Alert
    return list(
        session.scalars(
            select(a)
            .where(
                a.subject_id == subject_id,
                a.kind == model.AlertKind.ZONE.value,
                a.merged_into.is_(None),
                a.first_at >= since,
                a.first_at <= until,
            )
            .order_by(a.first_at, a.id)
        )
    )


def _stage(confirmed: bool, visit: int | None) -> str:
    if visit is not None:
        return model.Stage.AUTHORISED.value
    return (model.Stage.ALERT if confirmed else model.Stage.PENDING).value


def _view(key: StayKey, s: Stay, verdicts: dict[int, list[model.Verdict]]) -> StayView:
    clause, zone_id, severity = key
    first = next(
        (
            v
            for k in s.keys
            for v in verdicts.get(k, [])
            if v.clause == clause and v.zone_id == zone_id
        ),
        None,
    )
    return StayView(
        clause_id=clause,
        zone_id=zone_id,
        severity=severity,
        first_at=s.first_at,
        last_at=s.last_at,
        closed_at=s.closed_at,
        fixes=s.fix_count,
        stage=_stage(s.confirmed_at is not None, s.visit),
        zone_version=None if first is None else first.zone_version,
        condition_id=None if first is None else first.condition_id,
        closed_by=None if s.closed is None else s.closed.value,
        opened_by=s.opened.value,
    )


def _stored_view(r: tables.Alert) -> StayView:
    clause_id, zone_id, severity = stays_sync.track_of_row(r)
    return StayView(
        clause_id=clause_id,
        zone_id=zone_id,
        severity=severity,
        first_at=r.first_at,
        last_at=r.last_at,
        closed_at=r.closed_at,
        fixes=r.observation_count,
        stage=_stage(r.confirmed_at is not None, r.visit_id),
        zone_version=r.zone_version,
        condition_id=r.condition_id,
        alert_id=r.id,
        closed_by=r.closed_by,
        opened_by=r.opened_by,
    )


def _compare(
    report: Report, stored: list[StayView], replayed: list[StayView], gap: timedelta
) -> None:
    """Pair stored and replayed stays of one track by overlap, then compare their fields."""
    by_track: dict[StayKey, list[StayView]] = defaultdict(list)
    for s in replayed:
        by_track[(s.clause_id, s.zone_id, s.severity)].append(s)
    used: set[int] = set()
    for a in stored:
        candidates = [
            (i, b)
            for i, b in enumerate(by_track.get((a.clause_id, a.zone_id, a.severity), []))
            if id(b) not in used and _overlaps(a, b, gap)
        ]
        if not candidates:
            report.only_stored.append(a)
            continue
        _, b = min(candidates, key=lambda c: abs((c[1].first_at - a.first_at).total_seconds()))
        used.add(id(b))
        fields = [f for f in COMPARED if getattr(a, f) != getattr(b, f)]
        if fields:
            report.changed.append((a, b, fields))
        else:
            report.unchanged.append(a)
    report.only_replayed.extend(s for s in replayed if id(s) not in used)


def _overlaps(a: StayView, b: StayView, gap: timedelta) -> bool:
    a_end = a.closed_at or a.last_at
    b_end = b.closed_at or b.last_at
    return a.first_at <= b_end + gap and b.first_at <= a_end + gap
