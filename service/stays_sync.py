"""Keeping the stored stays (alert rows) equal to the stays the fixes imply.

After a batch of observations is judged, or when the clock passes a window edge, the stays
of every touched track are derived again from all the stored fixes around the change
(:func:`service.judging.stays`) and the stored rows are brought into line:

* a derived stay takes over the stored row that shares most of its fixes (or its span), so
  an alert keeps its id, its handling and its history while it grows;
* a derived stay with no stored row becomes a new row;
* a stored row whose fixes now belong to another stay (a late fix joined two stays) is
  marked ``merged_into`` that stay's row.

A stay that was raised as a confirmed alert stays confirmed, and one raised before an
authorised visit was recorded stays an alert: what was raised is evidence. Replay
(:mod:`service.replay`) shows what a later correction would have changed.

Only stays that are confirmed, not authorised and not merged are *alerts*: those alone are
announced to open pages.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Integer, column, func, select, text, update
from sqlalchemy.orm import Session, defer

from service import judging
from service.db import alert_events, context_store, plain, tables
from service.db.arrays import among
from service.settings import ApiSettings
from zones import model
from zones.stays import Stay

_STATUS = {s.value: s for s in model.Status}  # a lookup, not an enum call per stored row
_EVIDENCE = {e.value: e for e in model.Evidence}
EVIDENCE_RANK = {model.Evidence.NONE: 0, model.Evidence.POSSIBLE: 1, model.Evidence.DEFINITE: 2}
Track = tuple[int, int, str]
VerdictRow = tuple[int, int | None]  # a stored verdict's id, and the alert it counts towards


@dataclass(frozen=True, slots=True)
class Fix:
    """A stored observation as stays need it."""

    id: int
    time: datetime
    by_person: bool
    lon: float
    lat: float
    late: bool


def track_of_row(row: tables.Alert) -> Track:
    """The track of a stored stay (a zone alert: its clause and zone are always set)."""
    assert row.clause_id is not None and row.zone_id is not None
    return (row.clause_id, row.zone_id, row.severity)


def stored_stays_of(
    session: Session, windows: dict[int, tuple[datetime, datetime, datetime]]
) -> dict[int, tuple[list[tables.Alert], datetime, datetime]]:
    """Each subject's stays (not merged ones) overlapping its ``(lo, hi)``, widened until no
    stored stay straddles its ends, locked against other writers of stays (the worker, a
    visit withdrawn) and of handling; returns them and the widened span. An open stay
    reaches ``now``. One statement a round for all the subjects."""
    found: dict[int, tuple[list[tables.Alert], datetime, datetime]] = {}
    pending = dict(windows)
    for _ in range(20):  # stays do not chain far; this converges in two or three rounds
        if not pending:
            break
        rows_of: dict[int, list[tables.Alert]] = {sid: [] for sid in pending}
        for row in session.scalars(_stored_stays(), _window_values(pending, now=True)):
            rows_of[row.subject_id].append(row)
        widened: dict[int, tuple[datetime, datetime, datetime]] = {}
        for sid, rows in rows_of.items():
            lo, hi, now = pending[sid]
            new_lo = min([lo, *(r.first_at for r in rows)])
            new_hi = max([hi, *((r.closed_at or now) for r in rows)])
            found[sid] = (rows, new_lo, new_hi)
            if (new_lo, new_hi) != (lo, hi):
                widened[sid] = (new_lo, new_hi, now)
        pending = widened
    return found


@cache
def _windows(*, now: bool = False) -> Any:
    """The subjects' spans as a table ``w(sid, lo, hi[, now])`` to join with, its arrays
    the parameters ``sids``, ``los``, ``his`` (and ``nows``): see :func:`_window_values`."""
    names = ["sid", "lo", "hi", "now"] if now else ["sid", "lo", "hi"]
    casts = ", ".join(f"CAST(:{n}s AS {'int' if n == 'sid' else 'timestamptz'}[])" for n in names)
    columns = [column(n, Integer if n == "sid" else DateTime(timezone=True)) for n in names]
    return (
        text(f"SELECT * FROM unnest({casts}) AS w({', '.join(names)})")
        .columns(*columns)
        .subquery("w")
    )


def _window_values(
    spans: Mapping[int, tuple[datetime, ...]], *, now: bool = False
) -> dict[str, list[Any]]:
    """The parameters of :func:`_windows` for ``subject -> (lo, hi[, now])``."""
    names = ["los", "his", "nows"] if now else ["los", "his"]
    values: dict[str, list[Any]] = {"sids": list(spans), **{n: [] for n in names}}
    for span in spans.values():
        for n, t in zip(names, span, strict=False):
            values[n].append(t)
    return values


@cache
def _stored_stays() -> Any:
    """The stays (not merged) of :func:`stored_stays_of`, built once."""
    a = tables.Alert
    w = _windows(now=True)
    return (
        select(a)
        .join(
            w,
            (a.subject_id == w.c.sid)
            & (a.first_at <= w.c.hi)
            & (func.coalesce(a.closed_at, w.c.now) >= w.c.lo),
        )
        .where(a.merged_into.is_(None))
        .where(a.kind == model.AlertKind.ZONE.value)  # device alerts are no stays
        .order_by(a.subject_id, a.first_at, a.id)
        # Where the stay was first seen is written once, when it is made.
        .options(defer(a.geom))
        # FOR NO KEY UPDATE: their ids never change here, so rows that merely point at
        # them (verdicts, events, notes of another writer) need not wait for this one.
        .with_for_update(of=a, key_share=True)
    )


@cache
def _fixes_and_verdicts() -> Any:
    """The fixes and verdicts of :func:`fixes_and_verdicts`, built once."""
    o, v = tables.Observation, tables.Verdict
    w = _windows()
    return (
        select(
            o.subject_id,
            o.id,
            o.observed_at,
            o.kind,
            func.ST_X(o.geom),
            func.ST_Y(o.geom),
            o.late,
            *_VERDICT_COLUMNS,
        )
        .join(w, (o.subject_id == w.c.sid) & (o.observed_at >= w.c.lo) & (o.observed_at <= w.c.hi))
        .outerjoin(v, v.observation_id == o.id)
        .where(o.valid)  # a fix its device marked invalid is no evidence of where one was
        .order_by(o.subject_id, o.observed_at, o.id)
    )


def fixes_and_verdicts(
    session: Session, spans: dict[int, tuple[datetime, datetime]]
) -> tuple[
    dict[int, list[Fix]],
    dict[int, list[model.Verdict]],
    dict[tuple[int, int, int], VerdictRow],
]:
    """Each subject's stored fixes within its span ``(lo, hi)``, in time order, and their
    stored verdicts as :func:`stored_verdicts` gives them, read in one statement."""
    out: dict[int, list[Fix]] = {sid: [] for sid in spans}
    verdicts: dict[int, list[model.Verdict]] = defaultdict(list)
    ids: dict[tuple[int, int, int], VerdictRow] = {}
    if not spans:
        return out, verdicts, ids
    rows = plain.rows(session, _fixes_and_verdicts(), _window_values(spans))
    sighting = model.ObservationKind.SIGHTING.value
    last = None
    for r in rows:
        if r[1] != last:  # a fix's rows come together (one per verdict, or one without)
            last = r[1]
            out[r[0]].append(Fix(r[1], r[2], r[3] == sighting, float(r[4]), float(r[5]), r[6]))
        if r.verdict_id is not None:
            _add_verdict(r, verdicts, ids)
    return out, verdicts, ids


_VERDICT_COLUMNS = (
    tables.Verdict.id.label("verdict_id"), tables.Verdict.alert_id, tables.Verdict.observation_id,
    tables.Verdict.order_id, tables.Verdict.condition_id, tables.Verdict.zone_id,
    tables.Verdict.zone_version, tables.Verdict.status, tables.Verdict.distance_m,
    tables.Verdict.evidence, tables.Verdict.disc_fraction_inside, tables.Verdict.clause_id,
    tables.Verdict.applies,
)  # fmt: skip


def _add_verdict(
    r: Any,
    verdicts: dict[int, list[model.Verdict]],
    ids: dict[tuple[int, int, int], VerdictRow],
) -> None:
    """One stored verdict row (:data:`_VERDICT_COLUMNS`) into ``verdicts`` and ``ids``."""
    verdicts[r.observation_id].append(
        model.Verdict(
            order_id=r.order_id,
            condition_id=r.condition_id,
            zone_id=r.zone_id,
            zone_version=r.zone_version,
            status=_STATUS[r.status],
            distance_m=r.distance_m,
            evidence=_EVIDENCE[r.evidence],
            disc_fraction_inside=r.disc_fraction_inside,
            clause_id=r.clause_id,
            applies=r.applies,
        )
    )
    ids[(r.observation_id, r.clause_id, r.zone_id)] = (r.verdict_id, r.alert_id)


def stored_verdicts(
    session: Session, observation_ids: list[int]
) -> tuple[dict[int, list[model.Verdict]], dict[tuple[int, int, int], VerdictRow]]:
    """The stored verdicts of the observations, and each one's row id and the alert it
    points at, keyed by ``(observation, clause, zone)``."""
    v = tables.Verdict
    verdicts: dict[int, list[model.Verdict]] = defaultdict(list)
    ids: dict[tuple[int, int, int], VerdictRow] = {}
    for start in range(0, len(observation_ids), 5_000):
        chunk = observation_ids[start : start + 5_000]
        # Plain rows, not ORM objects: a late burst can bring tens of thousands.
        for r in plain.rows(
            session, select(*_VERDICT_COLUMNS).where(among(v.observation_id, chunk))
        ):
            _add_verdict(r, verdicts, ids)
    return verdicts, ids


@dataclass
class _Plan:
    """One subject's derived stays matched to its stored rows (new rows not yet written)."""

    context: judging.Context
    verdicts: dict[int, list[model.Verdict]]
    verdict_ids: dict[tuple[int, int, int], VerdictRow]
    by_fix: dict[int, Fix]
    owned: dict[int, set[int]]
    now: datetime
    pairs: list[tuple[Track, Stay, tables.Alert]]
    leftovers: list[tuple[tables.Alert, list[tuple[Stay, tables.Alert]]]]
    fresh: list[tables.Alert]


