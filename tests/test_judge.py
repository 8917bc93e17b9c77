"""Judging without a database: covers on the boundary, holes, buffers in metres, discs.

Expected distances are geodesic on WGS 84 (see tests/test_geodesy.py for the reference).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapely.geometry import Polygon, box

from zones.crs import metric_epsg
from zones.grid import GridIndex
from zones.judge import judge
from zones.model import Evidence, Status, Target

PARK = box(0.119, 52.199, 0.121, 52.201)
WITH_POND = Polygon(PARK.exterior.coords, [box(0.1198, 52.1998, 0.1202, 52.2002).exterior.coords])


def target(geom: Polygon = PARK, buffer_m: float = 0.0) -> Target:
    return Target(
        order_id=1, condition_id=1, zone_id=1, zone_version=1, geometry=geom, buffer_m=buffer_m
    )


def test_points_on_the_edge_and_on_a_corner_are_covered() -> None:
    point, zone = GridIndex([PARK]).covering_pairs([0.119, 0.119, 0.1215], [52.2, 52.199, 52.2])
    assert point.tolist() == [0, 1] and zone.tolist() == [0, 0]


def test_a_hole_is_outside_and_its_edge_is_inside() -> None:
    point, _ = GridIndex([WITH_POND]).covering_pairs([0.12, 0.1198, 0.1195], [52.2, 52.2, 52.2])
    assert point.tolist() == [1, 2]
    [v] = judge([0.12], [52.2], None, [target(WITH_POND)]).verdicts_for(0, [target(WITH_POND)])
    assert v.status is Status.OUTSIDE and v.distance_m == pytest.approx(13.674, abs=0.01)


def test_buffers_are_geodesic_metres() -> None:
    # 0.121 + 0.0022 deg of longitude at 52.2 N is about 150 m east of the park.
    targets = [target(buffer_m=200), target(buffer_m=100)]
    j = judge([0.1232], [52.2], None, targets)
    v200, v100 = j.verdicts_for(0, targets)
    assert v200.distance_m == pytest.approx(150.417, abs=0.01)
    assert (v200.status, v100.status) == (Status.BUFFER, Status.OUTSIDE)
    assert v200.is_breach and not v100.is_breach


def test_the_accuracy_disc_grades_the_evidence() -> None:
    t = [target()]
    j = judge([0.12, 0.1209, 0.1213, 0.125], [52.2] * 4, [40, 40, 40, 40], t)
    evidence = [j.verdicts_for(i, t)[0].evidence for i in range(4)]
    assert evidence == [Evidence.DEFINITE, Evidence.POSSIBLE, Evidence.POSSIBLE, Evidence.NONE]
    fractions = [j.verdicts_for(i, t)[0].disc_fraction_inside for i in range(4)]
    assert fractions[0] == 1.0 and fractions[3] == 0.0
    assert fractions[1] > 0.5 > fractions[2] > 0.0  # 6 m in, then 20 m out


def test_the_projected_crs_for_exports_suits_the_place() -> None:
    # Kept for grid references, display and exports; judging uses no projection.
    assert metric_epsg([0.12, 174.76, -74.0], [52.2, -36.85, 40.7]).tolist() == [
        27700,
        32760,
        32618,
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.1185, 0.1215), st.floats(52.1985, 52.2015)), min_size=1, max_size=40
    )
)
def test_bulk_and_full_judging_agree_on_inside(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    targets = [target(PARK), target(WITH_POND)]
    j = judge(lon, lat, None, targets)
    full = {
        (int(o), int(t))
        for o, t, s in zip(j.observation, j.target, j.status, strict=True)
        if s == 2
    }
    bulk_point, bulk_zone = GridIndex([PARK, WITH_POND]).covering_pairs(lon, lat)
    assert full == set(zip(bulk_point.tolist(), bulk_zone.tolist(), strict=True))


def test_one_call_judges_zones_on_both_sides_of_the_world() -> None:
    auckland = box(174.76, -36.85, 174.77, -36.84)  # UTM 60S
    targets = [target(PARK), target(auckland)]
    # One observation beside each zone, 0.001 deg of longitude east of its east edge.
    j = judge([0.122, 174.771], [52.2, -36.845], None, targets)
    cambridge_near, cambridge_far = j.verdicts_for(0, targets)
    auckland_far, auckland_near = j.verdicts_for(1, targets)
    assert cambridge_near.distance_m == pytest.approx(68.372, abs=0.01)  # ~cos(52.2 deg) * 111 km
    assert auckland_near.distance_m == pytest.approx(89.192, abs=0.01)  # ~cos(36.8 deg) * 111 km
    assert cambridge_far.distance_m > 10_000_000 and auckland_far.distance_m > 10_000_000
