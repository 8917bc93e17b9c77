"""Alert rows: the alert list supervisors filter, the handling
of an alert and the numbered events that tell open pages about changes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from service.db import alert_events, convert, like, tables
from zones import handling, model
from zones.errors import UnknownAlert

# An alert, its position, its subject, the order version and condition, the zone's name and
# the flags of its evidence: what the alert queries select.
Named = Select[
    tables.Alert,
    float,
    float,
    tables.Subject,
    tables.OrderVersion,
    tables.Condition,
    str,
    list[str],
]


@dataclass(frozen=True)
class AlertFilter:
    subject_id: int | None = None
    subject: str | None = None  # part of a subject's reference or name, any case
    status: model.AlertStatus | None = None
    handling: tuple[model.Handling, ...] = ()
    disposition: model.Disposition | None = None
    order_type: model.OrderType | None = None
    since: datetime | None = None
    until: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    limit: int = 500
    stages: tuple[model.Stage, ...] = (model.Stage.ALERT,)  # empty: every stay
    severity: model.Severity | None = None
    units: frozenset[str] | None = None  # of the subjects of these units only; None: all
    kinds: tuple[model.AlertKind, ...] = ()  # empty: every kind
    after: tuple[datetime, int] | None = None  # the (first_at, id) of the page before's last


# The list's one order, newest first, total (the id breaks ties of first_at): the key a
# cursor holds. ``ix_alerts_first_id`` and ``ix_alerts_subject_first_id`` are in this order.
ORDER = "alerts:first_at-desc,id-desc"


def sort_key(alert: model.Alert) -> tuple[datetime, int]:
    """Where an alert stands in the list's order."""
    return alert.first_at, alert.id


def visible() -> Any:
    """The stays that are alerts: confirmed, not covered by a visit, not merged away."""
    a = tables.Alert
    return a.confirmed_at.is_not(None) & a.visit_id.is_(None) & a.merged_into.is_(None)


def _stage(stage: model.Stage) -> Any:
    a = tables.Alert
    return {
        model.Stage.ALERT: visible(),
        model.Stage.PENDING: a.confirmed_at.is_(None)
        & a.visit_id.is_(None)
        & a.merged_into.is_(None),
        model.Stage.AUTHORISED: a.visit_id.is_not(None) & a.merged_into.is_(None),
        model.Stage.MERGED: a.merged_into.is_not(None),
    }[stage]


def _flags() -> Any:
    """The flags of an alert's evidence fixes (a jump, an invalid fix): a flag on a fix
    travels with the alert it counts towards. Fixes count through their verdicts (a stay)
    or through the alert's own links (a device alert); repeats are dropped when read."""
    a, o = tables.Alert, tables.Observation
    flag = func.unnest(o.flags)  # a set-returning function: one row a flag

    def of(link: Any, column: Any) -> Any:
        return func.array(
            select(flag)
            .select_from(link)
            .join(o, o.id == column)
            .where(link.alert_id == a.id, o.flags.is_not(None))
            .correlate(a)
            .scalar_subquery()
        )

    verdicts, links = tables.Verdict, tables.AlertObservation
    return of(verdicts, verdicts.observation_id).op("||")(of(links, links.observation_id))


def _named() -> Named:
    """Alerts with their position and the names of what they were judged against, as judged:
    the clause wording and order version of the condition, the zone version's name, and the
    flags of their evidence. A device alert has no zone (and an alarm no condition): outer
    joins keep it."""
    a, c, v, zv = tables.Alert, tables.Condition, tables.OrderVersion, tables.ZoneVersion
    return (
        select(a, func.ST_X(a.geom), func.ST_Y(a.geom), tables.Subject, v, c, zv.name, _flags())
        .join(tables.Subject, tables.Subject.id == a.subject_id)
        .outerjoin(c, c.id == a.condition_id)
        .outerjoin(v, v.id == c.order_version_id)
        .outerjoin(zv, (zv.zone_id == a.zone_id) & (zv.version == a.zone_version))
    )


def _alert(row: tuple[Any, ...]) -> model.Alert:
    return convert.alert(*row)