def _plan(
    context: judging.Context,
    fixes: list[Fix],
    verdicts: dict[int, list[model.Verdict]],
    verdict_ids: dict[tuple[int, int, int], VerdictRow],
    stored: list[tables.Alert],
    tracks: set[Track],
    lo: datetime,
    cut: datetime,
    now: datetime,
    last: datetime | None,
    owned: dict[int, set[int]],
) -> _Plan:
    """Derive the stays and match every one to a stored row, or make a row for it."""
    obs = [(f.id, f.time, f.by_person) for f in fixes]
    derived = judging.stays(context, obs, verdicts, lo, now, only=tracks)
    by_fix = {f.id: f for f in fixes}
    by_track: dict[Track, list[tables.Alert]] = defaultdict(list)
    for row in stored:
        by_track[track_of_row(row)].append(row)
    plan = _Plan(context, verdicts, verdict_ids, by_fix, owned, now, [], [], [])
    for track in sorted(tracks):
        rows = by_track.get(track, [])
        index = _Rows(rows, owned)
        claimed: dict[int, tables.Alert] = {}
        mine: list[tuple[Stay, tables.Alert]] = []
        for stay in (
            s
            for s in derived.get(track, [])
            if _touches(s, cut) and (last is None or s.first_at <= last)
        ):
            found = _match(stay, index, claimed)
            if found is None:
                row = _new_row(context, stay, track, verdicts, by_fix, now)
                plan.fresh.append(row)
            else:
                row = claimed[found.id] = found
            mine.append((stay, row))
            plan.pairs.append((track, stay, row))
        plan.leftovers.extend((row, mine) for row in rows if row.id not in claimed)
    return plan


