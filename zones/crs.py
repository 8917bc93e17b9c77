"""Metric coordinate reference systems: which one suits a place, and moving geometry into it.

Storage is EPSG:4326 (longitude first). Anything measured in metres (buffers, distances,
accuracy discs, areas) is computed in a projected CRS suited to the place: the British
National Grid (EPSG:27700) inside Great Britain, the local UTM zone elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = 4326
GeometryArray = Sequence[BaseGeometry] | npt.NDArray[np.object_]
BRITISH_NATIONAL_GRID = 27700

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
    """Area in square metres of each EPSG:4326 geometry, each measured in its own metric CRS."""
    geoms = np.asarray(geometries, dtype=object)
    areas = np.zeros(len(geoms), dtype=float)
    codes = metric_epsg_for(geoms)
    for code in np.unique(codes):  # one projection per CRS, not per geometry
        sel = codes == code
        areas[sel] = shapely.area(project(geoms[sel], int(code)))
    return areas
