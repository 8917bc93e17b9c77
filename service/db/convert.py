"""Rows to domain objects and back: the one place where tables meet the domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry

from service.db import tables
from zones import model
from zones.schedule import Schedule
from zones.stays import Rules


def geom_to_db(geometry: BaseGeometry) -> WKBElement:
    return from_shape(geometry, srid=4326)


def geom_from_db(value: Any) -> BaseGeometry:
    if isinstance(value, bytes | memoryview):
        return shapely.from_wkb(bytes(value))
    return to_shape(value)


def zone(row: tables.ZoneVersion, geometry: BaseGeometry | None = None) -> model.Zone:
    """The zone version of a row; ``geometry`` when the caller has it already (the row's
    geometry column is then never read)."""
    return model.Zone(
        id=row.zone_id,
        version=row.version,
        name=row.name,
        category=row.category,
        geometry=geom_from_db(row.geom) if geometry is None else geometry,
        source=row.source,
        area_m2=row.area_m2,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        superseded_at=row.superseded_at,
        drawing=row.drawing,
        effective_from=row.effective_from,
    )


def names(version: tables.OrderVersion, condition: tables.Condition, zone_name: str) -> model.Names:
    return model.Names(
        order_reference=version.reference,
        order_type=model.OrderType(version.type),
        clause_number=condition.position,
        clause_text=condition.text,
        zone_name=zone_name,
    )


def alert(
    row: tables.Alert,
    lon: float | None,
    lat: float | None,
    subject: tables.Subject | None = None,
    version: tables.OrderVersion | None = None,
    condition: tables.Condition | None = None,
    zone_name: str | None = None,
    flags: Sequence[str] | None = None,
) -> model.Alert:
    """An alert; with the joined rows it also carries the names of what it was judged against
    (a device alert names no zone, and an alarm no order or clause either)."""
    label = (
        names(version, condition, zone_name or "")
        if version is not None and condition is not None
        else None
    )
    return model.Alert(
        id=row.id,
        subject_id=row.subject_id,
        order_id=row.order_id,
        condition_id=row.condition_id,
        zone_id=row.zone_id,
        zone_version=row.zone_version,
        status=model.AlertStatus(row.status),
        evidence=model.Evidence(row.evidence) if row.evidence else None,
        first_at=row.first_at,
        last_at=row.last_at,
        closed_at=row.closed_at,
        observation_count=row.observation_count,
        late=row.late,
        deepest_m=row.deepest_m,
        lon=None if lon is None else float(lon),
        lat=None if lat is None else float(lat),
        handling=model.Handling(row.handling),
        assigned_to=row.assigned_to,
        disposition=model.Disposition(row.disposition) if row.disposition else None,
        handled_at=row.handled_at,
        subject_reference=subject.reference if subject is not None else None,
        subject_name=subject.name if subject is not None else None,
        subject_unit=subject.unit if subject is not None else None,
        names=label,
        buffer_m=condition.buffer_m if condition is not None else 0.0,
        severity=model.Severity(row.severity),
        confirmed_at=row.confirmed_at,
        visit_id=row.visit_id,
        opened_by=row.opened_by,
        closed_by=row.closed_by,
        schedule_window=row.schedule_window,
        rules=row.rules,
        merged_into=row.merged_into,
        judged_at=row.judged_at,
        warning_m=condition.warning_m if condition is not None else 0.0,
        kind=model.AlertKind(row.kind),
        device_id=row.device_id,
        detail=row.detail,
        flags=tuple(sorted(set(flags or ()))),
    )


def alert_action(row: tables.AlertAction) -> model.AlertAction:
    return model.AlertAction(
        id=row.id,
        alert_id=row.alert_id,
        action=model.AlertActionKind(row.action),
        by=row.by_user,
        at=row.at,
        handling_after=model.Handling(row.handling_after),
        note=row.note,
        assignee=row.assignee,
        disposition=model.Disposition(row.disposition) if row.disposition else None,
    )


def subject(row: tables.Subject) -> model.Subject:
    return model.Subject(
        id=row.id,
        reference=row.reference,
        name=row.name,
        risk_level=row.risk_level,
        officer=row.officer,
        unit=row.unit,
        photo_ref=row.photo_ref,
        travel_mode=model.TravelMode(row.travel_mode),
    )


def condition(row: Any, zone_ids: tuple[int, ...]) -> model.Condition:
    """A condition from its row (an ORM object or a plain row of its columns)."""
    return model.Condition(
        id=row.id,
        text=row.text,
        zone_ids=zone_ids,
        buffer_m=row.buffer_m,
        kind=model.ConditionKind(row.kind),
        clause_id=row.clause_id,
        number=row.position,
        schedule=None if row.schedule is None else Schedule.from_json(row.schedule),
        warning_m=row.warning_m,
        rules=Rules(
            confirm_fixes=row.confirm_fixes,
            confirm_seconds=row.confirm_seconds,
            clear_fixes=row.clear_fixes,
            clear_seconds=row.clear_seconds,
        ),
        tag_required=row.tag_required,
        silence_minutes=row.silence_minutes,
    )


def order(row: Any, version: Any, conditions: tuple[model.Condition, ...]) -> model.Order:
    """An order from its row (anything with its ``id`` and ``subject_id``) and a version's
    row (an ORM object or a plain row of its columns)."""
    return model.Order(
        id=row.id,
        subject_id=row.subject_id,
        reference=version.reference,
        type=model.OrderType(version.type),
        starts=version.starts,
        ends=version.ends,
        conditions=conditions,
        court=version.court,
        version=version.version,
        status=model.OrderStatus(version.status),
        reason=version.reason,
        created_by=version.created_by,
        created_at=version.created_at,
        effective_from=version.effective_from,
    )
