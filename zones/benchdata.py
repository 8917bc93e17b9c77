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
TRACK_SHARE = 0.5  # of the fixes, on random-walk tracks; the rest are uniform
TRACK_LENGTH = 360  # two hours of one fix every 20 s
TRACK_STEP_M = 15.0  # standard deviation of each step, per axis
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
    """Zones and fixes generated reproducibly from ``seed``, vectorised throughout."""
    rng = np.random.default_rng(seed)
    zones, centre_lon, centre_lat, vertex_lon, vertex_lat = _synthetic_zones(n_zones, rng)
    n_boundary = min(int(n_fixes * BOUNDARY_SHARE), len(vertex_lon))
    n_tracks = int(n_fixes * TRACK_SHARE) // TRACK_LENGTH
    n_uniform = n_fixes - n_boundary - n_tracks * TRACK_LENGTH

    track_lon, track_lat = _random_walks(n_tracks, centre_lon, centre_lat, rng)
    west, south, east, north = SYNTHETIC_BOX
    on_vertex = rng.choice(len(vertex_lon), size=n_boundary, replace=False)
    lon = np.concatenate([track_lon, rng.uniform(west, east, n_uniform), vertex_lon[on_vertex]])
    lat = np.concatenate([track_lat, rng.uniform(south, north, n_uniform), vertex_lat[on_vertex]])
    low, high = ZONE_ACROSS_M
    k_low, k_high = ZONE_VERTICES_RANGE
    return Dataset(
        name="synthetic",
        lon=lon,
        lat=lat,
        zones=zones,
        description=(
            f"seed {seed}; {n_zones:,} zones: star-shaped polygons of {k_low}-{k_high} vertices "
            f"(median {ZONE_VERTICES_MEDIAN}), {low:.0f}-{high:.0f} m across (log-uniform), "
            f"{HOLE_SHARE:.0%} with a hole, uniform over lon {west}..{east}, "
            f"lat {south}..{north} (Cambridgeshire-like)",
            f"{n_fixes:,} fixes: {n_tracks * TRACK_LENGTH:,} on {n_tracks:,} random-walk tracks "
            f"of {TRACK_LENGTH} fixes ({TRACK_STEP_M:.0f} m steps, half starting at a zone "
            f"centre; interleaved by time), {n_uniform:,} uniform over the box, "
            f"{n_boundary:,} exactly on a zone vertex",
        ),
    )


def _synthetic_zones(
    n: int, rng: np.random.Generator
) -> tuple[GeometryArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Star-shaped polygons (valid by construction), their centres and their shell vertices."""
    west, south, east, north = SYNTHETIC_BOX
    centre_lon = rng.uniform(west, east, n)
    centre_lat = rng.uniform(south, north, n)
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


def _random_walks(
    n_tracks: int, centre_lon: FloatArray, centre_lat: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Tracks of ``TRACK_LENGTH`` fixes, half from zone centres, interleaved by time."""
    west, south, east, north = SYNTHETIC_BOX
    from_zone = rng.integers(0, len(centre_lon), n_tracks)
    at_zone = rng.random(n_tracks) < 0.5
    start_lon = np.where(at_zone, centre_lon[from_zone], rng.uniform(west, east, n_tracks))
    start_lat = np.where(at_zone, centre_lat[from_zone], rng.uniform(south, north, n_tracks))
    steps = rng.normal(0.0, TRACK_STEP_M, (2, TRACK_LENGTH, n_tracks))
    steps[:, 0, :] = 0.0
    east_m, north_m = np.cumsum(steps, axis=1)
    lat = start_lat + north_m / M_PER_DEG_LAT
    lon = start_lon + east_m / (M_PER_DEG_LAT * np.cos(np.radians(start_lat)))
    return lon.ravel(), lat.ravel()


def _offset(
    lon: FloatArray, lat: FloatArray, distance_m: FloatArray, angle: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Move points by metres in a direction (local flat-earth approximation, ample at 300 m)."""
    d_lat = distance_m * np.sin(angle) / M_PER_DEG_LAT
    d_lon = distance_m * np.cos(angle) / (M_PER_DEG_LAT * np.cos(np.radians(lat)))
    return lon + d_lon, lat + d_lat