def _filtered(
    f: AlertFilter,
) -> Named:
    q, a = _named(), tables.Alert
    if f.stages:
        q = q.where(or_(*(_stage(s) for s in f.stages)))
    if f.severity is not None:
        q = q.where(a.severity == f.severity.value)
    if f.kinds:
        q = q.where(a.kind.in_([k.value for k in f.kinds]))
    if f.subject_id is not None:
        q = q.where(a.subject_id == f.subject_id)
    if f.units is not None:
        q = q.where(tables.Subject.unit.in_(f.units))
    if f.subject:
        pattern = like.contains(f.subject)
        q = q.where(
            or_(
                tables.Subject.reference.ilike(pattern, escape=like.ESCAPE),
                tables.Subject.name.ilike(pattern, escape=like.ESCAPE),
            )
        )
    if f.status is not None:
        q = q.where(a.status == f.status.value)
    if f.handling:
        q = q.where(a.handling.in_([h.value for h in f.handling]))
    if f.disposition is not None:
        q = q.where(a.disposition == f.disposition.value)
    if f.order_type is not None:
        q = q.where(tables.OrderVersion.type == f.order_type.value)
    if f.since is not None:
        # Ends at or after ``since`` (its closing, or its last fix while open), written as
        # two ranges of ``ix_alerts_closed`` (``>= since`` and ``IS NULL``): the COALESCE
        # had no index, so a recent window read every older alert on the way to a page.
        q = q.where((a.closed_at >= f.since) | (a.closed_at.is_(None) & (a.last_at >= f.since)))
    if f.until is not None:
        q = q.where(a.first_at <= f.until)
    if f.bbox is not None:
        q = q.where(func.ST_Intersects(a.geom, func.ST_MakeEnvelope(*f.bbox, 4326)))
    if f.after is not None:
        q = q.where(tuple_(a.first_at, a.id) < tuple_(*f.after))
    return q.order_by(a.first_at.desc(), a.id.desc()).limit(f.limit)


def search(session: Session, f: AlertFilter) -> list[model.Alert]:
    """Alerts matching the filter, newest first, each named: at most ``f.limit``, after
    ``f.after`` when given. The database reads only the page's rows where an index
    serves the filter (see migration 0014)."""
    return [_alert(tuple(row)) for row in session.execute(_filtered(f))]


def count_by_handling(
    session: Session, units: frozenset[str] | None = None
) -> dict[model.Handling, int]:
    """How many alerts are in each handling state (of the subjects of ``units`` if given)."""
    q = select(tables.Alert.handling, func.count()).where(visible())
    if units is not None:
        q = q.join(tables.Subject, tables.Subject.id == tables.Alert.subject_id).where(
            tables.Subject.unit.in_(units)
        )
    rows = session.execute(q.group_by(tables.Alert.handling))
    counts = {h: 0 for h in model.Handling}
    counts.update({model.Handling(h): int(n) for h, n in rows})
    return counts


def get(session: Session, alert_id: int) -> model.Alert:
    """One alert, named."""
    found = session.execute(_named().where(tables.Alert.id == alert_id)).first()
    if found is None:
        raise UnknownAlert(f"no alert with id {alert_id}", field="alert_id")
    return _alert(tuple(found))


def get_many(session: Session, alert_ids: list[int]) -> list[model.Alert]:
    """The alerts with these ids (those that exist), named."""
    if not alert_ids:
        return []
    rows = session.execute(_named().where(tables.Alert.id.in_(alert_ids)))
    return [_alert(tuple(r)) for r in rows]


@dataclass(frozen=True)
class Evidence:
    """One observation counted towards an alert, with the verdict it got (none for a device
    alert's fix: it was not judged against a zone)."""

    observation_id: int
    kind: str
    observed_at: datetime
    received_at: datetime
    late: bool
    lon: float
    lat: float
    accuracy_m: float | None
    reporter: str | None
    source: str | None
    source_detail: str | None
    device_id: str | None
    zone_version: int | None = None
    status: str | None = None
    distance_m: float | None = None
    evidence: str | None = None
    disc_fraction_inside: float | None = None
    order_reference: str | None = None
    order_type: str | None = None
    clause_text: str | None = None
    zone_id: int | None = None
    zone_name: str | None = None
    flags: list[str] | None = None  # zones.feeds.filters: "jump" travels with the alert


def evidence(session: Session, alert_id: int) -> tuple[model.Alert, list[Evidence]]:
    """An alert and the observations behind it, by when they happened, each with its verdict
    named as judged (the clause wording and zone version of that verdict)."""
    alert = get(session, alert_id)
    if alert.kind is not model.AlertKind.ZONE:
        return alert, _device_evidence(session, alert)
    o, v, c = tables.Observation, tables.Verdict, tables.Condition
    ov, zv = tables.OrderVersion, tables.ZoneVersion
    q = (
        select(
            o.id, o.kind, o.observed_at, o.received_at, o.late, func.ST_X(o.geom),
            func.ST_Y(o.geom), o.accuracy_m, o.reporter, o.source, o.source_detail, o.device_id,
            v.zone_version, v.status, v.distance_m, v.evidence, v.disc_fraction_inside,
            ov.reference, ov.type, c.text, v.zone_id, zv.name, o.flags,
        )
        .join(v, v.observation_id == o.id)
        .join(c, c.id == v.condition_id)
        .join(ov, ov.id == c.order_version_id)
        .join(zv, (zv.zone_id == v.zone_id) & (zv.version == v.zone_version))
        .where(v.alert_id == alert_id)
        .order_by(o.observed_at, o.id)
    )  # fmt: skip
    return alert, [Evidence(*row) for row in session.execute(q)]


