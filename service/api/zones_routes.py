"""Zones: create, find, read, edit (each edit a new version), preview a file, copy for one order."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, UploadFile

from shapely.geometry import mapping

from service.api import errors, out
from service.api import paths as _paths  # noqa: F401 (registers the "id" path convertor)
from service.api.deps import (
    SessionDep,
    SubjectReader,
    ZoneCreator,
    ZoneDrawer,
    ZoneEditor,
    ZoneReader,
)
from service.api.paging import PagerDep, page_responses
from service.api.schemas import (
    BufferIn,
    BufferOut,
    ErrorBody,
    ErrorResponse,
    FeatureCollection,
    Id,
    Line,
    OrderOut,
    PreviewFeature,
    ZoneCheck,
    ZoneFeatureIn,
    ZoneFeatureOut,
    ZonePreview,
)
from service.db import audit_store, orders_store, units_store, zones_store
from zones import maps, model
from zones.crs import metric_area_m2
from zones.errors import (
    Forbidden,
    ImportFailed,
    InvalidCoordinates,
    InvalidGeometry,
    ZonesError,
    ZoneShared,
)
from zones.geometry import zone_geometries, zone_geometry
from zones.importing import read_zones

router = APIRouter(prefix="/zones", tags=["zones"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
PREVIEW_SUFFIXES = (".geojson", ".json", ".kml", ".gpkg", ".zip")


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


def draft(body: ZoneFeatureIn, repair: bool) -> tuple[model.Zone, list[str]]:
    """The zone a Feature describes (not yet stored), and any repair notes."""
    geom, notes = zone_geometry(body.geometry, repair=repair)
    p = body.properties
    drawing = p.drawing.model_dump(exclude_none=True) if p.drawing else None
    zone = model.Zone(
        None,
        0,
        p.name,
        p.category,
        geom,
        p.source,
        reason=p.reason,
        drawing=drawing,
        effective_from=p.effective_from,
    )
    return zone, notes


Repair = Annotated[
    bool, Query(description="Repair an invalid shape (and say what changed) instead of refusing it")
]


@router.post("", status_code=201, response_model=ZoneFeatureOut, responses=ERRORS)
def create_zone(
    body: ZoneFeatureIn, session: SessionDep, user: ZoneCreator, repair: Repair = False
) -> ZoneFeatureOut:
    """Store a zone drawn or sent as a GeoJSON Feature; the answer's ``id`` is the zone id."""
    zone, notes = draft(body, repair)
    zone = zones_store.create(session, zone, notes=notes, user=user.username)
    audit_store.record(session, user.username, "zone.create", "zone", zone.id)
    session.commit()
    return out.zone(zone, notes)


@router.get(
    "", response_model=FeatureCollection, responses={**ERRORS, **page_responses(FeatureCollection)}
)
def list_zones(
    session: SessionDep,
    user: ZoneReader,
    pager: PagerDep,
    bbox: Annotated[
        Line | None,
        Query(
            max_length=200,
            description="minlon,minlat,maxlon,maxlat",
            examples=["0.06,52.15,0.19,52.24"],
        ),
    ] = None,
    category: Annotated[Line | None, Query(max_length=60)] = None,
    q: Annotated[
        Line | None, Query(max_length=100, description="Part of a zone's name, any case")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50_000, description="The page size")] = 5_000,
) -> FeatureCollection:
    """Current versions of the zones that intersect ``bbox``, of a ``category``, or whose name
    contains ``q`` (names that start with it first), as a FeatureCollection, by zone id.

    Paged: at most ``limit`` zones; when more match, the ``Link`` (``rel="next"``) and
    ``Next-Cursor`` headers lead to the next page."""
    box = parse_bbox(bbox) if bbox else None
    order = zones_store.current_order(q)
    found = zones_store.current_page(
        session,
        bbox=box,
        category=category,
        name=q,
        limit=limit + 1,
        after=pager.after(order, (bool, str, int) if q else (int,)),
    )
    zones = [z for z, _ in pager.page(found, limit, order, lambda keyed: keyed[1])]
    return FeatureCollection(features=[out.zone(z) for z in zones])


