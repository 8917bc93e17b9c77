"""Retention: positions are kept only as long as they are needed.

* A fix or sighting that no alert uses is deleted ``ZONES_RETENTION_OBSERVATION_DAYS``
  after it happened, with its verdicts and the possible transits it ends, unless it lies
  within the stays' reach of a kept alert (see :mod:`zones.retention`).
* An alert episode (a stay and every stay merged into it), what people did about it, its
  events and its evidence are deleted ``ZONES_RETENTION_ALERT_DAYS`` after the stay ended
  and was last handled.
* A legal hold in force on a subject stops both for all of theirs; one on an alert keeps
  that episode, and so the positions around it.

Each subject is worked on in bounded batches, each its own transaction holding the
subject's row lock (the lock recording takes), and the holds are read again in each batch.
Each transaction that deletes also marks the subject's track as possibly holed before the
observation cut (``retention_marks``), and recording refuses any observation of that
subject from before the mark plus twice the stays' reach
(:func:`service.monitoring.oldest_accepted`): re-deriving stays around an accepted fix
reads only fixes retention has not touched, so old alerts are never rewritten from a track
with holes in it. A run writes one audit entry: the counts, never positions.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.db import audit_store, holds_store, retention_store
from service.settings import ApiSettings
from service.stays_sync import reach
from zones.retention import due_episodes, gaps, kept_windows

KINDS = (
    "observations",
    "verdicts",
    "possible_transits",
    "alerts",
    "alert_actions",
    "alert_events",
    "legal_holds",
)


@dataclass
class Report:
    """What a run removed (or, dry, would remove), and what holds kept."""

    dry_run: bool
    observations_before: datetime
    alerts_before: datetime
    removed: Counter[str] = field(default_factory=Counter)
    held_subjects: int = 0
    held_alerts: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "observations_before": self.observations_before.isoformat(),
            "alerts_before": self.alerts_before.isoformat(),
            "removed": {k: self.removed[k] for k in KINDS},
            "kept_for_holds": {"subjects": self.held_subjects, "alerts": self.held_alerts},
            "seconds": round(self.seconds, 3),
        }

    def text(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        lines = [
            f"retention {'(dry run) ' if self.dry_run else ''}{verb}:",
            *(f"  {k}: {self.removed[k]}" for k in KINDS),
            f"  observations older than {self.observations_before:%Y-%m-%d %H:%M} UTC, "
            f"alerts ended before {self.alerts_before:%Y-%m-%d %H:%M} UTC",
            f"  kept for legal holds: {self.held_subjects} subject(s), "
            f"{self.held_alerts} alert(s) otherwise due",
        ]
        return "\n".join(lines)


def run(
    session: Session, settings: ApiSettings, now: datetime, *, by: str, dry_run: bool = False
) -> Report:
    """Delete (or, dry, count) what is past its period; commit batch by batch; audit the run."""
    started = time.monotonic()
    kept = settings.retention
    report = Report(
        dry_run=dry_run,
        observations_before=now - timedelta(days=kept.observation_days),
        alerts_before=now - timedelta(days=kept.alert_days),
    )
    session.rollback()  # each batch is its own transaction from here
    try:
        for subject_id in retention_store.subject_ids(session):
            _subject(session, subject_id, settings, now, report)
    finally:
        session.rollback()
        report.seconds = time.monotonic() - started
        audit_store.record(
            session,
            by,
            "retention.dry_run" if dry_run else "retention.run",
            "retention",
            reason=f"positions {kept.observation_days} days, alert evidence {kept.alert_days} days",
            detail=report.as_dict(),
        )
        session.commit()
    return report


def _subject(
    session: Session, subject_id: int, settings: ApiSettings, now: datetime, report: Report
) -> None:
    batch = settings.retention.batch_size
    after: tuple[datetime, int] | None = None
    counted_holds = False
    while True:
        retention_store.lock_subject(session, subject_id)
        subject_held, held_alerts = holds_store.held(session, subject_id)
        if subject_held:
            report.held_subjects += 1
            session.rollback()
            return
        alerts = retention_store.stored_alerts(session, subject_id)
        due, kept_for_hold = due_episodes(alerts, held_alerts, report.alerts_before)
        doomed = {m.id for group in due for m in group}
        if due and not report.dry_run:
            ids = _chunk(due, batch)
            report.removed.update(retention_store.delete_alerts(session, ids))
            retention_store.mark(session, subject_id, report.observations_before)
            session.commit()
            continue
        if not counted_holds:
            report.held_alerts += kept_for_hold
            counted_holds = True
        windows = kept_windows((x for x in alerts if x.id not in doomed), reach(settings), now)
        open_gaps = gaps(windows, report.observations_before)
        if report.dry_run:
            report.removed.update(retention_store.count_alerts(session, sorted(doomed)))
            report.removed.update(
                retention_store.count_observations(session, subject_id, open_gaps, doomed)
            )
            session.rollback()
            return
        found = retention_store.next_observations(session, subject_id, open_gaps, after, batch)
        if not found:
            session.commit()
            return
        report.removed.update(retention_store.delete_observations(session, subject_id, found))
        retention_store.mark(session, subject_id, report.observations_before)
        session.commit()
        last = found[-1]
        after = (last[1], last[0])


def _chunk(due: list[list[Any]], batch: int) -> list[int]:
    """Whole episodes, up to about ``batch`` fixes of evidence (at least one episode)."""
    ids: list[int] = []
    fixes = 0
    for group in due:
        ids.extend(m.id for m in group)
        fixes += sum(m.fixes for m in group)
        if fixes >= batch:
            break
    return ids
