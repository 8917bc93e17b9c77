"""What a subject is judged against over a span of time, as it was known at an instant.

Every version of a zone or an order has two times: ``effective_from``, from when what it
says holds (valid time; NULL for a first version, which holds from the beginning), and
``created_at``, when it was recorded (transaction time). As known at ``as_of``, the version
in force at an instant ``t`` is the latest recorded of those recorded by ``as_of`` whose
``effective_from`` is not after ``t``. A later version therefore overrides earlier ones
from its own ``effective_from`` on: an ordinary edit from when it was made, a correction of
a mis-drawn zone from the original date.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from service.db import convert, plain, tables, zone_shapes
from service.db.arrays import among
from zones import model

BEGINNING = datetime(1900, 1, 1, tzinfo=UTC)
CIVIL_TIME = ZoneInfo("Europe/London")  # order dates are civil dates where the court sits


@dataclass(frozen=True, slots=True)
class Period:
    """One target (a zone version of a condition of an order version) and when it holds."""

    target: model.Target
    start: datetime
    end: datetime | None  # None: still in force
    order: model.Order
    condition: model.Condition

    def holds(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


@dataclass(frozen=True, slots=True)
class Visit:
    """An authorised visit of a subject to a zone."""

    id: int
    zone_id: int
    starts: datetime
    ends: datetime
    authorised_by: str
    reason: str
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None = None
    subject_id: int = 0
    withdrawn_by: str | None = None


def _spans(
    versions: Sequence[tuple[int, datetime | None]],
) -> list[tuple[int, datetime, datetime | None]]:
    """``(version, effective_from)`` pairs, recorded in version order, to the valid-time
    spans in which each one is in force: ``(version, start, end)``."""
    starts = sorted({e or BEGINNING for _, e in versions})
    out: list[tuple[int, datetime, datetime | None]] = []
    for i, s in enumerate(starts):
        winner = max(v for v, e in versions if (e or BEGINNING) <= s)
        end = starts[i + 1] if i + 1 < len(starts) else None
        if out and out[-1][0] == winner and out[-1][2] == s:
            out[-1] = (winner, out[-1][1], end)
        else:
            out.append((winner, s, end))
    return out


def day_start(day: date) -> datetime:
    """The first instant of a civil day in Great Britain, in UTC."""
    return datetime.combine(day, time(0), tzinfo=CIVIL_TIME).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class OrderRef:
    """What an order version's own row does not say: its order and the order's subject."""

    id: int
    subject_id: int


InForce = tuple[OrderRef, Any, datetime, datetime | None]  # an order_versions row


class Dated(Protocol):
    """What deciding when an order version is in force reads of it."""

    @property
    def version(self) -> int: ...
    @property
    def effective_from(self) -> datetime | None: ...
    @property
    def status(self) -> str: ...
    @property
    def starts(self) -> date: ...
    @property
    def ends(self) -> date | None: ...


K = TypeVar("K")  # what a version is paired with (its order row, or its id)
D = TypeVar("D", bound=Dated)


def in_force(
    versions: Sequence[tuple[K, D]], lo: datetime, hi: datetime
) -> list[tuple[K, D, datetime, datetime | None]]:
    """The versions of one order (in version order) in force at some instant in ``[lo, hi]``,
    each with the span it is in force: its valid time, bound by the order's own dates."""
    out: list[tuple[K, D, datetime, datetime | None]] = []
    spans = _spans([(v.version, v.effective_from) for _, v in versions])
    by_number = {v.version: (o_row, v) for o_row, v in versions}
    for number, start, end in spans:
        o_row, v = by_number[number]
        if v.status != model.OrderStatus.ACTIVE.value:
            continue
        # The order's own dates, civil days in Great Britain, bound when it is in force.
        start = max(start, day_start(v.starts))
        if v.ends is not None:
            ends = day_start(v.ends + timedelta(days=1))
            end = ends if end is None else min(end, ends)
        if (end is not None and end <= start) or start > hi or (end is not None and end <= lo):
            continue
        out.append((o_row, v, start, end))
    return out


def periods(
    session: Session,
    subject_id: int,
    lo: datetime,
    hi: datetime,
    as_of: datetime | None = None,
) -> list[Period]:
    """Every target of the subject that holds at some instant in ``[lo, hi]``, each with the
    span it holds in, as known at ``as_of`` (now when None)."""
    return periods_of(session, [subject_id], lo, hi, as_of)[subject_id]


