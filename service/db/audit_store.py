"""The audit log: who read or changed which personal data, when, from where, and why.

:func:`record` adds one entry in the caller's transaction, so the entry and the deed commit
together, with its MAC (:mod:`service.audit_mac`). The key and the client address come with
the session: every request's session is bound to them (``service.api.deps.get_session``),
as are the worker's; a session made elsewhere is bound with :func:`bind`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit_mac import AuditKey, Content, row_mac
from service.db import tables

KEY = "zones.audit.key"
CLIENT = "zones.audit.client"

Records = Mapping[str, Sequence[int | str]]  # e.g. {"observation": [101, 102]}


class AuditUnbound(RuntimeError):
    """A session that was not given the audit key cannot write the audit."""


def binding(key: AuditKey, client: str | None = None) -> dict[str, Any]:
    """What a session's ``info`` holds to write the audit: ``sessionmaker(info=binding(k))``."""
    return {KEY: key} if client is None else {KEY: key, CLIENT: client}


def bind(session: Session, key: AuditKey, client: str | None = None) -> None:
    """Let ``session`` write the audit, as from ``client``."""
    session.info.update(binding(key, client))


def key_of(session: Session) -> AuditKey:
    key = session.info.get(KEY)
    if not isinstance(key, AuditKey):
        raise AuditUnbound(
            "this session has no audit key: bind it with service.db.audit_store.bind(session, "
            "AuditKey.of(settings)) or make it with sessionmaker(info=audit_store.binding(...))"
        )
    return key


def record(
    session: Session,
    username: str,
    action: str,
    object_type: str | None = None,
    object_id: int | str | None = None,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    client: str | None = None,
    records: Records | None = None,
    recipient: str | None = None,
) -> None:
    """Add one entry, in the caller's transaction: the entry and the deed commit together.

    ``client`` defaults to the address of the request the session serves; ``records`` names
    the records a request or batch touched (references, never copies of positions);
    ``recipient`` is to whom something was disclosed.
    """
    session.add(
        entry(
            key_of(session), username, action, object_type, object_id, reason=reason,
            detail=detail, client=client if client is not None else session.info.get(CLIENT),
            records=records, recipient=recipient,
        )
    )  # fmt: skip


def entry(
    key: AuditKey,
    username: str,
    action: str,
    object_type: str | None = None,
    object_id: int | str | None = None,
    *,
    reason: str | None = None,
    detail: Mapping[str, Any] | None = None,
    client: str | None = None,
    records: Records | None = None,
    recipient: str | None = None,
) -> tables.AuditEntry:
    """A new entry with its row MAC. The time is taken here, not by the database, so that
    the MAC can cover it without a round trip."""
    at = datetime.now(UTC)
    object_id = None if object_id is None else str(object_id)
    detail_json = None if detail is None else json.dumps(detail)
    records_json = None if records is None else json.dumps(records)
    content = Content(
        at, username, action, object_type, object_id, reason, client, recipient,
        detail_json, records_json,
    )  # fmt: skip
    return tables.AuditEntry(
        at=at,
        username=username,
        action=action,
        object_type=object_type,
        object_id=object_id,
        reason=reason,
        detail=None if detail is None else dict(detail),  # stored as detail_json says
        client=client,
        recipient=recipient,
        records=None if records is None else dict(records),
        row_mac=row_mac(key, content),
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
    client: str | None = None
    recipient: str | None = None
    records: dict[str, Any] | None = None
    sealed: bool = False


@dataclass(frozen=True)
class Filter:
    """Which entries: all of those given must hold."""

    username: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before


def page(
    session: Session, where: Filter, *, before_id: int | None = None, limit: int = 200
) -> tuple[list[Entry], int | None]:
    """The newest entries first, up to ``limit``, older than ``before_id`` if given; and the
    id to continue before, when there may be more."""
    a = tables.AuditEntry
    q = select(a).order_by(a.id.desc()).limit(limit + 1)
    for column, value in (
        (a.username, where.username),
        (a.action, where.action),
        (a.object_type, where.object_type),
        (a.object_id, where.object_id),
    ):
        if value is not None:
            q = q.where(column == value)
    if where.since is not None:
        q = q.where(a.at >= where.since)
    if where.until is not None:
        q = q.where(a.at < where.until)
    if before_id is not None:
        q = q.where(a.id < before_id)
    rows = session.scalars(q).all()
    found = [_entry(r) for r in rows[:limit]]
    return found, (found[-1].id if len(rows) > limit else None)


def entries(
    session: Session, *, action: str | None = None, username: str | None = None, limit: int = 200
) -> list[Entry]:
    """The newest entries first, optionally of one action or one user."""
    return page(session, Filter(username=username, action=action), limit=limit)[0]


def _entry(r: tables.AuditEntry) -> Entry:
    return Entry(
        r.id, r.at, r.username, r.action, r.object_type, r.object_id, r.reason, r.detail,
        r.client, r.recipient, r.records, r.seal_seq is not None,
    )  # fmt: skip
