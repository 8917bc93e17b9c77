"""Inputs of the judging benchmark: the real Cambridge set and a generated, scaled-up one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

import geopandas as gpd
import shapely

FloatArray = npt.NDArray[np.float64]
GeometryArray = npt.NDArray[np.object_]

REAL_ZONES = Path("cambridge-uk-zones-smartcambridge/zones.geojson")
REAL_FIXES = Path(
    "cambridge-uk-bus-positions-smartcambridge/sirivm_cambridge_city_bbox_2019-10-01_0900-1000.csv"
)
# Cambridgeshire-like extent (lon/lat), about 70 km by 82 km.
SYNTHETIC_BOX = (-0.50, 52.00, 0.52, 52.74)
M_PER_DEG_LAT = 111_320.0
ZONE_ACROSS_M = (50.0, 600.0)  # parks and school grounds
# Vertices per zone: log-normal around 9, clipped to 5-120, like the OSM parks of Norwich in
# shared/data (median 9, 95th percentile 35); 5 at least keeps the star-shaped rings simple.
ZONE_VERTICES_MEDIAN, ZONE_VERTICES_SIGMA, ZONE_VERTICES_RANGE = 9, 0.8, (5, 120)
HOLE_SHARE = 0.10
# Zones sit in towns, as parks and schools do: a town per this many zones, each 0.7-2.5 km in
# radius (log-uniform), its zones spread around its centre (normal, sigma half the radius)
# in number by its area.
ZONES_PER_TOWN = 300
TOWN_RADIUS_M = (700.0, 2_500.0)
# Fixes follow streets: a track goes from one zone of its town to another along a street
# grid (first along the row, then the column), one fix every 20 s at walking or driving
# speed, with GPS noise; it dwells a while at each zone it reaches.
TRACK_LENGTH = 360  # two hours of one fix every 20 s
FIX_EVERY_S = 20.0
SPEEDS_M_S = (1.4, 9.0)  # on foot, or by car in town
DWELL_FIXES = (3, 30)  # a minute to ten at each zone
GPS_NOISE_M = 5.0
RURAL_SHARE = 0.10  # of the fixes, anywhere in the box (between towns)
BOUNDARY_SHARE = 0.001  # of the fixes, exactly on a zone vertex: a boundary counts inside


@dataclass(frozen=True)
class Dataset:
    """Fixes and zones to judge, and what they are."""

    name: str
    lon: FloatArray
    lat: FloatArray
    zones: GeometryArray
    description: tuple[str, ...]


def real_dataset(data_dir: Path) -> Dataset:
    """The real Cambridge bus fixes (city box) against the 86 real Smart Cambridge geofences."""
    zones = np.asarray(gpd.read_file(data_dir / REAL_ZONES).geometry.to_numpy(), dtype=object)
    fixes = pd.read_csv(data_dir / REAL_FIXES, usecols=["longitude", "latitude"])
    return Dataset(
        name="cambridge",
        lon=fixes["longitude"].to_numpy(np.float64),
        lat=fixes["latitude"].to_numpy(np.float64),
        zones=zones,
        description=(
            f"{len(fixes):,} real bus fixes (Smart Cambridge SIRI-VM, city box, "
            f"2019-10-01 09:00-10:00) against {len(zones)} real geofences",
        ),
    )


def synthetic_dataset(n_fixes: int, n_zones: int, seed: int) -> Dataset:
    """Zones in towns and fixes along their streets, reproducibly from ``seed``."""
    rng = np.random.default_rng(seed)
    towns = _towns(max(1, n_zones // ZONES_PER_TOWN), rng)
    town_of_zone = rng.choice(len(towns[0]), size=n_zones, p=towns[2] ** 2 / (towns[2] ** 2).sum())
    zones, centre_lon, centre_lat, vertex_lon, vertex_lat = _synthetic_zones(
        n_zones, towns, town_of_zone, rng
    )
    n_boundary = min(int(n_fixes * BOUNDARY_SHARE), len(vertex_lon))
    n_rural = int(n_fixes * RURAL_SHARE)
    n_tracks = -(-(n_fixes - n_boundary - n_rural) // TRACK_LENGTH)
    track_lon, track_lat = _street_tracks(n_tracks, centre_lon, centre_lat, town_of_zone, rng)
    n_street = n_fixes - n_boundary - n_rural
    west, south, east, north = SYNTHETIC_BOX
    on_vertex = rng.choice(len(vertex_lon), size=n_boundary, replace=False)
    lon = np.concatenate(
        [track_lon[:n_street], rng.uniform(west, east, n_rural), vertex_lon[on_vertex]]
    )
    lat = np.concatenate(
        [track_lat[:n_street], rng.uniform(south, north, n_rural), vertex_lat[on_vertex]]
    )
    low, high = ZONE_ACROSS_M
    k_low, k_high = ZONE_VERTICES_RANGE
    t_low, t_high = TOWN_RADIUS_M
    return Dataset(
        name="synthetic",
        lon=lon,
        lat=lat,
        zones=zones,
        description=(
            f"seed {seed}; {n_zones:,} zones in {len(towns[0]):,} towns (one per "
            f"{ZONES_PER_TOWN} zones, {t_low / 1000:.1f}-{t_high / 1000:.1f} km in radius, "
            f"uniform over lon {west}..{east}, lat {south}..{north}, Cambridgeshire-like); "
            "zones around each town's centre (normal, sigma half its radius), "
            "in number by its area",
            f"zones: star-shaped polygons of {k_low}-{k_high} vertices (median "
            f"{ZONE_VERTICES_MEDIAN}, as the OSM parks of Norwich), {low:.0f}-{high:.0f} m "
            f"across (log-uniform), {HOLE_SHARE:.0%} with a hole",
            f"{n_fixes:,} fixes: {n_street:,} on {n_tracks:,} street tracks of "
            f"{TRACK_LENGTH} fixes (one every {FIX_EVERY_S:.0f} s from zone to zone of a "
            f"town along a street grid, on foot at {SPEEDS_M_S[0]} m/s or by car at "
            f"{SPEEDS_M_S[1]:.0f} m/s, dwelling {DWELL_FIXES[0]}-{DWELL_FIXES[1]} fixes at "
            f"each zone, {GPS_NOISE_M:.0f} m GPS noise; interleaved by time), {n_rural:,} "
            f"anywhere in the box, {n_boundary:,} exactly on a zone vertex",
        ),
    )


def _towns(n: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Town centres (lon, lat) and radii in metres."""
    west, south, east, north = SYNTHETIC_BOX
    low, high = TOWN_RADIUS_M
    return (
        rng.uniform(west, east, n),
        rng.uniform(south, north, n),
        np.exp(rng.uniform(np.log(low), np.log(high), n)),
    )


