"""The grid index answers exactly what GEOS's ``covers`` answers, whatever the cell size:
inside, outside, on an edge, on a vertex, in a hole, in one part of a multipolygon."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from zones.grid import GridIndex

PARK = box(0.119, 52.199, 0.121, 52.201)
WITH_POND = Polygon(PARK.exterior.coords, [box(0.1198, 52.1998, 0.1202, 52.2002).exterior.coords])
# A triangle whose long edge is diagonal, so cells along it are only partly covered.
WEDGE = Polygon([(0.10, 52.19), (0.13, 52.19), (0.10, 52.21)])


def geos_pairs(zones: list[object], lon: np.ndarray, lat: np.ndarray) -> set[tuple[int, int]]:
    geoms = np.asarray(zones, dtype=object)
    p, z = np.meshgrid(np.arange(len(lon)), np.arange(len(geoms)), indexing="ij")
    p, z = p.ravel(), z.ravel()
    ok = ~shapely.is_missing(geoms[z])
    p, z = p[ok], z[ok]
    hit = shapely.intersects_xy(geoms[z], lon[p], lat[p])
    return set(zip(p[hit].tolist(), z[hit].tolist(), strict=True))


def grid_pairs(zones: list[object], lon: np.ndarray, lat: np.ndarray, **kw: float) -> set:
    point, zone = GridIndex(zones, **kw).covering_pairs(lon, lat)
    assert np.all(np.diff(point) >= 0), "sorted by point"
    return set(zip(point.tolist(), zone.tolist(), strict=True))


def test_corner_edge_hole_and_outside() -> None:
    lon = np.array([0.119, 0.120, 0.1198, 0.1200, 0.1215, 0.1195])
    lat = np.array([52.199, 52.201, 52.2, 52.2, 52.2, 52.2])
    found = grid_pairs([WITH_POND], lon, lat)
    # corner, top edge, the pond's edge: covered; in the pond and east of the park: not.
    assert found == {(0, 0), (1, 0), (2, 0), (5, 0)}


def test_missing_and_empty_zones_cover_nothing_and_nan_points_are_nowhere() -> None:
    zones = [None, Polygon(), PARK]
    found = grid_pairs(zones, np.array([0.12, np.nan, 0.12]), np.array([52.2, 52.2, np.nan]))
    assert found == {(0, 2)}


def test_no_zones_and_no_points() -> None:
    assert grid_pairs([], np.array([0.1]), np.array([52.0])) == set()
    assert grid_pairs([PARK], np.array([]), np.array([])) == set()


def test_only_polygons_are_zones() -> None:
    with pytest.raises(ValueError, match="polygons and multipolygons only"):
        GridIndex([shapely.Point(0, 0)])


def test_points_spread_over_threads_get_the_answer_of_one_thread() -> None:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(0.09, 0.14, 200_000), rng.uniform(52.18, 52.22, 200_000)
    zones = [WITH_POND, WEDGE, MultiPolygon([PARK, box(0.125, 52.19, 0.126, 52.2)])]
    one = GridIndex(zones, threads=1).covering_pairs(lon, lat)
    two = GridIndex(zones, threads=2).covering_pairs(lon, lat)
    assert all(np.array_equal(a, b) for a, b in zip(one, two, strict=True))
    assert len(one[0]) > 10_000


@st.composite
def zones_and_points(draw: st.DrawFn) -> tuple[list[object], np.ndarray, np.ndarray, float]:
    """Star-shaped polygons (some holed, some in multipolygons) and points: random, on
    vertices, on edge midpoints of axis-aligned edges, and a hair beside vertices."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 6))
    zones: list[object] = []
    for _ in range(n):
        cx, cy = rng.uniform(0.0, 0.02), rng.uniform(52.0, 52.02)
        k = int(rng.integers(3, 14))
        r = rng.uniform(0.0005, 0.006)
        angle = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = r * rng.uniform(0.5, 1.0, k)
        shell = np.column_stack([cx + radius * np.cos(angle), cy + radius * np.sin(angle)])
        if rng.random() < 0.3:  # an axis-aligned square, whose edges hold exact midpoints
            shell = np.array(
                [[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]]
            )
        holes = []
        if rng.random() < 0.3:
            h = 0.2 * r
            holes = [[(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]]
        poly = Polygon(shell, holes)
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
            if poly.geom_type not in ("Polygon", "MultiPolygon"):
                continue
        if rng.random() < 0.2:
            poly = MultiPolygon(
                [*getattr(poly, "geoms", [poly]), box(cx + 0.03, cy, cx + 0.031, cy + 0.001)]
            )
        zones.append(poly)
    if not zones:
        zones = [PARK]
    coords = shapely.get_coordinates(np.asarray(zones, dtype=object))
    m = draw(st.integers(0, 300))
    lon = np.concatenate([rng.uniform(-0.01, 0.06, m), coords[:, 0], coords[:, 0] + 1e-12])
    lat = np.concatenate([rng.uniform(51.99, 52.03, m), coords[:, 1], coords[:, 1] - 1e-12])
    mid_x = (coords[:-1, 0] + coords[1:, 0]) / 2
    mid_y = (coords[:-1, 1] + coords[1:, 1]) / 2
    lon, lat = np.concatenate([lon, mid_x]), np.concatenate([lat, mid_y])
    cell = draw(st.sampled_from([0.0, 0.00005, 0.0007, 0.004, 0.05]))
    return zones, lon, lat, cell


@settings(max_examples=150, deadline=None)
@given(zones_and_points())
def test_grid_answers_what_geos_covers_answers(
    case: tuple[list[object], np.ndarray, np.ndarray, float],
) -> None:
    zones, lon, lat, cell = case
    found = grid_pairs(zones, lon, lat, cell_deg=cell or None)
    assert found == geos_pairs(zones, lon, lat)