def _apply(
    session: Session,
    plans: list[_Plan],
    unsaved: dict[tuple[int, int, int], int | None],
    *,
    full: bool = False,
) -> list[dict[int, list[int]]]:
    """Write the plans: all new rows in one flush, every stored row that differs from its
    stay brought up to date (``full``: every one assigned, as before rows were compared),
    stored rows no derived stay took merged, and the stored verdicts that point elsewhere
    pointed at their rows in one statement; those not stored yet (the keys of ``unsaved``,
    ``(fix, clause, zone)``) get their alert there. Returns, per plan, the visible alert
    ids each fix now counts towards."""
    fresh = [row for plan in plans for row in plan.fresh]
    if fresh:
        session.add_all(fresh)
        session.flush()
    made = {id(row) for row in fresh}
    pointed: dict[int, int] = {}  # verdict id -> alert id
    out: list[dict[int, list[int]]] = []
    for plan in plans:
        counted: dict[int, list[int]] = defaultdict(list)
        for track, stay, row in plan.pairs:
            if id(row) in made:  # written complete: only its opening is news
                if _visible(row):
                    alert_events.announce(session, row.id, "opened")
            else:
                _update_row(session, row, stay, plan.context, track, plan.verdicts,
                            plan.by_fix, plan.now, full=full)  # fmt: skip
            fix_ids = [k for k in stay.keys if plan.by_fix[k].time >= stay.first_at]
            clause, zone_id, _ = track
            for k in fix_ids:
                found = plan.verdict_ids.get((k, clause, zone_id))
                if found is not None and found[1] != row.id:  # only those that change
                    pointed[found[0]] = row.id
                elif (k, clause, zone_id) in unsaved:
                    unsaved[(k, clause, zone_id)] = row.id
            if _visible(row):
                for k in fix_ids:
                    counted[k].append(row.id)
        _merge_leftovers(session, plan)
        out.append(counted)
    if pointed:  # after the merges, which move whatever still points at a merged row
        session.execute(
            text(
                "UPDATE verdicts v SET alert_id = p.alert_id FROM unnest("
                "CAST(:ids AS bigint[]), CAST(:alerts AS bigint[])) AS p(id, alert_id) "
                "WHERE v.id = p.id"
            ),
            {"ids": list(pointed), "alerts": list(pointed.values())},
        )
    return out


