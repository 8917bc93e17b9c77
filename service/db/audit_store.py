"""The audit log: who read or changed which personal data, when, and for what reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import tables


def record(
    session: Session,
    username: str,
    action: str,
    object_type: str | None = None,
    object_id: int | str | None = None,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one entry, in the caller's transaction: the entry and the deed commit together."""
    session.add(
        tables.AuditEntry(
            username=username,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            reason=reason,
            detail=detail,
        )
    )


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    username: str
    action: str
    object_type: str | None
    object_id: str | None
    reason: str | None
    detail: dict[str, Any] | None


def entries(
    session: Session, *, action: str | None = None, username: str | None = None, limit: int = 200
) -> list[Entry]:
    """The newest entries first, optionally of one action or one user."""
    a = tables.AuditEntry
    q = select(a).order_by(a.id.desc()).limit(limit)
    if action is not None:
        q = q.where(a.action == action)
    if username is not None:
        q = q.where(a.username == username)
    return [
        Entry(r.id, r.at, r.username, r.action, r.object_type, r.object_id, r.reason, r.detail)
        for r in session.scalars(q)
    ]
