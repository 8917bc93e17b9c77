"""Judging only the pairs that matter gives exactly the verdicts the full cross product gives
for those pairs, and leaves out only pairs plainly outside, beyond ``near_m``, and not the
nearest of their condition: on random zones in many conditions, near each other and across
180 degrees, with buffers, warning rings and accuracy discs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shapely
from shapely.geometry import MultiPolygon, box

from zones.judge import Judgement, judge, judge_groups
from zones.model import Target
from zones.reach import degrees_within

PARK = box(0.119, 52.199, 0.121, 52.201)


def expected(full: Judgement, targets: list[Target], near_m: float) -> set[tuple[int, int]]:
    """The pairs the rules keep, worked out from every pair."""
    d = np.abs(full.distance_m)
    keep = (full.status != 0) | (full.evidence != 0) | (d <= near_m)
    pairs = {
        (int(o), int(t)) for o, t in zip(full.observation[keep], full.target[keep], strict=True)
    }
    condition = np.array([targets[t].condition_id for t in full.target])
    for o in np.unique(full.observation):
        for c in np.unique(condition):
            rows = np.flatnonzero((full.observation == o) & (condition == c))
            if len(rows) and np.isfinite(full.distance_m[rows]).any():
                # The lowest signed distance; on a tie the first target.
                best = rows[np.lexsort((full.target[rows], full.distance_m[rows]))[0]]
                pairs.add((int(o), int(full.target[best])))
    return pairs


def as_rows(j: Judgement) -> dict[tuple[int, int], tuple]:
    return {
        (int(o), int(t)): (int(s), float(d), int(e), float(f))
        for o, t, s, d, e, f in zip(
            j.observation,
            j.target,
            j.status,
            j.distance_m,
            j.evidence,
            j.disc_fraction_inside,
            strict=True,
        )
    }


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[float], list[float], list[float], list[Target], float]:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Around Cambridge, or straddling 180 degrees near Fiji.
    cx, cy = draw(st.sampled_from([(0.12, 52.2), (179.99, -17.0), (-179.99, -17.0)]))
    n_zones = draw(st.integers(1, 40))
    targets = []
    for z in range(n_zones):
        x = cx + rng.normal(0, 0.01)
        y = cy + rng.normal(0, 0.01)
        w, h = rng.uniform(0.0003, 0.003, 2)
        x = (x + 180) % 360 - 180
        if x + w > 180:  # split at 180 as stored zones are
            geom = MultiPolygon(
                [box(x - w, y - h, 180, y + h), box(-180, y - h, x + w - 360, y + h)]
            )
        elif x - w < -180:
            geom = MultiPolygon(
                [box(x - w + 360, y - h, 180, y + h), box(-180, y - h, x + w, y + h)]
            )
        else:
            geom = box(x - w, y - h, x + w, y + h)
        targets.append(
            Target(
                order_id=1,
                condition_id=int(rng.integers(1, 4)),
                zone_id=z + 1,
                zone_version=1,
                geometry=geom,
                buffer_m=float(rng.choice([0.0, 30.0, 200.0])),
                warning_m=float(rng.choice([0.0, 100.0])),
            )
        )
    n = draw(st.integers(1, 25))
    lon = list((cx + rng.normal(0, 0.02, n) + 180) % 360 - 180)
    lat = list(cy + rng.normal(0, 0.02, n))
    accuracy = list(rng.choice([0.0, 15.0, 400.0, np.nan], n))
    near_m = float(draw(st.sampled_from([0.0, 500.0, 1000.0])))
    return lon, lat, accuracy, targets, near_m


@settings(max_examples=120, deadline=None)
@given(cases())
def test_the_pairs_that_matter_are_judged_as_in_the_cross_product(case: tuple) -> None:
    lon, lat, accuracy, targets, near_m = case
    full = judge(lon, lat, accuracy, targets)
    some = judge(lon, lat, accuracy, targets, near_m=near_m, nearest=True)

    got = as_rows(some)
    assert set(got) == expected(full, targets, near_m)
    every = as_rows(full)
    for pair, row in got.items():
        assert row == pytest.approx(every[pair], nan_ok=True, abs=1e-9)
    # Sorted by observation, then target.
    assert list(got) == sorted(got)


def test_without_nearest_plainly_outside_pairs_are_left_out() -> None:
    far = box(0.2, 52.2, 0.201, 52.201)  # about 5 km east
    targets = [Target(1, 1, 1, 1, PARK, buffer_m=50.0), Target(1, 1, 2, 1, far)]
    j = judge([0.12, 0.1225], [52.2, 52.2], None, targets, near_m=0.0)
    # The first fix is inside the park, the second ~100 m east of it, beyond its buffer.
    assert (j.observation.tolist(), j.target.tolist(), j.status.tolist()) == ([0], [0], [2])

    j = judge([0.12, 0.1225], [52.2, 52.2], None, targets, near_m=0.0, nearest=True)
    assert (j.observation.tolist(), j.target.tolist()) == ([0, 1], [0, 0])


def test_many_subjects_each_get_their_own_nearest() -> None:
    a = [Target(1, 1, 1, 1, PARK)]
    b = [Target(2, 2, 2, 1, box(0.13, 52.2, 0.131, 52.201))]
    j, every = judge_groups([0.12, 0.12], [52.1, 52.1], None, [(0, 1, a), (1, 1, b)],
                            near_m=0.0, nearest=True)  # fmt: skip
    found = [(int(o), every[t].zone_id) for o, t in zip(j.observation, j.target, strict=True)]
    assert found == [(0, 1), (1, 2)]


def test_boxes_hold_every_point_within_the_radius() -> None:
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    rng = np.random.default_rng(1)
    lat = rng.uniform(-89.0, 89.0, 2000)
    lon = rng.uniform(-180, 180, 2000)
    radius = rng.uniform(1.0, 200_000.0, 2000)
    dlon, dlat = degrees_within(lat, radius)
    for heading in range(0, 360, 15):
        x, y, _ = geod.fwd(lon, lat, np.full(2000, float(heading)), radius)
        gap = np.abs((x - lon + 180) % 360 - 180)
        assert (np.abs(y - lat) <= dlat).all()
        assert (gap <= dlon).all()


def test_a_zone_without_boundary_is_never_anyone_s_nearest() -> None:
    targets = [Target(1, 1, 1, 1, shapely.Polygon()), Target(1, 1, 2, 1, PARK)]
    j = judge([0.13], [52.2], None, targets, near_m=0.0, nearest=True)
    assert j.target.tolist() == [1]
