"""Accepting zone geometry and positions from outside: check, repair on request, or reject.

Every rejection names where the problem is (which polygon, which ring, which position, or
the coordinates of a self-intersection) so an officer can fix the drawing.

Zones lie between 80 S and 84 N (the limits of UTM): polar zones are refused, as a lon/lat
polygon cannot hold a pole. A ring crossing longitude 180 (a jump of more than 180 degrees
between consecutive positions) is refused, or split there on request (:mod:`zones.antimeridian`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from zones.antimeridian import (
    SPLIT_HINT,
    crosses_antimeridian,
    split_at_antimeridian,
    unwrap_longitudes,
)
from zones.crs import in_great_britain, metric_area_m2
from zones.errors import InvalidCoordinates, InvalidGeometry, SwappedCoordinates

ZONE_TYPES = ("Polygon", "MultiPolygon")
POLYGON, MULTIPOLYGON, COLLECTION = (
    shapely.GeometryType.POLYGON,
    shapely.GeometryType.MULTIPOLYGON,
    shapely.GeometryType.GEOMETRYCOLLECTION,
)
Geometries = npt.NDArray[np.object_]
# Zones are accepted between these latitudes (UTM's limits). Distances are exact anywhere,
# but a lon/lat polygon cannot hold a pole, and near one its edges bend too sharply (a
# parallel at 84 N curves with a 670 km radius) for a 100 km buffer to stay a polygon.
ZONE_SOUTH, ZONE_NORTH = -80.0, 84.0


def looks_swapped(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where a position lies outside Great Britain but would lie inside it read lat,lon.

    The service's users are UK forces; a British point sent latitude first lands in the
    Indian Ocean, and is far more likely a client's axis-order mistake than a real fix.
    """
    return ~in_great_britain(lon, lat) & in_great_britain(lat, lon)


def check_position(lon: float, lat: float, *, field: str = "") -> None:
    """Reject a longitude/latitude that is not finite, out of range, or apparently swapped."""
    prefix = f"{field}." if field else ""
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if not math.isfinite(value):
            raise InvalidCoordinates(
                f"{name} must be a finite number, got {value}", field=prefix + name
            )
        if abs(value) > limit:
            raise InvalidCoordinates(
                f"{name} {value} is out of range [-{limit:g}, {limit:g}]", field=prefix + name
            )
    if bool(looks_swapped(lon, lat)):
        raise SwappedCoordinates(
            f"position ({lon}, {lat}) reads as latitude, longitude: send longitude first "
            f"(GeoJSON order), i.e. ({lat}, {lon})",
            field=field or None,
        )


def _position(value: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) not in (2, 3, 4)  # [lon, lat], with a height and a measure allowed
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidGeometry(f"a position must be [lon, lat] numbers, got {value!r}", field=where)
    lon, lat = float(value[0]), float(value[1])
    for name, v, limit in (("longitude", lon, 180.0), ("latitude", lat, 90.0)):
        if not math.isfinite(v) or abs(v) > limit:
            raise InvalidCoordinates(f"{name} {v} is out of range or not finite", field=where)
    if not ZONE_SOUTH <= lat <= ZONE_NORTH:
        raise InvalidCoordinates(
            f"latitude {lat} is beyond the {ZONE_SOUTH:g}..{ZONE_NORTH:g} degrees zones are "
            "accepted in: polar zones are not supported",
            field=where,
        )
    return lon, lat


def _on_one_line(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> bool:
    """True when every position lies on one line through the first (or on the first itself)."""
    dx, dy = lon - lon[0], lat - lat[0]
    far = int(np.argmax(dx * dx + dy * dy))
    reach2 = dx[far] ** 2 + dy[far] ** 2
    cross = dx * dy[far] - dy * dx[far]
    return bool(reach2 == 0 or np.abs(cross).max() <= 1e-12 * reach2)


def _check_rings(
    polygons: Any, where: str, crossing: list[str], *, single: bool = False
) -> list[list[list[tuple[float, float]]]]:
    """Each ring's positions, checked; the places of rings crossing 180 go into ``crossing``."""
    if not isinstance(polygons, list) or not polygons:
        raise InvalidGeometry("expected a non-empty list of polygons", field=where)
    checked = []
    for p, rings in enumerate(polygons):
        if not isinstance(rings, list) or not rings:
            raise InvalidGeometry(
                "a polygon needs at least an exterior ring",
                field=where if single else f"{where}[{p}]",
            )
        poly = []
        for r, ring in enumerate(rings):
            at = f"{where}[{r}]" if single else f"{where}[{p}][{r}]"
            if not isinstance(ring, list):
                raise InvalidGeometry("a ring must be a list of positions", field=at)
            coords = [_position(pos, f"{at}[{i}]") for i, pos in enumerate(ring)]
            if len(coords) < 4:
                raise InvalidGeometry(
                    f"a ring needs at least 4 positions (first repeated last), got {len(coords)}",
                    field=at,
                )
            if coords[0] != coords[-1]:
                raise InvalidGeometry(
                    f"ring is not closed: first position {list(coords[0])} differs from last "
                    f"{list(coords[-1])}",
                    field=at,
                )
            lon, lat = np.array(coords).T
            if crosses_antimeridian(lon):
                crossing.append(at)
                lon = unwrap_longitudes(lon)
            if _on_one_line(lon, lat):
                raise InvalidGeometry(
                    "ring has no area: its positions are repeated or lie on one line",
                    field=at,
                )
            poly.append(coords)
        checked.append(poly)
    return checked


_REASON = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>[-\d.eE+]+) (?P<y>[-\d.eE+]+)\]")