def _merge_leftovers(session: Session, plan: _Plan) -> None:
    """A stored stay no derived stay took: a late fix joined it to another."""
    for row, mine in plan.leftovers:
        own = plan.owned.get(row.id, set())
        into = next((r for st, r in mine if own & set(st.keys)), None) or next(
            (r for _, r in mine if _overlap(row, r) > 0), None
        )
        if into is not None:
            was_visible = _visible(row)
            row.merged_into = into.id
            row.updated_at = plan.now
            session.execute(
                update(tables.Verdict)
                .where(tables.Verdict.alert_id == row.id)
                .values(alert_id=into.id)
            )
            if was_visible:
                alert_events.announce(session, row.id, "merged")


def _touches(stay: Stay, cut: datetime) -> bool:
    return stay.closed_at is None or stay.closed_at >= cut or stay.last_at >= cut


def _owned_fixes(
    alert_ids: set[int], verdict_ids: Mapping[tuple[int, int, int], VerdictRow]
) -> dict[int, set[int]]:
    """The fixes each stored stay counts, of the fixes whose verdicts were read only
    (matching stays compares their fixes with those of derived stays, which are all among
    them, and a long stay owns thousands): from the verdicts already read, not read again."""
    owned: dict[int, set[int]] = defaultdict(set)
    for (obs_id, _, _), (_, alert_id) in verdict_ids.items():
        if alert_id is not None and alert_id in alert_ids:
            owned[alert_id].add(obs_id)
    return owned


def _overlap(row: tables.Alert, other: tables.Alert) -> float:
    a0, a1 = row.first_at, row.closed_at or row.last_at
    b0, b1 = other.first_at, other.closed_at or other.last_at
    return (min(a1, b1) - max(a0, b0)).total_seconds() if min(a1, b1) >= max(a0, b0) else -1.0


class _Rows:
    """A track's stored rows, looked up by the fixes they own and by when they begin, so
    matching a derived stay costs its own size, not the number of rows."""

    def __init__(self, rows: list[tables.Alert], owned: dict[int, set[int]]) -> None:
        self.rows = sorted(rows, key=lambda r: (r.first_at, r.id))
        self.starts = [r.first_at for r in self.rows]
        self.by_fix: dict[int, list[tables.Alert]] = defaultdict(list)
        for r in self.rows:
            for k in owned.get(r.id, ()):
                self.by_fix[k].append(r)
        self.owned = owned

    def candidates(self, stay: Stay) -> list[tables.Alert]:
        found: dict[int, tables.Alert] = {}
        for k in stay.keys:
            for r in self.by_fix.get(k, ()):
                found[r.id] = r
        # Rows beginning before this stay ends that may overlap it in time: the few just
        # before its end, and every one starting within it.
        end = stay.closed_at or stay.last_at
        hi = bisect_right(self.starts, end)
        lo = bisect_left(self.starts, stay.first_at)
        for r in self.rows[max(0, min(lo, hi) - 3) : hi]:
            found[r.id] = r
        return list(found.values())