@router.post("/preview", response_model=ZonePreview, responses=ERRORS)
def preview_file(file: UploadFile, user: ZoneDrawer) -> ZonePreview:
    """Read a GeoJSON, KML, GeoPackage or zipped Shapefile and show its shapes as they would
    be stored (reprojected to EPSG:4326, repaired where needed); nothing is stored."""
    name = file.filename or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in PREVIEW_SUFFIXES:
        raise ImportFailed(f"{name!r}: give a {', '.join(PREVIEW_SUFFIXES)} file", field="file")
    label = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)[:80] or f"upload{suffix}"
    with tempfile.TemporaryDirectory(prefix="zones-preview-") as folder:
        path = Path(folder) / label
        with path.open("wb") as target:
            while chunk := file.file.read(1 << 20):
                target.write(chunk)
        result = read_zones(path)
    gdf = result.zones
    features = [
        PreviewFeature(
            geometry=dict(mapping(geom)),
            properties={"name": n, "category": c, "source": s, "area_m2": round(float(a), 1)},
        )
        for geom, n, c, s, a in zip(
            gdf.geometry, gdf["name"], gdf["category"], gdf["source"], gdf["area_m2"], strict=True
        )
    ]
    return ZonePreview(features=features, skipped=result.skipped, repaired=result.repaired)


@router.post("/validate", response_model=ZoneCheck, responses=ERRORS)
def validate_zone(body: ZoneFeatureIn, user: ZoneDrawer, repair: Repair = False) -> ZoneCheck:
    """Check a zone Feature exactly as ``POST /zones`` would, without storing it: ``valid``
    with the Feature as it would be stored (normalised geometry, area, repair notes), or not
    ``valid`` with the error storing it would answer (``error.location``: the [lon, lat] of
    a self-intersection). A refused shape is a result here, not a failed call (200). Check
    every shape of a save first, so that one bad shape leaves none stored."""
    try:
        zone, notes = draft(body, repair)
    except ZonesError as exc:
        return ZoneCheck(valid=False, error=ErrorBody(**errors.error_body(exc)["error"]))
    props: dict[str, object] = {
        "name": zone.name,
        "category": zone.category,
        "source": zone.source,
        "drawing": zone.drawing,
        "area_m2": round(float(metric_area_m2([zone.geometry])[0]), 1),
    }
    if notes:
        props["notes"] = notes
    return ZoneCheck(
        valid=True, feature=PreviewFeature(geometry=dict(mapping(zone.geometry)), properties=props)
    )


@router.post("/buffer", response_model=BufferOut, responses=ERRORS)
def buffer_shapes(body: BufferIn, user: ZoneReader) -> BufferOut:
    """Each shape grown by ``buffer_m`` metres, geodesically on WGS 84 (every point of the
    outline lies ``buffer_m`` from the shape, within 0.1 m + 0.01 %), as the judging grows a
    condition's zones: to draw a buffer while it is edited. A shape that is not a valid zone
    is repaired first, or skipped with the reason; nothing is stored. Shapes whose growing
    would take more than 10 s of computing are refused (422 ``geometry_too_costly``)."""
    kept: list[tuple[int, model.Zone]] = []
    skipped: list[str] = []
    fields = [f"geometries[{i}]" for i in range(len(body.geometries))]
    for i, drawn in enumerate(zone_geometries(body.geometries, repair=True, fields=fields)):
        if isinstance(drawn, ZonesError):
            skipped.append(str(drawn))
        else:
            kept.append((i, model.Zone(None, 0, "", "", drawn[0])))
    buffer_m = body.buffer_m
    grown = maps.buffered([z for _, z in kept], buffer_m, budget=maps.DRAWING_BUDGET)
    features = [
        PreviewFeature(geometry=dict(mapping(g)), properties={"index": i, "buffer_m": buffer_m})
        for (i, _), g in zip(kept, grown, strict=True)
    ]
    return BufferOut(features=features, skipped=skipped)


