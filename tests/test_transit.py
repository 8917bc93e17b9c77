"""Possible transits: sparse fixes either side of a zone, judged against geodesic references."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import geopandas as gpd
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, box
from shapely.geometry.base import BaseGeometry

from zones.model import Names, OrderType, Target
from zones.transit import CAR_MPS, Transit, TransitKind, possible_transits

GEOD = Geod(ellps="WGS84")
PARK = box(0.119, 52.199, 0.121, 52.201)  # about 137 m east-west by 222 m north-south
T0 = datetime(2025, 6, 1, 13, 2, tzinfo=UTC)  # 14:02 in London
WEST, EAST = (0.117, 52.2), (0.123, 52.2)  # 137 m either side of the park, 410 m apart
PATHS = "cambridge-uk-zones-smartcambridge/zones.geojson"
BUSES = (
    "cambridge-uk-bus-positions-smartcambridge/sirivm_cambridge_city_bbox_2019-10-01_0900-1000.csv"
)


def target(geometry: BaseGeometry = PARK, buffer_m: float = 0.0) -> Target:
    names = Names("SHPO/CAM/1", OrderType.SHPO, 1, "Not to enter Jesus Green", "Jesus Green")
    return Target(1, 1, 7, 2, geometry, buffer_m=buffer_m, names=names)


def hop(
    a: tuple[float, float],
    b: tuple[float, float],
    gap_s: float,
    zone: Target | None = None,
    **options: Any,
) -> list[Transit]:
    """Two fixes ``gap_s`` apart, judged against one target (the park by default)."""
    times = [T0, T0 + timedelta(seconds=gap_s)]
    return possible_transits(times, [a[0], b[0]], [a[1], b[1]], [zone or target()], **options)


def north_of_park(metres: float, lon: float) -> tuple[float, float]:
    """A point ``metres`` due north of the park's northern edge."""
    x, y, _ = GEOD.fwd(lon, 52.201, 0.0, metres)
    return float(x), float(y)


def geodesic_to(geometry: BaseGeometry, lon: float, lat: float) -> float:
    """Reference distance to the zone: the least Geod distance to its edge sampled every ~1 m."""
    edge = shapely.get_coordinates(shapely.segmentize(geometry.boundary, 1e-5))
    _, _, d = GEOD.inv(np.full(len(edge), lon), np.full(len(edge), lat), edge[:, 0], edge[:, 1])
    return 0.0 if shapely.intersects_xy(geometry, lon, lat) else float(d.min())


def seconds(moment: datetime) -> float:
    return (moment - T0).total_seconds()


def test_a_straight_path_across_the_park_crosses_it_for_the_share_of_the_hop_inside() -> None:
    [t] = hop(WEST, EAST, 1200)

    assert t.kind is TransitKind.PATH_CROSSES and t.kind.value == "path_crosses"
    assert (t.from_index, t.to_index, t.target_index) == (0, 1, 0)
    # Moving steadily, the park's 0.002 of the path's 0.006 degrees is the middle third.
    assert seconds(t.start) == pytest.approx(400, abs=1.0)
    assert seconds(t.end) == pytest.approx(800, abs=1.0)
    _, _, width = GEOD.inv(0.119, 52.2, 0.121, 52.2)
    assert t.inside_m == pytest.approx(width, abs=0.5)
    assert t.min_distance_m == 0.0 and not t.implausible_speed
    _, _, length = GEOD.inv(*WEST, *EAST)
    assert t.implied_speed_mps == pytest.approx(length / 1200, rel=1e-9)


def test_a_path_100_m_from_the_park_leaves_room_for_a_detour_only_given_time() -> None:
    a, b = north_of_park(100, WEST[0]), north_of_park(100, EAST[0])

    # 30 s is too short to check at all, and even checked, too short to get anywhere.
    assert hop(a, b, 30) == []
    assert hop(a, b, 30, min_gap_s=0) == []
    # 210 s at 2 m/s is 420 m for a 410 m hop: the lower bound passes (2 x 169 m), the ellipse
    # (reaching 45 m off the path) does not reach the park.
    assert hop(a, b, 210) == []

    [t] = hop(a, b, 1200)
    assert t.kind is TransitKind.DETOUR_POSSIBLE
    # Nearest points of the park are its north-west and north-east corners.
    _, _, d_a = GEOD.inv(*a, 0.119, 52.201)
    _, _, d_b = GEOD.inv(*b, 0.121, 52.201)
    assert seconds(t.start) == pytest.approx(d_a / 2.0, abs=0.5)
    assert seconds(t.end) == pytest.approx(1200 - d_b / 2.0, abs=0.5)
    assert t.min_distance_m == pytest.approx(100.0, abs=0.5)
    assert t.from_distance_m == pytest.approx(d_a, abs=0.5)
    assert (t.from_side, t.to_side) == ("north-west", "north-east")


