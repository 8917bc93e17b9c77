"""Device alerts in the store: communication loss kept on time by the worker, and the
trackers' alarms raised as their fixes are recorded.

Both are rows of ``alerts`` (``kind`` other than ``zone``) and go through the same handling,
events and pages as stays in zones. One alert of each kind is open per subject at a time;
the rules and words are in :mod:`zones.device_alerts`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, cast, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.db import alert_events, context_store, tables
from service.db.arrays import among
from service.monitoring import Recorded
from service.settings import ApiSettings
from zones import device_alerts
from zones.feeds.fix import FeedFix
from zones.model import AlertKind, AlertStatus, Handling

LOSS = AlertKind.COMMUNICATION_LOSS.value
# How far back (by their own times) the per-tick look for recent fixes goes, beyond the
# longest silence: a subject heard from within it is not silent; one that is not is looked
# at fully (a back-fill of old fixes received just now is contact too).
RECENT_SLACK = timedelta(hours=1)
# How long after a loss ends fixes from its gap are still counted as its back-fill.


@dataclass(frozen=True, slots=True)
class Requirement:
    """A clause in force that requires a working tag, and since when one has been required."""

    order_id: int
    condition_id: int
    clause_id: int
    silence: timedelta
    since: datetime


@dataclass(frozen=True, slots=True)
class LastFix:
    id: int
    received_at: datetime
    observed_at: datetime
    device_id: str | None
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class _Version:
    """An order version as deciding when it is in force reads it (plain rows: thousands)."""

    id: int
    order_id: int
    subject_id: int
    version: int
    effective_from: datetime | None
    status: str
    starts: date
    ends: date | None


@dataclass(frozen=True, slots=True)
class _Clause:
    id: int
    clause_id: int
    position: int
    silence_minutes: int


def requirements(session: Session, now: datetime) -> dict[int, Requirement]:
    """Each subject a clause in force at ``now`` requires to wear a tag: the clause with the
    shortest silence, and since when a tag has been required without a break."""
    o, ov, c = tables.Order, tables.OrderVersion, tables.Condition
    tagged = select(c.order_id).where(c.tag_required).distinct().scalar_subquery()
    versions = [
        _Version(*r)
        for r in session.execute(
            select(
                ov.id, ov.order_id, o.subject_id, ov.version, ov.effective_from, ov.status,
                ov.starts, ov.ends,
            )
            .join(o, o.id == ov.order_id)
            .where(ov.order_id.in_(tagged))
            .order_by(ov.order_id, ov.version)
        )
    ]  # fmt: skip
    if not versions:
        return {}
    clauses: dict[int, list[_Clause]] = defaultdict(list)
    for r in session.execute(
        select(c.order_version_id, c.id, c.clause_id, c.position, c.silence_minutes).where(
            c.tag_required, c.order_id.in_(tagged)
        )
    ):
        clauses[r[0]].append(_Clause(*r[1:]))
    by_order: dict[int, list[tuple[int, _Version]]] = defaultdict(list)
    for v in versions:
        by_order[v.order_id].append((v.order_id, v))
    found: dict[int, Requirement] = {}
    for pairs in by_order.values():
        spans = context_store.in_force(pairs, context_store.BEGINNING, now)
        if not spans or not (spans[-1][3] is None or spans[-1][3] > now):
            continue  # not in force now
        _, version, since, _ = spans[-1]
        if not clauses[version.id]:
            continue
        # Earlier versions that required a tag up to this one carry the requirement back.
        for _, earlier, start, end in reversed(spans[:-1]):
            if end != since or not clauses[earlier.id]:
                break
            since = start
        clause = min(clauses[version.id], key=lambda x: (x.silence_minutes, x.position))
        need = Requirement(
            version.order_id,
            clause.id,
            clause.clause_id,
            timedelta(minutes=clause.silence_minutes),
            since,
        )
        held = found.get(version.subject_id)
        if held is None or (need.silence, need.since) < (held.silence, held.since):
            found[version.subject_id] = need
    return found


def last_fix(session: Session, subject_id: int, now: datetime) -> LastFix | None:
    """The last fix received from any of the subject's devices by ``now``."""
    ob = tables.Observation
    row = session.execute(
        select(
            ob.id, ob.received_at, ob.observed_at, ob.device_id,
            func.ST_X(ob.geom), func.ST_Y(ob.geom),
        )
        .where(ob.subject_id == subject_id, ob.device_id.is_not(None), ob.received_at <= now)
        .order_by(ob.received_at.desc(), ob.observed_at.desc(), ob.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    return None if row is None else LastFix(*row)


def heard_recently(
    session: Session, needs: dict[int, Requirement], now: datetime
) -> dict[int, datetime]:
    """The last receipt of a fix observed lately, for each subject in ``needs`` that has one:
    one indexed pass over the recent fixes of them all (by subject and time), not a scan of
    every track at every tick."""
    if not needs:
        return {}
    ob = tables.Observation
    since = now - max(n.silence for n in needs.values()) - RECENT_SLACK
    rows = session.execute(
        select(ob.subject_id, func.max(ob.received_at))
        .where(
            ob.subject_id.in_(list(needs)),
            ob.device_id.is_not(None),
            ob.observed_at >= since,
            ob.received_at <= now,
        )
        .group_by(ob.subject_id)
    )
    return {sid: at for sid, at in rows}


def _lock(session: Session, subject_id: int) -> None:
    """The subject's lock, the one recording takes first."""
    session.execute(
        select(tables.Subject.id).where(tables.Subject.id == subject_id).with_for_update()
    )


def _open_row(session: Session, subject_id: int, kind: str) -> tables.Alert | None:
    a = tables.Alert
    return session.scalar(
        select(a)
        .where(a.subject_id == subject_id, a.kind == kind, a.status == AlertStatus.OPEN.value)
        .with_for_update()
    )


def _new(subject_id: int, kind: AlertKind, first: datetime, now: datetime) -> tables.Alert:
    return tables.Alert(
        subject_id=subject_id,
        kind=kind.value,
        status=AlertStatus.OPEN.value,
        handling=Handling.UNHANDLED.value,
        first_at=first,
        last_at=first,
        observation_count=0,
        late=False,
        confirmed_at=now,  # a device alert is an alert at once: no stay to confirm
        opened_by="alarm" if kind is not AlertKind.COMMUNICATION_LOSS else "silence",
        judged_at=now,
        updated_at=now,
    )


def _point(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon!r} {lat!r})"


def _link(session: Session, alert_id: int, observation_ids: Sequence[int]) -> None:
    if observation_ids:
        session.execute(
            insert(tables.AlertObservation).on_conflict_do_nothing(),
            [{"alert_id": alert_id, "observation_id": i} for i in observation_ids],
        )


def _open_loss(
    session: Session, subject_id: int, need: Requirement, last: LastFix | None, now: datetime
) -> int | None:
    """Open a communication loss if the silence has lasted the clause's time by ``now``."""
    began = device_alerts.silence_began(last.received_at if last else None, need.since)
    if now < began + need.silence:
        return None
    a = tables.Alert
    raised = session.scalar(
        select(func.count()).where(a.subject_id == subject_id, a.kind == LOSS, a.first_at >= began)
    )
    if raised:
        return None  # this silence has had its alert (closed when the tag ceased to be required)
    assigned = session.scalar(
        select(func.count()).where(tables.DeviceAssignment.subject_id == subject_id)
    )
    row = _new(subject_id, AlertKind.COMMUNICATION_LOSS, began, now)
    row.order_id, row.condition_id, row.clause_id = need.order_id, need.condition_id, need.clause_id
    detail: dict[str, Any] = {
        "silence_minutes": int(need.silence.total_seconds() // 60),
        "due_at": (began + need.silence).isoformat(),
        "no_device": not assigned,
        "last_received_at": last.received_at.isoformat() if last else None,
        "last_observed_at": last.observed_at.isoformat() if last else None,
    }
    row.detail = detail
    if last is not None:
        row.device_id = last.device_id
        row.geom = _point(last.lon, last.lat)
    session.add(row)
    session.flush()
    if last is not None:
        _link(session, row.id, [last.id])
    alert_events.announce(session, row.id, "opened")
    return row.id


def _close(session: Session, row: tables.Alert, at: datetime, why: str, now: datetime) -> None:
    row.status, row.closed_at, row.closed_by = AlertStatus.CLOSED.value, at, why
    row.last_at = max(row.last_at, at)
    row.updated_at = now
    alert_events.announce(session, row.id, "closed")


def _returned(session: Session, row: tables.Alert, now: datetime) -> datetime | None:
    """When fixes were first received again after the silence an open loss stands for."""
    ob = tables.Observation
    return session.scalar(
        select(func.min(ob.received_at)).where(
            ob.subject_id == row.subject_id,
            ob.device_id.is_not(None),
            ob.received_at > row.first_at,
            ob.received_at <= now,
        )
    )


def _record_backfill(session: Session, row: tables.Alert, now: datetime) -> bool:
    """Count the fixes received after the silence began whose own times fall in its gap."""
    detail = dict(row.detail or {})
    gap_from = (
        datetime.fromisoformat(detail["last_observed_at"])
        if detail.get("last_observed_at")
        else row.first_at
    )
    ob = tables.Observation
    observed = list(
        session.scalars(
            select(ob.observed_at).where(
                ob.subject_id == row.subject_id,
                ob.device_id.is_not(None),
                ob.received_at > row.first_at,
                ob.received_at <= now,
                ob.observed_at > gap_from,
                ob.observed_at <= (row.closed_at or now),
            )
        )
    )
    fill = device_alerts.backfill(observed)
    if fill == detail.get("backfill"):
        return False
    detail["backfill"] = fill
    row.detail = detail
    row.observation_count = len(observed)
    row.updated_at = now
    alert_events.announce(session, row.id, "extended")
    return True


def keep_silences(session: Session, since: datetime, now: datetime, settings: ApiSettings) -> int:
    """The worker's job: open a communication loss when a subject a clause requires to wear
    a tag has sent no fix for the clause's silence; close it when fixes are received again or
    no clause requires a tag any more; record back-fill that lands in a gap; end alarms not
    repeated for ``settings.alarm_quiet_minutes``. Returns how many alerts it changed."""
    a = tables.Alert
    alarm_quiet = timedelta(minutes=settings.alarm_quiet_minutes)
    backfill_window = timedelta(days=settings.backfill_days)
    needs = requirements(session, now)
    open_loss = set(session.scalars(select(a.subject_id).where(a.kind == LOSS, a.status == "open")))
    heard = heard_recently(session, needs, now)
    quiet = {s for s, n in needs.items() if s not in heard or heard[s] + n.silence <= now}
    changed = 0
    for subject_id in sorted(quiet | open_loss):  # the same lock order as recording
        _lock(session, subject_id)
        row = _open_row(session, subject_id, LOSS)
        if row is not None:
            back = _returned(session, row, now)
            if back is not None:
                _close(session, row, back, "fixes_returned", now)
                changed += 1
            elif subject_id not in needs:
                _close(session, row, now, "requirement_ended", now)
                changed += 1
        if (row is None or row.status != "open") and subject_id in needs:
            last = last_fix(session, subject_id, now)
            changed += _open_loss(session, subject_id, needs[subject_id], last, now) is not None
        session.commit()
    # Fixes received since the last run that fall in the gap of a loss: its back-fill.
    ob = tables.Observation
    gap_from = func.coalesce(
        cast(a.detail["last_observed_at"].astext, DateTime(timezone=True)), a.first_at
    )
    touched = session.scalars(
        select(a)
        .where(a.kind == LOSS, func.coalesce(a.closed_at, now) > now - backfill_window)
        .where(
            select(ob.id)
            .where(
                ob.subject_id == a.subject_id,
                ob.device_id.is_not(None),
                ob.observed_at > gap_from,
                ob.observed_at <= func.coalesce(a.closed_at, now),
                ob.received_at > since,
                ob.received_at <= now,
                ob.received_at > a.first_at,
            )
            .exists()
        )
        .order_by(a.subject_id)
        .with_for_update()
    ).all()
    changed += sum(_record_backfill(session, row, now) for row in touched)
    for row in session.scalars(
        select(a)
        .where(a.kind != LOSS, a.kind != AlertKind.ZONE.value, a.status == "open")
        .where(a.last_at < now - alarm_quiet)
        .with_for_update()
    ):
        _close(session, row, row.last_at + alarm_quiet, "alarm_quiet", now)
        changed += 1
    session.commit()
    return changed


def raise_alarms(
    session: Session, fixes: Sequence[FeedFix], results: Sequence[Recorded], now: datetime
) -> list[int]:
    """Open or extend an alert for each alarm the recorded fixes carry (one open alert per
    subject and kind, extended by repeats), in the caller's transaction; the fixes are its
    evidence, and each fix's result lists it in ``alert_ids``. A resent fix names the
    alerts its stored copy is evidence of and extends nothing with them; an alarm it
    carries that no alert of the stored copy is of (a resend that adds the alarm its first
    copy lacked) is raised from the stored fix. Returns the alerts opened or extended."""
    wanted: dict[int, list[AlertKind]] = {}
    resent: dict[int, list[AlertKind]] = {}
    for fix, rec in zip(fixes, results, strict=True):
        kinds = device_alerts.alarm_kinds(fix.alarms)
        if kinds and rec.observation_id is not None:
            if rec.duplicate:
                resent.setdefault(rec.observation_id, []).extend(kinds)
            else:
                wanted[rec.observation_id] = kinds
    raised: dict[int, set[int]] = defaultdict(set)  # observation -> its alarm alerts
    if resent:
        ao, a = tables.AlertObservation, tables.Alert
        known: dict[int, set[str]] = defaultdict(set)  # observation -> kinds it is evidence of
        for obs_id, alert_id, kind in session.execute(
            select(ao.observation_id, ao.alert_id, a.kind)
            .join(a, a.id == ao.alert_id)
            .where(among(ao.observation_id, resent))
        ):
            raised[obs_id].add(alert_id)
            known[obs_id].add(kind)
        for obs_id, kinds in resent.items():
            if new := [k for k in kinds if k.value not in known[obs_id]]:
                wanted[obs_id] = list(dict.fromkeys([*wanted.get(obs_id, []), *new]))
    touched = _raise(session, wanted, raised, now) if wanted else []
    for rec in results:
        if rec.observation_id in raised:
            rec.alert_ids = sorted({*rec.alert_ids, *raised[rec.observation_id]})
    return touched


def _raise(
    session: Session,
    wanted: dict[int, list[AlertKind]],
    raised: dict[int, set[int]],
    now: datetime,
) -> list[int]:
    ob = tables.Observation
    rows = session.execute(
        select(
            ob.id, ob.subject_id, ob.observed_at, ob.device_id, ob.late,
            func.ST_X(ob.geom).label("lon"), func.ST_Y(ob.geom).label("lat"),
        )
        .where(ob.id.in_(list(wanted)))
        .order_by(ob.observed_at, ob.id)
    ).all()  # fmt: skip
    groups: dict[tuple[int, AlertKind], list[Any]] = defaultdict(list)
    for r in rows:
        for kind in wanted[r.id]:
            groups[(r.subject_id, kind)].append(r)
    touched: list[int] = []
    for (subject_id, kind), fixes_of in sorted(groups.items()):
        first, latest = fixes_of[0], fixes_of[-1]
        row = _open_row(session, subject_id, kind.value)
        if row is None:
            row = _new(subject_id, kind, first.observed_at, now)
            row.device_id = first.device_id
            row.geom = _point(first.lon, first.lat)  # where the alarm was first raised
            session.add(row)
            session.flush()
            alert_events.announce(session, row.id, "opened")
        else:
            row.first_at = min(row.first_at, first.observed_at)
            row.updated_at = now
            alert_events.announce(session, row.id, "extended")
        row.last_at = max(row.last_at, latest.observed_at)
        row.observation_count += len(fixes_of)
        row.late = row.late or any(f.late for f in fixes_of)
        _link(session, row.id, [f.id for f in fixes_of])
        for f in fixes_of:
            raised[f.id].add(row.id)
        touched.append(row.id)
    session.flush()
    return touched
