"""Domain objects to wire shapes: the one place answers are shaped, for every route."""

from __future__ import annotations

from dataclasses import asdict

from shapely.geometry import mapping

from service.api.schemas import (
    AlertActionOut,
    AlertOut,
    ConditionOut,
    OrderOut,
    SubjectListed,
    SubjectOut,
    SubjectRef,
    VerdictOut,
    ZoneFeatureOut,
)
from zones import explain, model
from zones.localtime import describe_local


def subject(s: model.Subject) -> SubjectOut:
    return SubjectOut(**asdict(s))


def subject_listed(s: model.Subject, orders: int, orders_in_force: int) -> SubjectListed:
    return SubjectListed(**asdict(s), orders=orders, orders_in_force=orders_in_force)


def subject_ref(s: model.Subject) -> SubjectRef:
    assert s.id is not None
    return SubjectRef(id=s.id, reference=s.reference, name=s.name, photo_ref=s.photo_ref)


def order(o: model.Order) -> OrderOut:
    assert o.id is not None
    return OrderOut(
        id=o.id,
        subject_id=o.subject_id,
        version=o.version,
        reference=o.reference,
        type=o.type,
        court=o.court,
        starts=o.starts,
        ends=o.ends,
        status=o.status,
        reason=o.reason,
        created_by=o.created_by,
        created_at=o.created_at,
        effective_from=o.effective_from,
        conditions=[
            ConditionOut(
                id=c.id or 0,
                clause_id=c.clause_id or c.id or 0,
                number=c.number or i,
                text=c.text,
                zone_ids=list(c.zone_ids),
                buffer_m=c.buffer_m,
                kind=c.kind,
                warning_m=c.warning_m,
                schedule=None if c.schedule is None else c.schedule.to_json(),
                schedule_text=None if c.schedule is None else c.schedule.describe(),
                confirm_fixes=c.rules.confirm_fixes,
                confirm_seconds=int(c.rules.confirm_seconds),
                clear_fixes=c.rules.clear_fixes,
                clear_seconds=int(c.rules.clear_seconds),
                tag_required=c.tag_required,
                silence_minutes=c.silence_minutes,
            )
            for i, c in enumerate(o.conditions, start=1)
        ],
    )


def zone(z: model.Zone, notes: list[str] | None = None) -> ZoneFeatureOut:
    """A zone version as a GeoJSON Feature, with who made it, when and why."""
    assert z.id is not None
    label = z.geometry.representative_point()
    props: dict[str, object] = {
        "name": z.name,
        "category": z.category,
        "source": z.source,
        "version": z.version,
        "area_m2": round(z.area_m2 or 0.0, 1),
        "reason": z.reason,
        "created_by": z.created_by,
        "created_at": z.created_at.isoformat() if z.created_at else None,
        "effective_from": z.effective_from.isoformat() if z.effective_from else None,
        "superseded_at": z.superseded_at.isoformat() if z.superseded_at else None,
        "drawing": z.drawing,
        "label_point": [round(label.x, 7), round(label.y, 7)],
    }
    if notes:
        props["notes"] = notes
    return ZoneFeatureOut(id=z.id, geometry=dict(mapping(z.geometry)), properties=props)


def verdict(v: model.Verdict, s: model.Subject, accuracy_m: float | None = None) -> VerdictOut:
    """A verdict, named; ``accuracy_m`` is the observation's, for the explanation."""
    assert s.id is not None and v.names is not None
    return VerdictOut(
        subject_id=s.id,
        subject_reference=s.reference,
        subject_name=s.name,
        order_id=v.order_id,
        order_reference=v.names.order_reference,
        order_type=v.names.order_type,
        condition_id=v.condition_id,
        clause_id=v.clause,
        clause_number=v.names.clause_number,
        clause_text=v.names.clause_text,
        zone_id=v.zone_id,
        zone_name=v.names.zone_name,
        zone_version=v.zone_version,
        buffer_m=v.buffer_m,
        status=v.status,
        distance_m=explain.rounded(v.distance_m, explain.limits_of(v), decimals=2),
        evidence=v.evidence,
        disc_fraction_inside=None
        if v.disc_fraction_inside is None
        else round(v.disc_fraction_inside, 4),
        warning_m=v.warning_m,
        applies=v.applies,
        schedule_window=v.window,
        explanation=explain.verdict(v, accuracy_m),
    )


def alert(a: model.Alert) -> AlertOut:
    n = a.names
    return AlertOut(
        id=a.id,
        kind=a.kind,
        title=explain.alert_title(a),
        device_id=a.device_id,
        detail=a.detail,
        flags=list(a.flags),
        subject_id=a.subject_id,
        subject_reference=a.subject_reference,
        subject_name=a.subject_name,
        order_id=a.order_id,
        order_reference=n.order_reference if n else None,
        order_type=n.order_type if n else None,
        condition_id=a.condition_id,
        clause_number=n.clause_number if n else None,
        clause_text=n.clause_text if n else None,
        zone_id=a.zone_id,
        zone_name=n.zone_name if n and a.zone_id is not None else None,
        zone_version=a.zone_version,
        buffer_m=a.buffer_m,
        status=a.status,
        handling=a.handling,
        assigned_to=a.assigned_to,
        disposition=a.disposition,
        handled_at=a.handled_at,
        evidence=a.evidence,
        first_at=a.first_at,
        last_at=a.last_at,
        closed_at=a.closed_at,
        observation_count=a.observation_count,
        late=a.late,
        deepest_m=None if a.deepest_m is None else round(a.deepest_m, 2),
        lon=a.lon,
        lat=a.lat,
        explanation=explain.alert(a),
        severity=a.severity,
        stage=a.stage,
        confirmed_at=a.confirmed_at,
        visit_id=a.visit_id,
        opened_by=a.opened_by,
        closed_by=a.closed_by,
        schedule_window=a.schedule_window,
        rules=a.rules,
        merged_into=a.merged_into,
        judged_at=a.judged_at,
    )


def alert_action(a: model.AlertAction) -> AlertActionOut:
    assert a.id is not None and a.at is not None
    return AlertActionOut(
        id=a.id,
        alert_id=a.alert_id,
        action=a.action,
        by=a.by,
        at=a.at,
        at_local=describe_local(a.at),
        handling_after=a.handling_after,
        note=a.note,
        assignee=a.assignee,
        disposition=a.disposition,
    )
