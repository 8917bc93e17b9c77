"""Coordinate reference systems: which projected one suits a place, moving geometry into it.

Storage is EPSG:4326 (longitude first). Judging measures on the ellipsoid, never in a
projection (:mod:`zones.geodesy`, :mod:`zones.discs`, :mod:`zones.geodesic_buffer`), and
areas here are geodesic. The British National Grid (EPSG:27700) and UTM remain for grid
references, display and exports, where a projected CRS is what the reader asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = 4326
GeometryArray = Sequence[BaseGeometry] | npt.NDArray[np.object_]
BRITISH_NATIONAL_GRID = 27700
_GEOD = Geod(ellps="WGS84")

# Where EPSG:27700 is the right grid: Great Britain and its islands (EPSG's area of use,
# trimmed east so that northern France stays on UTM).
_GB_WEST, _GB_SOUTH, _GB_EAST, _GB_NORTH = -8.82, 49.75, 1.92, 61.01


def in_great_britain(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where a longitude/latitude lies in the area the British National Grid serves."""
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon_a >= _GB_WEST) & (lon_a <= _GB_EAST) & (lat_a >= _GB_SOUTH) & (lat_a <= _GB_NORTH)


def metric_epsg(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """EPSG code of the metric CRS suited to each longitude/latitude.

    British National Grid in Great Britain, otherwise the WGS 84 UTM zone
    (326xx north of the equator, 327xx south).
    """
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    utm_zone = np.clip(np.floor((lon_a + 180.0) / 6.0).astype(np.int64) + 1, 1, 60)
    utm = np.where(lat_a >= 0, 32600, 32700) + utm_zone
    return np.where(in_great_britain(lon_a, lat_a), BRITISH_NATIONAL_GRID, utm).astype(np.int64)


def metric_epsg_for(geometries: GeometryArray) -> npt.NDArray[np.int64]:
    """Metric CRS for each geometry, chosen by the centre of its bounding box."""
    bounds = shapely.bounds(np.asarray(geometries, dtype=object))
    return metric_epsg((bounds[:, 0] + bounds[:, 2]) / 2.0, (bounds[:, 1] + bounds[:, 3]) / 2.0)


@cache
def transformer(source_epsg: int, target_epsg: int) -> Transformer:
    """A cached, always-xy transformer between two EPSG codes."""
    return Transformer.from_crs(
        CRS.from_epsg(source_epsg), CRS.from_epsg(target_epsg), always_xy=True
    )


def project_xy(
    lon: npt.ArrayLike, lat: npt.ArrayLike, target_epsg: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Longitude/latitude arrays to x/y arrays in ``target_epsg``."""
    x, y = transformer(WGS84, target_epsg).transform(
        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    )
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def project(
    geometries: GeometryArray, target_epsg: int, source_epsg: int = WGS84
) -> npt.NDArray[np.object_]:
    """Project an array of shapely geometries between EPSG codes (vectorised over coordinates)."""
    fwd = transformer(source_epsg, target_epsg)

    def _transform(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = fwd.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(np.asarray(geometries, dtype=object), _transform))


def metric_area_m2(geometries: GeometryArray) -> npt.NDArray[np.float64]:
    """Geodesic area in square metres of each EPSG:4326 geometry on the WGS 84 ellipsoid.

    Edges are taken as geodesics between the vertices (``Geod.geometry_area_perimeter``); on
    zone-sized edges the difference from lon/lat-straight edges is far below a square metre.
    Rings are oriented first (exterior anticlockwise, holes clockwise), since Geod adds rings
    by their signed areas: a hole drawn the exterior's way round would otherwise be added.
    """
    geoms = shapely.orient_polygons(np.asarray(geometries, dtype=object), exterior_cw=False)
    return np.array([abs(_GEOD.geometry_area_perimeter(g)[0]) for g in geoms], dtype=float)
