"""OS National Grid references: reading, writing, and placing them on the map.

Expected numbers come from the OS lettering and the OS guide's worked example (Caister
water tower, TG 51409 13177), not from this code. WGS84 positions were computed with
pyproj here and cross-checked by a separate implementation of the OS guide's formulas
(transverse Mercator on Airy 1830, then the OS Helmert): they agree to millimetres.
The tolerance of a few metres leaves room for pyproj using OSTN15 where it is installed.
"""

from __future__ import annotations

import math

import pytest

from pyproj import Geod

from zones.errors import InvalidCoordinates, InvalidGridReference
from zones.gridref import (
    GridSquare,
    format_grid_reference,
    grid_reference_of,
    parse_grid_reference,
)

NORWICH = "TG 51409 13177"
PARKERS_PIECE = (0.128, 52.202)  # Cambridge, longitude first
A_FEW_METRES_IN_DEGREES = 5e-5  # about 3.4 m of longitude, 5.6 m of latitude here


def square(ref: str) -> GridSquare:
    return parse_grid_reference(ref)


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2])


def test_a_ten_figure_reference_is_a_one_metre_square() -> None:
    assert square(NORWICH) == GridSquare(easting=651409, northing=313177, size_m=1)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("TL", GridSquare(500_000, 200_000, 100_000)),
        ("TL 5 5", GridSquare(550_000, 250_000, 10_000)),
        ("TL 45 58", GridSquare(545_000, 258_000, 1_000)),
        ("TL 451 583", GridSquare(545_100, 258_300, 100)),
        ("TL 4512 5834", GridSquare(545_120, 258_340, 10)),
        ("TL 45123 58345", GridSquare(545_123, 258_345, 1)),
    ],
)
def test_every_digit_count_names_a_smaller_square(ref: str, expected: GridSquare) -> None:
    assert square(ref) == expected


@pytest.mark.parametrize(
    "ref", ["TL 45123 58345", "TL4512358345", "TL 4512358345", "TL45123 58345", "tl 45123 58345"]
)
def test_spaces_between_groups_and_case_do_not_matter(ref: str) -> None:
    assert square(ref) == GridSquare(545_123, 258_345, 1)


@pytest.mark.parametrize("ref", ["tl 4558", "TL45 58", "TL4558", "  TL 45 58  ", "Tl\t45 58"])
def test_short_forms_read_alike(ref: str) -> None:
    assert square(ref) == GridSquare(545_000, 258_000, 1_000)


@pytest.mark.parametrize(
    ("letters", "easting", "northing"),
    [
        ("SV", 0, 0),  # the false origin, south-west of the Scilly Isles
        ("HP", 400_000, 1_200_000),  # northern Shetland
        ("NN", 200_000, 700_000),  # the Highlands
        ("TQ", 500_000, 100_000),  # London
        ("TG", 600_000, 300_000),  # Norfolk
        ("JM", 600_000, 1_200_000),  # the north-east corner of the lettered grid
        ("JW", 600_000, 1_000_000),
        ("OV", 500_000, 500_000),
    ],
)
def test_letters_name_the_100_km_squares(letters: str, easting: int, northing: int) -> None:
    assert square(letters) == GridSquare(easting, northing, 100_000)


def test_central_london() -> None:
    assert square("TQ 30 80") == GridSquare(530_000, 180_000, 1_000)


def test_the_centre_and_half_diagonal_of_a_six_figure_square() -> None:
    ref = square("TL 451 583")
    assert (ref.centre_easting, ref.centre_northing) == (545_150.0, 258_350.0)
    assert ref.half_diagonal_m == pytest.approx(70.71, abs=0.01)


def test_a_square_prints_as_its_reference() -> None:
    assert [str(square(r)) for r in ("tl4558", "TL", "tg5140913177")] == [
        "TL 45 58",
        "TL",
        "TG 51409 13177",
    ]


def test_the_centre_of_norwich_in_wgs84() -> None:
    lon, lat = square(NORWICH).lon_lat()
    assert lon == pytest.approx(1.716046, abs=A_FEW_METRES_IN_DEGREES)
    assert lat == pytest.approx(52.657981, abs=A_FEW_METRES_IN_DEGREES)


