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
from shapely.geometry.base import BaseGeometry

from zones import bounded
from zones.antimeridian import (
    SPLIT_HINT,
    crosses_antimeridian,
    split_at_antimeridian,
    unwrap_longitudes,
)
from zones.bounded import BUDGET, Budget
from zones.crs import in_great_britain, metric_area_m2
from zones.errors import (
    GeometryTooCostly,
    GeometryTooLarge,
    InvalidCoordinates,
    InvalidGeometry,
    SwappedCoordinates,
    ZonesError,
)
from zones.limits import LIMITS, GeometryLimits, check_size

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
        raise InvalidGeometry(
            f"a position must be [lon, lat] numbers, got {_shown(value)}", field=where
        )
    try:
        lon, lat = float(value[0]), float(value[1])
    except OverflowError:  # an integer of hundreds of digits
        raise InvalidCoordinates(
            "a coordinate is too large a number to be a longitude or latitude", field=where
        ) from None
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


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ring_positions(ring: list[Any], at: str) -> tuple[npt.NDArray[np.float64], bool]:
    """A ring's [lon, lat] positions as an (n, 2) array, checked, and whether any position
    had a height or measure. Read at array speed; a problem is named by `_position`."""
    sizes = {len(p) for p in ring} if {type(p) for p in ring} == {list} else set()
    if sizes and sizes <= {2, 3, 4} and {type(v) for p in ring for v in p} <= {int, float}:
        extra = max(sizes) > 2
        try:
            xy = np.array([p[:2] for p in ring] if extra else ring, dtype=np.float64)
        except OverflowError:
            xy = np.empty((0, 2))
        if len(xy) == len(ring):
            lon, lat = xy[:, 0], xy[:, 1]
            fine = (
                np.isfinite(xy).all(axis=1)
                & (np.abs(lon) <= 180.0)
                & (lat >= ZONE_SOUTH)
                & (lat <= ZONE_NORTH)
            )
            if fine.all():
                return xy, extra
    xy = np.array([_position(pos, f"{at}[{i}]") for i, pos in enumerate(ring)], dtype=np.float64)
    return xy.reshape(-1, 2), any(isinstance(p, list) and len(p) > 2 for p in ring)


def _on_one_line(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> bool:
    """True when every position lies on one line through the first (or on the first itself)."""
    dx, dy = lon - lon[0], lat - lat[0]
    far = int(np.argmax(dx * dx + dy * dy))
    reach2 = dx[far] ** 2 + dy[far] ** 2
    cross = dx * dy[far] - dy * dx[far]
    return bool(reach2 == 0 or np.abs(cross).max() <= 1e-12 * reach2)


def _check_rings(
    polygons: Any, where: str, crossing: list[str], *, single: bool = False
) -> tuple[list[list[npt.NDArray[np.float64]]], bool]:
    """Each ring's positions, checked, and whether any had a height or measure; the places
    of rings crossing 180 go into ``crossing``."""
    if not isinstance(polygons, list) or not polygons:
        raise InvalidGeometry("expected a non-empty list of polygons", field=where)
    checked = []
    extra_dimensions = False
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
            coords, extra = _ring_positions(ring, at)
            extra_dimensions |= extra
            if len(coords) < 4:
                raise InvalidGeometry(
                    f"a ring needs at least 4 positions (first repeated last), got {len(coords)}",
                    field=at,
                )
            if (coords[0] != coords[-1]).any():
                raise InvalidGeometry(
                    f"ring is not closed: first position {coords[0].tolist()} differs from "
                    f"last {coords[-1].tolist()}",
                    field=at,
                )
            lon, lat = coords.T
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
    return checked, extra_dimensions


_REASON = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>[-\d.eE+]+) (?P<y>[-\d.eE+]+)\]")


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
    geometry: Mapping[str, Any],
    *,
    repair: bool = False,
    field: str = "geometry",
    limits: GeometryLimits = LIMITS,
    budget: Budget = BUDGET,
) -> tuple[BaseGeometry, list[str]]:
    """Turn a GeoJSON geometry into a valid zone (Polygon or MultiPolygon, holes allowed).

    Parameters
    ----------
    geometry
        A GeoJSON geometry object in EPSG:4326, longitude first.
    repair
        When the shape is invalid (self-intersecting, overlapping parts...), repair it
        (parts unioned, holes subtracted: see `zones.bounded`) and explain the change
        instead of rejecting it.
    field
        Where the geometry sits in the request, used to name the place of a problem.
    limits
        The most vertices, parts and holes accepted, checked before anything else.
    budget
        The CPU time and memory that checking (and repairing) the shape may take.

    Returns
    -------
    The valid geometry and a list of notes describing any repair (empty if none).

    Raises
    ------
    InvalidGeometry, InvalidCoordinates, SwappedCoordinates
        ``GeometryTooLarge`` and ``GeometryTooCostly`` are kinds of ``InvalidGeometry``.
    """
    [outcome] = zone_geometries(
        [geometry], repair=repair, fields=[field], limits=limits, budget=budget
    )
    if isinstance(outcome, ZonesError):
        raise outcome
    return outcome