def test_an_implausibly_fast_hop_is_flagged_and_its_crossing_still_reported() -> None:
    a, b = north_of_park(100, WEST[0]), north_of_park(100, EAST[0])
    # 410 m in 150 s is 2.7 m/s: faster than walking, so not even the straight path fits the
    # budget and no detour can be possible.
    assert hop(a, b, 150) == []

    [t] = hop(WEST, EAST, 150)
    assert t.kind is TransitKind.PATH_CROSSES and t.implausible_speed
    assert t.implied_speed_mps == pytest.approx(410.6 / 150, rel=0.01)
    assert "faster than walking pace" in t.describe()
    # Accuracy can explain the speed away: 60 m of slack at each end makes it plausible.
    [t] = hop(WEST, EAST, 150, accuracy_m=[60.0, 60.0])
    assert not t.implausible_speed


def test_dense_fixes_and_fixes_inside_are_left_to_stays() -> None:
    assert hop(WEST, EAST, 60) == []
    assert len(hop(WEST, EAST, 60, min_gap_s=60)) == 1  # it was the gap that kept it out

    assert hop((0.12, 52.2), EAST, 1200) == []  # one end inside
    assert hop((0.119, 52.2), EAST, 1200) == []  # one end on the edge: covered, so inside
    near_west = (0.1183, 52.2)  # about 48 m west: inside a 100 m buffer
    assert hop(near_west, EAST, 1200, zone=target(buffer_m=100)) == []
    assert len(hop(near_west, EAST, 1200, zone=target(buffer_m=0))) == 1


def test_a_subject_who_stayed_put_100_m_away_had_time_to_go_in_and_back() -> None:
    still = north_of_park(100, 0.12)

    [t] = hop(still, still, 1200)
    assert t.kind is TransitKind.DETOUR_POSSIBLE and t.implied_speed_mps == 0.0
    assert seconds(t.start) == pytest.approx(50, abs=0.5)
    assert seconds(t.end) == pytest.approx(1150, abs=0.5)
    assert hop(still, still, 90, min_gap_s=60) == []  # 2 x 100 m is more than 180 m


def test_a_path_50_m_from_the_zone_crosses_a_100_m_buffer() -> None:
    a, b = north_of_park(50, WEST[0]), north_of_park(50, EAST[0])

    [t] = hop(a, b, 1200, zone=target(buffer_m=100))
    assert t.kind is TransitKind.PATH_CROSSES
    assert t.min_distance_m == pytest.approx(50.0, abs=0.5)
    # The 100 m ring cuts a chord of 2 * sqrt(100^2 - 50^2) beyond the park's own width.
    _, _, width = GEOD.inv(0.119, 52.2, 0.121, 52.2)
    assert t.inside_m == pytest.approx(width + 2 * np.sqrt(100**2 - 50**2), abs=1.0)
    assert seconds(t.start) < 400 < 800 < seconds(t.end)
    assert "within 100 m of it" in t.describe()

    [t] = hop(a, b, 1200, zone=target(buffer_m=40))
    assert t.kind is TransitKind.DETOUR_POSSIBLE


coords = st.tuples(st.floats(0.112, 0.128), st.floats(52.195, 52.205))


@settings(max_examples=80, deadline=None)
@given(
    a=coords,
    b=coords,
    x=st.tuples(st.floats(0.119, 0.121), st.floats(52.199, 52.201)),
    gap_s=st.floats(120, 900),
    speed=st.floats(0.5, 3.0),
)
def test_detours_agree_with_the_geodesic_reference(
    a: tuple[float, float],
    b: tuple[float, float],
    x: tuple[float, float],
    gap_s: float,
    speed: float,
) -> None:
    assume(not shapely.intersects_xy(PARK, *a) and not shapely.intersects_xy(PARK, *b))
    found = hop(a, b, gap_s, top_speed_mps=speed)
    kinds = {t.kind for t in found}
    budget = speed * gap_s

    # The straight path crosses exactly when the lon/lat line meets the zone as stored.
    assert (TransitKind.PATH_CROSSES in kinds) == LineString([a, b]).intersects(PARK)
    # Never a detour when even the nearest points of the zone are out of reach.
    if geodesic_to(PARK, *a) + geodesic_to(PARK, *b) > budget + 1.0:
        assert TransitKind.DETOUR_POSSIBLE not in kinds
    # Always something when a point of the zone was well within reach.
    _, _, d_ax = GEOD.inv(*a, *x)
    _, _, d_xb = GEOD.inv(*x, *b)
    if d_ax + d_xb < 0.99 * budget:
        [t] = found
        assert t.kind is TransitKind.PATH_CROSSES or not LineString([a, b]).intersects(PARK)
        assert 0 <= seconds(t.start) <= seconds(t.end) <= gap_s


