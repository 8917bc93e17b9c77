"""Which (fix, target) pairs a judgement needs, found with an index instead of every pair.

A fix needs a verdict against a target when it is inside it, in its buffer or warning
ring, possibly inside (its accuracy disc reaches the area), or within a distance the caller
asks for; and, when asked, against the nearest zone of each condition. Everything else is
plainly outside and far, and is never measured. So a condition of 1,000 zones costs about
what one costs: an STRtree over the zones' bounding boxes hands back the few within reach.

The boxes are conservative on the ellipsoid: a geodesic of length ``r`` changes latitude by
at most ``r / 110,574 m`` a degree (the meridian's shortest degree, at the equator) and
longitude by at most ``r / (a cos(phi_max))`` radians, ``phi_max`` the highest latitude it
can reach. Every pair within reach is therefore a candidate; candidates are then measured
exactly (:mod:`zones.geodesy`) and the caller keeps those the rules keep.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

import shapely
from shapely import STRtree

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
GeometryArray = npt.NDArray[np.object_]
M_PER_DEG_LAT_MIN = 110_574.0  # the shortest degree of latitude (at the equator), WGS 84
A_M = 6_378_137.0  # WGS 84 semi-major axis: a parallel's radius is at least a cos(phi)
SLACK = 1.0 + 1e-6  # beyond rounding in the conversions below
# Pairs of fixes and zones of one condition compared by bounding box at once, at most.
_LOWER_BOUND_CELLS = 4_000_000


def degrees_within(lat: FloatArray, radius_m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Half-sizes ``(dlon, dlat)`` in degrees of boxes around points at ``lat`` that hold
    every point within ``radius_m`` of them on the ellipsoid (dlon 180: the whole circle)."""
    dlat = radius_m / M_PER_DEG_LAT_MIN * SLACK + 1e-12
    highest = np.minimum(np.abs(lat) + dlat, 90.0)
    parallel = A_M * np.cos(np.radians(highest)) * np.pi / 180.0  # metres a degree, at least
    with np.errstate(divide="ignore"):
        dlon = np.where(highest < 89.99, radius_m / parallel * SLACK + 1e-12, 180.0)
    return np.minimum(dlon, 180.0), dlat


def boxes(lon: FloatArray, lat: FloatArray, radius_m: FloatArray) -> tuple[GeometryArray, IntArray]:
    """Conservative boxes around points, as geometries, and the point each belongs to; a box
    that crosses 180 degrees is given again on the other side of it."""
    dlon, dlat = degrees_within(lat, radius_m)
    west, east = lon - dlon, lon + dlon
    south, north = lat - dlat, lat + dlat
    owner = np.arange(len(lon))
    wrap_w = np.flatnonzero(west < -180.0)
    wrap_e = np.flatnonzero(east > 180.0)
    all_w = np.concatenate([west, west[wrap_w] + 360.0, np.full(len(wrap_e), -180.0)])
    all_e = np.concatenate([east, np.full(len(wrap_w), 180.0), east[wrap_e] - 360.0])
    all_s = np.concatenate([south, south[wrap_w], south[wrap_e]])
    all_n = np.concatenate([north, north[wrap_w], north[wrap_e]])
    return (
        np.asarray(shapely.box(all_w, all_s, all_e, all_n), dtype=object),
        np.concatenate([owner, wrap_w, wrap_e]),
    )


