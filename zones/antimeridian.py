"""Zones across longitude 180: finding where a ring crosses it, and splitting the zone there.

Edges are straight in longitude/latitude, so a ring from 179.8 to -179.8 drawn the short way
(across 180) is, as stored, an edge the long way round the world: the zone would be judged as
the band on the other side of the globe. Such a ring is either refused or split at 180 into
a MultiPolygon whose parts meet along lon = 180 and lon = -180 (the seam, which
:mod:`zones.geodesy` does not count as boundary).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from zones.errors import InvalidGeometry

FloatArray = npt.NDArray[np.float64]
SPLIT_HINT = (
    "split it into two polygons at longitude 180, one with longitudes up to 180 and one from "
    "-180, as a MultiPolygon; or send repair=true to have it split"
)


def crosses_antimeridian(lon: Sequence[float] | FloatArray) -> bool:
    """True when consecutive longitudes of a ring jump by more than 180 degrees.

    Such a jump means the drawer meant the short way round, across longitude 180.
    """
    return bool((np.abs(np.diff(np.asarray(lon, dtype=float))) > 180.0).any())


def unwrap_longitudes(lon: Sequence[float] | FloatArray) -> FloatArray:
    """Longitudes made continuous: every step taken the short way (may leave [-180, 180])."""
    x = np.asarray(lon, dtype=float)
    steps = (np.diff(x) + 180.0) % 360.0 - 180.0
    return np.concatenate([x[:1], x[0] + np.cumsum(steps)])


def split_at_antimeridian(geometry: BaseGeometry, *, field: str = "geometry") -> BaseGeometry:
    """The zone with every polygon that crosses longitude 180 cut there, as a MultiPolygon.

    Each crossing polygon's rings are unwrapped to a continuous longitude range, the polygon
    is cut with the boxes west and east of 180 (and of -180), and the part beyond is moved
    back by 360 degrees. Polygons that do not cross are kept as they are.

    Raises
    ------
    InvalidGeometry
        When a ring goes right round a pole (it cannot be a lon/lat polygon).
    """
    parts: list[Polygon] = []
    for p, poly in enumerate(getattr(geometry, "geoms", [geometry])):
        rings = [np.asarray(poly.exterior.coords)[:, :2]]
        rings += [np.asarray(r.coords)[:, :2] for r in poly.interiors]
        if not any(crosses_antimeridian(r[:, 0]) for r in rings):
            parts.append(poly)
            continue
        unwrapped: list[FloatArray] = []
        for r, ring in enumerate(rings):
            x = unwrap_longitudes(ring[:, 0])
            if abs(x[-1] - x[0]) > 180.0:
                raise InvalidGeometry(
                    "this ring goes right round a pole, which a longitude/latitude polygon "
                    "cannot hold; draw the zone without the pole",
                    field=f"{field}.coordinates[{p}][{r}]"
                    if geometry.geom_type == "MultiPolygon"
                    else f"{field}.coordinates[{r}]",
                )
            if unwrapped:  # a hole goes where its exterior went
                x = x + 360.0 * float(np.round((unwrapped[0][:, 0].mean() - x.mean()) / 360.0))
            unwrapped.append(np.column_stack([x, ring[:, 1]]))
        parts += _polygons(split_unwrapped(Polygon(unwrapped[0], unwrapped[1:])))
    return MultiPolygon(parts) if len(parts) != 1 else parts[0]


def split_unwrapped(geometry: BaseGeometry) -> BaseGeometry:
    """A polygonal geometry whose longitudes may leave [-180, 180], cut at +-180 and brought
    back into range; unchanged if already in range. The parts meet at the seam lon = +-180."""
    x0, _, x1, _ = geometry.bounds
    if x0 >= -180.0 and x1 <= 180.0:
        return geometry
    parts: list[Polygon] = []
    for west, shift in ((-540.0, 360.0), (-180.0, 0.0), (180.0, -360.0)):
        piece = shapely.intersection(geometry, shapely.box(west, -90.0, west + 360.0, 90.0))
        parts += _polygons(_snap_to_antimeridian(_shifted(piece, shift)))
    return MultiPolygon(parts) if len(parts) != 1 else parts[0]


def _shifted(geometry: BaseGeometry, dlon: float) -> BaseGeometry:
    if dlon == 0.0:
        return geometry
    return shapely.transform(geometry, lambda c: c + np.array([dlon, 0.0]))


def _snap_to_antimeridian(geometry: BaseGeometry) -> BaseGeometry:
    """Longitudes within a nanodegree of +-180 set to exactly +-180, so the seam is exact."""

    def snap(c: FloatArray) -> FloatArray:
        x = c[:, 0]
        near = np.abs(np.abs(x) - 180.0) < 1e-9
        return np.column_stack([np.where(near, np.sign(x) * 180.0, x), c[:, 1]])

    return shapely.transform(geometry, snap)


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    return [
        g
        for g in getattr(geometry, "geoms", [geometry])
        if isinstance(g, Polygon) and not g.is_empty
    ]