def _device_evidence(session: Session, alert: model.Alert) -> list[Evidence]:
    """The fixes behind a device alert: those that carried the alarm, or the last one
    received before a silence."""
    o, ao = tables.Observation, tables.AlertObservation
    names = alert.names
    q = (
        select(
            o.id, o.kind, o.observed_at, o.received_at, o.late, func.ST_X(o.geom),
            func.ST_Y(o.geom), o.accuracy_m, o.reporter, o.source, o.source_detail, o.device_id,
            o.flags,
        )
        .join(ao, ao.observation_id == o.id)
        .where(ao.alert_id == alert.id)
        .order_by(o.observed_at, o.id)
    )  # fmt: skip
    return [
        replace(
            Evidence(*row[:-1]),  # no verdict: not judged against a zone
            flags=row[-1],
            order_reference=names.order_reference if names else None,
            order_type=names.order_type.value if names else None,
            clause_text=names.clause_text if names else None,
        )
        for row in session.execute(q)
    ]


def history(session: Session, alert_id: int) -> list[model.AlertAction]:
    """What people did about an alert, oldest first."""
    rows = session.scalars(
        select(tables.AlertAction)
        .where(tables.AlertAction.alert_id == alert_id)
        .order_by(tables.AlertAction.at, tables.AlertAction.id)
    )
    return [convert.alert_action(r) for r in rows]


def act(
    session: Session,
    alert_id: int,
    action: model.AlertActionKind,
    user: str,
    role: model.Role,
    *,
    note: str | None = None,
    assignee: str | None = None,
    disposition: model.Disposition | None = None,
) -> model.AlertAction:
    """Apply one handling action (the rules are in ``zones.handling``) and record it."""
    row = session.get(tables.Alert, alert_id, with_for_update=True)
    if row is None:
        raise UnknownAlert(f"no alert with id {alert_id}", field="alert_id")
    before = handling.HandlingState(
        model.Handling(row.handling),
        row.assigned_to,
        model.Disposition(row.disposition) if row.disposition else None,
    )
    after = handling.apply(
        before, action, role, note=note, assignee=assignee, disposition=disposition
    )
    now = datetime.now(UTC)
    row.handling = after.handling.value
    row.assigned_to = after.assigned_to
    row.disposition = after.disposition.value if after.disposition else None
    row.handled_at = now if after.handling is not model.Handling.UNHANDLED else None
    row.updated_at = now
    record = tables.AlertAction(
        alert_id=alert_id,
        action=action.value,
        by_user=user,
        at=now,
        note=(note or "").strip() or None,
        assignee=assignee,
        disposition=disposition.value if disposition else None,
        handling_after=after.handling.value,
    )
    session.add(record)
    alert_events.announce(session, alert_id, "action")
    session.flush()
    return convert.alert_action(record)


def add_events(session: Session, changes: dict[int, str]) -> None:
    """Announce a change to each alert (``{alert_id: kind}``); committed, they are pushed."""
    for alert_id, kind in changes.items():
        alert_events.announce(session, alert_id, kind)


@dataclass(frozen=True)
class Event:
    id: int
    alert_id: int
    kind: str
    at: datetime


def events_after(session: Session, last_id: int, limit: int = 1000) -> list[Event]:
    """The events after ``last_id``, oldest first: what a reconnecting page missed."""
    rows = session.execute(
        select(
            tables.AlertEvent.id,
            tables.AlertEvent.alert_id,
            tables.AlertEvent.kind,
            tables.AlertEvent.at,
        )
        .where(tables.AlertEvent.id > last_id)
        .order_by(tables.AlertEvent.id)
        .limit(limit)
    )
    return [Event(*r) for r in rows]


def event(session: Session, event_id: int) -> Event | None:
    row = session.get(tables.AlertEvent, event_id)
    return None if row is None else Event(row.id, row.alert_id, row.kind, row.at)


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(tables.AlertEvent.id), 0))) or 0)