def candidates(
    lon: FloatArray,
    lat: FloatArray,
    radius_m: FloatArray,
    geometries: GeometryArray,
    allowed: Callable[[IntArray, IntArray], tuple[IntArray, IntArray]],
) -> tuple[IntArray, IntArray]:
    """``(point, target)`` pairs whose zone's bounding box comes within ``radius_m`` (per
    point) of the point. ``allowed(point, geometry)`` turns the (point, geometry row) pairs
    found into the (point, target) pairs the caller judges (each fix against its own
    subject's targets only)."""
    if not len(lon) or not len(geometries):
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    around, owner = boxes(lon, lat, radius_m)
    found_box, geometry = STRtree(geometries).query(around)
    point = owner[found_box]
    # A box given twice (across 180 degrees) can find a zone twice: once is enough.
    key = np.unique(point.astype(np.int64) * len(geometries) + geometry)
    return allowed(key // len(geometries), key % len(geometries))


def bbox_distance_m(
    lon: FloatArray, lat: FloatArray, bounds: FloatArray, *, lat_reach_m: FloatArray | None = None
) -> FloatArray:
    """Lower bounds of the geodesic distance from points (rows) to boxes (columns).

    ``lat_reach_m``: how far (per point) the geodesic that matters can go, which bounds the
    latitudes it crosses and so how short a degree of longitude can be along it. Without it
    the bound uses latitude alone.
    """
    x, y = lon[:, None], lat[:, None]
    d_lat = np.maximum(0.0, np.maximum(bounds[None, :, 1] - y, y - bounds[None, :, 3]))
    d_lon = np.maximum(0.0, np.maximum(bounds[None, :, 0] - x, x - bounds[None, :, 2]))
    # The other way round the world, for boxes near 180 degrees.
    width = bounds[None, :, 2] - bounds[None, :, 0]
    d_lon = np.minimum(d_lon, np.maximum(0.0, 360.0 - width - d_lon))
    by_lat = d_lat * M_PER_DEG_LAT_MIN / SLACK
    if lat_reach_m is None:
        return by_lat
    highest = np.minimum(np.abs(lat) + lat_reach_m / M_PER_DEG_LAT_MIN * SLACK, 90.0)
    per_degree = A_M * np.cos(np.radians(highest)) * np.pi / 180.0 / SLACK
    return np.maximum(by_lat, d_lon * per_degree[:, None])


def nearest(
    lon: FloatArray,
    lat: FloatArray,
    bounds: FloatArray,
    measure: Callable[[IntArray, IntArray], FloatArray],
) -> tuple[IntArray, FloatArray]:
    """For each point, the box (zone) nearest to it and its signed distance, exactly; -1
    and inf where no zone has a boundary.

    ``measure(point, zone)`` gives exact signed distances (negative inside) for pairs. The
    zones whose lower bound could beat the best found so far are measured; the rest cannot
    be nearer. Ties go to the lowest zone index.
    """
    n, m = len(lon), len(bounds)
    best_zone = np.full(n, -1, np.intp)
    best = np.full(n, np.inf)
    step = max(1, _LOWER_BOUND_CELLS // max(1, m))
    for lo in range(0, n, step):
        rows = np.arange(lo, min(n, lo + step))
        rough = bbox_distance_m(lon[rows], lat[rows], bounds)
        # First the zone whose box is nearest (by latitude, the cheap bound), measured: its
        # distance bounds how far the nearest can be, which tightens the bound by longitude.
        first = np.argmin(rough, axis=1)
        d0 = measure(rows, first)
        better = d0 < best[rows]
        best_zone[rows[better]], best[rows[better]] = first[better], d0[better]
        reach = np.maximum(best[rows], 0.0)
        bound = bbox_distance_m(
            lon[rows], lat[rows], bounds, lat_reach_m=np.where(np.isfinite(reach), reach, 2e7)
        )
        point, zone = np.nonzero(bound <= reach[:, None])
        d = measure(rows[point], zone)
        order = np.lexsort((zone, d, point))
        point, zone, d = point[order], zone[order], d[order]
        head = np.flatnonzero(np.r_[True, point[1:] != point[:-1]]) if len(point) else point
        p, z, dd = rows[point[head]], zone[head], d[head]
        win = (dd < best[p]) | ((dd == best[p]) & (z < best_zone[p]))
        best_zone[p[win]], best[p[win]] = z[win], dd[win]
    return best_zone, best
