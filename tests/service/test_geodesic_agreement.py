"""Differential test of the geodesic judging on real and generated zones across the world.

Inside is compared with PostGIS ST_Covers, distances with Geod on edges densified to 0.5 m
(tests/geodesic_reference.py), buffer and warning statuses with statuses derived from those
two, and disc fractions with a 10,000-point geodesic sample of each disc. Real data: the
Cambridge geofences with the city's bus fixes, the Norwich OSM parks and the 202 Auckland
parks of the same file. Generated zones with 1-60 km edges straddle UTM zone edges (6 and 12
E), the British grid's western and eastern limits, Belfast, Donegal, Calais, 180 degrees
(Fiji, split), Svalbard and three southern cities. Errors are printed (run with -s) and
asserted: 0.1 m + 0.01 % for distances, 0.002 for disc fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from sqlalchemy import Connection, text

import geopandas as gpd
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from tests.geodesic_reference import reference_distance_m, sunflower_disc
from zones.geodesy import boundary_distance_m
from zones.geometry import zone_geometry
from zones.judge import judge_pairs

GEOD = Geod(ellps="WGS84")
BUSES = (
    "cambridge-uk-bus-positions-smartcambridge/sirivm_cambridge_city_bbox_2019-10-01_0900-1000.csv"
)
CAMBRIDGE = "cambridge-uk-zones-smartcambridge/zones.geojson"
PARKS = "norwich-uk-osm-green-spaces/parks.geojson"
DISC_SAMPLES = 10_000

PLACES = {
    "UTM 31/32 edge (6 E)": (6.0, 47.3),
    "UTM 32/33 edge (12 E)": (12.0, 50.5),
    "British grid east limit (1.92 E)": (1.92, 52.6),
    "British grid west limit (8.82 W)": (-8.82, 57.6),
    "Belfast": (-5.93, 54.6),
    "Donegal": (-8.1, 54.95),
    "Calais": (1.86, 50.95),
    "Fiji (across 180)": (180.0, -17.0),
    "Svalbard": (15.6, 78.2),
    "Santiago": (-70.65, -33.45),
    "Cape Town": (18.42, -33.92),
    "Hobart": (147.3, -42.88),
}


def tolerance_m(distance: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(0.1 + 1e-4 * np.abs(distance))


@dataclass
class Pairs:
    """Points, zones and which point goes with which zone."""

    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    zones: npt.NDArray[np.object_]
    labels: list[str]  # where each zone is
    point: npt.NDArray[np.intp]
    zone: npt.NDArray[np.intp]


def generated_zone(lon: float, lat: float, rng: np.random.Generator) -> BaseGeometry:
    """A star-shaped polygon of 5-9 corners 1-30 km from (lon, lat), through zone_geometry."""
    n = int(rng.integers(5, 10))
    az = np.sort(rng.uniform(-180, 180, n))
    x, y, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, rng.uniform(1_000, 30_000, n))
    ring = [[float(a), float(b)] for a, b in zip(x, y, strict=True)]
    geom, _ = zone_geometry({"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, repair=True)
    return geom


def points_around(zone: BaseGeometry, n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Points in and around a zone: in its box grown by a quarter, and just off its edges."""
    coords = shapely.get_coordinates(zone)
    lon0 = coords[0, 0]
    x = lon0 + (coords[:, 0] - lon0 + 180) % 360 - 180  # continuous across 180
    x0, x1, y0, y1 = x.min(), x.max(), coords[:, 1].min(), coords[:, 1].max()
    dx, dy = (x1 - x0) / 4 + 1e-4, (y1 - y0) / 4 + 1e-4
    box = np.column_stack(
        [rng.uniform(x0 - dx, x1 + dx, n // 2), rng.uniform(y0 - dy, y1 + dy, n // 2)]
    )
    # Near the middle of long edges, 0.2-30 m either side (the side comes from covers).
    k = rng.integers(0, len(coords) - 1, n - n // 2)
    a, b = coords[k], coords[k + 1]
    t = rng.uniform(0, 1, len(k))[:, None]
    foot = a + t * (b - a)
    ok = ~((np.abs(a[:, 0]) == 180) & (a[:, 0] == b[:, 0]))  # not along the seam
    heading = GEOD.inv(foot[:, 0], foot[:, 1], b[:, 0], b[:, 1])[0]
    side = rng.choice([-90.0, 90.0], len(k))
    ex, ey, _ = GEOD.fwd(foot[:, 0], foot[:, 1], heading + side, rng.uniform(0.2, 30, len(k)))
    near = np.column_stack([ex, ey])[ok]
    pts = np.concatenate([box, near])
    pts[:, 0] = (pts[:, 0] + 180) % 360 - 180
    return pts


@pytest.fixture(scope="module")
def pairs(shared_data: Path) -> Pairs:
    rng = np.random.default_rng(20_240_611)
    lon: list[npt.NDArray[np.float64]] = []
    lat: list[npt.NDArray[np.float64]] = []
    zones: list[BaseGeometry] = []
    labels: list[str] = []
    point: list[npt.NDArray[np.intp]] = []
    zone: list[npt.NDArray[np.intp]] = []
    count = 0

    def add(
        pts: npt.NDArray[np.float64], zone_idx: npt.NDArray[np.intp], pt_idx: npt.NDArray[np.intp]
    ) -> None:
        nonlocal count
        lon.append(pts[:, 0])
        lat.append(pts[:, 1])
        point.append(pt_idx + count)
        zone.append(zone_idx)
        count += len(pts)

    # Cambridge: 600 bus fixes against every geofence (52k pairs).
    fixes = pd.read_csv(shared_data / BUSES, usecols=["longitude", "latitude"])
    pick = rng.choice(len(fixes), 600, replace=False)
    pts = fixes[["longitude", "latitude"]].to_numpy(float)[pick]
    cambridge = gpd.read_file(shared_data / CAMBRIDGE).geometry.to_list()
    first = len(zones)
    zones += cambridge
    labels += ["Cambridge geofences"] * len(cambridge)
    p, z = np.meshgrid(np.arange(len(pts)), np.arange(len(cambridge)), indexing="ij")
    add(pts, first + z.ravel(), p.ravel())

    # Norwich and Auckland parks: 60 of each, 30 points around each.
    parks = gpd.read_file(shared_data / PARKS).geometry
    auckland = shapely.bounds(parks.to_numpy())[:, 0] > 170
    for where, mask in (("Norwich parks", ~auckland), ("Auckland parks", auckland)):
        for g in rng.choice(parks[mask].to_numpy(), 60, replace=False):
            zones.append(g)
            labels.append(where)
            pts = points_around(g, 30, rng)
            add(pts, np.full(len(pts), len(zones) - 1), np.arange(len(pts)))

    # Generated zones around the world: 4 per place, 80 points around each.
    for where, (x, y) in PLACES.items():
        for _ in range(4):
            g = generated_zone(x, y, rng)
            zones.append(g)
            labels.append(where)
            pts = points_around(g, 80, rng)
            add(pts, np.full(len(pts), len(zones) - 1), np.arange(len(pts)))

    # Far: Cambridge fixes against Auckland and Fiji zones, thousands of km away.
    far_zones = [
        i for i, lab in enumerate(labels) if lab in ("Auckland parks", "Fiji (across 180)")
    ]
    pts = fixes[["longitude", "latitude"]].to_numpy(float)[rng.choice(len(fixes), 40)]
    add(pts, rng.choice(far_zones, 40), np.arange(40))

    return Pairs(
        np.concatenate(lon),
        np.concatenate(lat),
        np.array(zones, dtype=object),
        labels,
        np.concatenate(point),
        np.concatenate(zone),
    )


def st_covers(connection: Connection, p: Pairs) -> npt.NDArray[np.bool_]:
    """PostGIS's answer for every pair."""
    rows = connection.execute(
        text(
            "WITH z AS (SELECT i - 1 AS i, ST_GeomFromWKB(w, 4326) AS g "
            "  FROM unnest(CAST(:wkb AS bytea[])) WITH ORDINALITY AS u(w, i)) "
            "SELECT k - 1, ST_Covers(z.g, ST_SetSRID(ST_MakePoint(x, y), 4326)) "
            "FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[]), CAST(:zi AS int[])) "
            "  WITH ORDINALITY AS q(x, y, zi, k) JOIN z ON z.i = q.zi ORDER BY k"
        ),
        {
            "wkb": list(shapely.to_wkb(p.zones)),
            "x": p.lon[p.point].tolist(),
            "y": p.lat[p.point].tolist(),
            "zi": p.zone.tolist(),
        },
    ).all()
    assert [int(k) for k, _ in rows] == list(range(len(p.point)))
    return np.array([bool(c) for _, c in rows])


def report(name: str, errors: npt.NDArray[np.float64], unit: str, note: str) -> None:
    print(
        f"  {name:<42} n={len(errors):>6}  max={errors.max():.3g} {unit}  "
        f"p99={np.percentile(errors, 99):.3g} {unit}  {note}"
    )


def test_geodesic_judging_agrees_with_postgis_and_the_geod_reference(
    pairs: Pairs, connection: Connection
) -> None:
    p = pairs
    rng = np.random.default_rng(7)
    n = len(p.point)
    buffers = rng.choice([0.0, 5.0, 50.0, 500.0, 5_000.0, 100_000.0], len(p.zones))
    warnings = rng.choice([0.0, 20.0, 2_000.0], len(p.zones))
    accuracy = rng.choice([0.0, 10.0, 50.0, 400.0, 3_000.0], len(p.lon))
    j = judge_pairs(p.lon, p.lat, accuracy, p.zones, buffers, p.point, p.zone, warnings)
    print(f"\n{n} pairs, {len(p.zones)} zones, {len(p.lon)} points")

    # Inside: every pair, against PostGIS.
    covers = st_covers(connection, p)
    inside = j.status == 2
    assert (inside == covers).all(), np.flatnonzero(inside != covers)[:10]
    print(f"  inside vs ST_Covers: {n} pairs, {int(covers.sum())} inside, 0 disagreements")

    # Distances: all generated, park and far pairs, and Cambridge pairs within 2 km.
    d = np.abs(j.distance_m)
    labels = np.array(p.labels)[p.zone]
    # Every far pair, and up to 400 nearer pairs per place (Cambridge: within 2 km).
    chosen_parts = [np.flatnonzero(d > 1_000_000)]
    for where in dict.fromkeys(p.labels):
        reach = 2_000 if where == "Cambridge geofences" else 1_000_000
        near = np.flatnonzero((labels == where) & (d <= reach))
        chosen_parts.append(rng.choice(near, min(len(near), 400), replace=False))
    chosen = np.concatenate(chosen_parts)
    truth = np.array(
        [
            reference_distance_m(p.lon[p.point[i]], p.lat[p.point[i]], p.zones[p.zone[i]])
            for i in chosen
        ]
    )
    err = np.abs(d[chosen] - truth)
    ratio = err / tolerance_m(truth)
    report("distance vs Geod (0.5 m densified)", err, "m", "(limit 0.1 m + 0.01 %)")
    for where in dict.fromkeys(p.labels):
        sel = labels[chosen] == where
        if sel.any():
            report(f"  {where}", err[sel], "m", f"(distances up to {truth[sel].max():,.0f} m)")
    far = truth > 1_000_000
    assert far.sum() >= 30
    report("  thousands of km away", err[far], "m", f"(up to {truth[far].max():,.0f} m)")
    assert ratio.max() <= 1.0, (chosen[np.argmax(ratio)], err.max())

    # Statuses from the reference distance and ST_Covers, away from ties within tolerance.
    b, w = buffers[p.zone[chosen]], warnings[p.zone[chosen]]
    ref_status = np.select(
        [covers[chosen], (b > 0) & (truth <= b), (w > 0) & (truth <= b + w)], [2, 1, 3], 0
    )
    tie = (np.abs(truth - b) <= tolerance_m(truth)) | (np.abs(truth - b - w) <= tolerance_m(truth))
    wrong = (j.status[chosen] != ref_status) & ~tie
    print(
        f"  status vs reference: {len(chosen)} pairs ({np.bincount(ref_status, minlength=4)} "
        f"outside/buffer/inside/warning), {int(wrong.sum())} disagreements"
    )
    assert not wrong.any()

    # Disc fractions: 120 pairs whose disc straddles the area's edge, against 10k samples.
    unsure = np.flatnonzero(j.evidence == 1)
    assert len(unsure) >= 120
    errs = []
    for i in rng.choice(unsure, 120, replace=False):
        errs.append(abs(j.disc_fraction_inside[i] - sampled_fraction(p, i, accuracy, buffers)))
    disc_err = np.array(errs)
    report("disc fraction vs 10k geodesic samples", disc_err, "", "(limit 0.002)")
    assert disc_err.max() <= 0.002


def sampled_fraction(p: Pairs, i: int, accuracy: Any, buffers: Any) -> float:
    lon, lat = p.lon[p.point[i]], p.lat[p.point[i]]
    zone = p.zones[p.zone[i]]
    x, y = sunflower_disc(lon, lat, float(accuracy[p.point[i]]), DISC_SAMPLES)
    b = float(buffers[p.zone[i]])
    d = boundary_distance_m(x, y, [zone], np.arange(DISC_SAMPLES), np.zeros(DISC_SAMPLES, int))
    return float(np.mean(shapely.intersects_xy(zone, x, y) | ((b > 0) & (d <= b))))
