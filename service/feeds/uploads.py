"""Bulk back-fill files into the store: the records read from a GPX, NDJSON or CSV file go
through :func:`service.feeds.intake.accept` in one transaction, one result per record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import monitoring
from service.db import tables
from service.feeds import intake
from service.settings import ApiSettings
from zones.errors import UnknownDevice
from zones.feeds.fix import FeedFix, Unreadable
from zones.feeds.records import Record


@dataclass
class Outcome:
    """What became of one record: stored, a duplicate of one stored before, or refused."""

    index: int
    where: str
    recorded: monitoring.Recorded | None = None
    problem: Unreadable | None = None


def reachable_devices(
    session: Session, identifiers: Sequence[str], units: frozenset[str] | None
) -> frozenset[str] | None:
    """The devices, of those named, whose every wearer is a subject of ``units`` (None:
    the whole force, no limit). A tag once worn by a subject of another unit is theirs to
    back-fill, so an upload by this user is refused for it."""
    if units is None:
        return None
    d, a, s = tables.Device, tables.DeviceAssignment, tables.Subject
    names = sorted(set(identifiers))
    beyond = set(
        session.scalars(
            select(d.identifier)
            .join(a, a.device_id == d.id)
            .join(s, s.id == a.subject_id)
            .where(d.identifier.in_(names), s.unit.not_in(units) | s.unit.is_(None))
        )
    )
    return frozenset(names) - beyond


def store(
    session: Session,
    records: Sequence[Record],
    settings: ApiSettings,
    *,
    reporter: str,
    units: frozenset[str] | None,
) -> list[Outcome]:
    """Store and judge every readable record, in the caller's transaction (the caller
    commits); a record refused is refused alone."""
    outcomes = [Outcome(i, r.where, problem=r.problem) for i, r in enumerate(records)]
    named = [r.fix.device for r in records if r.fix is not None]
    reachable = reachable_devices(session, named, units)
    fixes: list[FeedFix] = []
    where: list[int] = []
    for i, r in enumerate(records):
        if r.fix is None:
            continue
        if reachable is not None and r.fix.device not in reachable:
            # Beyond reach is as unknown as nonexistent (the house rule: 404, never 403).
            error = UnknownDevice(f"no device with id {r.fix.device!r}", field="device_id")
            outcomes[i].recorded = monitoring.Recorded(index=i, error=error)
            continue
        fixes.append(r.fix)
        where.append(i)
    results = intake.accept(session, fixes, settings, reporter=reporter)
    for i, recorded in zip(where, results, strict=True):
        outcomes[i].recorded = recorded
    return outcomes
