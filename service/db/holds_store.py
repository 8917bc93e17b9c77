"""Legal holds: a subject or an alert that retention must leave alone, and why.

Placing or releasing a hold locks the subject's row, as retention does before it deletes
anything of that subject, so a hold placed while retention runs is never missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import audit_store, orders_store, tables
from zones.errors import Conflict, NotFound, UnknownAlert


class UnknownHold(NotFound):
    code = "unknown_hold"


@dataclass(frozen=True)
class Hold:
    id: int
    subject_id: int | None
    alert_id: int | None
    reason: str
    placed_by: str
    placed_at: datetime
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None


def _hold(row: tables.LegalHold) -> Hold:
    return Hold(
        row.id, row.subject_id, row.alert_id, row.reason, row.placed_by, row.placed_at,
        row.released_at, row.released_by, row.release_reason,
    )  # fmt: skip


def _lock_subject_of(session: Session, subject_id: int | None, alert_id: int | None) -> None:
    if alert_id is not None:
        subject_id = session.scalar(
            select(tables.Alert.subject_id).where(tables.Alert.id == alert_id)
        )
        if subject_id is None:
            raise UnknownAlert(f"no alert with id {alert_id}", field="alert_id")
    assert subject_id is not None
    orders_store.get_subject(session, subject_id, lock=True)


def place(
    session: Session, by: str, reason: str, *, subject_id: int | None, alert_id: int | None
) -> Hold:
    """Hold a subject (everything of theirs) or one alert (its stay, evidence and handling)."""
    _lock_subject_of(session, subject_id, alert_id)
    row = tables.LegalHold(subject_id=subject_id, alert_id=alert_id, reason=reason, placed_by=by)
    session.add(row)
    session.flush()
    session.refresh(row)
    target = {"subject": subject_id} if subject_id is not None else {"alert": alert_id}
    audit_store.record(
        session, by, "legal_hold.place", "legal_hold", row.id, reason=reason, detail=target
    )
    return _hold(row)


def get(session: Session, hold_id: int) -> Hold:
    row = session.get(tables.LegalHold, hold_id)
    if row is None:
        raise UnknownHold(f"no legal hold with id {hold_id}", field="hold_id")
    return _hold(row)


def release(session: Session, hold_id: int, by: str, reason: str, now: datetime) -> Hold:
    """End a hold; retention may then delete what it covered, when its time comes."""
    row = session.get(tables.LegalHold, hold_id)
    if row is None:
        raise UnknownHold(f"no legal hold with id {hold_id}", field="hold_id")
    _lock_subject_of(session, row.subject_id, row.alert_id)
    session.refresh(row, with_for_update=True)
    if row.released_at is not None:
        raise Conflict(f"legal hold {hold_id} was already released at {row.released_at}")
    row.released_at, row.released_by, row.release_reason = now, by, reason
    session.flush()
    target = {"subject": row.subject_id} if row.subject_id is not None else {"alert": row.alert_id}
    audit_store.record(
        session, by, "legal_hold.release", "legal_hold", row.id, reason=reason, detail=target
    )
    return _hold(row)


def holds(
    session: Session,
    *,
    active: bool | None = None,
    subject_id: int | None = None,
    alert_id: int | None = None,
) -> list[Hold]:
    """Holds, newest first: all, or only those in force (or released), of a subject or alert."""
    h = tables.LegalHold
    q = select(h).order_by(h.placed_at.desc(), h.id.desc())
    if active is not None:
        q = q.where(h.released_at.is_(None) if active else h.released_at.is_not(None))
    if subject_id is not None:
        q = q.where(h.subject_id == subject_id)
    if alert_id is not None:
        q = q.where(h.alert_id == alert_id)
    return [_hold(r) for r in session.scalars(q)]


def held(session: Session, subject_id: int) -> tuple[bool, set[int]]:
    """Whether the subject is held, and which of their alerts are, by holds in force."""
    h, a = tables.LegalHold, tables.Alert
    subject = session.scalar(
        select(h.id).where(h.subject_id == subject_id, h.released_at.is_(None)).limit(1)
    )
    alerts = session.scalars(
        select(h.alert_id)
        .join(a, a.id == h.alert_id)
        .where(a.subject_id == subject_id, h.released_at.is_(None))
    )
    return subject is not None, {i for i in alerts if i is not None}
