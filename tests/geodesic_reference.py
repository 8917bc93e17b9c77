"""Reference answers for the geodesic judging, built differently from the code under test.

* Distance: the zone's edges densified in lon/lat to pieces of 0.5 m or less, measured with
  ``pyproj.Geod``; only the pieces that could hold the nearest point are densified further
  (a piece with ends ``dA``, ``dB`` from the point and path length at most ``L`` keeps no
  point nearer than ``(dA + dB - L) / 2``), so the reference stays affordable on 100 km edges.
  On a final piece the distance is the height of the flat triangle (dA, dB, piece length),
  exact to micrometres on a 0.5 m piece.
* Disc fraction: the geodesic disc sampled at ``n`` points (a sunflower spiral, area-uniform:
  ``r = a sqrt(u)`` along ``Geod.fwd``), each judged by covers and the geodesic distance.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from pyproj import Geod
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")
PIECE_M = 0.5
_M_POLE = 6_399_593.6  # the largest meridian radius of curvature of WGS 84 (at the poles)
_A = 6_378_137.0
_E2 = 0.0066943799901413165  # WGS 84 first eccentricity squared
GOLDEN_ANGLE_DEG = 180.0 * (3.0 - math.sqrt(5.0))

FloatArray = npt.NDArray[np.float64]


def edges_of(geometry: BaseGeometry) -> FloatArray:
    """Rows (lon1, lat1, lon2, lat2) of the boundary edges, seams along lon = +-180 left out."""
    rows = []
    for part in getattr(geometry, "geoms", [geometry]):
        for ring in [part.exterior, *part.interiors]:
            c = np.asarray(ring.coords)[:, :2]
            rows.append(np.column_stack([c[:-1], c[1:]]))
    e = np.concatenate(rows)
    seam = (np.abs(e[:, 0]) == 180) & (e[:, 0] == e[:, 2])
    return np.asarray(e[~seam], dtype=float)


def _length_bound(e: FloatArray) -> FloatArray:
    near = np.where(
        e[:, 1] * e[:, 3] <= 0, 0.0, np.radians(np.minimum(np.abs(e[:, 1]), np.abs(e[:, 3])))
    )
    return np.asarray(
        np.hypot(
            _M_POLE * np.radians(np.abs(e[:, 3] - e[:, 1])),
            # N cos(lat), largest at the edge's lowest |lat|; N = a / sqrt(1 - e2 sin2(lat))
            _A
            / np.sqrt(1 - _E2 * np.sin(near) ** 2)
            * np.cos(near)
            * np.radians(np.abs(e[:, 2] - e[:, 0])),
        )
        * 1.000001
    )


def reference_distance_m(lon: float, lat: float, geometry: BaseGeometry) -> float:
    """Geodesic distance (m) from a point to the zone's boundary, densified to <= 0.5 m."""
    pieces = edges_of(geometry)
    best = math.inf
    while len(pieces):
        n = len(pieces)
        _, _, da = GEOD.inv(np.full(n, lon), np.full(n, lat), pieces[:, 0], pieces[:, 1])
        _, _, db = GEOD.inv(np.full(n, lon), np.full(n, lat), pieces[:, 2], pieces[:, 3])
        da, db = np.asarray(da), np.asarray(db)
        best = min(best, float(da.min()), float(db.min()))
        length = _length_bound(pieces)
        small = length <= PIECE_M
        if small.any():
            _, _, ell = GEOD.inv(
                pieces[small, 0], pieces[small, 1], pieces[small, 2], pieces[small, 3]
            )
            best = min(best, float(_triangle_height(da[small], db[small], np.asarray(ell)).min()))
        wanted = ~small & ((da + db - length) / 2 <= best + 1e-9)
        pieces = _split(pieces[wanted], 16)
    return best


def _triangle_height(da: FloatArray, db: FloatArray, ell: FloatArray) -> FloatArray:
    """Distance from the apex to the base segment of a flat triangle with these sides."""
    ell = np.maximum(ell, 1e-12)
    # Position of the apex's foot along the base, from A (cancellation-free difference).
    x = ((da - db) * (da + db) + ell * ell) / (2 * ell)
    h = np.sqrt(np.maximum(da * da - x * x, 0.0))
    return np.asarray(np.where(x <= 0, da, np.where(x >= ell, db, h)))


def _split(pieces: FloatArray, k: int) -> FloatArray:
    if not len(pieces):
        return pieces
    t = np.linspace(0.0, 1.0, k + 1)
    lon = pieces[:, [0]] + t * (pieces[:, [2]] - pieces[:, [0]])
    lat = pieces[:, [1]] + t * (pieces[:, [3]] - pieces[:, [1]])
    return np.column_stack(
        [lon[:, :-1].ravel(), lat[:, :-1].ravel(), lon[:, 1:].ravel(), lat[:, 1:].ravel()]
    )


def sunflower_disc(
    lon: float, lat: float, radius_m: float, n: int
) -> tuple[FloatArray, FloatArray]:
    """``n`` area-uniform points filling the geodesic disc of ``radius_m`` around a point."""
    i = np.arange(n)
    r = radius_m * np.sqrt((i + 0.5) / n)
    az = (i * GOLDEN_ANGLE_DEG) % 360.0 - 180.0
    x, y, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, r)
    x = (np.asarray(x) + 180.0) % 360.0 - 180.0
    return np.asarray(x), np.asarray(y)
