"""Zones: create, list by bbox, read, and edit (each edit a new version)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shapely.geometry import mapping

from service.api.deps import Editor, SessionDep, Viewer
from service.api.schemas import ErrorResponse, FeatureCollection, ZoneFeatureIn, ZoneFeatureOut
from service.db import zones_store
from zones import model
from zones.errors import InvalidCoordinates
from zones.geometry import zone_geometry

router = APIRouter(prefix="/zones", tags=["zones"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def feature(zone: model.Zone, notes: list[str] | None = None) -> ZoneFeatureOut:
    assert zone.id is not None
    props: dict[str, object] = {
        "name": zone.name,
        "category": zone.category,
        "source": zone.source,
        "version": zone.version,
        "area_m2": round(zone.area_m2 or 0.0, 1),
    }
    if notes:
        props["notes"] = notes
    return ZoneFeatureOut(id=zone.id, geometry=dict(mapping(zone.geometry)), properties=props)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` to numbers, checked."""
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4:
        raise InvalidCoordinates("bbox must be minlon,minlat,maxlon,maxlat numbers", field="bbox")
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidCoordinates(
            "bbox must have -180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90",
            field="bbox",
        )
    return minx, miny, maxx, maxy


def _draft(body: ZoneFeatureIn, repair: bool) -> tuple[model.Zone, list[str]]:
    """The zone a Feature describes (not yet stored), and any repair notes."""
    geom, notes = zone_geometry(body.geometry, repair=repair)
    p = body.properties
    return model.Zone(None, 0, p.name, p.category, geom, p.source), notes


Repair = Annotated[
    bool, Query(description="Repair an invalid shape (and say what changed) instead of refusing it")
]


@router.post("", status_code=201, response_model=ZoneFeatureOut, responses=ERRORS)
def create_zone(
    body: ZoneFeatureIn, session: SessionDep, user: Editor, repair: Repair = False
) -> ZoneFeatureOut:
    """Store a zone drawn or sent as a GeoJSON Feature; the answer's ``id`` is the zone id."""
    draft, notes = _draft(body, repair)
    zone = zones_store.create(session, draft, notes=notes, user=user.username)
    session.commit()
    return feature(zone, notes)


@router.get("", response_model=FeatureCollection, responses=ERRORS)
def list_zones(
    session: SessionDep,
    user: Viewer,
    bbox: Annotated[
        str | None,
        Query(description="minlon,minlat,maxlon,maxlat", examples=["0.06,52.15,0.19,52.24"]),
    ] = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 5_000,
) -> FeatureCollection:
    """Current versions of the zones that intersect ``bbox``, as a FeatureCollection."""
    box = parse_bbox(bbox) if bbox else None
    zones = zones_store.current(session, bbox=box, category=category, limit=limit)
    return FeatureCollection(features=[feature(z) for z in zones])


@router.get("/{zone_id}", response_model=ZoneFeatureOut, responses=ERRORS)
def get_zone(
    zone_id: int, session: SessionDep, user: Viewer, version: int | None = None
) -> ZoneFeatureOut:
    """A zone at its current version, or at ``version``."""
    return feature(zones_store.get(session, zone_id, version))


@router.get("/{zone_id}/versions", response_model=FeatureCollection, responses=ERRORS)
def zone_versions(zone_id: int, session: SessionDep, user: Viewer) -> FeatureCollection:
    """Every version of a zone, oldest first."""
    return FeatureCollection(features=[feature(z) for z in zones_store.versions(session, zone_id)])


@router.put("/{zone_id}", response_model=ZoneFeatureOut, responses=ERRORS)
def edit_zone(
    zone_id: int, body: ZoneFeatureIn, session: SessionDep, user: Editor, repair: Repair = False
) -> ZoneFeatureOut:
    """Store an edit as a new version; earlier versions and the alerts that name them stay."""
    draft, notes = _draft(body, repair)
    zone = zones_store.new_version(session, zone_id, draft, notes=notes, user=user.username)
    session.commit()
    return feature(zone, notes)