def _has_extra_dimensions(value: Any) -> bool:
    """True when any position nested in ``value`` has more than two numbers."""
    if isinstance(value, list) and value and isinstance(value[0], int | float):
        return len(value) > 2
    return isinstance(value, list) and any(_has_extra_dimensions(v) for v in value)


def reason_location(reason: str) -> tuple[float, float] | None:
    """The lon, lat GEOS names in an invalidity reason ('Self-intersection[x y]'), if any."""
    m = _REASON.match(reason)
    return (float(m["x"]), float(m["y"])) if m else None


def explain_reason(reason: str) -> str:
    """GEOS's 'Self-intersection[x y]' as 'self-intersection at lon x, lat y'."""
    m = _REASON.match(reason)
    if not m:
        return reason.lower()
    return f"{m['what'].strip().lower()} at lon {float(m['x']):.7f}, lat {float(m['y']):.7f}"


def polygonal_parts(geoms: Geometries) -> Geometries:
    """Each geometry's polygons: as is for (Multi)Polygons, gathered from a collection, else None.

    Collections come from KML MultiGeometry and from `shapely.make_valid`, which may add the
    lines and points an invalid ring collapsed into.
    """
    ids = shapely.get_type_id(geoms)
    out: Geometries = np.full(len(geoms), None, dtype=object)
    direct = (ids == POLYGON) | (ids == MULTIPOLYGON)
    out[direct] = geoms[direct]
    collections = np.flatnonzero(ids == COLLECTION)
    if collections.size:
        parts, owner = shapely.get_parts(geoms[collections], return_index=True)
        # one more level flattens the MultiPolygons make_valid puts inside its collections
        parts, sub = shapely.get_parts(parts, return_index=True)
        owner = collections[owner[sub]]
        polys = (shapely.get_type_id(parts) == POLYGON) & ~shapely.is_empty(parts)
        gathered: Geometries = np.full(len(geoms), None, dtype=object)
        shapely.multipolygons(parts[polys], indices=owner[polys], out=gathered)
        single = shapely.get_num_geometries(gathered) == 1
        gathered[single] = shapely.get_geometry(gathered[single], 0)
        out[collections] = gathered[collections]
    return out


def zone_geometry(
    geometry: Mapping[str, Any], *, repair: bool = False, field: str = "geometry"
) -> tuple[BaseGeometry, list[str]]:
    """Turn a GeoJSON geometry into a valid zone (Polygon or MultiPolygon, holes allowed).

    Parameters
    ----------
    geometry
        A GeoJSON geometry object in EPSG:4326, longitude first.
    repair
        When the shape is invalid (self-intersecting, overlapping parts...), repair it with
        ``shapely.make_valid`` and explain the change instead of rejecting it.
    field
        Where the geometry sits in the request, used to name the place of a problem.

    Returns
    -------
    The valid geometry and a list of notes describing any repair (empty if none).

    Raises
    ------
    InvalidGeometry, InvalidCoordinates, SwappedCoordinates
    """
    if not isinstance(geometry, Mapping):
        raise InvalidGeometry("expected a GeoJSON geometry object", field=field)
    gtype = geometry.get("type")
    if gtype not in ZONE_TYPES:
        raise InvalidGeometry(
            f"zone geometry must be a Polygon or MultiPolygon, got {gtype!r}", field=f"{field}.type"
        )
    coords = geometry.get("coordinates")
    where = f"{field}.coordinates"
    crossing: list[str] = []
    checked = (
        _check_rings([coords], where, crossing, single=True)
        if gtype == "Polygon"
        else _check_rings(coords, where, crossing)
    )
    # Built from the checked 2D positions: zones are areas on the ground, and a height or a
    # measure (as GPS and KML exports carry) means nothing to them.
    geom = shape(
        {"type": "Polygon", "coordinates": checked[0]}
        if gtype == "Polygon"
        else {"type": "MultiPolygon", "coordinates": checked}
    )
    notes: list[str] = []
    if _has_extra_dimensions(coords):
        notes.append("third and fourth coordinates (height, measure) were dropped: zones are 2D")
    if crossing:
        if not repair:
            raise InvalidGeometry(
                "this ring crosses longitude 180, and edges are straight in longitude and "
                f"latitude, so as drawn it would go the long way round the world: {SPLIT_HINT}",
                field=crossing[0],
            )
        geom = split_at_antimeridian(geom, field=field)
        notes.append(
            f"split at longitude 180 into a MultiPolygon of {len(getattr(geom, 'geoms', [geom]))}"
            " part(s): it crossed 180 the short way, and edges are straight in lon/lat"
        )
    allx, ally = shapely.get_coordinates(geom).T
    swapped = looks_swapped(allx, ally)
    if swapped.all():
        raise SwappedCoordinates(
            "every position reads as latitude, longitude (it would lie in Great Britain the "
            "other way round): GeoJSON puts longitude first",
            field=where,
        )
    if geom.is_valid:
        return geom, notes
    reason = shapely.is_valid_reason(geom)
    problem = explain_reason(reason)
    if not repair:
        raise InvalidGeometry(
            f"{problem}; fix the drawing, or ask for it to be repaired (repair=true)",
            field=field,
            location=reason_location(reason),
        )
    fixed = polygonal_parts(np.array([shapely.make_valid(geom)], dtype=object))[0]
    if fixed is None or fixed.is_empty:
        raise InvalidGeometry(f"{problem}; nothing polygonal is left after repair", field=field)
    before, after = metric_area_m2([geom])[0], metric_area_m2([fixed])[0]
    parts = len(getattr(fixed, "geoms", [fixed]))
    note = (
        f"repaired {problem}: now a {fixed.geom_type} of {parts} part(s); area "
        f"{before:,.0f} m² as drawn (signed rings), {after:,.0f} m² after repair"
    )
    return fixed, [*notes, note]