@router.get("/{zone_id:id}", response_model=ZoneFeatureOut, responses=ERRORS)
def get_zone(
    zone_id: Id, session: SessionDep, user: ZoneReader, version: Id | None = None
) -> ZoneFeatureOut:
    """A zone at its current version, or at ``version``."""
    return out.zone(zones_store.get(session, zone_id, version))


@router.get("/{zone_id:id}/versions", response_model=FeatureCollection, responses=ERRORS)
def zone_versions(zone_id: Id, session: SessionDep, user: ZoneReader) -> FeatureCollection:
    """Every version of a zone, oldest first, each with who made it, when and why."""
    return FeatureCollection(features=[out.zone(z) for z in zones_store.versions(session, zone_id)])


@router.get("/{zone_id:id}/orders", response_model=list[OrderOut], responses=ERRORS)
def zone_orders(zone_id: Id, session: SessionDep, user: SubjectReader) -> list[OrderOut]:
    """The orders (current versions) whose conditions name this zone."""
    zones_store.get(session, zone_id)
    used = orders_store.orders_using_zone(session, zone_id, user.units)
    return [out.order(o) for o, _ in used]


def require_reason(body: ZoneFeatureIn) -> str:
    reason = (body.properties.reason or "").strip()
    if len(reason) < 3:
        raise InvalidGeometry(
            "say why the zone is changed (properties.reason): it is kept with the new version",
            field="properties.reason",
        )
    return reason


@router.put("/{zone_id:id}", response_model=ZoneFeatureOut, responses=ERRORS)
def edit_zone(
    zone_id: Id,
    body: ZoneFeatureIn,
    session: SessionDep,
    user: ZoneEditor,
    repair: Repair = False,
    order_id: Annotated[
        Id | None, Query(description="The order being edited, when the edit is made for one")
    ] = None,
    confirm_shared: Annotated[
        bool, Query(description="Edit a zone that other orders use too, for all of them")
    ] = False,
) -> ZoneFeatureOut:
    """Store an edit as a new version; earlier versions and the alerts that name them stay.

    ``properties.reason`` is required. A zone that orders other than ``order_id`` also use is
    not changed without ``confirm_shared=true``: the answer (409 ``zone_shared``) names them,
    and ``POST /orders/{order_id}/zones/{zone_id}/copy`` makes a copy for one order instead.
    """
    zones_store.get(session, zone_id)  # an unknown zone is a 404 before anything else
    require_reason(body)
    foreign = {u for u in units_store.units_of_zone_users(session, zone_id) if not user.reaches(u)}
    if foreign:
        raise Forbidden(
            f"zone {zone_id} is used by orders of another unit: it cannot be edited here; copy "
            "it for your order instead (POST /orders/{order_id}/zones/{zone_id}/copy)",
            field="zone_id",
        )
    users = orders_store.orders_using_zone(session, zone_id)
    others = [(o, s) for o, s in users if o.id != order_id]
    if others and (len(users) > 1 or order_id is not None) and not confirm_shared:
        named = "; ".join(f"{o.type.value} {o.reference} ({s.reference})" for o, s in others[:10])
        raise ZoneShared(
            f"zone {zone_id} is used by {len(others)} other order(s): {named}. Editing it "
            "changes it for all of them: confirm with confirm_shared=true, or copy it for "
            "this order alone",
            field="id",
        )
    edit, notes = draft(body, repair)
    zone = zones_store.new_version(session, zone_id, edit, notes=notes, user=user.username)
    audit_store.record(
        session, user.username, "zone.edit", "zone", zone_id, reason=edit.reason,
        detail={"version": zone.version, "orders": [o.id for o, _ in users]},
    )  # fmt: skip
    session.commit()
    return out.zone(zone, notes)