def periods_of(
    session: Session,
    subject_ids: Sequence[int],
    lo: datetime,
    hi: datetime,
    as_of: datetime | None = None,
) -> dict[int, list[Period]]:
    """:func:`periods` of many subjects in three statements, not three per subject (a
    batch of fixes from many tags); a zone many conditions name is read once. Those of one
    subject that hold within a narrower span are those of its periods that overlap it."""
    ov, o = tables.OrderVersion, tables.Order
    # Plain rows, not ORM objects: a batch from thousands of tags reads thousands of orders.
    query = (
        select(o.subject_id.label("order_subject_id"), *ov.__table__.c)
        .join(ov, ov.order_id == o.id)
        .where(among(o.subject_id, subject_ids))
    )
    if as_of is not None:
        query = query.where(ov.created_at <= as_of)
    rows = plain.rows(session, query.order_by(ov.order_id, ov.version))
    by_order: dict[int, list[tuple[OrderRef, Any]]] = defaultdict(list)
    for row in rows:
        by_order[row.order_id].append((OrderRef(row.order_id, row.order_subject_id), row))
    wanted = [w for versions in by_order.values() for w in in_force(versions, lo, hi)]
    out: dict[int, list[Period]] = {sid: [] for sid in subject_ids}
    if not wanted:
        return out
    orders = _orders(session, wanted)
    zone_ids = sorted(
        {z for order in orders.values() for c in order.conditions for z in c.zone_ids}
    )
    zones = _zone_spans(session, zone_ids, as_of)
    for o_row, v, start, end in wanted:
        order = orders[v.id]
        assert order.id is not None
        for c in order.conditions:
            assert c.id is not None
            for zid in c.zone_ids:
                for zone, zstart, zend in zones.get(zid, []):
                    s = max(start, zstart)
                    e = end if zend is None else (zend if end is None else min(end, zend))
                    if (e is not None and e <= s) or s > hi or (e is not None and e <= lo):
                        continue
                    names = model.Names(
                        order.reference, order.type, c.number or 0, c.text, zone.name
                    )
                    target = model.Target(
                        order_id=order.id,
                        condition_id=c.id,
                        zone_id=zid,
                        zone_version=zone.version,
                        geometry=zone.geometry,
                        buffer_m=c.buffer_m,
                        clause_id=c.clause_id,
                        names=names,
                        warning_m=c.warning_m,
                        schedule=c.schedule,
                        rules=c.rules,
                    )
                    out[o_row.subject_id].append(Period(target, s, e, order, c))
    return out


def overlaps(p: Period | Visit, lo: datetime, hi: datetime) -> bool:
    """Whether a period (or a visit) holds at some instant in ``[lo, hi]``, as
    :func:`periods_of` and :func:`visits_of` select them."""
    if isinstance(p, Visit):
        return p.ends > lo and p.starts <= hi
    return not (p.start > hi or (p.end is not None and p.end <= lo))


def _orders(session: Session, wanted: list[InForce]) -> dict[int, model.Order]:
    from service.db.orders_store import with_conditions

    unique = {v.id: (r, v) for r, v, _, _ in wanted}
    built = with_conditions(session, list(unique.values()))
    return {vid: order for vid, order in zip(unique, built, strict=True)}


def _zone_spans(
    session: Session, zone_ids: list[int], as_of: datetime | None
) -> dict[int, list[tuple[model.Zone, datetime, datetime | None]]]:
    zv = tables.ZoneVersion
    # The geometry comes from zone_shapes (read once a process and version), not each time.
    query = select(zv).options(defer(zv.geom)).where(among(zv.zone_id, zone_ids))
    if as_of is not None:
        query = query.where(zv.created_at <= as_of)
    rows = session.scalars(query.order_by(zv.zone_id, zv.version)).all()
    by_zone: dict[int, list[tables.ZoneVersion]] = defaultdict(list)
    for row in rows:
        by_zone[row.zone_id].append(row)
    spans = {
        zid: _spans([(v.version, v.effective_from) for v in versions])
        for zid, versions in by_zone.items()
    }
    shapes = zone_shapes.geometries(
        session, [(zid, n) for zid, found in spans.items() for n, _, _ in found]
    )
    out: dict[int, list[tuple[model.Zone, datetime, datetime | None]]] = {}
    for zid, versions in by_zone.items():
        by_number = {v.version: v for v in versions}
        out[zid] = [(convert.zone(by_number[n], shapes[(zid, n)]), s, e) for n, s, e in spans[zid]]
    return out


def visits(
    session: Session,
    subject_id: int,
    lo: datetime,
    hi: datetime,
    as_of: datetime | None = None,
) -> list[Visit]:
    """Authorised visits of the subject overlapping ``[lo, hi]``, as known at ``as_of``
    (a visit withdrawn by then no longer counts)."""
    return visits_of(session, [subject_id], lo, hi, as_of)[subject_id]


