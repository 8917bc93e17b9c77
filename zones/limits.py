"""Size limits on zone geometry, checked before any work is done on it.

The limits admit a real city boundary (200,000 vertices) and an archipelago of thousands of
islands, and refuse what no drawing needs: 50,000 parts, a million vertices. Size alone does
not bound the cost of checking a shape (see :mod:`zones.bounded`), but it bounds everything
done before that check and the memory the check starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import shapely

from zones.errors import GeometryTooLarge

Geometries = npt.NDArray[np.object_]


@dataclass(frozen=True)
class GeometryLimits:
    """The most one zone geometry may hold."""

    vertices: int = 250_000  # positions in all its rings, closing positions included
    parts: int = 5_000  # polygons of a MultiPolygon
    holes: int = 10_000  # interior rings, in all its polygons


LIMITS = GeometryLimits()


def _over(what: str, found: int, limit: int, field: str) -> GeometryTooLarge:
    return GeometryTooLarge(
        f"the geometry has {found:,} {what}; at most {limit:,} are accepted (limit: {what})",
        field=field,
    )


def check_size(
    gtype: str, coordinates: Any, *, field: str = "geometry", limits: GeometryLimits = LIMITS
) -> int:
    """Refuse GeoJSON (Multi)Polygon coordinates over ``limits``; returns the vertex count.

    Only lengths are read (at most one step per ring), so refusing a bomb costs nothing;
    what is not a list is left for the full check to name.
    """
    polygons = [coordinates] if gtype == "Polygon" else coordinates
    if not isinstance(polygons, list):
        return 0
    where = f"{field}.coordinates"
    if len(polygons) > limits.parts:
        raise _over("parts", len(polygons), limits.parts, where)
    polygons = [p for p in polygons if isinstance(p, list) and p]
    holes = sum(len(p) - 1 for p in polygons)
    if holes > limits.holes:
        raise _over("holes", holes, limits.holes, where)
    vertices = sum(len(r) for p in polygons for r in p if isinstance(r, list))
    if vertices > limits.vertices:
        raise _over("vertices", vertices, limits.vertices, where)
    return vertices


def oversized(geoms: Geometries, limits: GeometryLimits = LIMITS) -> list[str | None]:
    """For each shapely geometry, why it is over ``limits`` (None where it is not)."""
    parts = shapely.get_num_geometries(geoms)
    vertices = shapely.get_num_coordinates(geoms)
    polygons, owner = shapely.get_parts(geoms, return_index=True)
    holes = np.bincount(
        owner, weights=shapely.get_num_interior_rings(polygons), minlength=len(geoms)
    ).astype(int)
    out: list[str | None] = []
    for n_parts, n_holes, n_vertices in zip(parts, holes, vertices, strict=True):
        reason = None
        for what, found, limit in (
            ("parts", n_parts, limits.parts),
            ("holes", n_holes, limits.holes),
            ("vertices", n_vertices, limits.vertices),
        ):
            if found > limit:
                reason = f"it has {found:,} {what}; at most {limit:,} are accepted"
                break
        out.append(reason)
    return out
