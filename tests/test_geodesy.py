"""Geodesic judging without a database, against references built another way.

Distances are compared with ``Geod`` on the zone's edges densified to 0.5 m, disc fractions
with a 20,000-point geodesic sample of the disc, buffers by measuring their boundary. The
tolerance for a distance is 0.1 m + 0.01 % of it, everywhere on Earth.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from tests.geodesic_reference import reference_distance_m, sunflower_disc
from zones.antimeridian import SPLIT_HINT
from zones.errors import InvalidCoordinates, InvalidGeometry
from zones.geodesy import boundary_distance_m
from zones.geometry import zone_geometry
from zones.judge import STATUS_CODES, judge
from zones.maps import buffered
from zones.model import Evidence, Status, Target, Verdict, Zone

GEOD = Geod(ellps="WGS84")
SAMPLES = 20_000


def tolerance_m(distance_m: float) -> float:
    return 0.1 + 1e-4 * abs(distance_m)


def target(geom: BaseGeometry, buffer_m: float = 0.0, warning_m: float = 0.0) -> Target:
    return Target(1, 1, 1, 1, geom, buffer_m=buffer_m, warning_m=warning_m)


def one(
    lon: float, lat: float, geom: BaseGeometry, accuracy_m: float | None = None, **kw: float
) -> Verdict:
    t = [target(geom, **kw)]
    acc = None if accuracy_m is None else [accuracy_m]
    return judge([lon], [lat], acc, t).verdicts_for(0, t)[0]


def distance_m(lon: float, lat: float, geom: BaseGeometry) -> float:
    return float(boundary_distance_m([lon], [lat], [geom], [0], [0])[0])


def fiji() -> BaseGeometry:
    """An island drawn across 180 the short way, split there on request."""
    ring = [[179.7, -16.9], [-179.8, -16.85], [-179.75, -16.5], [179.75, -16.45], [179.7, -16.9]]
    geom, notes = zone_geometry({"type": "Polygon", "coordinates": [ring]}, repair=True)
    assert geom.geom_type == "MultiPolygon" and "split at longitude 180" in notes[0]
    return geom


places = st.sampled_from(
    [
        (0.12, 52.2),  # Cambridge
        (-5.93, 54.6),  # Belfast
        (-8.0, 55.0),  # Donegal
        (1.85, 50.95),  # Calais
        (6.0, 47.0),  # a UTM zone edge
        (15.6, 78.2),  # Svalbard
        (174.76, -36.85),  # Auckland
        (179.9, -17.0),  # beside 180
        (-70.6, -33.4),  # Santiago
    ]
)


@st.composite
def polygons(draw: st.DrawFn) -> Polygon:
    """A convex polygon of 3-12 corners, 10 m to 30 km across, at one of the places."""
    lon, lat = draw(places)
    size = draw(st.floats(1e-4, 0.3))
    n = draw(st.integers(3, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    pts = np.column_stack(
        [lon + rng.uniform(-size, size, n * 2), lat + rng.uniform(-size, size, n * 2) / 2]
    )
    hull = shapely.convex_hull(shapely.multipoints(pts))
    if not isinstance(hull, Polygon) or hull.area == 0:
        return box(lon, lat, lon + size, lat + size / 2)
    return hull


@settings(max_examples=40, deadline=None)
@given(polygons())
def test_every_vertex_is_inside_at_distance_zero(zone: Polygon) -> None:
    lon, lat = np.asarray(zone.exterior.coords)[:-1].T
    t = [target(zone)]
    j = judge(lon, lat, None, t)
    assert (j.status == 2).all()
    assert np.abs(j.distance_m).max() < 1e-6


@settings(max_examples=40, deadline=None)
@given(polygons(), st.floats(0.0, 1.0), st.integers(0, 11))
def test_a_point_on_an_edge_is_at_distance_zero(zone: Polygon, t: float, k: int) -> None:
    c = np.asarray(zone.exterior.coords)
    a, b = c[k % (len(c) - 1)], c[k % (len(c) - 1) + 1]
    lon, lat = a + t * (b - a)
    assert distance_m(lon, lat, zone) < 1e-4  # the search stops within 10 micrometres


@settings(max_examples=25, deadline=None)
@given(places, st.floats(1e-3, 0.05), st.integers(0, 3), st.floats(0.0, 1.0))
def test_points_on_a_box_edge_are_inside(
    place: tuple[float, float], size: float, side: int, t: float
) -> None:
    lon, lat = place
    zone = box(lon, lat, lon + size, lat + size)
    corners = np.array([[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size]])
    x, y = (corners[side] + t * (corners[(side + 1) % 4] - corners[side])).tolist()
    if side in (0, 2):
        y = corners[side][1]  # exactly on the parallel edge
    else:
        x = corners[side][0]  # exactly on the meridian edge
    v = one(x, y, zone)
    assert v.status is Status.INSIDE and abs(v.distance_m) < 1e-4


@settings(max_examples=40, deadline=None)
@given(polygons(), st.floats(-1.0, 2.0), st.floats(-1.0, 2.0))
def test_distances_match_the_densified_reference(zone: Polygon, u: float, w: float) -> None:
    x0, y0, x1, y1 = zone.bounds
    lon, lat = x0 + u * (x1 - x0), y0 + w * (y1 - y0)
    v = one(lon, lat, zone)
    truth = reference_distance_m(lon, lat, zone)
    assert abs(abs(v.distance_m) - truth) <= tolerance_m(truth)
    assert (v.status is Status.INSIDE) == zone.covers(shapely.Point(lon, lat))
    assert (v.distance_m <= 0) == (v.status is Status.INSIDE)


def test_a_hole_is_outside_and_measured_to_its_ring() -> None:
    outer = box(-5.95, 54.58, -5.90, 54.62)  # Belfast, beyond the British grid
    pond = box(-5.93, 54.595, -5.92, 54.605)
    zone = Polygon(outer.exterior.coords, [pond.exterior.coords])
    v = one(-5.925, 54.6, zone)
    assert v.status is Status.OUTSIDE
    assert v.distance_m == pytest.approx(
        reference_distance_m(-5.925, 54.6, pond), abs=tolerance_m(300)
    )
    assert v.distance_m < reference_distance_m(-5.925, 54.6, Polygon(outer.exterior.coords))


def test_a_multipolygon_is_measured_to_its_nearest_part() -> None:
    a, b = box(1.80, 50.90, 1.82, 50.92), box(1.86, 50.95, 1.90, 50.97)  # Calais
    zone = MultiPolygon([a, b])
    for lon, lat in [(1.84, 50.93), (1.81, 50.96), (1.95, 50.90)]:
        truth = min(reference_distance_m(lon, lat, a), reference_distance_m(lon, lat, b))
        assert one(lon, lat, zone).distance_m == pytest.approx(truth, abs=tolerance_m(truth))


@settings(max_examples=30, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(0.3, 50.0), st.sampled_from([1.0, -1.0]), st.integers(0, 3))
def test_long_edges_at_60_north_are_judged_on_their_lon_lat_line(
    t: float, offset_m: float, side: float, k: int
) -> None:
    # 1.5 to 2 degrees of edge (110-170 km): straight in lon/lat, not a geodesic, which
    # strays from it by hundreds of metres. A point just off the edge gets the side covers
    # gives it and the distance to the lon/lat line.
    zone = Polygon([(10.0, 60.0), (12.0, 60.2), (11.7, 61.7), (9.9, 61.5)])
    c = np.asarray(zone.exterior.coords)
    a, b = c[k], c[k + 1]
    lon, lat = a + t * (b - a)
    heading = GEOD.inv(lon, lat, *(a + (t + 1e-6) * (b - a)))[0]  # the edge's azimuth there
    plon, plat, _ = GEOD.fwd(lon, lat, heading + 90.0 * side, offset_m)  # the ring is anticlockwise
    v = one(plon, plat, zone)
    truth = reference_distance_m(plon, plat, zone)
    assert (v.status is Status.INSIDE) == zone.covers(shapely.Point(plon, plat))
    assert (v.status is Status.INSIDE) == (side < 0)  # left of an anticlockwise edge is inside
    assert abs(abs(v.distance_m) - truth) <= tolerance_m(truth)
    assert abs(v.distance_m) == pytest.approx(offset_m, rel=1e-3)


def test_far_points_are_exact_thousands_of_kilometres_away() -> None:
    zone = box(0.119, 52.199, 0.121, 52.201)
    for lon, lat in [(174.76, -36.85), (-74.0, 40.7), (15.6, 78.2), (0.12, -60.0)]:
        truth = reference_distance_m(lon, lat, zone)
        assert truth > 1_000_000
        assert distance_m(lon, lat, zone) == pytest.approx(truth, abs=tolerance_m(truth))


def test_the_seam_of_a_zone_split_at_180_is_not_a_boundary() -> None:
    island = fiji()
    for lon in (179.9995, -179.9995, 180.0, -180.0):
        lat = -16.7
        v = one(lon, lat, island)
        truth = reference_distance_m(lon, lat, island)  # seams left out here too
        assert v.status is Status.INSIDE
        assert truth > 10_000  # the coast is kilometres away, the seam 50 m
        assert -v.distance_m == pytest.approx(truth, abs=tolerance_m(truth))


def test_svalbard_is_judged_like_anywhere_else() -> None:
    geom, _ = zone_geometry(
        {
            "type": "Polygon",
            "coordinates": [[[15.2, 78.1], [16.3, 78.1], [16.3, 78.3], [15.2, 78.3], [15.2, 78.1]]],
        }
    )
    for lon, lat in [(15.7, 78.2), (15.7, 78.305), (16.31, 78.2), (14.0, 78.0)]:
        v = one(lon, lat, geom)
        truth = reference_distance_m(lon, lat, geom)
        assert abs(v.distance_m) == pytest.approx(truth, abs=tolerance_m(truth))


def sampled_fraction(
    lon: float, lat: float, accuracy_m: float, zone: BaseGeometry, buffer_m: float
) -> float:
    x, y = sunflower_disc(lon, lat, accuracy_m, SAMPLES)
    inside = shapely.intersects_xy(zone, x, y)
    d = boundary_distance_m(x, y, [zone], np.arange(SAMPLES), np.zeros(SAMPLES, int))
    return float(np.mean(inside | ((buffer_m > 0) & (d <= buffer_m))))


@pytest.mark.parametrize(
    ("lon", "lat", "accuracy_m", "zone", "buffer_m"),
    [
        (0.1213, 52.2, 40.0, box(0.119, 52.199, 0.121, 52.201), 0.0),
        (0.1216, 52.2015, 60.0, box(0.119, 52.199, 0.121, 52.201), 50.0),
        (-5.92, 54.625, 800.0, box(-5.95, 54.58, -5.90, 54.62), 300.0),  # Belfast
        (11.0, 60.05, 3000.0, Polygon([(10.0, 60.0), (12.0, 60.2), (11.7, 61.7)]), 5000.0),
        (16.33, 78.2, 1200.0, box(15.2, 78.1, 16.3, 78.3), 500.0),  # Svalbard
        (179.9995, -16.473, 400.0, None, 300.0),  # Fiji: disc and buffer across the seam
        (-179.8, -16.84, 250.0, None, 0.0),
    ],
)
def test_disc_fractions_match_a_geodesic_sample_of_the_disc(
    lon: float, lat: float, accuracy_m: float, zone: BaseGeometry | None, buffer_m: float
) -> None:
    geom = fiji() if zone is None else zone
    v = one(lon, lat, geom, accuracy_m, buffer_m=buffer_m)
    truth = sampled_fraction(lon, lat, accuracy_m, geom, buffer_m)
    assert 0.0 < truth < 1.0 and v.evidence is Evidence.POSSIBLE
    assert v.disc_fraction_inside == pytest.approx(truth, abs=0.002)


def test_a_buffer_breach_by_a_corner_is_not_reported_as_no_evidence() -> None:
    # The reviewer's case: a point in a 5 km buffer, just inside the rounded corner, with a
    # disc mostly in the buffer. A coarse planar buffer cut the corner short: evidence none.
    zone = box(10.0, 60.0, 10.2, 60.1)
    lon, lat, _ = GEOD.fwd(10.2, 60.1, 45.0, 4_990.0)
    v = one(lon, lat, zone, 20.0, buffer_m=5_000.0)
    assert v.status is Status.BUFFER and v.evidence is Evidence.POSSIBLE
    assert v.disc_fraction_inside == pytest.approx(
        sampled_fraction(lon, lat, 20.0, zone, 5000.0), abs=0.002
    )


def test_evidence_never_contradicts_the_position() -> None:
    zone = box(0.119, 52.199, 0.121, 52.201)
    inside_thin = one(0.12, 52.19900001, zone, 500.0)  # in, with most of the disc out
    assert (
        inside_thin.evidence is Evidence.POSSIBLE
        and 0 < (inside_thin.disc_fraction_inside or 0) < 0.5
    )
    beside = one(0.12, 52.19899, zone, 500.0)  # out by a metre, most of the disc out
    assert beside.evidence is Evidence.POSSIBLE and beside.status is Status.OUTSIDE


def test_the_warning_ring_lies_beyond_the_buffer() -> None:
    zone = box(0.119, 52.199, 0.121, 52.201)
    assert Status.WARNING in STATUS_CODES
    t = [target(zone, buffer_m=100.0, warning_m=200.0)]
    lon = [0.1205, 0.1215, 0.1235, 0.127]  # inside, ~34 m, ~170 m, ~410 m east
    j = judge(lon, [52.2] * 4, None, t)
    verdicts = [j.verdicts_for(i, t)[0] for i in range(4)]
    assert [v.status for v in verdicts] == [
        Status.INSIDE,
        Status.BUFFER,
        Status.WARNING,
        Status.OUTSIDE,
    ]
    assert j.breach().tolist() == [True, True, False, False]
    assert [v.is_breach for v in verdicts] == [True, True, False, False]
    assert verdicts[2].is_warning and verdicts[2].warning_m == 200.0


@pytest.mark.parametrize(
    ("zone", "buffer_m"),
    [
        (box(0.119, 52.199, 0.121, 52.201), 30.0),
        (box(-5.95, 54.58, -5.90, 54.62), 5_000.0),  # Belfast
        (Polygon([(10.0, 60.0), (12.0, 60.2), (11.7, 61.7)]), 100_000.0),
        (box(15.2, 78.1, 16.3, 78.3), 20_000.0),  # Svalbard
        (None, 2_000.0),  # Fiji, split at 180
        (
            Polygon(
                box(1.8, 50.9, 1.9, 51.0).exterior.coords,
                [box(1.83, 50.93, 1.87, 50.97).exterior.coords],
            ),
            1_000.0,
        ),
    ],
)
def test_buffers_for_drawing_lie_at_the_buffer_distance(
    zone: BaseGeometry | None, buffer_m: float
) -> None:
    geom = fiji() if zone is None else zone
    [grown] = buffered([Zone(None, 1, "z", "park", geom)], buffer_m)
    assert grown.is_valid and grown.covers(geom)
    points = []
    for ring in shapely.get_rings(shapely.get_parts(grown)):
        c = np.asarray(ring.coords)
        points += [c[:-1], (c[:-1] + c[1:]) / 2]  # corners and the middles of the chords
    pts = np.concatenate(points)
    pts = pts[np.abs(pts[:, 0]) != 180.0]  # the seam of the split buffer is no boundary
    d = boundary_distance_m(
        pts[:, 0], pts[:, 1], [geom], np.arange(len(pts)), np.zeros(len(pts), int)
    )
    assert np.abs(d - buffer_m).max() <= tolerance_m(buffer_m)
    assert not shapely.intersects_xy(geom, pts[:, 0], pts[:, 1]).any()
    rng = np.random.default_rng(7)
    for i in rng.choice(len(pts), 25, replace=False):  # and against the densified reference
        assert reference_distance_m(pts[i, 0], pts[i, 1], geom) == pytest.approx(
            buffer_m, abs=tolerance_m(buffer_m)
        )


# --- accepting zones: the antimeridian, the poles, shapes that are not areas ----------------


def test_a_ring_across_180_is_refused_saying_how_to_split_it() -> None:
    ring = [[179.5, -17.0], [-179.5, -17.0], [-179.5, -16.0], [179.5, -16.0], [179.5, -17.0]]
    with pytest.raises(InvalidGeometry) as err:
        zone_geometry(
            {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [ring]]}
        )
    assert err.value.field == "geometry.coordinates[1][0]"
    assert SPLIT_HINT in err.value.message


def test_a_ring_across_180_is_split_there_on_request_keeping_its_area() -> None:
    ring = [[179.5, -17.0], [-179.5, -17.0], [-179.5, -16.0], [179.5, -16.0], [179.5, -17.0]]
    geom, notes = zone_geometry({"type": "Polygon", "coordinates": [ring]}, repair=True)
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2 and notes
    assert geom.bounds == (-180.0, -17.0, 180.0, -16.0)
    # the same ground unwrapped, with the corners the split added at 180 (Geod's edges are
    # geodesics, so the corners must match for the areas to)
    shifted = Polygon(
        [(179.5, -17), (180, -17), (180.5, -17), (180.5, -16), (180, -16), (179.5, -16)]
    )
    assert abs(GEOD.geometry_area_perimeter(geom)[0]) == pytest.approx(
        abs(GEOD.geometry_area_perimeter(shifted)[0]), rel=1e-9
    )


def test_longitudes_beyond_180_are_refused() -> None:
    ring = [[179.5, 0.0], [180.5, 0.0], [180.5, 1.0], [179.5, 0.0]]
    with pytest.raises(InvalidCoordinates) as err:
        zone_geometry({"type": "Polygon", "coordinates": [ring]})
    assert err.value.field == "geometry.coordinates[0][1]"


@pytest.mark.parametrize(("lat", "where"), [(84.5, "north"), (-80.5, "south")])
def test_polar_zones_are_refused_naming_the_position(lat: float, where: str) -> None:
    sign = 1 if where == "north" else -1
    ring = [[10.0, lat - sign], [11.0, lat - sign], [11.0, lat], [10.0, lat - sign]]
    with pytest.raises(InvalidCoordinates) as err:
        zone_geometry({"type": "Polygon", "coordinates": [ring]})
    assert err.value.field == "geometry.coordinates[0][2]" and "polar" in err.value.message


@pytest.mark.parametrize(
    ("ring", "field"),
    [
        (
            [[0.1, 52.0], [0.2, 52.0], [0.3, 52.0], [0.1, 52.0]],
            "geometry.coordinates[0]",
        ),  # one line
        (
            [[0.1, 52.0], [0.1, 52.0], [0.1, 52.0], [0.1, 52.0]],
            "geometry.coordinates[0]",
        ),  # one point
        ([[0.1, 52.0], [0.2, 52.0], [0.1, 52.0]], "geometry.coordinates[0]"),  # too few
        (
            [[0.1, 52.0], [0.2, float("nan")], [0.2, 52.1], [0.1, 52.0]],
            "geometry.coordinates[0][1]",
        ),
        (
            [[0.1, 52.0], [0.2, float("inf")], [0.2, 52.1], [0.1, 52.0]],
            "geometry.coordinates[0][1]",
        ),
    ],
)
def test_shapes_without_area_or_with_bad_numbers_are_refused_naming_the_place(
    ring: list[list[float]], field: str
) -> None:
    with pytest.raises((InvalidGeometry, InvalidCoordinates)) as err:
        zone_geometry({"type": "Polygon", "coordinates": [ring]})
    assert err.value.field == field


def test_empty_shapes_are_refused() -> None:
    for coords, field in [([], "geometry.coordinates"), ([[]], "geometry.coordinates[0]")]:
        with pytest.raises(InvalidGeometry) as err:
            zone_geometry({"type": "Polygon", "coordinates": coords})
        assert err.value.field == field


def test_heights_and_measures_are_dropped() -> None:
    ring = [
        [0.1, 52.0, 10.0, 1.0],
        [0.2, 52.0, 10.0, 2.0],
        [0.2, 52.1, 11.0, 3.0],
        [0.1, 52.0, 10.0, 1.0],
    ]
    geom, notes = zone_geometry({"type": "Polygon", "coordinates": [ring]})
    assert not geom.has_z and shapely.get_coordinates(geom).shape[1] == 2
    assert any("dropped" in n for n in notes)