def visits_of(
    session: Session,
    subject_ids: Sequence[int],
    lo: datetime,
    hi: datetime,
    as_of: datetime | None = None,
) -> dict[int, list[Visit]]:
    """:func:`visits` of many subjects in one statement."""
    av = tables.AuthorisedVisit
    query = select(av).where(among(av.subject_id, subject_ids), av.ends > lo, av.starts <= hi)
    if as_of is None:
        query = query.where(av.withdrawn_at.is_(None))
    else:
        query = query.where(
            av.recorded_at <= as_of, (av.withdrawn_at.is_(None)) | (av.withdrawn_at > as_of)
        )
    out: dict[int, list[Visit]] = {sid: [] for sid in subject_ids}
    for row in session.scalars(query.order_by(av.starts, av.id)):
        out[row.subject_id].append(visit(row))
    return out


def visit(row: tables.AuthorisedVisit) -> Visit:
    return Visit(
        id=row.id,
        zone_id=row.zone_id,
        starts=row.starts,
        ends=row.ends,
        authorised_by=row.authorised_by,
        reason=row.reason,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        withdrawn_at=row.withdrawn_at,
        subject_id=row.subject_id,
        withdrawn_by=row.withdrawn_by,
    )


# What held, kept per subject between requests while it cannot have changed. Orders and
# zones are never edited in place (an edit is a new version row) and never deleted; a visit
# is recorded (a new row) or withdrawn (its ``withdrawn_at`` set). So the number of a
# subject's order versions, of the versions of the zones its conditions name, and of its
# visits and withdrawn visits change whenever what held for it does. A count, not a
# maximum id: a version committed after a later-numbered one still moves it. Recording
# reads this version in the statement that locks the subject, and loads again what held
# for a subject whose version moved. The periods and visits kept are those of all time:
# a caller keeps those overlapping its own span, as it would of a narrower load.
HELD_KEPT = 4096  # subjects per process; the least recently used go first
# Wider than any instant accepted (1900-2199) and than the reach around one.
ALL_TIME = (datetime(1800, 1, 1, tzinfo=UTC), datetime(2300, 1, 1, tzinfo=UTC))
HeldVersion = tuple[int, int, int, int]
Held = dict[int, tuple[HeldVersion, list[Period], list[Visit]]]
# One store per engine (or connection) the session is bound to, as in zone_shapes: two
# databases in one process never share a subject's entry.
_held_by_bind: weakref.WeakKeyDictionary[object, Held] = weakref.WeakKeyDictionary()
_held_lock = threading.Lock()


def held_version(subject_id: Any) -> list[Any]:
    """Scalar subqueries giving the version of what held for the subject (a column or an
    id), to read in a statement the caller sends anyway: see :func:`held_of`."""
    o, ov, c, cz, zv = (
        tables.Order, tables.OrderVersion, tables.Condition, tables.ConditionZone,
        tables.ZoneVersion,
    )  # fmt: skip
    av = tables.AuthorisedVisit
    zones = (
        select(cz.zone_id)
        .join(c, c.id == cz.condition_id)
        .join(o, o.id == c.order_id)
        .where(o.subject_id == subject_id)
    )
    return [
        select(func.count(ov.id))
        .join(o, o.id == ov.order_id)
        .where(o.subject_id == subject_id)
        .scalar_subquery(),
        select(func.count(zv.id)).where(zv.zone_id.in_(zones)).scalar_subquery(),
        select(func.count(av.id)).where(av.subject_id == subject_id).scalar_subquery(),
        select(func.count(av.withdrawn_at)).where(av.subject_id == subject_id).scalar_subquery(),
    ]


def held_of(
    session: Session, versions: Mapping[int, HeldVersion]
) -> dict[int, tuple[list[Period], list[Visit]]]:
    """The periods and (not withdrawn) visits of all time of each subject, as known now:
    kept from an earlier request while the subject's version (:func:`held_version`) is the
    same, loaded (in the statements of :func:`periods_of` and :func:`visits_of`) for the
    others."""
    out: dict[int, tuple[list[Period], list[Visit]]] = {}
    with _held_lock:
        _held = _held_by_bind.setdefault(session.get_bind(), {})
        for sid, version in versions.items():
            if (kept := _held.pop(sid, None)) is not None and kept[0] == version:
                _held[sid] = kept  # to the end: the most recently used
                out[sid] = (kept[1], kept[2])
    missing = [sid for sid in versions if sid not in out]
    if missing:
        periods = periods_of(session, missing, *ALL_TIME)
        visits = visits_of(session, missing, *ALL_TIME)
        with _held_lock:
            for sid in missing:
                out[sid] = (periods[sid], visits[sid])
                _held[sid] = (versions[sid], periods[sid], visits[sid])
            while len(_held) > HELD_KEPT:
                del _held[next(iter(_held))]
    return out