def test_a_hop_across_the_antimeridian_crosses_a_zone_split_there() -> None:
    split = MultiPolygon([box(179.995, 9.995, 180.0, 10.005), box(-180.0, 9.995, -179.995, 10.005)])
    fiji = target(split)

    [t] = hop((179.99, 10.0), (-179.99, 10.0), 600, zone=fiji, top_speed_mps=CAR_MPS)
    assert t.kind is TransitKind.PATH_CROSSES and not t.implausible_speed
    assert seconds(t.start) == pytest.approx(150, abs=1.0)  # the short way round
    assert seconds(t.end) == pytest.approx(450, abs=1.0)
    _, _, width = GEOD.inv(179.995, 10.0, -179.995, 10.0)
    assert t.inside_m == pytest.approx(width, abs=0.5)
    # 1.1 km north of it, walking for 20 minutes, nothing was in reach.
    assert hop((179.99, 10.015), (-179.99, 10.015), 1200, zone=fiji) == []


def test_the_description_says_possible_transit_and_never_breach() -> None:
    [crossing] = hop(WEST, EAST, 1140)
    text = crossing.describe()
    assert text.startswith("Between Sun 1 Jun 2025 14:02:00 BST and 14:21:00 the subject moved")
    assert "137 m west of Jesus Green (zone 7, version 2) to one 137 m east of it" in text
    assert "crosses the zone for about 137 m" in text
    assert "walking pace (2.0 m/s) would take about 1 minute" in text
    assert "inside from about 14:08 to 14:15" in text
    a, b = north_of_park(100, WEST[0]), north_of_park(100, EAST[0])
    [detour] = hop(a, b, 1200)
    assert "passes 100 m from the zone" in detour.describe()
    for sentence in (text, detour.describe()):
        assert sentence.endswith("This is a possible transit, not a confirmed breach.")
        assert sentence.count("breach") == 1


def test_times_must_be_aware_and_sorted() -> None:
    with pytest.raises(ValueError, match="aware"):
        possible_transits([datetime(2025, 6, 1), datetime(2025, 6, 2)], [0, 0], [0, 0], [target()])
    with pytest.raises(ValueError, match="sorted"):
        possible_transits([T0 + timedelta(hours=1), T0], [0, 0], [0, 0], [target()])
    as_numpy = np.array(["2025-06-01T13:02", "2025-06-01T13:22"], dtype="datetime64[us]")
    [t] = possible_transits(as_numpy, [WEST[0], EAST[0]], [52.2, 52.2], [target()])
    assert t.start == T0 + timedelta(seconds=400)


@pytest.mark.shared_data
def test_thinned_bus_track_finds_the_geofences_the_dense_track_entered(shared_data: Path) -> None:
    zones = gpd.read_file(shared_data / PATHS)
    fixes = pd.read_csv(shared_data / BUSES)
    bus = fixes[fixes["vehicle_ref"] == "WP-109"].sort_values("unix_ts")
    t = bus["unix_ts"].to_numpy()
    lon, lat = bus["longitude"].to_numpy(float), bus["latitude"].to_numpy(float)
    _, _, step = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    top_speed = 15.0  # a city bus; this one's dense track never exceeds 12 m/s
    assert (step / np.diff(t)).max() < top_speed
    kept = [0]  # one fix per 10 minutes
    for i in range(1, len(t)):
        if t[i] - t[kept[-1]] >= 600:
            kept.append(i)
    targets = [Target(1, 1, i, 1, g) for i, g in enumerate(zones.geometry)]
    times = t[kept].astype("datetime64[s]")

    found = possible_transits(times, lon[kept], lat[kept], targets, top_speed_mps=top_speed)

    by_key = {(kept[tr.from_index], tr.target_index): tr for tr in found}
    inside = np.array([shapely.intersects_xy(g, lon, lat) for g in zones.geometry])
    entered = 0
    for a, b in pairwise(kept):
        spacing = np.diff(t[a : b + 1]).max()
        for k in np.flatnonzero(inside[:, a + 1 : b].any(axis=1) & ~inside[:, a] & ~inside[:, b]):
            entered += 1
            tr = by_key[(a, int(k))]  # the dense track went in: it must have been reported
            went_in = t[a + 1 : b][inside[k, a + 1 : b]]
            lo, hi = tr.start.timestamp() - spacing, tr.end.timestamp() + spacing
            within = (went_in >= lo) & (went_in <= hi)
            assert within.any(), (tr.kind, went_in, lo, hi)
            if tr.kind is TransitKind.DETOUR_POSSIBLE:  # a bound, so every time inside is in it
                assert within.all()
    assert entered >= 10
