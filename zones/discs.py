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

Zones no more than :data:`FRAME_REACH_M` across are done faster, one frame per zone and
buffer rather than per pair: the same AEQD construction centred on the zone, the area
densified, projected and buffered once (and kept, with the zone's shapely object, for the
next call), each disc's centre placed by ``Geod.inv`` from the zone's centre. Away from its
centre the frame stretches distances across the radial direction by ``(s/R)/sin(s/R)``,
at most 1.7e-6 within 20 km of it: far below what the share can show.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import shapely
from shapely.geometry.base import BaseGeometry

from zones.geodesy import GEOD, SEMI_MAJOR_M, meridian_radius_m

FloatArray = npt.NDArray[np.float64]

DENSIFY_DEG = 0.0005
DISC_QUAD_SEGS = 128  # a 512-gon: its area is 99.9975 % of the circle's
# In a zone's frame a 128-gon (99.96 %): the share is a ratio of areas cut by the same
# polygon, so its error stays well under the 0.002 the agreement test allows (see there).
FRAMED_DISC_QUAD_SEGS = 32
_M_MIN = float(meridian_radius_m(0.0))  # the smallest meridian radius (at the equator)
FRAME_REACH_M = 20_000.0  # zone + buffer + disc within this of the zone's centre: one frame
_FRAMES: OrderedDict[tuple[int, float], _Frame] = OrderedDict()
_FRAMES_KEPT = 4096


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
    share = np.full(len(x), np.nan)
    framed = _by_zone_frame(x, y, acc, geoms, buf, share)
    rest = np.flatnonzero(~framed)
    if rest.size:
        share[rest] = _per_pair(x[rest], y[rest], acc[rest], geoms[rest], buf[rest])
    return share


def _by_zone_frame(
    x: FloatArray,
    y: FloatArray,
    acc: FloatArray,
    geoms: npt.NDArray[np.object_],
    buf: FloatArray,
    share: FloatArray,
) -> npt.NDArray[np.bool_]:
    """Fill ``share`` for the pairs whose zone, buffer and disc fit one frame on the zone;
    True where done."""
    done = np.zeros(len(x), bool)
    keys: dict[tuple[int, float], list[int]] = {}
    for i, (g, b) in enumerate(zip(geoms, buf, strict=True)):
        keys.setdefault((id(g), float(b)), []).append(i)
    for (_, b), rows in keys.items():
        frame = _frame(geoms[rows[0]], b)
        if frame.area is None:
            continue
        r = np.asarray(rows)
        lon0, lat0 = np.full(len(r), frame.lon0), np.full(len(r), frame.lat0)
        az, _, dist = GEOD.inv(lon0, lat0, x[r], y[r])
        dist = np.asarray(dist, float)
        fits = dist + acc[r] <= FRAME_REACH_M
        r, a, s = r[fits], np.radians(np.asarray(az, float)[fits]), dist[fits]
        if not r.size:
            continue
        cx, cy = s * np.sin(a), s * np.cos(a)
        discs = shapely.buffer(shapely.points(cx, cy), acc[r], quad_segs=FRAMED_DISC_QUAD_SEGS)
        got = shapely.area(shapely.intersection(discs, frame.area)) / shapely.area(discs)
        share[r] = np.clip(np.nan_to_num(got), 0.0, 1.0)
        done[r] = True
    return done


@dataclass(frozen=True)
class _Frame:
    """A zone plus buffer in the AEQD frame on a point of the zone (None: too large)."""

    geometry: object  # the zone's object, held so that its id is not reused meanwhile
    area: BaseGeometry | None
    lon0: float
    lat0: float


def _frame(geometry: object, buffer_m: float) -> _Frame:
    """The frame of a zone and buffer, made once and kept for later calls."""
    key = (id(geometry), buffer_m)
    held = _FRAMES.get(key)
    if held is not None and held.geometry is geometry:
        _FRAMES.move_to_end(key)
        return held
    parts = shapely.get_parts(np.asarray([geometry], dtype=object))
    frame = _Frame(geometry, None, 0.0, 0.0)
    if len(parts):
        biggest = parts[np.argmax(shapely.area(parts))]
        centre = shapely.point_on_surface(biggest)
        lon0, lat0 = float(shapely.get_x(centre)), float(shapely.get_y(centre))
        at_x, at_y = np.array([lon0]), np.array([lat0])
        # Every part, moved by 360 degrees to the centre's side (the box holds the world).
        whole = _near_part(np.asarray([geometry], dtype=object), at_x, at_y, np.array([1e9]))
        planar = _aeqd(shapely.segmentize(whole, DENSIFY_DEG), at_x, at_y)
        planar = np.where(shapely.is_valid(planar), planar, shapely.make_valid(planar))
        far = float(np.max(np.hypot(*shapely.get_coordinates(planar).T), initial=0.0))
        if far + buffer_m <= FRAME_REACH_M:
            area = planar[0]
            if buffer_m > 0:
                # Arcs within 1 mm of circles: 0.1 % of any disc of 1 m or more.
                area = shapely.buffer(area, buffer_m, quad_segs=_quad_segs(buffer_m, 1.0))
            shapely.prepare(area)
            frame = _Frame(geometry, area, lon0, lat0)
    _FRAMES[key] = frame
    while len(_FRAMES) > _FRAMES_KEPT:
        _FRAMES.popitem(last=False)
    return frame


def _per_pair(
    x: FloatArray,
    y: FloatArray,
    acc: FloatArray,
    geoms: npt.NDArray[np.object_],
    buf: FloatArray,
) -> FloatArray:
    """The share with one frame per pair, centred on the disc (any zone, any size)."""
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
