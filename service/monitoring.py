"""Recording observations: store each once, judge it, and open, extend or close alerts.

All of it happens in the caller's transaction, so an observation that got a success answer
is stored together with its verdicts and alerts, or nothing is.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import judging, stays_sync, transits
from service.db import context_store, convert, devices_store, observation_copy, tables
from service.db.arrays import among, any_of
from service.phase_clock import phase
from service.settings import ApiSettings
from zones import model
from zones.devices import Assignment, wearer_at
from zones.errors import (
    DeviceNotAssigned,
    InvalidObservation,
    ObservationTooOld,
    UnknownDevice,
    UnknownSubject,
    ZonesError,
)


@dataclass
class Recorded:
    """What became of one incoming observation."""

    index: int
    subject: model.Subject | None = None  # whose it is, once that is known
    observation_id: int | None = None
    duplicate: bool = False
    late: bool = False
    verdicts: list[model.Verdict] = field(default_factory=list)
    # What was in force at the fix's time (with ``outside``): judged against, listed or not.
    in_force: list[model.Target] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)
    error: ZonesError | None = None


KEY_COLUMNS = ("dedup_key",)


def dedup_key(obs: model.Observation, subject_id: int) -> int:
    """Identity of an observation within its subject's instant: the same fix sent twice is
    stored once. The first 64 bits of a sha256 of what it says (the key before revision
    0013 was the whole hash in hex, so the keys of fixes stored then still match)."""
    text = _identity(
        subject_id, obs.device_id, obs.kind.value, obs.time.astimezone(UTC), obs.lon, obs.lat
    )
    if obs.window is not None:  # "about 3 pm" and "14:00-16:00" are different reports
        text += "|" + "/".join(t.astimezone(UTC).isoformat() for t in obs.window)
    return _key64(text)


def _key64(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def _identity(
    subject_id: int, device_id: str | None, kind: str, time: datetime, lon: float, lat: float
) -> str:
    return f"{subject_id}|{device_id or ''}|{kind}|{time.isoformat()}|{lon:.7f}|{lat:.7f}"


def copy_keys(
    subject_ids: Sequence[int],
    device_ids: Sequence[str],
    unix_seconds: Sequence[int],
    lons: Sequence[float],
    lats: Sequence[float],
) -> dict[str, list[int]]:
    """The key columns (:data:`KEY_COLUMNS`) of fixes loaded by ``COPY`` (the ingest
    benchmark's), as :func:`dedup_key` would make them."""
    return {
        "dedup_key": [
            _key64(_identity(int(s), d, "fix", datetime.fromtimestamp(int(t), UTC), x, y))
            for s, d, t, x, y in zip(subject_ids, device_ids, unix_seconds, lons, lats, strict=True)
        ]
    }


def record(
    session: Session,
    observations: list[model.Observation],
    settings: ApiSettings,
    *,
    reporter: str | None = None,
    now: datetime | None = None,
    units: frozenset[str] | None = None,
    worn: Mapping[str, list[Assignment]] | None = None,
    outside: bool = True,
    near_m: float | None = None,
) -> list[Recorded]:
    """Store, judge and alert on a batch; per-item errors leave the other items untouched.

    With ``units``, a fix for a subject of another unit is refused as unknown, like one for
    a subject that does not exist. ``worn`` is who wore the batch's devices when, when the
    caller has read it already (:func:`service.db.devices_store.assignments`). With
    ``outside=False`` a fix's ``verdicts`` leave out the zones it is plainly outside of
    (what a batch answer needs), and only the zones that matter are measured; with it,
    ``near_m`` None lists every zone in force, a number only those that matter, those
    within ``near_m`` and the nearest of each condition (see :func:`judging.judge_many`),
    and ``in_force`` says what was in force."""
    now = now or datetime.now(UTC)
    results = [Recorded(index=i) for i in range(len(observations))]
    with phase("attribution"):  # the subjects are locked here too, in the same statement
        subject_of, subjects = _resolve_subjects(
            session, observations, results, settings, units, worn
        )
    by_subject: dict[int, list[int]] = defaultdict(list)
    for i, sid in subject_of.items():
        by_subject[sid].append(i)
        results[i].subject = subjects[sid][0]
    with phase("insert"):
        _store(session, observations, subject_of, results, settings, reporter, now)
    # Judge every subject, re-derive each one's stays from the stored verdicts and the new
    # ones, then store the new verdicts at once, each with the alert it counts towards: the
    # subjects are independent of one another.
    # Only the stays around the new fixes can change: those within reach of them, and those
    # touching these, until no more are found. Late data weeks back re-derives the weeks it
    # lands in, not everything since. What held then is loaded for all subjects at once.
    fresh = {
        sid: new
        for sid in sorted(by_subject)
        # A fix its device marked invalid is stored (flagged) but never judged.
        if (
            new := [
                i for i in by_subject[sid] if not results[i].duplicate and observations[i].valid
            ]
        )
    }
    changes = {sid: _change([observations[i].time for i in new], now) for sid, new in fresh.items()}
    with phase("context"):  # the stays around the new fixes, locked, and what held then
        versions = {sid: subjects[sid][1] for sid in changes}
        spans = stays_sync.open_spans(session, changes, settings, versions)
    verdict_rows: list[dict[str, object]] = []
    kept: dict[int, list[model.Verdict]] = {}  # what is stored of each new fix's verdicts
    with phase("judge"):
        verdicts = judging.judge_many(
            [(spans[sid].context, [observations[i] for i in new]) for sid, new in fresh.items()],
            outside=outside,
            # Fixes plainly outside are neither answered nor stored: never measured either.
            near_m=near_m if outside else 0.0,
        )
        if outside:
            for sid, new in fresh.items():
                for i in new:
                    results[i].in_force = spans[sid].context.targets(observations[i].time)
    judged = [
        _judged(subjects[sid][0], spans[sid], changes[sid][2], observations, new, found, results,
                verdict_rows, kept)
        for (sid, new), found in zip(fresh.items(), verdicts, strict=True)
    ]  # fmt: skip
    alert_of = _sync(session, judged, observations, results, settings, kept)
    with phase("verdicts"):
        for row in verdict_rows:
            key = (row["observation_id"], row["clause_id"], row["zone_id"])
            row["alert_id"] = alert_of.get(key)  # type: ignore[arg-type]
        observation_copy.copy_rows(session, "verdicts", verdict_rows)
    _count_repeats(session, results)
    _answer_repeats(session, observations, results, subjects, outside=outside)
    return results


def _lock_subjects(
    session: Session, ids: Collection[int], units: frozenset[str] | None
) -> dict[int, tuple[model.Subject, datetime | None, context_store.HeldVersion]]:
    """Lock the subjects' rows, in id order, and read how far retention has deleted each
    one's positions and the version of what held for it, in one statement: a fixed lock
    order keeps concurrent batches deadlock-free, and a batch's stays are re-derived by one
    writer at a time. With ``units``, a subject of another unit is neither locked nor
    returned."""
    params: dict[str, Any] = {"ids": list(ids)}
    if units is not None:  # a subject beyond the caller's reach is as unknown as none
        params["units"] = list(units)
    query = _locking(units is not None)
    return {
        row.id: (convert.subject(row), before, tuple(version))  # type: ignore[misc]
        for row, before, *version in session.execute(query, params)
    }


@cache
def _locking(of_units: bool) -> Any:
    """The statement of :func:`_lock_subjects`, built once (``of_units``: with the
    ``units`` parameter)."""
    s, m = tables.Subject, tables.RetentionMark
    query = (
        select(s, m.observations_before, *context_store.held_version(s.id))
        .outerjoin(m, m.subject_id == s.id)
        .where(any_of(s.id, "ids"))
        .order_by(s.id)
        .with_for_update(of=s)
    )
    return query.where(any_of(s.unit, "units")) if of_units else query


def _resolve_subjects(
    session: Session,
    observations: list[model.Observation],
    results: list[Recorded],
    settings: ApiSettings,
    units: frozenset[str] | None,
    worn: Mapping[str, list[Assignment]] | None = None,
) -> tuple[dict[int, int], dict[int, tuple[model.Subject, context_store.HeldVersion]]]:
    """The subject of each observation that may be recorded, and those subjects, locked
    (:func:`_lock_subjects`), each with the version of what held for it: refused when its
    device was not worn by its subject then, or when retention has deleted positions
    around it."""
    if worn is None:
        worn = devices_store.assignments(
            session, sorted({o.device_id for o in observations if o.device_id})
        )
    subject_of: dict[int, int] = {}
    for i, o in enumerate(observations):
        sid = o.subject_id
        if o.device_id is not None:
            if o.device_id not in worn:
                results[i].error = UnknownDevice(
                    f"no device with id {o.device_id!r}", field="device_id"
                )
                continue
            wearer = wearer_at(worn[o.device_id], o.time)
            if wearer is None:
                results[i].error = DeviceNotAssigned(
                    f"device {o.device_id!r} was not assigned to any subject at "
                    f"{o.time.isoformat()}",
                    field="device_id",
                )
                continue
            if sid is not None and sid != wearer:
                results[i].error = DeviceNotAssigned(
                    f"device {o.device_id!r} was not assigned to subject {sid} at "
                    f"{o.time.isoformat()}",
                    field="device_id",
                )
                continue
            sid = wearer
        if sid is None:
            results[i].error = InvalidObservation(
                "give subject_id or device_id", field="subject_id"
            )
        else:
            subject_of[i] = sid
    locked = _lock_subjects(session, set(subject_of.values()), units) if subject_of else {}
    for i, sid in list(subject_of.items()):
        o = observations[i]
        if sid not in locked:
            results[i].error = UnknownSubject(f"no subject with id {sid}", field="subject_id")
        elif (deleted_before := locked[sid][1]) is not None and o.span[0] < (
            oldest := oldest_accepted(deleted_before, settings)
        ):
            results[i].error = ObservationTooOld(
                f"time {o.span[0].isoformat()} is too old: retention has deleted this "
                f"subject's positions around it; the oldest accepted now is "
                f"{oldest.isoformat(timespec='seconds')}",
                field="time",
            )
        else:
            continue
        del subject_of[i]
    wanted = set(subject_of.values())
    return subject_of, {sid: (s, v) for sid, (s, _, v) in locked.items() if sid in wanted}


def oldest_accepted(deleted_before: datetime, settings: ApiSettings) -> datetime:
    """The earliest instant an observation of a subject may be from once retention has
    deleted its positions before ``deleted_before``: twice the stays' reach later, since
    re-deriving the stays around a fix reads the fixes within twice the reach before it
    (see :mod:`service.retention`)."""
    return deleted_before + 2 * stays_sync.reach(settings)


def _store(
    session: Session,
    observations: list[model.Observation],
    subject_of: dict[int, int],
    results: list[Recorded],
    settings: ApiSettings,
    reporter: str | None,
    now: datetime,
) -> None:
    """Insert the new observations once each, in one statement; mark the ones already
    stored (or sent twice in this batch) as duplicates."""
    late_after = timedelta(seconds=settings.late_after_seconds)
    where = sorted(subject_of)
    rows = [_row(observations[i], subject_of[i], reporter, now, late_after) for i in where]
    ids, fresh = observation_copy.store(session, rows)
    seen: set[observation_copy.Identity] = set()
    for i, row in zip(where, rows, strict=True):
        identity = (row["subject_id"], row["observed_at"], row["dedup_key"])
        results[i].observation_id = ids.get(identity)
        results[i].duplicate = identity not in fresh or identity in seen
        results[i].late = bool(row["late"])
        seen.add(identity)


def _row(
    o: model.Observation,
    subject_id: int,
    reporter: str | None,
    now: datetime,
    late_after: timedelta,
) -> dict[str, Any]:
    """The observations row of one observation: every column recording writes."""
    return {
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
        "dedup_key": dedup_key(o, subject_id),
        "speed_mps": o.speed_mps,
        "bearing_deg": o.bearing_deg,
        "altitude_m": o.altitude_m,
        "battery_pct": o.battery_pct,
        "valid": o.valid,
        "protocol": o.protocol,
        "client_id": o.client_id,
        "flags": list(o.flags) or None,
    }


@dataclass
class _Judged:
    """One subject's new fixes, judged, waiting for their stays to be brought in line."""

    subject: model.Subject
    fresh: list[int]  # indices into the batch
    span: stays_sync.Span
    until: datetime
    tracks: set[stays_sync.Track]


def _change(times: list[datetime], now: datetime) -> tuple[datetime, datetime, datetime]:
    """The span of a subject's new fixes, and until when its stays are derived."""
    return min(times), max(times), max(now, *times)


def _judged(
    subject: model.Subject,
    span: stays_sync.Span,
    until: datetime,
    observations: list[model.Observation],
    fresh: list[int],
    judged: list[list[model.Verdict]],
    results: list[Recorded],
    verdict_rows: list[dict[str, object]],
    kept: dict[int, list[model.Verdict]],
) -> _Judged:
    """Give the subject's new observations (``fresh``: indices into the batch) their
    verdicts; add the verdicts to keep to ``verdict_rows``, and to ``kept`` by fix."""
    tracks: set[stays_sync.Track] = {stays_sync.track_of_row(r) for r in span.stored}
    for i, verdicts in zip(fresh, judged, strict=True):
        res = results[i]
        res.verdicts = verdicts
        for v in verdicts:
            if (track := judging.track_of(v)) is not None:
                tracks.add(track)
            keep = (
                observations[i].kind is model.ObservationKind.SIGHTING
                or v.status is not model.Status.OUTSIDE
                or v.evidence is not model.Evidence.NONE
            )
            if keep and res.observation_id is not None:
                verdict_rows.append(_verdict_row(res.observation_id, v))
                kept.setdefault(res.observation_id, []).append(v)
    return _Judged(subject, fresh, span, until, tracks)


def _sync(
    session: Session,
    judged: list[_Judged],
    observations: list[model.Observation],
    results: list[Recorded],
    settings: ApiSettings,
    kept: dict[int, list[model.Verdict]],
) -> dict[tuple[int, int, int], int | None]:
    """Test the new fixes for possible transits, and bring the subjects' stays in line with
    every fix now stored, their verdicts ``kept`` (not stored yet) included. Returns the
    alert each new verdict counts towards (None: none), by ``(fix, clause, zone)``."""
    changes = []
    for j in judged:
        stored = [i for i in j.fresh if results[i].observation_id is not None]
        if stored:
            times = [observations[i].time for i in stored]
            changes.append(
                transits.Change(j.span.context, [results[i].observation_id or 0 for i in stored],
                                min(times), max(times), j.subject.travel_mode.top_speed_mps)
            )  # fmt: skip
    with phase("transits"):
        transits.update(session, changes, settings.transit_min_gap_seconds)
    work = {j.span.context.subject_id: (j.span, j.until, j.tracks) for j in judged if j.tracks}
    with phase("stays"):
        done = stays_sync.rederive_many(session, work, settings, kept)
    for j in judged:
        if (mine := done.counted.get(j.span.context.subject_id)) is None:
            continue
        for i in j.fresh:
            res = results[i]
            if res.observation_id is not None:
                res.alert_ids = sorted(set(mine.get(res.observation_id, [])))
    return done.unsaved


def _count_repeats(session: Session, results: list[Recorded]) -> None:
    """A fix sent again counts towards the alerts its first copy counts towards."""
    session.flush()
    repeated: dict[int, list[int]] = defaultdict(list)
    for i, res in enumerate(results):
        if res.duplicate and res.observation_id is not None:
            repeated[res.observation_id].append(i)
    if not repeated:
        return
    for obs_id, alerts in _alerts_of(session, list(repeated)).items():
        for i in repeated[obs_id]:
            results[i].alert_ids = alerts


def _answer_repeats(
    session: Session,
    observations: list[model.Observation],
    results: list[Recorded],
    subjects: Mapping[int, tuple[model.Subject, context_store.HeldVersion]],
    *,
    outside: bool,
) -> None:
    """A fix or sighting sent again (a retry, a double click) is answered as its first copy
    was judged: with the verdicts stored for it, not with none; and, with ``outside``, with
    what was in force at its time. Nothing is judged or stored again."""
    repeats = [
        (i, res.observation_id, res.subject.id)
        for i, res in enumerate(results)
        if res.duplicate
        and res.observation_id is not None
        and res.subject is not None
        and res.subject.id is not None
    ]
    if not repeats:
        return
    stored, _ = stays_sync.stored_verdicts(session, sorted({obs for _, obs, _ in repeats}))
    if not outside:
        for i, obs, _ in repeats:
            results[i].verdicts = stored.get(obs, [])
        return
    held = context_store.held_of(session, {sid: subjects[sid][1] for _, _, sid in repeats})
    contexts = {
        sid: judging.Context(sid, periods, [], 0.0, 0.0) for sid, (periods, _) in held.items()
    }
    # Stored verdicts hold the judgement; the names, buffer, ring and schedule window an
    # answer gives come from the target judged, as in a first answer.
    targets = {
        sid: {(t.condition_id, t.zone_id, t.zone_version): t for t in context.targets()}
        for sid, context in contexts.items()
    }
    for i, obs, sid in repeats:
        at, judged = observations[i].time, targets[sid]
        results[i].in_force = contexts[sid].targets(at)
        results[i].verdicts = [
            _as_answered(v, judged[key], at)
            for v in stored.get(obs, [])
            if (key := judging.targets_key(v)) in judged
        ]


def _as_answered(v: model.Verdict, target: model.Target, at: datetime) -> model.Verdict:
    """A stored verdict with what a first answer says of its target besides."""
    schedule = target.schedule
    return replace(
        v,
        names=target.names,
        buffer_m=target.buffer_m,
        warning_m=target.warning_m,
        window=None if schedule is None else judging.window_said(schedule, at, v.applies),
    )


def _verdict_row(observation_id: int, v: model.Verdict) -> dict[str, object]:
    return {
        "observation_id": observation_id,
        "alert_id": None,
        "order_id": v.order_id,
        "condition_id": v.condition_id,
        "clause_id": v.clause,
        "zone_id": v.zone_id,
        "zone_version": v.zone_version,
        "status": v.status.value,
        "evidence": v.evidence.value,
        "distance_m": v.distance_m,
        "disc_fraction_inside": v.disc_fraction_inside,
        "applies": v.applies,
    }


def _alerts_of(session: Session, observation_ids: list[int]) -> dict[int, list[int]]:
    """The alerts (confirmed, not authorised, not merged) each stored observation counts
    towards."""
    found: dict[int, set[int]] = defaultdict(set)
    a, v = tables.Alert, tables.Verdict
    rows = session.execute(
        select(v.observation_id, v.alert_id)
        .join(a, a.id == v.alert_id)
        .where(
            among(v.observation_id, observation_ids),
            a.confirmed_at.is_not(None),
            a.visit_id.is_(None),
            a.merged_into.is_(None),
        )
    )
    for obs_id, alert_id in rows:
        if alert_id is not None:
            found[obs_id].add(alert_id)
    return {o: sorted(a) for o, a in found.items()}