def _synthetic_zones(
    n: int,
    towns: tuple[FloatArray, FloatArray, FloatArray],
    town_of_zone: npt.NDArray[np.intp],
    rng: np.random.Generator,
) -> tuple[GeometryArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Star-shaped polygons (valid by construction) around their towns' centres, their
    centres and their shell vertices."""
    town_lon, town_lat, town_radius = towns
    spread = 0.5 * town_radius[town_of_zone]
    centre_lon, centre_lat = _offset_xy(
        town_lon[town_of_zone],
        town_lat[town_of_zone],
        rng.normal(0.0, spread),
        rng.normal(0.0, spread),
    )
    low, high = ZONE_ACROSS_M
    radius = np.exp(rng.uniform(np.log(low / 2), np.log(high / 2), n))
    k_low, k_high = ZONE_VERTICES_RANGE
    k = np.clip(
        np.rint(rng.lognormal(np.log(ZONE_VERTICES_MEDIAN), ZONE_VERTICES_SIGMA, n)),
        k_low,
        k_high,
    ).astype(np.intp)
    owner = np.repeat(np.arange(n), k)
    position = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    # Angles increase around the centre with gaps under 180 degrees, so each ring is simple
    # and the centre lies inside; shell radii of 0.65-1 R keep a 0.15 R hole clear of it.
    angle = 2 * np.pi * (position + rng.uniform(0.0, 0.8, len(owner))) / k[owner]
    shell_r = radius[owner] * rng.uniform(0.65, 1.0, len(owner))
    vertex_lon, vertex_lat = _offset(centre_lon[owner], centre_lat[owner], shell_r, angle)

    holed = np.flatnonzero(rng.random(n) < HOLE_SHARE)
    hole_owner = np.repeat(holed, 6)
    hole_angle = rng.uniform(0, 2 * np.pi, len(holed)).repeat(6) + np.tile(
        np.arange(6) * np.pi / 3, len(holed)
    )
    hole_lon, hole_lat = _offset(
        centre_lon[hole_owner], centre_lat[hole_owner], 0.15 * radius[hole_owner], hole_angle
    )

    ring_of_vertex = np.concatenate([owner, n + np.repeat(np.arange(len(holed)), 6)])
    rings = np.asarray(
        shapely.linearrings(
            np.concatenate([vertex_lon, hole_lon]),
            np.concatenate([vertex_lat, hole_lat]),
            indices=ring_of_vertex,
        ),
        dtype=object,
    )
    polygon_of_ring = np.concatenate([np.arange(n), holed])
    # shapely.polygons wants each polygon's shell first, then its holes, polygons in order.
    order = np.lexsort((np.arange(len(rings)), polygon_of_ring))
    zones = shapely.polygons(rings[order], indices=polygon_of_ring[order])
    if not shapely.is_valid(zones).all():
        raise RuntimeError("synthetic zone generation made an invalid polygon")
    return np.asarray(zones, dtype=object), centre_lon, centre_lat, vertex_lon, vertex_lat


def _street_tracks(
    n_tracks: int,
    centre_lon: FloatArray,
    centre_lat: FloatArray,
    town_of_zone: npt.NDArray[np.intp],
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Tracks of ``TRACK_LENGTH`` fixes from zone to zone of one town, interleaved by time."""
    lon = np.empty((TRACK_LENGTH, n_tracks))
    lat = np.empty((TRACK_LENGTH, n_tracks))
    zones_of_town = (
        pd.Series(np.arange(len(town_of_zone))).groupby(town_of_zone).apply(lambda s: s.to_numpy())
    )
    first = rng.integers(0, len(town_of_zone), n_tracks)
    speed = rng.choice(SPEEDS_M_S, n_tracks)
    for t in range(n_tracks):
        here = zones_of_town[town_of_zone[first[t]]]
        # Waypoints: zone centres of the town in a random order (enough for two hours).
        stops = rng.choice(here, size=TRACK_LENGTH // DWELL_FIXES[0] + 2)
        east_m, north_m = _metres(centre_lon[stops], centre_lat[stops], centre_lat[stops[0]])
        # Along the row, then the column: from stop k by (east k+1, north k) to stop k+1.
        corner_e = np.column_stack([east_m[:-1], east_m[1:]]).ravel()
        corner_n = np.column_stack([north_m[:-1], north_m[:-1]]).ravel()
        dwell = rng.integers(DWELL_FIXES[0], DWELL_FIXES[1] + 1, len(stops))
        step = speed[t] * FIX_EVERY_S
        e_parts, n_parts = [], []
        count = 0
        for k in range(len(stops) - 1):
            e_parts.append(np.full(dwell[k], corner_e[2 * k]))
            n_parts.append(np.full(dwell[k], corner_n[2 * k]))
            leg_e = np.array([corner_e[2 * k], corner_e[2 * k + 1], east_m[k + 1]])
            leg_n = np.array([corner_n[2 * k], corner_n[2 * k + 1], north_m[k + 1]])
            along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(leg_e), np.diff(leg_n)))])
            at = np.arange(0.0, along[-1], step)
            e_parts.append(np.interp(at, along, leg_e))
            n_parts.append(np.interp(at, along, leg_n))
            count += dwell[k] + len(at)
            if count >= TRACK_LENGTH:
                break
        e = np.concatenate(e_parts)[:TRACK_LENGTH]
        n = np.concatenate(n_parts)[:TRACK_LENGTH]
        e = np.pad(e, (0, TRACK_LENGTH - len(e)), mode="edge")
        n = np.pad(n, (0, TRACK_LENGTH - len(n)), mode="edge")
        noise = rng.normal(0.0, GPS_NOISE_M, (2, TRACK_LENGTH))
        lon[:, t], lat[:, t] = _offset_xy(
            np.full(TRACK_LENGTH, centre_lon[stops[0]]),
            np.full(TRACK_LENGTH, centre_lat[stops[0]]),
            e - east_m[0] + noise[0],
            n - north_m[0] + noise[1],
        )
    return lon.ravel(), lat.ravel()


def _metres(lon: FloatArray, lat: FloatArray, lat0: float) -> tuple[FloatArray, FloatArray]:
    """East and north in metres from (0, 0) on a local flat earth at latitude ``lat0``."""
    return lon * M_PER_DEG_LAT * np.cos(np.radians(lat0)), lat * M_PER_DEG_LAT


def _offset_xy(
    lon: FloatArray, lat: FloatArray, east_m: FloatArray, north_m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Move points by metres east and north (local flat earth, ample at town scale)."""
    return lon + east_m / (M_PER_DEG_LAT * np.cos(np.radians(lat))), lat + north_m / M_PER_DEG_LAT


def _offset(
    lon: FloatArray, lat: FloatArray, distance_m: FloatArray, angle: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Move points by metres in a direction (local flat-earth approximation, ample at 300 m)."""
    d_lat = distance_m * np.sin(angle) / M_PER_DEG_LAT
    d_lon = distance_m * np.cos(angle) / (M_PER_DEG_LAT * np.cos(np.radians(lat)))
    return lon + d_lon, lat + d_lat
