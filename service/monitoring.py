"""Recording observations: store each once, judge it, and open, extend or close alerts.

All of it happens in the caller's transaction, so an observation that got a success answer
is stored together with its verdicts and alerts, or nothing is.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.db import alerts_store, convert, orders_store, tables
from service.settings import ApiSettings
from zones import episodes, judge, model
from zones.errors import InvalidObservation, UnknownDevice, UnknownSubject, ZonesError

LOOKUP_CHUNK = 5_000  # keys per IN (...): PostgreSQL takes at most 65,535 parameters
EVIDENCE_RANK = {model.Evidence.NONE: 0, model.Evidence.POSSIBLE: 1, model.Evidence.DEFINITE: 2}


@dataclass
class Recorded:
    """What became of one incoming observation."""

    index: int
    observation_id: int | None = None
    duplicate: bool = False
    late: bool = False
    verdicts: list[model.Verdict] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)
    error: ZonesError | None = None


def dedup_key(obs: model.Observation, subject_id: int) -> str:
    """Identity of an observation: the same fix sent twice is stored once."""
    text = (
        f"{subject_id}|{obs.device_id or ''}|{obs.kind.value}|"
        f"{obs.time.astimezone(UTC).isoformat()}|{obs.lon:.7f}|{obs.lat:.7f}"
    )
    if obs.window is not None:  # "about 3 pm" and "14:00-16:00" are different reports
        text += "|" + "/".join(t.astimezone(UTC).isoformat() for t in obs.window)
    return hashlib.sha256(text.encode()).hexdigest()


def record(
    session: Session,
    observations: list[model.Observation],
    settings: ApiSettings,
    *,
    reporter: str | None = None,
    now: datetime | None = None,
) -> list[Recorded]:
    """Store, judge and alert on a batch; per-item errors leave the other items untouched."""
    now = now or datetime.now(UTC)
    results = [Recorded(index=i) for i in range(len(observations))]
    subject_of = _resolve_subjects(session, observations, results)
    by_subject: dict[int, list[int]] = defaultdict(list)
    for i, sid in subject_of.items():
        by_subject[sid].append(i)
    for sid in sorted(by_subject):  # a fixed lock order keeps concurrent batches deadlock-free
        _record_subject(
            session, sid, observations, by_subject[sid], results, settings, reporter, now
        )
    return results


def _resolve_subjects(
    session: Session, observations: list[model.Observation], results: list[Recorded]
) -> dict[int, int]:
    devices = orders_store.device_subjects(
        session, sorted({o.device_id for o in observations if o.device_id and not o.subject_id})
    )
    wanted = {o.subject_id for o in observations if o.subject_id is not None}
    wanted |= {s for s in devices.values() if s is not None}
    known = set(session.scalars(select(tables.Subject.id).where(tables.Subject.id.in_(wanted))))
    subject_of: dict[int, int] = {}
    for i, o in enumerate(observations):
        sid = o.subject_id
        if sid is None and o.device_id is not None:
            if o.device_id not in devices:
                results[i].error = UnknownDevice(
                    f"no device with id {o.device_id!r}", field="device_id"
                )
                continue
            sid = devices[o.device_id]
            if sid is None:
                results[i].error = InvalidObservation(
                    f"device {o.device_id!r} is not assigned to a subject", field="device_id"
                )
                continue
        if sid is None:
            results[i].error = InvalidObservation(
                "give subject_id or device_id", field="subject_id"
            )
        elif sid not in known:
            results[i].error = UnknownSubject(f"no subject with id {sid}", field="subject_id")
        else:
            subject_of[i] = sid
    return subject_of


def _record_subject(
    session: Session,
    subject_id: int,
    observations: list[model.Observation],
    indices: list[int],
    results: list[Recorded],
    settings: ApiSettings,
    reporter: str | None,
    now: datetime,
) -> None:
    orders_store.get_subject(session, subject_id, lock=True)
    late_after = timedelta(seconds=settings.late_after_seconds)
    obs = [observations[i] for i in indices]
    keys = [dedup_key(o, subject_id) for o in obs]
    rows = [
        {
            "subject_id": subject_id,
            "device_id": o.device_id,
            "kind": o.kind.value,
            "observed_at": o.time,
            "received_at": now,
            "geom": f"SRID=4326;POINT({o.lon!r} {o.lat!r})",
            "accuracy_m": o.accuracy_m,
            "reporter": reporter,
            "source": o.source.value if o.source else None,
            "source_detail": o.source_detail,
            "observed_from": o.window[0] if o.window else None,
            "observed_to": o.window[1] if o.window else None,
            "late": now - o.span[1] > late_after,
            "dedup_key": k,
        }
        for o, k in zip(obs, keys, strict=True)
    ]
    inserted: dict[str, int] = {}
    existing: dict[str, int] = {}
    # One cached statement, many parameter sets: SQLAlchemy batches them into multi-row
    # INSERTs itself, staying under PostgreSQL's 65,535 parameters per statement.
    inserted.update(
        session.execute(
            insert(tables.Observation)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(tables.Observation.dedup_key, tables.Observation.id),
            rows,
        ).all()
    )
    resent = [k for k in keys if k not in inserted]
    for start in range(0, len(resent), LOOKUP_CHUNK):
        existing.update(
            session.execute(
                select(tables.Observation.dedup_key, tables.Observation.id).where(
                    tables.Observation.dedup_key.in_(resent[start : start + LOOKUP_CHUNK])
                )
            ).all()
        )
    seen: set[str] = set()
    for i, k, row in zip(indices, keys, rows, strict=True):
        results[i].observation_id = inserted.get(k, existing.get(k))
        results[i].duplicate = k not in inserted or k in seen  # sent twice in one batch too
        results[i].late = bool(row["late"])
        seen.add(k)

    firsts = orders_store.civil_day([o.span[0] for o in obs])
    lasts = orders_store.civil_day([o.span[1] for o in obs])
    targets, orders = orders_store.targets(session, subject_id, min(firsts), max(lasts))
    if not targets:
        return
    in_force = {o.id: o for o in orders}
    j = judge.judge(
        [o.lon for o in obs],
        [o.lat for o in obs],
        [np.nan if o.accuracy_m is None else o.accuracy_m for o in obs],
        targets,
    )
    for pos, (i, verdicts) in enumerate(
        zip(indices, j.verdicts_by_observation(targets, len(obs)), strict=True)
    ):
        results[i].verdicts = [
            v for v in verdicts if in_force[v.order_id].in_force_between(firsts[pos], lasts[pos])
        ]
    _update_alerts(session, subject_id, obs, indices, results, settings)


def _update_alerts(
    session: Session,
    subject_id: int,
    obs: list[model.Observation],
    indices: list[int],
    results: list[Recorded],
    settings: ApiSettings,
) -> None:
    gap = timedelta(seconds=settings.episode_gap_seconds)
    times = [o.time for o in obs]
    rows = alerts_store.episodes(session, subject_id, min(times) - gap, max(times) + gap)
    # A stay is one subject in one zone of one clause, across versions of its order.
    by_key: dict[tuple[int, int], list[tables.Alert]] = defaultdict(list)
    for r in rows:
        by_key[(r.clause_id, r.zone_id)].append(r)
    changes: dict[int, str] = {}
    open_keys = {key for key, alerts in by_key.items() if any(a.closed_at is None for a in alerts)}
    order = sorted(range(len(obs)), key=lambda p: times[p])  # by when it happened
    verdict_rows: list[dict[str, object]] = []
    for pos in order:
        res = results[indices[pos]]
        for v in res.verdicts:
            alert = None
            key = (v.clause, v.zone_id)
            # A clear verdict only matters to an open stay (it may end it): skip the rest cheaply.
            if (v.is_breach or key in open_keys) and not res.duplicate:
                alert = _place(session, by_key, subject_id, obs[pos], res.late, v, gap, changes)
                if any(a.closed_at is None for a in by_key[key]):
                    open_keys.add(key)
                else:
                    open_keys.discard(key)
            if alert is not None and alert.id not in res.alert_ids:
                res.alert_ids.append(alert.id)
            keep = (
                obs[pos].kind is model.ObservationKind.SIGHTING
                or v.evidence is not model.Evidence.NONE
            )
            if keep and not res.duplicate and res.observation_id is not None:
                verdict_rows.append(
                    {
                        "observation_id": res.observation_id,
                        "alert_id": alert.id if alert is not None and v.is_breach else None,
                        "order_id": v.order_id,
                        "condition_id": v.condition_id,
                        "clause_id": v.clause,
                        "zone_id": v.zone_id,
                        "zone_version": v.zone_version,
                        "status": v.status.value,
                        "evidence": v.evidence.value,
                        "distance_m": v.distance_m,
                        "disc_fraction_inside": v.disc_fraction_inside,
                    }
                )
    session.flush()
    if verdict_rows:
        session.execute(insert(tables.Verdict), verdict_rows)
    alerts_store.add_events(session, changes)
    # After the insert, so a fix repeated within this batch finds its twin's alerts too.
    repeated: dict[int, list[int]] = defaultdict(list)
    for i in indices:
        if results[i].duplicate and results[i].observation_id is not None:
            repeated[results[i].observation_id or 0].append(i)
    for obs_id, alerts in _alerts_of(session, list(repeated)).items():
        for i in repeated[obs_id]:
            results[i].alert_ids = alerts


def _place(
    session: Session,
    by_key: dict[tuple[int, int], list[tables.Alert]],
    subject_id: int,
    obs: model.Observation,
    late: bool,
    v: model.Verdict,
    gap: timedelta,
    changes: dict[int, str],
) -> tables.Alert | None:
    """Apply one verdict to its condition's episodes; the alert it opened, extended or closed.

    ``changes`` collects one event per alert touched (its first kind of change wins).
    """
    alerts = by_key[(v.clause, v.zone_id)]
    placement = episodes.place([convert.episode(a) for a in alerts], obs.time, v.is_breach, gap)
    ep = placement.episode
    if placement.action is episodes.Action.NONE or ep is None:
        return None
    if placement.action is episodes.Action.OPEN:
        row = tables.Alert(
            subject_id=subject_id,
            order_id=v.order_id,
            condition_id=v.condition_id,
            clause_id=v.clause,
            zone_id=v.zone_id,
            zone_version=v.zone_version,
            status=model.AlertStatus.OPEN.value,
            handling=model.Handling.UNHANDLED.value,
            evidence=v.evidence.value,
            first_at=ep.first_at,
            last_at=ep.last_at,
            observation_count=1,
            late=late,
            deepest_m=v.distance_m,
            geom=f"SRID=4326;POINT({obs.lon!r} {obs.lat!r})",
        )
        session.add(row)
        session.flush()
        alerts.append(row)
        changes.setdefault(row.id, "opened")
        return row
    assert placement.index is not None
    row = alerts[placement.index]
    if placement.action is episodes.Action.CLOSE:
        row.closed_at = ep.closed_at
        row.status = model.AlertStatus.CLOSED.value
        changes.setdefault(row.id, "closed")
        return None
    changes.setdefault(row.id, "extended")
    row.first_at, row.last_at = ep.first_at, ep.last_at
    row.observation_count = ep.observation_count
    row.deepest_m = min(row.deepest_m, v.distance_m)
    if EVIDENCE_RANK[v.evidence] > EVIDENCE_RANK[model.Evidence(row.evidence)]:
        row.evidence = v.evidence.value
    return row


def _alerts_of(session: Session, observation_ids: list[int]) -> dict[int, list[int]]:
    """The alerts each stored observation counted towards."""
    found: dict[int, set[int]] = defaultdict(set)
    rows = session.execute(
        select(tables.Verdict.observation_id, tables.Verdict.alert_id).where(
            tables.Verdict.observation_id.in_(observation_ids),
            tables.Verdict.alert_id.is_not(None),
        )
    )
    for obs_id, alert_id in rows:
        if alert_id is not None:
            found[obs_id].add(alert_id)
    return {o: sorted(a) for o, a in found.items()}
