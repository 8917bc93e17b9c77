"""Rows to domain objects and back: the one place where tables meet the domain."""

from __future__ import annotations

from typing import Any

import shapely
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry

from service.db import tables
from zones import model


def geom_to_db(geometry: BaseGeometry) -> WKBElement:
    return from_shape(geometry, srid=4326)


def geom_from_db(value: Any) -> BaseGeometry:
    if isinstance(value, bytes | memoryview):
        return shapely.from_wkb(bytes(value))
    return to_shape(value)


def zone(row: tables.ZoneVersion) -> model.Zone:
    return model.Zone(
        id=row.zone_id,
        version=row.version,
        name=row.name,
        category=row.category,
        geometry=geom_from_db(row.geom),
        source=row.source,
        area_m2=row.area_m2,
    )


def alert(row: tables.Alert, lon: float, lat: float) -> model.Alert:
    return model.Alert(
        id=row.id,
        subject_id=row.subject_id,
        order_id=row.order_id,
        condition_id=row.condition_id,
        zone_id=row.zone_id,
        zone_version=row.zone_version,
        status=model.AlertStatus(row.status),
        evidence=model.Evidence(row.evidence),
        first_at=row.first_at,
        last_at=row.last_at,
        closed_at=row.closed_at,
        observation_count=row.observation_count,
        late=row.late,
        deepest_m=row.deepest_m,
        lon=float(lon),
        lat=float(lat),
    )


def episode(row: tables.Alert) -> model.Episode:
    return model.Episode(
        first_at=row.first_at,
        last_at=row.last_at,
        closed_at=row.closed_at,
        observation_count=row.observation_count,
    )


def subject(row: tables.Subject) -> model.Subject:
    return model.Subject(
        id=row.id,
        reference=row.reference,
        name=row.name,
        risk_level=row.risk_level,
        officer=row.officer,
        unit=row.unit,
    )


def condition(row: tables.Condition, zone_ids: tuple[int, ...]) -> model.Condition:
    return model.Condition(
        id=row.id,
        text=row.text,
        zone_ids=zone_ids,
        buffer_m=row.buffer_m,
        kind=model.ConditionKind(row.kind),
    )


def order(row: tables.Order, conditions: tuple[model.Condition, ...]) -> model.Order:
    return model.Order(
        id=row.id,
        subject_id=row.subject_id,
        reference=row.reference,
        type=model.OrderType(row.type),
        starts=row.starts,
        ends=row.ends,
        conditions=conditions,
        court=row.court,
    )