def _match(stay: Stay, rows: _Rows, claimed: dict[int, tables.Alert]) -> tables.Alert | None:
    """The unclaimed stored row that is this stay: the one sharing most of its fixes, then
    beginning at the same instant, then overlapping it most."""
    keys = set(stay.keys)
    best: tuple[int, int, float] | None = None
    found: tables.Alert | None = None
    end = stay.closed_at or stay.last_at
    for row in rows.candidates(stay):
        if row.id in claimed:
            continue
        shared = len(keys & rows.owned.get(row.id, set()))
        same_start = int(row.first_at == stay.first_at)
        r_end = row.closed_at or row.last_at
        overlap = (
            (min(end, r_end) - max(stay.first_at, row.first_at)).total_seconds()
            if min(end, r_end) >= max(stay.first_at, row.first_at)
            else -1.0
        )
        if shared == 0 and not same_start and overlap < 0:
            continue
        score = (shared, same_start, overlap)
        if best is None or score > best:
            best, found = score, row
    return found


def _verdict_of(
    verdicts: dict[int, list[model.Verdict]], fix_id: int, track: Track
) -> model.Verdict | None:
    clause, zone_id, _ = track
    return next(
        (v for v in verdicts.get(fix_id, ()) if v.clause == clause and v.zone_id == zone_id),
        None,
    )


def _new_row(
    context: judging.Context,
    stay: Stay,
    track: Track,
    verdicts: dict[int, list[model.Verdict]],
    by_fix: dict[int, Fix],
    now: datetime,
) -> tables.Alert:
    """A row for a stay no stored row is: written complete by one INSERT (not inserted
    half-made and then updated), as :func:`_update_row` would leave it."""
    clause, zone_id, severity = track
    first = _verdict_of(verdicts, stay.keys[0], track)
    assert first is not None, "a stay is made of fixes with verdicts in its track"
    fix = by_fix[stay.keys[0]]
    row = tables.Alert(
        subject_id=context.subject_id,
        order_id=first.order_id,
        condition_id=first.condition_id,
        clause_id=clause,
        zone_id=zone_id,
        zone_version=first.zone_version,
        severity=severity,
        handling=model.Handling.UNHANDLED.value,
        evidence=first.evidence.value,
        deepest_m=first.distance_m,
        geom=f"SRID=4326;POINT({fix.lon!r} {fix.lat!r})",
        judged_at=now,
    )
    for name, value in _state(row, stay, context, track, verdicts, by_fix).items():
        setattr(row, name, value)
    if stay.closed_at is not None:  # it was made open, then closed: a change, as before
        row.updated_at = now
    return row


def _state(
    row: tables.Alert,
    stay: Stay,
    context: judging.Context,
    track: Track,
    verdicts: dict[int, list[model.Verdict]],
    by_fix: dict[int, Fix],
) -> dict[str, Any]:
    """What the row of a derived stay must say: every column re-deriving writes (the
    confirmation and a visit of an alert already raised stay as they were: evidence)."""
    clause, zone_id, _ = track
    state: dict[str, Any] = {
        "first_at": stay.first_at,
        "last_at": stay.last_at,
        "observation_count": stay.fix_count,
        "closed_at": stay.closed_at,
        "closed_by": None if stay.closed is None else stay.closed.value,
        "status": (model.AlertStatus.OPEN if stay.is_open else model.AlertStatus.CLOSED).value,
        "opened_by": stay.opened.value,
    }
    vs = [v for k in stay.keys if (v := _verdict_of(verdicts, k, track)) is not None]
    if vs:
        state["deepest_m"] = min(v.distance_m for v in vs)
        state["evidence"] = max((v.evidence for v in vs), key=EVIDENCE_RANK.__getitem__).value
    state["late"] = any(by_fix[k].late for k in stay.keys if k in by_fix)
    if row.confirmed_at is None:  # once confirmed, always: it was raised
        state["confirmed_at"] = stay.confirmed_at
    # What was raised stays raised: a visit recorded later does not cover an alert already out.
    if not (_visible(row) and stay.visit is not None):
        state["visit_id"] = stay.visit
    state["rules"] = context.rules_for(clause, zone_id).as_dict()
    period = next(
        (
            p
            for p in context.periods
            if p.target.clause == clause and p.target.zone_id == zone_id and p.holds(stay.first_at)
        ),
        None,
    )
    schedule = period.target.schedule if period is not None else None
    state["schedule_window"] = None if schedule is None else schedule.window_at(stay.first_at)
    return state


