"""A zone grown by a geodesic distance, as a lon/lat polygon to draw.

The grown zone is every point inside the zone or within geodesic distance ``buffer_m`` (WGS
84) of its boundary, whose edges are straight in lon/lat: the area the judging treats as a
breach. It is built, in lon/lat, as the union of

* the zone itself;
* a band along each edge: the edge sampled every 250 m at most and each sample carried
  ``buffer_m`` to either side along the geodesic at right angles to the edge (``Geod.fwd``):
  the nearest point of the zone to each such point is the sample, so it lies at exactly
  ``buffer_m``;
* a sector at each corner, between the normals of its two edges, swept with ``Geod.fwd``.

Points are close enough (at most 250 m, and arcs within 2e-5 of their radius) that the
straight lon/lat segments between them stray from the true offset by centimetres at most,
well inside 0.1 m + 0.01 % of the buffer, up to 100 km buffers and 84 N. No projection is
involved, so the answer is the same on either side of any grid's edge. A zone split at 180
(and any buffer reaching over it) is grown in a continuous longitude range and split at 180
again afterwards; its seam is not boundary and gets no band.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from zones.antimeridian import split_unwrapped
from zones.geodesy import GEOD, meridian_radius_m, path_length_bound_m, prime_vertical_radius_m

FloatArray = npt.NDArray[np.float64]
SPACING_M = 250.0  # the longest step along an edge or an arc between two drawn points
OVERLAP_DEG = 0.1  # how far each corner's sector reaches past its normals into the bands
SLIVER_DEG2 = 1e-12  # holes smaller than this (about 0.01 m2) are rounding, not holes


def geodesic_buffer(geometries: npt.ArrayLike, buffer_m: float) -> npt.NDArray[np.object_]:
    """Each EPSG:4326 zone grown by ``buffer_m`` metres of geodesic distance (lon/lat polygons).

    A buffer of 0 or less returns the zones unchanged.
    """
    geoms = np.asarray(geometries, dtype=object)
    if buffer_m <= 0:
        return geoms.copy()
    out = np.empty(len(geoms), dtype=object)
    for i, zone in enumerate(geoms):
        out[i] = _grown(zone, float(buffer_m))
    return out


def _grown(zone: BaseGeometry, buffer_m: float) -> BaseGeometry:
    zone = _continuous(zone)
    pieces: list[BaseGeometry] = [zone]
    for part in getattr(zone, "geoms", [zone]):
        for ring in [part.exterior, *part.interiors]:
            pieces += _ring_pieces(np.asarray(ring.coords)[:, :2], buffer_m)
    grown = shapely.union_all(np.array(pieces, dtype=object))
    return split_unwrapped(_without_slivers(grown))


def _without_slivers(grown: BaseGeometry) -> BaseGeometry:
    """The union without holes of no area: where a band and a sector share a side along the
    same geodesic, rounding can leave a zero-width gap between them, which is no hole."""
    polygons = [
        Polygon(p.exterior, [r for r in p.interiors if Polygon(r).area > SLIVER_DEG2])
        for p in getattr(grown, "geoms", [grown])
    ]
    return polygons[0] if len(polygons) == 1 else shapely.multipolygons(polygons)


def _continuous(zone: BaseGeometry) -> BaseGeometry:
    """A zone split at 180 with its western-hemisphere parts moved east by 360 degrees."""
    parts = list(getattr(zone, "geoms", [zone]))
    x0, _, x1, _ = zone.bounds
    if x1 - x0 <= 180.0:
        return zone
    moved = [
        shapely.transform(p, lambda c: c + np.array([360.0, 0.0])) if p.centroid.x < 0 else p
        for p in parts
    ]
    joined: BaseGeometry = shapely.multipolygons(moved)
    return joined


def _heading_deg(lat: FloatArray, dlon: FloatArray, dlat: FloatArray) -> FloatArray:
    """Azimuth (degrees) of a lon/lat-linear path at latitudes ``lat`` (degrees)."""
    phi = np.radians(lat)
    east = prime_vertical_radius_m(phi) * np.cos(phi) * np.radians(dlon)
    north = meridian_radius_m(phi) * np.radians(dlat)
    return np.asarray(np.degrees(np.arctan2(east, north)))


def _fwd(lon: FloatArray, lat: FloatArray, az: FloatArray, dist: float) -> FloatArray:
    """``Geod.fwd`` to (n, 2) lon/lat, longitudes kept continuous with the start points."""
    x, y, _ = GEOD.fwd(lon, lat, az, np.full(len(lon), dist))
    x = np.asarray(x, dtype=float)
    x = lon + (x - lon + 180.0) % 360.0 - 180.0
    return np.column_stack([x, np.asarray(y, dtype=float)])


def _arc_step_rad(buffer_m: float) -> float:
    """Angle between drawn points of an arc: chords <= SPACING_M, sagitta <= 2e-5 r + 2 cm."""
    sagitta = 0.02 + 2e-5 * buffer_m
    step = SPACING_M / buffer_m
    if sagitta < buffer_m:
        step = min(step, 2 * math.acos(1 - sagitta / buffer_m))
    return min(step, math.pi / 8)


def _ring_pieces(coords: FloatArray, buffer_m: float) -> list[BaseGeometry]:
    """The bands along a closed ring's edges and the sectors at its corners."""
    keep = np.concatenate([[True], np.any(np.diff(coords, axis=0) != 0, axis=1)])
    c = coords[keep]
    if len(c) < 3:
        return []
    a, b = c[:-1], c[1:]
    dlon, dlat = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    seam = (np.abs(a[:, 0]) == 180.0) & (a[:, 0] == b[:, 0])
    length = path_length_bound_m(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    pieces: list[BaseGeometry] = []
    for e in np.flatnonzero(~seam):
        n = math.ceil(length[e] / SPACING_M) + 1
        t = np.linspace(0.0, 1.0, n)
        lon, lat = a[e, 0] + t * dlon[e], a[e, 1] + t * dlat[e]
        heading = _heading_deg(lat, np.full(n, dlon[e]), np.full(n, dlat[e]))
        left = _fwd(lon, lat, heading - 90.0, buffer_m)
        right = _fwd(lon, lat, heading + 90.0, buffer_m)
        ring = np.concatenate([left, b[e : e + 1], right[::-1], a[e : e + 1]])
        pieces.append(Polygon(ring))
    # Corners: vertex j ends edge j and starts edge j + 1 (the ring closes on itself).
    step = _arc_step_rad(buffer_m)
    m = len(a)
    for j in range(m):
        k = (j + 1) % m
        vertex = b[j]
        if seam[j] and seam[k]:
            continue
        lat = np.array([vertex[1]])
        h_in = _heading_deg(lat, dlon[j : j + 1], dlat[j : j + 1])[0]
        h_out = _heading_deg(lat, dlon[k : k + 1], dlat[k : k + 1])[0]
        turn = (h_out - h_in + 180.0) % 360.0 - 180.0
        sweeps = [(h_in + 90.0, turn), (h_in - 90.0, turn)]
        if seam[j] or seam[k]:
            sweeps = [(0.0, 360.0)]  # beside the seam: the whole disc, the seam is no edge
        for start, sweep in sweeps:
            whole_disc = abs(sweep) >= 360.0
            # Each sector reaches OVERLAP_DEG past the normals into the bands (points there
            # are nearer the edge than buffer_m): a sector and a band meeting exactly along
            # one normal would leave a zero-width crack where rounding parts them.
            turn = 1.0 if sweep >= 0 else -1.0
            if not whole_disc:
                start, sweep = start - turn * OVERLAP_DEG, sweep + 2 * turn * OVERLAP_DEG
            count = math.ceil(math.radians(abs(sweep)) / step) + 1
            az = start + np.linspace(0.0, sweep, count)
            arc = _fwd(np.full(count, vertex[0]), np.full(count, vertex[1]), az, buffer_m)
            pieces.append(Polygon(arc if whole_disc else np.concatenate([vertex[None, :], arc])))
    return pieces
