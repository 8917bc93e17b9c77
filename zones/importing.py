"""Loading zones from a file: GeoJSON, GeoPackage, Shapefile (plain or zipped) or KML.

Every feature of the file ends up either as a zone (a valid Polygon or MultiPolygon in
EPSG:4326 with a name, a category and its metric area) or in a list of reasons it was left
out, so whoever imports a council's parks layer can see what happened to each feature.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

import geopandas as gpd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError

from zones import bounded
from zones.antimeridian import split_at_antimeridian
from zones.bounded import Budget
from zones.categories import (
    CATEGORY_FIELDS,
    DEFAULT_CATEGORIES,
    NOT_A_CATEGORY,
    categorise,
    first_value,
)
from zones.crs import WGS84, metric_area_m2
from zones.errors import GeometryTooCostly, ImportFailed, InvalidGeometry
from zones.geometry import (
    COLLECTION,
    ZONE_NORTH,
    ZONE_SOUTH,
    explain_reason,
    looks_swapped,
    polygonal_parts,
)
from zones.limits import oversized

# GDAL driver -> the format's everyday name; anything else GDAL opens is refused.
FORMATS: Mapping[str, str] = MappingProxyType(
    {
        "GeoJSON": "GeoJSON",
        "GeoJSONSeq": "GeoJSON",
        "GPKG": "GeoPackage",
        "ESRI Shapefile": "Shapefile",
        "KML": "KML",
        "LIBKML": "KML",
    }
)

NAME_FIELDS = ("name", "NAME", "Name", "title")
# Feature ids: GDAL reads a GeoJSON feature's string "id" (and a KML Placemark's id) as `id`;
# Overpass exports also carry `@id`. Without one, the file's own feature id (FID) is used.
ID_FIELDS = ("id", "@id", "osm_id")


Geometries = npt.NDArray[np.object_]


@dataclass(frozen=True)
class ZoneImport:
    """What a zone file gave: the zones, and why the other features were left out or changed.

    ``zones`` is a GeoDataFrame in EPSG:4326 with columns ``name``, ``category``, ``source``
    (``file#feature id``), ``source_id``, ``area_m2`` and ``geometry`` (valid Polygons and
    MultiPolygons only). ``skipped`` and ``repaired`` hold one readable line per feature.
    """

    zones: gpd.GeoDataFrame
    skipped: list[str]
    repaired: list[str]


def read_zones(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    name_field: str | None = None,
    category_field: str | None = None,
    category_map: Mapping[str, str] | None = None,
    default_category: str = "other",
    source_crs: CRS | str | int | None = None,
) -> ZoneImport:
    """Read the polygons of a zone file as zones in EPSG:4326.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage, Shapefile (or a ``.zip`` holding one) or KML file.
    layer
        Which layer to read; needed only when the file holds more than one.
    name_field
        Column holding the zone names. By default the first of ``name``, ``NAME``, ``Name``,
        ``title`` with a value; a feature without one is called after its category and id.
    category_field
        Column holding the categories, whose values go through ``category_map`` (values not in
        it are kept, lower-cased). By default the first value among ``category``, ``leisure``,
        ``landuse``, ``amenity``, ``type``, ``class``, ``fclass``, ``natural`` goes through
        ``DEFAULT_CATEGORIES`` updated with ``category_map``.
    category_map
        Source value -> category, matched case-insensitively (see `parse_category_map`).
    default_category
        Category of a feature with no category value.
    source_crs
        CRS of the coordinates (anything `pyproj.CRS.from_user_input` takes). Required when
        the file declares none (a Shapefile without its ``.prj``); GeoJSON without one is
        EPSG:4326 by specification. When given it overrides what the file declares, like
        ``ogr2ogr -s_srs``.

    Returns
    -------
    ZoneImport
        The zones, the features skipped (not polygons, empty, coordinates that cannot be
        longitude/latitude, nothing polygonal left after repair) and the repairs made.

    Raises
    ------
    ImportFailed
        When the file is missing, empty, unreadable or of another format, has several layers
        and no ``layer`` was chosen, declares no CRS and no ``source_crs`` was given, names a
        field it lacks, or holds no usable polygon, or when checking and repairing its
        shapes overruns their budget (see `zones.bounded`). A shape over the size limits
        of `zones.limits` is skipped.
    """
    file = Path(path)
    label = file.name
    layer, info = _open(file, label, layer)
    fields = [str(f) for f in info["fields"]]
    for option, column in (("name_field", name_field), ("category_field", category_field)):
        if column is not None and column not in fields:
            raise ImportFailed(
                f"{label} has no field {column!r}; its fields are {', '.join(fields) or 'none'}",
                field=option,
            )
    names = [name_field] if name_field else [f for f in NAME_FIELDS if f in fields]
    kinds = [category_field] if category_field else [f for f in CATEGORY_FIELDS if f in fields]
    ids = [f for f in ID_FIELDS if f in fields]
    wanted = list(dict.fromkeys(names + kinds + ids))
    try:
        frame = gpd.read_file(
            file, layer=layer, columns=wanted, fid_as_index=True, engine="pyogrio"
        )
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise ImportFailed(f"{label}: cannot be read ({_gdal_message(exc, file)})") from exc
    if not isinstance(frame, gpd.GeoDataFrame) or len(frame) == 0:
        raise ImportFailed(f"{label}: holds no features")
    crs = _crs(frame.crs, info["driver"], source_crs, label)
    try:
        frame = frame.set_crs(crs, allow_override=True).to_crs(WGS84)
    except (CRSError, ProjError) as exc:
        raise ImportFailed(f"{label}: cannot reproject from {crs.name} to EPSG:4326") from exc

    source_id = first_value(frame, ids).fillna(
        pd.Series(frame.index.astype(str), index=frame.index)
    )
    source = label + "#" + source_id
    if category_field:
        category = categorise(frame[category_field], category_map or {}, default_category)
    else:
        table = {**DEFAULT_CATEGORIES, **(category_map or {})}
        category = categorise(
            first_value(frame, kinds, skip=NOT_A_CATEGORY), table, default_category
        )
    given_name = first_value(frame, names)
    name = given_name.fillna(category + " " + source_id)

    who = np.where(given_name.notna(), source + ' "' + given_name.fillna("") + '"', source)
    try:
        geoms, skip, problem = _clean(np.asarray(frame.geometry.array, dtype=object))
    except GeometryTooCostly as exc:
        raise ImportFailed(f"{label}: {exc.message}") from None
    keep = pd.isna(skip)
    area = np.full(len(geoms), np.nan)
    area[keep] = metric_area_m2(geoms[keep])
    skipped = [f"{who[i]}: {skip[i]}" for i in np.flatnonzero(~keep)]
    repaired = [
        f"{who[i]}: repaired {problem[i]}; now a {geoms[i].geom_type} of "
        f"{shapely.get_num_geometries(geoms[i])} part(s), {area[i]:,.0f} m²"
        for i in np.flatnonzero(keep & pd.notna(problem))
    ]
    if not keep.any():
        shown = "; ".join(skipped[:3]) + (
            f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        )
        raise ImportFailed(f"{label}: no usable polygon among {len(skipped)} feature(s): {shown}")
    zones = gpd.GeoDataFrame(
        {
            "name": name.to_numpy(dtype=object)[keep],
            "category": category.to_numpy(dtype=object)[keep],
            "source": source.to_numpy(dtype=object)[keep],
            "source_id": source_id.to_numpy(dtype=object)[keep],
            "area_m2": area[keep],
        },
        geometry=geoms[keep],
        crs=WGS84,
    )
    return ZoneImport(zones=zones, skipped=skipped, repaired=repaired)


def _open(file: Path, label: str, layer: str | int | None) -> tuple[str | int, dict[str, Any]]:
    """Check the file is there and of a known format; choose its layer; describe it."""
    if not file.exists():
        raise ImportFailed(f"{label}: file not found")
    if file.is_file() and file.stat().st_size == 0:
        raise ImportFailed(f"{label}: file is empty (0 bytes)")
    try:
        if layer is None:
            layers = [str(n) for n, kind in pyogrio.list_layers(file) if kind is not None]
            if not layers:
                raise ImportFailed(f"{label}: holds no layer with geometry")
            if len(layers) > 1:
                raise ImportFailed(
                    f"{label} holds {len(layers)} layers ({', '.join(layers)}); choose one",
                    field="layer",
                )
            layer = layers[0]
        info: dict[str, Any] = pyogrio.read_info(file, layer=layer)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise ImportFailed(f"{label}: cannot be read ({_gdal_message(exc, file)})") from exc
    if info["driver"] not in FORMATS:
        known = ", ".join(dict.fromkeys(FORMATS.values()))
        raise ImportFailed(f"{label}: {info['driver']} files are not supported (use {known})")
    return layer, info


def _gdal_message(exc: Exception, file: Path) -> str:
    """GDAL's complaint without the server's directory names or GDAL's driver advice."""
    message = str(exc).replace(str(file), file.name).split(";")[0].rstrip(".")
    if "not recognized as being in a supported file format" in message:
        return "not a GeoJSON, GeoPackage, Shapefile or KML file GDAL recognises"
    return message