def zone_geometries(
    geometries: Sequence[Any],
    *,
    repair: bool = False,
    fields: Sequence[str],
    limits: GeometryLimits = LIMITS,
    budget: Budget = BUDGET,
) -> list[tuple[BaseGeometry, list[str]] | ZonesError]:
    """`zone_geometry` for several shapes at once, checked together within one ``budget``:
    each shape's zone and notes, or the error that refuses it.

    Raises
    ------
    GeometryTooLarge
        The shapes together hold more vertices than one geometry may (``limits.vertices``).
    GeometryTooCostly, Busy
        Checking them together overran ``budget``.
    """
    drawn: list[tuple[BaseGeometry, list[str]] | ZonesError] = []
    total = 0
    for geometry, field in zip(geometries, fields, strict=True):
        try:
            geom, notes, vertices = _drawn(geometry, repair, field, limits)
        except ZonesError as exc:
            drawn.append(exc)
            continue
        drawn.append((geom, notes))
        total += vertices
    if total > limits.vertices:
        raise GeometryTooLarge(
            f"the shapes have {total:,} vertices in all; at most {limits.vertices:,} are "
            "accepted at once (limit: vertices)",
            field=fields[0].split("[")[0] if len(fields) > 1 else fields[0],
        )
    todo = [i for i, d in enumerate(drawn) if not isinstance(d, ZonesError)]
    try:
        checks = bounded.check(
            [drawn[i][0] for i in todo],  # type: ignore[index]
            repair=repair,
            budget=budget,
        )
    except GeometryTooCostly as exc:
        where = fields[todo[0]] if len(todo) == 1 else fields[0].split("[")[0]
        raise GeometryTooCostly(exc.message, field=where) from None
    for i, checked in zip(todo, checks, strict=True):
        geom, notes = drawn[i]  # type: ignore[misc]
        try:
            drawn[i] = _valid(geom, notes, checked, repair, fields[i])
        except ZonesError as exc:
            drawn[i] = exc
    return drawn


def _drawn(
    geometry: Any, repair: bool, field: str, limits: GeometryLimits
) -> tuple[BaseGeometry, list[str], int]:
    """The shape a GeoJSON geometry draws, its notes so far, and its vertex count; not yet
    checked for validity."""
    if not isinstance(geometry, Mapping):
        raise InvalidGeometry("expected a GeoJSON geometry object", field=field)
    gtype = geometry.get("type")
    if gtype not in ZONE_TYPES:
        raise InvalidGeometry(
            f"zone geometry must be a Polygon or MultiPolygon, got {_shown(gtype)}",
            field=f"{field}.type",
        )
    coords = geometry.get("coordinates")
    vertices = check_size(gtype, coords, field=field, limits=limits)
    where = f"{field}.coordinates"
    crossing: list[str] = []
    checked, extra_dimensions = (
        _check_rings([coords], where, crossing, single=True)
        if gtype == "Polygon"
        else _check_rings(coords, where, crossing)
    )
    # Built from the checked 2D positions: zones are areas on the ground, and a height or a
    # measure (as GPS and KML exports carry) means nothing to them.
    polygons = [shapely.Polygon(rings[0], rings[1:]) for rings in checked]
    geom: BaseGeometry = polygons[0] if gtype == "Polygon" else shapely.MultiPolygon(polygons)
    notes: list[str] = []
    if extra_dimensions:
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
    return geom, notes, vertices


def _valid(
    geom: BaseGeometry, notes: list[str], checked: bounded.Checked, repair: bool, field: str
) -> tuple[BaseGeometry, list[str]]:
    """The zone once checked: as drawn, repaired with a note, or refused with the reason."""
    if checked.valid:
        return geom, notes
    reason = checked.reason or "invalid"
    problem = explain_reason(reason)
    if not repair:
        raise InvalidGeometry(
            f"{problem}; fix the drawing, or ask for it to be repaired (repair=true)",
            field=field,
            location=reason_location(reason),
        )
    made = checked.repaired
    fixed = None if made is None else polygonal_parts(np.array([made], dtype=object))[0]
    if fixed is None or fixed.is_empty:
        raise InvalidGeometry(f"{problem}; nothing polygonal is left after repair", field=field)
    before, after = metric_area_m2([geom])[0], metric_area_m2([fixed])[0]
    parts = len(getattr(fixed, "geoms", [fixed]))
    note = (
        f"repaired {problem}: now a {fixed.geom_type} of {parts} part(s); area "
        f"{before:,.0f} m² as drawn (signed rings), {after:,.0f} m² after repair"
    )
    return fixed, [*notes, note]
