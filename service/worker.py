"""The worker: the one process that keeps time.

Stays must open and close *on time*, not lazily at the next fix: when a schedule window
opens while the subject is already inside, when it closes, when an authorised visit begins
or ends, and when a stay's signal has been lost for longer than the gap. The worker does
this every tick by re-deriving the stays of the subjects whose clock edges passed since its
last run (:func:`service.stays_sync.resync`). Once a day it applies retention
(:mod:`service.retention`). Every tick it delivers alert notices to webhooks
(:mod:`service.webhooks.deliver`).

Any number of workers may run beside any number of server processes: each tries to take a
session-level PostgreSQL advisory lock, and only the holder (the leader) works. If the
leader dies, its connection closes, the lock is freed, and another worker takes over on its
next try. Timed jobs are registered in :data:`JOBS`; later features add theirs.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from service import device_alerts, retention
from service.audit_mac import AuditKey
from service.db import audit_chain, audit_store, tables
from service.feeds.mqtt import Subscriber
from service.settings import ApiSettings, MqttSettings
from service.stays_sync import load_context, resync
from service.webhooks import deliver

log = logging.getLogger("zones.worker")
LEADER_LOCK = 0x5A4F4E57  # "ZONW": one leader among all workers on this database
SCHEDULE_LOOKBACK = timedelta(days=2)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Session, datetime, datetime, ApiSettings], int]
    every: timedelta = timedelta(0)  # at most this often; 0: every tick


def due_subjects(
    session: Session, since: datetime, now: datetime, settings: ApiSettings
) -> dict[int, datetime]:
    """Each subject whose stays may change by the clock between ``since`` and ``now``, with
    the earliest instant from which they must be derived again."""
    due: dict[int, datetime] = {}

    def note(subject_id: int, at: datetime) -> None:
        due[subject_id] = min(due.get(subject_id, at), at)

    gap = timedelta(seconds=settings.episode_gap_seconds)
    a = tables.Alert
    # Open stays with no fix for longer than the gap: their signal is lost.
    for subject_id, last in session.execute(
        select(a.subject_id, func.min(a.last_at))
        .where(a.status == "open", a.merged_into.is_(None), a.last_at < now - gap)
        .where(a.kind == "zone")  # device alerts are kept by their own job
        .group_by(a.subject_id)
    ):
        note(subject_id, last)
    # Authorised visits that began or ended.
    av = tables.AuthorisedVisit
    for subject_id, starts, ends in session.execute(
        select(av.subject_id, av.starts, av.ends).where(
            ((av.starts > since - gap) & (av.starts <= now))
            | ((av.ends > since - gap) & (av.ends <= now))
        )
    ):
        note(subject_id, starts if since - gap < starts <= now else ends)
    # Schedule windows that opened or closed.
    c, ov, o = tables.Condition, tables.OrderVersion, tables.Order
    scheduled = session.scalars(
        select(o.subject_id)
        .distinct()
        .join(ov, ov.order_id == o.id)
        .join(c, c.order_version_id == ov.id)
        .where(c.schedule.is_not(None), ov.status == "active")
    ).all()
    for subject_id in scheduled:
        context = load_context(session, subject_id, since - SCHEDULE_LOOKBACK, now, 0, 0)
        for period in context.periods:
            schedule = period.target.schedule
            if schedule is None:
                continue
            for at, _opens in schedule.edges(since - gap, now):
                if since - gap < at <= now and period.holds(at):
                    note(subject_id, at)
                    break
    return due


def keep_stays_on_time(
    session: Session, since: datetime, now: datetime, settings: ApiSettings
) -> int:
    """Re-derive the stays of every subject with a clock edge since the last run."""
    due = due_subjects(session, since, now, settings)
    for subject_id in sorted(due):  # the same lock order as recording
        session.execute(
            select(tables.Subject.id).where(tables.Subject.id == subject_id).with_for_update()
        )
        resync(session, subject_id, due[subject_id], now, settings)
        session.commit()
    return len(due)


def apply_retention(session: Session, since: datetime, now: datetime, settings: ApiSettings) -> int:
    """Delete what is past its retention period (:mod:`service.retention`); audited."""
    return retention.run(session, settings, now, by="worker").total


JOBS: list[Job] = [
    Job("stays_on_time", keep_stays_on_time),
    Job("device_silences", device_alerts.keep_silences),
    # Sealing links what was written before this tick; the retention run's own entry is
    # sealed at the next.
    Job("audit_seal", audit_chain.seal_job),
    Job("retention", apply_retention, every=timedelta(days=1)),
    # Alert notices to webhooks: a bounded batch within a time budget, retried with back-off.
    Job("webhooks", deliver.deliver),
]


def run_jobs(
    sessions: sessionmaker[Session], settings: ApiSettings, now: datetime
) -> dict[str, int]:
    """Run every job once, each from where it last ran; returns how much each did."""
    done: dict[str, int] = {}
    for job in JOBS:
        with sessions() as session:
            row = session.get(tables.WorkerJob, job.name)
            if row is not None and now - row.last_run < job.every:
                continue
            since = row.last_run if row is not None else now - timedelta(hours=1)
            done[job.name] = job.run(session, since, now, settings)
            detail = {"done": done[job.name]}
            session.execute(
                insert(tables.WorkerJob)
                .values(name=job.name, last_run=now, detail=detail)
                .on_conflict_do_update(
                    index_elements=["name"], set_={"last_run": now, "detail": detail}
                )
            )
            session.commit()
    return done


def try_lead(connection: Connection) -> bool:
    """Take the leader's lock on this connection if no other worker holds it."""
    got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}).scalar()
    connection.commit()  # the lock is the session's: it outlives this transaction
    return bool(got)


def serve(
    engine: Engine,
    settings: ApiSettings,
    tick_seconds: float,
    once: bool = False,
    audit: AuditKey | None = None,
    mqtt: MqttSettings | None = None,
) -> None:
    """Run the jobs every ``tick_seconds`` while this worker leads; until stopped. With
    ``audit``, the jobs can write the audit and the worker seals it. With ``mqtt`` (a
    broker configured), the leader also subscribes to OwnTracks over MQTT
    (:mod:`service.feeds.mqtt`); a worker that stops leading stops subscribing."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    info = audit_store.binding(audit, client="worker") if audit is not None else {}
    sessions = sessionmaker(engine, expire_on_commit=False, info=info)
    leading = False
    lock_connection: Connection | None = None
    subscriber: Subscriber | None = None
    while not stop.is_set():
        try:
            if lock_connection is None:
                lock_connection = engine.connect()
            if not leading:
                leading = try_lead(lock_connection)
                if leading:
                    log.info("leading: this worker keeps time")
                    if mqtt is not None and mqtt.enabled and not once:
                        subscriber = Subscriber(mqtt, sessions, settings)
                        subscriber.start()
            if leading:
                done = run_jobs(sessions, settings, datetime.now(UTC))
                if any(done.values()):
                    log.info("tick: %s", done)
        except Exception:  # a lost database must not end the worker: retry next tick
            log.exception("worker tick failed; retrying")
            if lock_connection is not None:
                _release(lock_connection)
            lock_connection, leading = None, False
            if subscriber is not None:  # another worker may lead (and subscribe) now
                subscriber.stop()
                subscriber = None
        if once:
            break
        stop.wait(tick_seconds)
    if subscriber is not None:
        subscriber.stop()
    if lock_connection is not None:
        _release(lock_connection)


def _release(connection: Connection) -> None:
    """End the lock's database session: a pooled connection would keep the lock alive."""
    connection.invalidate()
    connection.close()