def _update_row(
    session: Session,
    row: tables.Alert,
    stay: Stay,
    context: judging.Context,
    track: Track,
    verdicts: dict[int, list[model.Verdict]],
    by_fix: dict[int, Fix],
    now: datetime,
    *,
    full: bool = False,
) -> bool:
    """Bring a stored row in line with its derived stay, announcing what an open page must
    hear; a row that already says what the stay says is left alone (no UPDATE, no event).
    Returns whether the row changed. ``full``: assign every column even so (the path before
    this check, kept for tests to compare with)."""
    state = _state(row, stay, context, track, verdicts, by_fix)
    if not full and all(getattr(row, name) == value for name, value in state.items()):
        return False
    was_visible = _visible(row)
    before = (row.first_at, row.last_at, row.observation_count, row.closed_at)
    for name, value in state.items():
        setattr(row, name, value)
    changed = before != (row.first_at, row.last_at, row.observation_count, row.closed_at)
    if changed:
        row.updated_at = now
        row.judged_at = now
    if _visible(row):
        if not was_visible:
            alert_events.announce(session, row.id, "opened")
        elif before[3] is None and row.closed_at is not None:
            alert_events.announce(session, row.id, "closed")
        elif changed:
            alert_events.announce(session, row.id, "extended")
    return True


def _visible(row: tables.Alert) -> bool:
    """A stay that is an alert: confirmed, not covered by a visit, not merged away."""
    return row.confirmed_at is not None and row.visit_id is None and row.merged_into is None


def reach(settings: ApiSettings) -> timedelta:
    """How far from a change fixes can still shape the stays around it: the signal-lost gap
    plus the age a last known fix may have when a window opens."""
    return timedelta(seconds=settings.episode_gap_seconds + settings.last_known_seconds + 1)


@dataclass(frozen=True, slots=True)
class Span:
    """The stored stays a change can touch, the time they cover, and what held then."""

    stored: list[tables.Alert]
    lo: datetime
    hi: datetime
    context: judging.Context


def open_span(
    session: Session,
    subject_id: int,
    first: datetime,
    last: datetime,
    now: datetime,
    settings: ApiSettings,
) -> Span:
    """Lock the stays within reach of a change from ``first`` to ``last`` (widened until no
    stored stay straddles the span's ends) and load what held over that time."""
    return open_spans(session, {subject_id: (first, last, now)}, settings)[subject_id]


def open_spans(
    session: Session,
    changes: dict[int, tuple[datetime, datetime, datetime]],
    settings: ApiSettings,
    versions: Mapping[int, context_store.HeldVersion] | None = None,
) -> dict[int, Span]:
    """:func:`open_span` for many subjects (``subject -> (first, last, now)``), loading
    what held for all of them at once; with the ``versions`` of what held for them (read
    as they were locked), what is kept of it from an earlier request while it is the same
    (:func:`service.db.context_store.held_of`)."""
    r = reach(settings)
    found = stored_stays_of(
        session, {sid: (first - r, last + r, now) for sid, (first, last, now) in changes.items()}
    )
    if not found:
        return {}
    lo_all = min(lo for _, lo, _ in found.values()) - r
    hi_all = max(now for _, _, now in changes.values())
    ids = list(changes)
    if versions is not None:
        held = context_store.held_of(session, {sid: versions[sid] for sid in ids})
        periods = {sid: p for sid, (p, _) in held.items()}
        visits = {sid: v for sid, (_, v) in held.items()}
    else:
        periods = context_store.periods_of(session, ids, lo_all, hi_all)
        visits = context_store.visits_of(session, ids, lo_all, hi_all)
    spans: dict[int, Span] = {}
    for sid, (stored, lo, hi) in found.items():
        since, now = lo - r, changes[sid][2]
        context = judging.Context(
            subject_id=sid,
            periods=[p for p in periods[sid] if context_store.overlaps(p, since, now)],
            visits=[v for v in visits[sid] if context_store.overlaps(v, since, now)],
            gap_seconds=settings.episode_gap_seconds,
            last_known_seconds=settings.last_known_seconds,
        )
        spans[sid] = Span(stored, lo, hi, context)
    return spans


