"""How much of a geodesic accuracy disc lies in a condition's area (zone plus buffer).

The disc is every point within geodesic distance ``accuracy_m`` of the reported position;
the area is every point inside the zone or within geodesic distance ``buffer_m`` of it.

Method, per pair: an azimuthal equidistant (AEQD) frame centred on the reported position,
built with ``Geod.inv`` itself (x = s sin(az), y = s cos(az)), so it is the exact ellipsoidal
AEQD. In it the disc is exactly a circle of radius ``accuracy_m``. Its differential at the
centre is the identity, so a distance from a point of the disc to a zone point ``s`` away
is off by only ~``a**2 s / (6 R**2)`` (micrometres for a 1 km disc and a 100 km buffer).
The zone is cut to a lon/lat box that holds everything within ``buffer + accuracy`` of the
centre (nothing further can matter inside the disc), its edges densified in lon/lat to
0.0005 degree (<= 56 m) so that the projected curves are followed to well under a
millimetre, projected, and buffered with enough segments that its arcs stray from circles
by at most 0.1 % of the disc's radius. Parts of a zone split at 180 degrees are shifted by
360 to the centre's side first, so the seam is not an edge here either.

Measured against 10,000 geodesic samples of each of 120 discs straddling real and generated
areas around the world (tests/service/test_geodesic_agreement.py), the share is within
0.00085 (p99 0.00078), which is the sample's own noise; the limit is 0.002. Each pair needs
its own frame, so this runs only for discs the exact shortcuts in :mod:`zones.judge` leave
undecided: about 0.3 ms each.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

import shapely

from zones.geodesy import GEOD, SEMI_MAJOR_M, meridian_radius_m

FloatArray = npt.NDArray[np.float64]

DENSIFY_DEG = 0.0005
DISC_QUAD_SEGS = 128  # a 512-gon: its area is 99.9975 % of the circle's
_M_MIN = float(meridian_radius_m(0.0))  # the smallest meridian radius (at the equator)


def disc_fraction_in_area(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    accuracy_m: npt.ArrayLike,
    geometries: npt.ArrayLike,
    buffer_m: npt.ArrayLike,
) -> FloatArray:
    """Share (0..1) of each geodesic accuracy disc that lies in its zone plus buffer.

    Parameters
    ----------
    lon, lat
        Centres of the discs (reported positions), EPSG:4326 degrees; one per pair.
    accuracy_m
        Radius of each disc in metres (> 0).
    geometries
        The zone of each pair, (Multi)Polygon in EPSG:4326 with edges straight in lon/lat.
    buffer_m
        The condition's buffer of each pair, metres (>= 0).
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    acc = np.asarray(accuracy_m, dtype=float)
    buf = np.asarray(buffer_m, dtype=float)
    geoms = np.asarray(geometries, dtype=object)
    if not len(x):
        return np.zeros(0)
    local = _near_part(geoms, x, y, buf + acc)
    planar = _aeqd(shapely.segmentize(local, DENSIFY_DEG), x, y)
    planar = np.where(shapely.is_valid(planar), planar, shapely.make_valid(planar))
    area = np.array(planar, dtype=object)
    grow = np.flatnonzero(buf > 0)
    segs = np.array([_quad_segs(buf[i], acc[i]) for i in grow], dtype=int)
    for q in np.unique(segs):  # GEOS takes one quad_segs per call: one call per value
        sel = grow[segs == q]
        area[sel] = shapely.buffer(planar[sel], buf[sel], quad_segs=int(q))
    discs = shapely.buffer(
        shapely.points(np.zeros(len(x)), np.zeros(len(x))), acc, quad_segs=DISC_QUAD_SEGS
    )
    share = shapely.area(shapely.intersection(discs, area)) / shapely.area(discs)
    return np.asarray(np.clip(np.nan_to_num(share), 0.0, 1.0))


def _quad_segs(buffer_m: float, accuracy_m: float) -> int:
    """Segments per quarter circle so that a buffer's arcs stray by at most 0.1 % of the disc."""
    sagitta = max(1e-3 * accuracy_m, 1e-4)
    if sagitta >= buffer_m:
        return 8
    angle = 2 * math.acos(1 - sagitta / buffer_m)
    return int(min(max(math.ceil((math.pi / 2) / angle), 8), 4096))


def _near_part(
    geoms: npt.NDArray[np.object_], lon: FloatArray, lat: FloatArray, reach_m: FloatArray
) -> npt.NDArray[np.object_]:
    """Each zone, its parts moved by 360 degrees to the centre's side, cut to a lon/lat box
    holding every point within ``reach_m`` of the centre."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    turns = np.round((shapely.get_x(shapely.centroid(parts)) - lon[owner]) / 360.0)
    coords, which = shapely.get_coordinates(parts, return_index=True)
    coords[:, 0] -= 360.0 * turns[which]
    moved = shapely.set_coordinates(np.array(parts, dtype=object, copy=True), coords)
    joined = np.empty(len(geoms), dtype=object)
    shapely.multipolygons(moved, indices=owner, out=joined)
    # Along any path ds >= M dlat and ds >= N cos(lat) dlon >= a cos(lat) dlon, so a point
    # within reach_m lies within these angles (with a margin) of the centre.
    reach = reach_m * 1.01 + 1.0
    dlat = np.degrees(reach / _M_MIN)
    top = np.minimum(np.abs(lat) + dlat, 90.0)
    with np.errstate(divide="ignore"):
        dlon = np.degrees(reach / (SEMI_MAJOR_M * np.cos(np.radians(top))))
    dlon = np.where((top >= 89.99) | (dlon >= 170.0), 360.0, dlon)
    box = shapely.box(
        lon - dlon, np.maximum(lat - dlat, -90.0), lon + dlon, np.minimum(lat + dlat, 90.0)
    )
    return np.asarray(shapely.intersection(joined, box), dtype=object)


def _aeqd(
    geoms: npt.NDArray[np.object_], lon: FloatArray, lat: FloatArray
) -> npt.NDArray[np.object_]:
    """Each geometry in the ellipsoidal azimuthal equidistant frame centred on its point (m)."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    az, _, s = GEOD.inv(lon[owner], lat[owner], coords[:, 0], coords[:, 1])
    a = np.radians(np.asarray(az, dtype=float))
    s = np.asarray(s, dtype=float)
    planar = np.column_stack([s * np.sin(a), s * np.cos(a)])
    return np.asarray(shapely.set_coordinates(np.array(geoms, dtype=object, copy=True), planar))
