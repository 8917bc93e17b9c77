"""Judging and transit search for many subjects in one pass give each subject exactly what
judging it alone gives: no fix is judged against another subject's zones, no pair of fixes
spans two subjects, and zones shared by several subjects are shared only in the measuring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shapely.geometry import Polygon, box

from zones.judge import judge, judge_groups
from zones.model import Names, OrderType, Target
from zones.transit import BICYCLE_MPS, WALKING_MPS, possible_transits, transits_of_groups

T0 = datetime(2025, 6, 1, 13, 0, tzinfo=UTC)
PARK = box(0.119, 52.199, 0.121, 52.201)  # Jesus Green-sized, about 137 m by 222 m
SCHOOL = Polygon([(0.125, 52.2), (0.127, 52.2005), (0.1265, 52.202), (0.1245, 52.2015)])
NAMES = Names("SHPO/CAM/1", OrderType.SHPO, 1, "Not to enter the park", "Park")


def targets_of(subject: int, zones: list[int], buffer_m: float) -> list[Target]:
    """A subject's targets: its own condition (id ``100 + subject``) on shared zone shapes."""
    shapes = [PARK, SCHOOL]
    return [
        Target(subject, 100 + subject, z + 1, 1, shapes[z], buffer_m=buffer_m, names=NAMES)
        for z in zones
    ]


subjects = st.lists(
    st.tuples(
        st.lists(  # fixes: a position near the zones and seconds since the last fix
            st.tuples(st.floats(0.115, 0.131), st.floats(52.196, 52.205), st.integers(30, 900)),
            min_size=0,
            max_size=8,
        ),
        st.sampled_from([[0], [1], [0, 1], []]),  # which zones the subject's order names
        st.sampled_from([0.0, 25.0]),  # its buffer
        st.sampled_from([WALKING_MPS, BICYCLE_MPS]),  # its top speed
    ),
    min_size=1,
    max_size=5,
)


def _columns(batch: list) -> tuple[list[datetime], list[float], list[float], list[tuple]]:
    times: list[datetime] = []
    lon: list[float] = []
    lat: list[float] = []
    groups = []
    for fixes, zones, buffer_m, speed in batch:
        first = len(times)
        t = T0
        for x, y, gap in fixes:
            t += timedelta(seconds=gap)
            times.append(t)
            lon.append(x)
            lat.append(y)
        subject = len(groups)
        groups.append((first, len(fixes), targets_of(subject, zones, buffer_m), speed))
    return times, lon, lat, groups


@settings(max_examples=60, deadline=None)
@given(subjects)
def test_transits_of_many_subjects_are_each_subjects_own(batch: list) -> None:
    times, lon, lat, groups = _columns(batch)
    together = transits_of_groups(times, lon, lat, groups, min_gap_s=60.0)
    for (first, count, targets, speed), found in zip(groups, together, strict=True):
        alone = possible_transits(
            times[first : first + count],
            lon[first : first + count],
            lat[first : first + count],
            targets,
            top_speed_mps=speed,
            min_gap_s=60.0,
        )
        assert found == alone


@settings(max_examples=60, deadline=None)
@given(subjects)
def test_verdicts_of_many_subjects_are_each_subjects_own(batch: list) -> None:
    _, lon, lat, groups = _columns(batch)
    accuracy = [10.0 * (i % 3) for i in range(len(lon))]  # none, 10 m and 20 m discs
    together, targets = judge_groups(lon, lat, accuracy, [(f, n, t) for f, n, t, _ in groups])
    for first, count, mine, _ in groups:
        rows = np.flatnonzero(
            (together.observation >= first) & (together.observation < first + count)
        )
        alone = judge(lon[first : first + count], lat[first : first + count],
                      accuracy[first : first + count], mine)  # fmt: skip
        assert len(rows) == len(alone)  # every fix against every one of its own targets
        assert [targets[k] for k in together.target[rows]] == [mine[k] for k in alone.target]
        np.testing.assert_array_equal(together.observation[rows] - first, alone.observation)
        np.testing.assert_array_equal(together.status[rows], alone.status)
        np.testing.assert_array_equal(together.evidence[rows], alone.evidence)
        np.testing.assert_allclose(together.distance_m[rows], alone.distance_m, rtol=0, atol=1e-9)
        np.testing.assert_allclose(
            together.disc_fraction_inside[rows], alone.disc_fraction_inside, rtol=0, atol=1e-9
        )