def rederive(
    session: Session,
    span: Span,
    now: datetime,
    settings: ApiSettings,
    tracks: set[Track] | None = None,
) -> dict[int, list[int]]:
    """Derive the span's stays again from every stored fix and bring the stored rows in
    line. ``tracks`` None: the stored stays' tracks and every track a fix is in."""
    sid = span.context.subject_id
    return rederive_many(session, {sid: (span, now, tracks)}, settings).counted[sid]


@dataclass
class Rederived:
    """What re-deriving stays did: for each subject, the visible alerts each fix now counts
    towards; and the alert each not yet stored verdict, ``(fix, clause, zone)``, counts
    towards (to be stored with it)."""

    counted: dict[int, dict[int, list[int]]]
    unsaved: dict[tuple[int, int, int], int | None]  # None: in no stay


def rederive_many(
    session: Session,
    work: Mapping[int, tuple[Span, datetime, set[Track] | None]],
    settings: ApiSettings,
    unsaved: Mapping[int, list[model.Verdict]] | None = None,
    *,
    full: bool = False,
) -> Rederived:
    """:func:`rederive` for many subjects (``subject -> (span, now, tracks)``): their fixes,
    verdicts and the fixes their stored stays own are read once for all of them.
    ``unsaved``: verdicts of fixes (by fix id) not stored yet, taken as if they were.
    ``full``: assign every stored row its stay's state even where it already says so (what
    tests compare the ordinary path with)."""
    r = reach(settings)
    fixes, verdicts, verdict_ids = fixes_and_verdicts(
        session, {sid: (span.lo - r, min(span.hi + r, now)) for sid, (span, now, _) in work.items()}
    )
    alert_of: dict[tuple[int, int, int], int | None] = {}
    for fix_id, found in (unsaved or {}).items():
        verdicts[fix_id].extend(found)
        alert_of.update(dict.fromkeys((fix_id, v.clause, v.zone_id) for v in found))
    owned = _owned_fixes(
        {row.id for span, _, _ in work.values() for row in span.stored}, verdict_ids
    )
    plans: dict[int, _Plan] = {}
    for sid, (span, now, tracks) in work.items():
        if tracks is None:
            tracks = {track_of_row(row) for row in span.stored}
            tracks |= {
                t for f in fixes[sid] for v in verdicts.get(f.id, ()) if (t := judging.track_of(v))
            }
        if tracks:
            plans[sid] = _plan(span.context, fixes[sid], verdicts, verdict_ids, span.stored,
                               tracks, span.lo - r, span.lo, now, span.hi, owned)  # fmt: skip
    applied = dict(
        zip(plans, _apply(session, list(plans.values()), alert_of, full=full), strict=True)
    )
    return Rederived({sid: applied.get(sid, {}) for sid in work}, alert_of)


def load_context(
    session: Session,
    subject_id: int,
    lo: datetime,
    hi: datetime,
    gap_seconds: float,
    last_known_seconds: float,
    as_of: datetime | None = None,
) -> judging.Context:
    return judging.Context(
        subject_id=subject_id,
        periods=context_store.periods(session, subject_id, lo, hi, as_of),
        visits=context_store.visits(session, subject_id, lo, hi, as_of),
        gap_seconds=gap_seconds,
        last_known_seconds=last_known_seconds,
        as_of=as_of,
    )


def resync(
    session: Session, subject_id: int, since: datetime, now: datetime, settings: ApiSettings
) -> dict[int, list[int]]:
    """Derive the subject's stays again from ``since`` to ``now`` and bring the stored ones
    in line: after a visit is recorded or withdrawn, and when the clock passes a window
    edge or a stay's signal-lost time (the worker)."""
    since = min(since, now)
    return rederive(
        session, open_span(session, subject_id, since, now, now, settings), now, settings
    )
