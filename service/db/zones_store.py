"""Storing zones as versions that are never overwritten, and reading them back."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from shapely.geometry.base import BaseGeometry

from service.db import convert, like, tables
from zones import model
from zones.crs import metric_area_m2
from zones.errors import UnknownZone


def create(
    session: Session, draft: model.Zone, *, notes: list[str] | None = None, user: str | None = None
) -> model.Zone:
    """Store a new zone at version 1 (the draft's id and version are ignored)."""
    row = tables.Zone(current_version=1)
    session.add(row)
    session.flush()
    return _add_version(session, row, draft, notes, user)


def create_many(
    session: Session,
    geometries: list[BaseGeometry],
    names: list[str],
    categories: list[str],
    sources: list[str | None],
    user: str | None = None,
) -> list[int]:
    """Store many new zones at version 1 (an import); returns their ids."""
    zone_rows = [tables.Zone(current_version=1) for _ in geometries]
    session.add_all(zone_rows)
    session.flush()
    areas = metric_area_m2(geometries)
    session.add_all(
        tables.ZoneVersion(
            zone_id=z.id,
            version=1,
            name=n,
            category=c,
            source=s,
            geom=convert.geom_to_db(g),
            area_m2=float(a),
            created_by=user,
        )
        for z, g, n, c, s, a in zip(
            zone_rows, geometries, names, categories, sources, areas, strict=True
        )
    )
    session.flush()
    return [z.id for z in zone_rows]


def new_version(
    session: Session,
    zone_id: int,
    draft: model.Zone,
    *,
    notes: list[str] | None = None,
    user: str | None = None,
) -> model.Zone:
    """Store an edit as a new version; the old version stays, marked superseded."""
    row = session.get(tables.Zone, zone_id, with_for_update=True)
    if row is None:
        raise UnknownZone(f"no zone with id {zone_id}", field="id")
    current = _version_row(session, zone_id, row.current_version)
    current.superseded_at = func.clock_timestamp()
    row.current_version += 1
    return _add_version(session, row, draft, notes, user)


def _add_version(
    session: Session,
    zone: tables.Zone,
    draft: model.Zone,
    notes: list[str] | None,
    user: str | None,
) -> model.Zone:
    """Store ``draft`` as the zone's current version."""
    area = float(metric_area_m2([draft.geometry])[0])
    row = tables.ZoneVersion(
        zone_id=zone.id,
        version=zone.current_version,
        name=draft.name,
        category=draft.category,
        source=draft.source,
        geom=convert.geom_to_db(draft.geometry),
        area_m2=area,
        notes="\n".join(notes) if notes else None,
        reason=draft.reason,
        drawing=draft.drawing,
        created_by=user,
        created_at=func.clock_timestamp(),  # recorded: the statement's time
        effective_from=draft.effective_from
        if draft.effective_from is not None or zone.current_version == 1
        else func.clock_timestamp(),
    )
    session.add(row)
    session.flush()
    return replace(
        draft,
        id=zone.id,
        version=zone.current_version,
        area_m2=area,
        created_by=user,
        created_at=row.created_at,
    )


def _version_row(session: Session, zone_id: int, version: int) -> tables.ZoneVersion:
    row = session.scalar(
        select(tables.ZoneVersion).where(
            tables.ZoneVersion.zone_id == zone_id, tables.ZoneVersion.version == version
        )
    )
    if row is None:
        raise UnknownZone(f"zone {zone_id} has no version {version}", field="version")
    return row


def get(session: Session, zone_id: int, version: int | None = None) -> model.Zone:
    """A zone at ``version``, or at its current version."""
    if version is None:
        zone = session.get(tables.Zone, zone_id)
        if zone is None:
            raise UnknownZone(f"no zone with id {zone_id}", field="id")
        version = zone.current_version
    return convert.zone(_version_row(session, zone_id, version))


def versions(session: Session, zone_id: int) -> list[model.Zone]:
    """Every version of a zone, oldest first."""
    rows = session.scalars(
        select(tables.ZoneVersion)
        .where(tables.ZoneVersion.zone_id == zone_id)
        .order_by(tables.ZoneVersion.version)
    ).all()
    if not rows:
        raise UnknownZone(f"no zone with id {zone_id}", field="id")
    return [convert.zone(r) for r in rows]


def current_order(name: str | None) -> str:
    """The name of the zone list's order: by id, or names starting with ``name`` first (so
    a cursor made for one ``name`` is refused for another)."""
    if not name:
        return "zones:id"
    return "zones:match:" + hashlib.sha256(name.lower().encode()).hexdigest()[:16]


def current(
    session: Session,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    category: str | None = None,
    ids: list[int] | None = None,
    name: str | None = None,
    limit: int | None = None,
) -> list[model.Zone]:
    """Current versions of zones, optionally within a bbox (intersecting), a category, ids,
    or whose name contains ``name`` (any case; names that start with it first)."""
    found = current_page(session, bbox=bbox, category=category, ids=ids, name=name, limit=limit)
    return [zone for zone, _ in found]


def current_page(
    session: Session,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    category: str | None = None,
    ids: list[int] | None = None,
    name: str | None = None,
    limit: int | None = None,
    after: tuple[Any, ...] | None = None,
) -> list[tuple[model.Zone, tuple[Any, ...]]]:
    """As :func:`current`, each zone with its sort key, after the key ``after`` if given;
    the zone id ends every key, so the order is total and pages neither skip nor repeat."""
    zv = tables.ZoneVersion
    key: tuple[Any, ...] = (zv.zone_id,)
    if name:
        starts = ~func.lower(zv.name).startswith(name.lower(), autoescape=True)
        key = (starts, zv.name, zv.zone_id)
    q = (
        select(zv, *key)
        .join(tables.Zone, tables.Zone.id == zv.zone_id)
        .where(zv.version == tables.Zone.current_version)
    )
    if name:
        q = q.where(zv.name.ilike(like.contains(name), escape=like.ESCAPE))
    if bbox is not None:
        q = q.where(func.ST_Intersects(zv.geom, func.ST_MakeEnvelope(*bbox, 4326)))
    if category is not None:
        q = q.where(zv.category == category)
    if ids is not None:
        q = q.where(zv.zone_id.in_(ids))
    if after is not None:
        q = q.where(tuple_(*key) > tuple_(*after))
    q = q.order_by(*key)
    if limit is not None:
        q = q.limit(limit)
    return [(convert.zone(row[0]), tuple(row[1:])) for row in session.execute(q)]


def versions_between(
    session: Session, zone_ids: list[int], since: datetime, until: datetime
) -> list[model.Zone]:
    """Every version of the zones that was current at some instant from ``since`` to ``until``
    (a version is current from its ``created_at`` until its ``superseded_at``; one superseded
    in the transaction that made it was never current)."""
    if not zone_ids:
        return []
    zv = tables.ZoneVersion
    rows = session.scalars(
        select(zv)
        .where(
            zv.zone_id.in_(zone_ids),
            zv.created_at <= until,
            zv.superseded_at.is_(None)
            | ((zv.superseded_at > since) & (zv.superseded_at > zv.created_at)),
        )
        .order_by(zv.zone_id, zv.version)
    )
    return [convert.zone(r) for r in rows]


def missing(session: Session, zone_ids: list[int]) -> list[int]:
    """The ids among ``zone_ids`` that name no zone."""
    found = set(session.scalars(select(tables.Zone.id).where(tables.Zone.id.in_(zone_ids))))
    return [z for z in zone_ids if z not in found]
