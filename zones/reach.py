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


def nearest(
    lon: FloatArray,
    lat: FloatArray,
    sets: list[tuple[IntArray, GeometryArray, IntArray]],
    measure: Callable[[IntArray, IntArray], FloatArray],
) -> tuple[IntArray, IntArray]:
    """The nearest zone of each set for each of its points, exactly: ``(point, zone)``.

    ``sets`` are ``(points, geometries, zone ids)``: the points (indices into lon/lat) ask
    for their nearest among the geometries, answered by their zone ids. ``measure(point,
    zone id)`` gives exact signed distances (negative inside) for pairs, and is called
    twice in all, whatever the number of sets. The zone nearest in degrees is measured
    first; its distance bounds the answer, so only the zones whose boxes come that close
    (conservative boxes, as for :func:`candidates`) are measured besides. Ties go to the
    lowest zone id; a point whose set has no zone with a boundary gets none.
    """
    trees = [STRtree(geoms) if len(geoms) else None for _, geoms, _ in sets]
    guesses = []  # per set: its points with a first guess, and the guessed zone ids
    for (points, _, ids), tree in zip(sets, trees, strict=True):
        if tree is None or not len(points):
            guesses.append((np.zeros(0, np.intp), np.zeros(0, np.intp)))
            continue
        p, g = tree.query_nearest(shapely.points(lon[points], lat[points]), all_matches=False)
        guesses.append((points[p], ids[g]))
    if not any(len(p) for p, _ in guesses):
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    first = measure(
        np.concatenate([p for p, _ in guesses]), np.concatenate([z for _, z in guesses])
    )
    bounds = np.split(np.maximum(first, 0.0), np.cumsum([len(p) for p, _ in guesses])[:-1])
    cand_p, cand_z, cand_set = [], [], []
    for which, ((asked, _), radius, (_, _, ids), tree) in enumerate(
        zip(guesses, bounds, sets, trees, strict=True)
    ):
        ok = np.isfinite(radius)
        if tree is None or not ok.any():
            continue
        around, owner = boxes(lon[asked[ok]], lat[asked[ok]], radius[ok])
        found_box, g = tree.query(around)
        cand_p.append(asked[ok][owner[found_box]])
        cand_z.append(ids[g])
        cand_set.append(np.full(len(g), which))
    if not cand_p:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    p, z, s = np.concatenate(cand_p), np.concatenate(cand_z), np.concatenate(cand_set)
    d = measure(p, z)
    # Per (set, point) the least distance, then the lowest zone id.
    order = np.lexsort((z, d, p, s))
    p, z, s = p[order], z[order], s[order]
    head = np.flatnonzero(np.r_[True, (p[1:] != p[:-1]) | (s[1:] != s[:-1])]) if len(p) else p
    return p[head], z[head]