def test_the_centre_of_tl_45_58_is_in_cambridge() -> None:
    lon, lat = square("TL 45 58").lon_lat()
    assert lon == pytest.approx(0.127835, abs=A_FEW_METRES_IN_DEGREES)
    assert lat == pytest.approx(52.205524, abs=A_FEW_METRES_IN_DEGREES)


def test_parkers_piece_to_four_and_six_figures() -> None:
    # pyproj gives E 545522.8, N 258108.4: more than 8 m from any edge used below.
    assert grid_reference_of(*PARKERS_PIECE, digits=4) == "TL 45 58"
    assert grid_reference_of(*PARKERS_PIECE, digits=6) == "TL 455 581"
    assert grid_reference_of(*PARKERS_PIECE, digits=0) == "TL"
    ten = square(grid_reference_of(*PARKERS_PIECE))
    assert abs(ten.easting - 545_522) <= 3 and abs(ten.northing - 258_108) <= 3


@pytest.mark.parametrize(
    "lon_lat", [PARKERS_PIECE, (1.2974, 52.6286), (-3.1883, 55.9533), (-5.7143, 50.0663)]
)
def test_a_ten_figure_reference_round_trips_within_a_metre(lon_lat: tuple[float, float]) -> None:
    back = square(grid_reference_of(*lon_lat)).lon_lat()
    assert metres_between(lon_lat, back) < 1.0


def test_formatting_truncates_into_the_containing_square() -> None:
    assert format_grid_reference(651_409.9, 313_177.9) == "TG 51409 13177"
    assert format_grid_reference(651_409.9, 313_177.9, digits=6) == "TG 514 131"
    assert format_grid_reference(530_000, 180_000, digits=4) == "TQ 30 80"
    assert format_grid_reference(0, 0, digits=2) == "SV 0 0"
    assert format_grid_reference(699_999, 1_299_999, digits=0) == "JM"


def test_formatting_needs_an_even_digit_count() -> None:
    with pytest.raises(ValueError, match="even number"):
        format_grid_reference(530_000, 180_000, digits=5)


@pytest.mark.parametrize(("easting", "northing"), [(-1, 0), (700_000, 0), (0, 1_300_000)])
def test_formatting_a_position_off_the_grid_is_refused(easting: float, northing: float) -> None:
    with pytest.raises(InvalidGridReference, match="outside the British National Grid"):
        format_grid_reference(easting, northing)


@pytest.mark.parametrize("lon_lat", [(2.35, 48.86), (-8.0, 49.5), (math.nan, 52.0)])
def test_a_position_off_the_grid_has_no_reference(lon_lat: tuple[float, float]) -> None:
    with pytest.raises(InvalidGridReference, match="outside the British National Grid") as err:
        grid_reference_of(*lon_lat)
    assert err.value.field == "position"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("TL 45123 5834", r"odd number of digits \(9\): the easting and northing need the same"),
        ("TL4", r"odd number of digits \(1\)"),
        ("TI", "unknown 100 km square 'TI'"),
        ("ZZ 45 58", "unknown 100 km square 'ZZ'"),
        ("AA", "unknown 100 km square 'AA'"),
        ("HA", "unknown 100 km square 'HA'"),  # above the lettered grid
        ("TC", "unknown 100 km square 'TC'"),  # east of it
        ("", "empty grid reference"),
        ("   ", "empty grid reference"),
        ("TL-45-58", "unexpected character '-'"),
        ("TL 45 58 12", "is not a grid reference"),
        ("4558", "is not a grid reference"),
        ("T L 45 58", "is not a grid reference"),
        ("TL 455 8", "the easting has 3 digits and the northing 1"),
        ("TL 123456 123456", r"too many digits \(12\)"),
    ],
)
def test_a_bad_reference_says_what_is_wrong(ref: str, message: str) -> None:
    with pytest.raises(InvalidGridReference, match=message) as err:
        parse_grid_reference(ref)
    assert err.value.code == "invalid_grid_reference"
    assert err.value.field == "grid_ref"


def test_the_error_names_the_field_and_maps_like_bad_coordinates() -> None:
    with pytest.raises(InvalidCoordinates) as err:
        parse_grid_reference("TI 45 58", field="sighting.grid_ref")
    assert err.value.field == "sighting.grid_ref"