def _crs(declared: CRS | None, driver: str, override: CRS | str | int | None, label: str) -> CRS:
    """The CRS the coordinates are in: the override, what the file says, or GeoJSON's rule."""
    if override is not None:
        try:
            return CRS.from_user_input(override)
        except CRSError as exc:
            raise ImportFailed(
                f"source_crs {override!r} is not a known CRS", field="source_crs"
            ) from exc
    if declared is not None:
        return declared
    if FORMATS[driver] == "GeoJSON":
        return CRS.from_epsg(WGS84)  # RFC 7946: GeoJSON coordinates are WGS 84 lon/lat
    raise ImportFailed(
        f"{label} does not say which coordinate reference system it uses (a Shapefile without "
        "its .prj?); give source_crs, e.g. EPSG:27700 for British National Grid",
        field="source_crs",
    )


def _clean(geoms: Geometries) -> tuple[Geometries, Geometries, Geometries]:
    """Make each geometry a valid zone or say why it cannot be one.

    Returns the zone geometries, the reason each skipped feature was skipped (None if kept)
    and the problem repaired in each kept one (None if it was valid).
    """
    n = len(geoms)
    skip: Geometries = np.full(n, None, dtype=object)
    problem: Geometries = np.full(n, None, dtype=object)
    geoms = shapely.force_2d(geoms)  # zones are flat; KML and PolygonZ carry altitudes
    polygons = polygonal_parts(geoms)
    none = shapely.is_missing(polygons) | shapely.is_empty(polygons)
    for i in np.flatnonzero(none):
        skip[i] = _not_a_zone(geoms[i])

    ok = ~none
    for i, too_big in zip(np.flatnonzero(ok), oversized(polygons[ok]), strict=True):
        if too_big is not None:
            skip[i], ok[i] = too_big, False
    bounds = np.full((n, 4), np.nan)
    bounds[ok] = shapely.bounds(polygons[ok])
    with np.errstate(invalid="ignore"):
        in_range = np.isfinite(bounds).all(axis=1) & (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1)
        in_range &= (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
    for i in np.flatnonzero(ok & ~in_range):
        skip[i] = (
            f"coordinates out of longitude/latitude range (bounds {_bounds(bounds[i])}); "
            "is the file's coordinate reference system right? (see source_crs)"
        )
    ok &= in_range
    swapped = _all_swapped(polygons, ok)
    for i in np.flatnonzero(swapped):
        skip[i] = "every position reads as latitude, longitude; longitude must come first"
    ok &= ~swapped

    # As for zones drawn in the editor (zones.geometry): no polar zones, and a ring crossing
    # longitude 180 the short way is split there rather than judged the long way round.
    polar = ok & ((bounds[:, 1] < ZONE_SOUTH) | (bounds[:, 3] > ZONE_NORTH))
    for i in np.flatnonzero(polar):
        skip[i] = (
            f"lies beyond the {ZONE_SOUTH:g}..{ZONE_NORTH:g} degrees of latitude zones are "
            "accepted in: polar zones are not supported"
        )
    ok &= ~polar
    for i in np.flatnonzero(_crossing_180(polygons, ok)):
        try:
            polygons[i] = split_at_antimeridian(polygons[i])
            problem[i] = "a ring crossing longitude 180 (split there into a MultiPolygon)"
        except InvalidGeometry as exc:
            skip[i], ok[i] = exc.message, False

    # validity is judged in EPSG:4326, where the zone is stored, after reprojection; what a
    # file holds is untrusted, so within a budget that grows with its size (zones.bounded)
    todo = np.flatnonzero(ok)
    vertices = int(shapely.get_num_coordinates(polygons[todo]).sum())
    budget = Budget(seconds=2.0 + vertices / 100_000, memory_mb=512 + vertices // 2_000)
    checks = bounded.check(list(polygons[todo]), repair=True, budget=budget)
    bad = np.array([i for i, c in zip(todo, checks, strict=True) if not c.valid], dtype=int)
    if bad.size:
        by_index = dict(zip(todo, checks, strict=True))
        reasons = [by_index[i].reason or "invalid" for i in bad]
        fixed = polygonal_parts(np.array([by_index[i].repaired for i in bad], dtype=object))
        gone = shapely.is_missing(fixed) | shapely.is_empty(fixed)
        polygons[bad] = fixed
        for i, reason, lost in zip(bad, reasons, gone, strict=True):
            if lost:
                skip[i] = (
                    f"invalid ({explain_reason(reason)}) and nothing polygonal is left after repair"
                )
            else:
                earlier = f"{problem[i]}; " if problem[i] is not None else ""
                problem[i] = earlier + explain_reason(reason)
    return polygons, skip, problem


def _crossing_180(geoms: Geometries, where: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """True for geometries with a ring whose consecutive longitudes jump by more than 180."""
    parts, owner = shapely.get_parts(geoms[where], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    jump = (np.abs(np.diff(coords[:, 0])) > 180.0) & (ring[1:] == ring[:-1])
    crossing = np.zeros(len(geoms), dtype=bool)
    crossing[np.flatnonzero(where)[owner[ring_part[ring[1:][jump]]]]] = True
    return crossing


def _all_swapped(geoms: Geometries, where: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """True for geometries every position of which only makes sense read latitude first."""
    n = len(geoms)
    coords, owner = shapely.get_coordinates(geoms[where], return_index=True)
    owner = np.flatnonzero(where)[owner]
    swapped = np.bincount(owner, weights=looks_swapped(coords[:, 0], coords[:, 1]), minlength=n)
    total = np.bincount(owner, minlength=n)
    all_swapped: npt.NDArray[np.bool_] = (total > 0) & (swapped == total)
    return all_swapped


def _not_a_zone(geom: Any) -> str:
    if geom is None:
        return "has no geometry"
    if shapely.is_empty(geom):
        return "has an empty geometry"
    if shapely.get_type_id(geom) == COLLECTION:
        return "is a GeometryCollection without a polygon"
    return f"is a {geom.geom_type}, not a polygon"


def _bounds(b: npt.NDArray[np.float64]) -> str:
    return ", ".join(f"{v:.6g}" for v in b)
