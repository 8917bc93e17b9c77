"""Fixes from devices into the store: every feed (HTTP protocols, MQTT, uploads) comes
through :func:`accept`, so they are attributed, filtered, judged and alerted alike."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.orm import Session

from service import device_alerts, monitoring
from service.db import devices_store, tables
from service.feeds import credentials
from service.settings import ApiSettings
from zones import model
from zones.devices import Assignment, wearer_at
from zones.errors import InvalidObservation, UnknownDevice, ZonesError
from zones.feeds import filters
from zones.feeds.fix import FeedFix
from zones.geometry import check_position

CLOCK_SKEW = timedelta(minutes=5)  # a fix "from the future" beyond this is a device clock fault


def not_future(instant: datetime, now: datetime, field: str) -> None:
    """Refuse an instant later than ``now`` by more than the clock skew allowed."""
    if instant - now > CLOCK_SKEW:
        raise InvalidObservation(f"time {instant.isoformat()} is in the future", field=field)


def _observation(fix: FeedFix, now: datetime) -> model.Observation:
    check_position(fix.lon, fix.lat)
    not_future(fix.time, now, "time")
    return model.Observation(
        lon=fix.lon,
        lat=fix.lat,
        time=fix.time.astimezone(UTC),
        accuracy_m=fix.accuracy_m,
        device_id=fix.device,
        kind=model.ObservationKind.FIX,
        speed_mps=fix.speed_mps,
        bearing_deg=fix.bearing_deg,
        altitude_m=fix.altitude_m,
        battery_pct=fix.battery_pct,
        valid=fix.valid,
        protocol=fix.protocol or None,
        client_id=fix.client_id,
        flags=() if fix.valid else (filters.INVALID,),
    )


def accept(
    session: Session,
    fixes: Sequence[FeedFix],
    settings: ApiSettings,
    *,
    reporter: str,
    devices: frozenset[str] | None = None,
    now: datetime | None = None,
    credential_id: int | None = None,
) -> list[monitoring.Recorded]:
    """Store and judge fixes from devices, in the caller's transaction; one result per fix,
    in order.

    With ``devices`` (a device's or gateway's credential), a fix from any other device is
    refused as unknown, and counted on ``credential_id``. A fix whose device was worn by
    nobody at its time is refused, as is one from the future. A resent fix (the same
    device and time, or the same client id) is answered as a duplicate of the stored one.
    A fix the device marked invalid is stored, flagged and not judged; one implying an
    impossible speed from the subject's previous fix is judged and flagged ``jump``.
    """
    now = now or datetime.now(UTC)
    results = [monitoring.Recorded(index=i) for i in range(len(fixes))]
    refused: list[str] = []
    fresh: list[tuple[int, model.Observation]] = []
    copy_of: dict[int, int] = {}  # a fix sent twice in this batch -> its first copy
    seen: dict[tuple[object, ...], int] = {}
    for i, fix in enumerate(fixes):
        try:
            if devices is not None and fix.device not in devices:
                refused.append(fix.device)
                raise UnknownDevice(
                    f"device {fix.device!r} is not one this credential may submit for",
                    field="device",
                )
            obs = _observation(fix, now)
        except ZonesError as exc:
            results[i].error = exc
            continue
        keys: list[tuple[object, ...]] = [("time", obs.device_id, obs.time)]
        if obs.client_id is not None:
            keys.append(("client", obs.device_id, obs.client_id))
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            copy_of[i] = first
            continue
        seen.update(dict.fromkeys(keys, i))
        fresh.append((i, obs))

    # Who wore what when, read once: recording attributes the fixes by the same periods.
    worn = devices_store.assignments(
        session, sorted({o.device_id for _, o in fresh if o.device_id})
    )
    wearers = _wearers(worn, [o for _, o in fresh])
    by_client = _stored_by_client_id(session, [o for _, o in fresh])
    by_time = _stored_by_time(session, [(w, o) for w, (_, o) in zip(wearers, fresh, strict=True)])
    todo: list[tuple[int, model.Observation]] = []
    todo_wearers: list[int | None] = []
    for (i, obs), wearer in zip(fresh, wearers, strict=True):
        known = by_client.get(
            (obs.device_id, obs.client_id), by_time.get((obs.device_id, obs.time))
        )
        if known is not None:
            results[i] = monitoring.Recorded(index=i, observation_id=known, duplicate=True)
        else:
            todo.append((i, obs))
            todo_wearers.append(wearer)
    observations = _flag_jumps(session, [o for _, o in todo], todo_wearers, settings.jump_speed_mps)
    recorded = monitoring.record(
        session, observations, settings, reporter=reporter, now=now, worn=worn, outside=False
    )
    for (i, _), rec in zip(todo, recorded, strict=True):
        rec.index = i
        results[i] = rec
    for i, first in copy_of.items():
        results[i] = dataclasses.replace(results[first], index=i, duplicate=True)

    device_alerts.raise_alarms(session, fixes, results, now)  # tamper, power cut, ...

    if credential_id is not None:
        refused += [fixes[r.index].device for r in recorded if isinstance(r.error, UnknownDevice)]
        credentials.note_use(session, credential_id, refused, now)
    return results


def _stored_by_client_id(
    session: Session, observations: Sequence[model.Observation]
) -> dict[tuple[str | None, str | None], int]:
    """The stored fixes these carry the client ids of: a resend known by its id."""
    pairs = {(o.device_id, o.client_id) for o in observations if o.client_id is not None}
    if not pairs:
        return {}
    o = tables.Observation
    rows = session.execute(
        select(o.device_id, o.client_id, func.min(o.id))
        .where(o.client_id.is_not(None), tuple_(o.device_id, o.client_id).in_(sorted(pairs)))
        .group_by(o.device_id, o.client_id)
    )
    return {(d, c): obs_id for d, c, obs_id in rows}


def _wearers(
    worn: Mapping[str, list[Assignment]], observations: Sequence[model.Observation]
) -> list[int | None]:
    """Who wore each observation's device at its time (None: nobody, or no such device;
    recording refuses those)."""
    return [
        wearer_at(worn[o.device_id], o.time)
        if o.device_id is not None and o.device_id in worn
        else None
        for o in observations
    ]


def _stored_by_time(
    session: Session, worn: Sequence[tuple[int | None, model.Observation]]
) -> dict[tuple[str | None, datetime], int]:
    """Stored fixes from the same device at the same instant: a resend, even one whose
    position was rounded differently (looked up through the subject's time index)."""
    keys = {(w, o.time) for w, o in worn if w is not None}
    if not keys:
        return {}
    o = tables.Observation
    rows = session.execute(
        select(o.device_id, o.observed_at, func.min(o.id))
        .where(tuple_(o.subject_id, o.observed_at).in_(sorted(keys)), o.device_id.is_not(None))
        .group_by(o.device_id, o.observed_at)
    )
    return {(d, t): obs_id for d, t, obs_id in rows}


def _flag_jumps(
    session: Session,
    observations: list[model.Observation],
    wearers: list[int | None],
    limit_mps: float,
) -> list[model.Observation]:
    """The observations, those implying an impossible speed from the wearer's previous fix
    (stored or earlier in the batch) flagged ``jump``. Fixes marked invalid neither jump
    nor serve as the previous fix."""
    by_subject: dict[int, list[int]] = defaultdict(list)
    for k, (obs, subject) in enumerate(zip(observations, wearers, strict=True)):
        if obs.valid and subject is not None:
            by_subject[subject].append(k)
    flagged = list(observations)
    for ks in by_subject.values():
        ks.sort(key=lambda k: observations[k].time)
    previous = _previous_fixes(
        session, {subject: observations[ks[0]].time for subject, ks in by_subject.items()}
    )
    for subject, ks in by_subject.items():
        points = [
            filters.Point(observations[k].time, observations[k].lon, observations[k].lat,
                          observations[k].accuracy_m)
            for k in ks
        ]  # fmt: skip
        jumps = filters.jumps(previous.get(subject), points, limit_mps)
        for k, jump in zip(ks, jumps, strict=True):
            if jump:
                flagged[k] = dataclasses.replace(
                    observations[k], flags=(*observations[k].flags, filters.JUMP)
                )
    return flagged


# Each subject's last valid fix before an instant, for a batch of subjects in one statement.
_PREVIOUS = text(
    "SELECT w.sid, p.observed_at, ST_X(p.geom), ST_Y(p.geom), p.accuracy_m "
    "FROM unnest(CAST(:sids AS int[]), CAST(:befores AS timestamptz[])) AS w(sid, before) "
    "CROSS JOIN LATERAL (SELECT o.observed_at, o.geom, o.accuracy_m FROM observations o "
    "  WHERE o.subject_id = w.sid AND o.observed_at < w.before AND o.kind = :fix AND o.valid "
    "  ORDER BY o.observed_at DESC LIMIT 1) AS p"
)


def _previous_fixes(session: Session, before: dict[int, datetime]) -> dict[int, filters.Point]:
    """Each subject's last valid fix before its instant (none for a subject without one)."""
    if not before:
        return {}
    rows = session.execute(
        _PREVIOUS,
        {"sids": list(before), "befores": list(before.values()),
         "fix": model.ObservationKind.FIX.value},
    )  # fmt: skip
    return {r[0]: filters.Point(r[1], float(r[2]), float(r[3]), r[4]) for r in rows}
