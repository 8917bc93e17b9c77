"""Ordnance Survey National Grid references (British National Grid, EPSG:27700).

A reference such as ``TL 45123 58345`` names a square, not a point: two letters pick a
100 km square and the digits narrow it down, half for the easting and half for the
northing, each truncated (never rounded) so that the square contains the place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from zones.crs import BRITISH_NATIONAL_GRID, WGS84, transformer
from zones.errors import InvalidGridReference

# The OS lettering: 5 x 5 letters without I, read from the top row down. The first letter
# picks a 500 km square, the second a 100 km square inside it.
_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
_S_COLUMN, _S_ROW = 2, 1  # "S" holds the false origin (SV is 0, 0)
GRID_EAST_M, GRID_NORTH_M = 700_000, 1_300_000  # the extent the letters of GB cover
_MAX_DIGITS = 10
_SHAPE = re.compile(r"([A-Za-z]{2})\s*([0-9]*)(?:\s+([0-9]+))?")


@dataclass(frozen=True)
class GridSquare:
    """The square a grid reference names: south-west corner and side, in metres."""

    easting: int
    northing: int
    size_m: int

    @property
    def centre_easting(self) -> float:
        """Easting of the square's centre."""
        return self.easting + self.size_m / 2

    @property
    def centre_northing(self) -> float:
        """Northing of the square's centre."""
        return self.northing + self.size_m / 2

    @property
    def half_diagonal_m(self) -> float:
        """Furthest the named place can be from the centre: the accuracy the reference implies."""
        return self.size_m * math.sqrt(2) / 2

    @property
    def digits(self) -> int:
        """How many figures the reference has (0 for the 100 km square alone)."""
        return 2 * (_MAX_DIGITS // 2 - round(math.log10(self.size_m)))

    def lon_lat(self) -> tuple[float, float]:
        """Centre of the square as WGS84 longitude, latitude.

        pyproj picks the best transformation it has. Without the OSTN15 grid
        (uk_os_OSTN15_NTv2_OSGBtoETRS.tif, not shipped with pyproj) it falls back to
        the 7-parameter Helmert "OSGB36 to WGS 84 (6)", good to about 2-3 metres: well
        inside the square of any reference coarser than 10 figures.
        """
        # The transformer's .description reads "unavailable until proj_trans is called" (PROJ
        # chooses per point); get_last_used_operation() names the Helmert as the one used.
        lon, lat = transformer(BRITISH_NATIONAL_GRID, WGS84).transform(
            self.centre_easting, self.centre_northing
        )
        return float(lon), float(lat)

    def __str__(self) -> str:
        return format_grid_reference(self.easting, self.northing, self.digits)


def parse_grid_reference(text: str, *, field: str = "grid_ref") -> GridSquare:
    """Read an OS grid reference such as ``TL 45123 58345``, ``tl4558`` or ``TL``.

    Parameters
    ----------
    text
        Two letters naming a 100 km square, then 0 to 10 digits (an even number). Case
        does not matter; spaces may separate the letters, the easting and the northing.
    field
        Where the reference came from, named in any error.

    Returns
    -------
    GridSquare
        South-west corner and side: 100 km for letters alone, then 10 km, 1 km, 100 m,
        10 m and 1 m for 2, 4, 6, 8 and 10 digits.

    Raises
    ------
    InvalidGridReference
        Empty text, a stray character, an unknown 100 km square, an odd number of
        digits, more than 10, or an easting and a northing of different lengths.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidGridReference(
            "empty grid reference: expected two letters and up to 10 digits, e.g. 'TL 45123 58345'",
            field=field,
        )
    stray = re.search(r"[^A-Za-z0-9\s]", stripped)
    if stray:
        raise InvalidGridReference(
            f"unexpected character {stray.group()!r} in grid reference {stripped[:40]!r}",
            field=field,
        )
    match = _SHAPE.fullmatch(stripped)
    if match is None:
        raise InvalidGridReference(
            f"{stripped[:40]!r} is not a grid reference: expected two letters of a 100 km square "
            "then digits, e.g. 'TL 45123 58345'",
            field=field,
        )
    letters, first, second = match.group(1).upper(), match.group(2), match.group(3)
    corner = _square_corner(letters)
    if corner is None:
        raise InvalidGridReference(f"unknown 100 km square {letters!r}", field=field)
    digits = first + (second or "")
    if len(digits) % 2:
        raise InvalidGridReference(
            f"odd number of digits ({len(digits)}): the easting and northing need the same number",
            field=field,
        )
    if len(digits) > _MAX_DIGITS:
        raise InvalidGridReference(
            f"too many digits ({len(digits)}): at most 10, which is already a 1 m square",
            field=field,
        )
    if second is not None and len(first) != len(second):
        raise InvalidGridReference(
            f"the easting has {len(first)} digits and the northing {len(second)}: "
            "they need the same number",
            field=field,
        )
    half = len(digits) // 2
    size = 10 ** (_MAX_DIGITS // 2 - half)
    east, north = (int(part) * size if part else 0 for part in (digits[:half], digits[half:]))
    return GridSquare(corner[0] + east, corner[1] + north, size)


def format_grid_reference(
    easting: float, northing: float, digits: int = 10, *, field: str | None = None
) -> str:
    """The grid reference of the square of ``digits`` figures containing a grid position.

    Coordinates are truncated, not rounded, as the OS convention has it: the reference
    names the square the point lies in. ``digits`` must be even, 0 to 10 (a programming
    error otherwise: ``ValueError``); a position off the grid raises ``InvalidGridReference``.
    """
    if digits not in range(0, _MAX_DIGITS + 1, 2):
        raise ValueError(f"digits must be an even number from 0 to 10, got {digits}")
    if not (0 <= easting < GRID_EAST_M and 0 <= northing < GRID_NORTH_M):
        raise InvalidGridReference(
            f"easting {easting}, northing {northing} is outside the British National Grid "
            f"(0 to {GRID_EAST_M} E, 0 to {GRID_NORTH_M} N)",
            field=field,
        )
    e100, n100 = int(easting // 100_000), int(northing // 100_000)
    major = _letter(e100 // 5 + _S_COLUMN, n100 // 5 + _S_ROW)
    letters = major + _letter(e100 % 5, n100 % 5)
    if digits == 0:
        return letters
    half = digits // 2
    scale = 10 ** (_MAX_DIGITS // 2 - half)
    east, north = (int(value % 100_000) // scale for value in (easting, northing))
    return f"{letters} {east:0{half}d} {north:0{half}d}"


def grid_reference_of(
    lon: float, lat: float, digits: int = 10, *, field: str | None = "position"
) -> str:
    """The grid reference (``digits`` figures) of the square holding a WGS84 position.

    Raises ``InvalidGridReference`` when the position is off the grid (outside
    0 to 700 km east and 0 to 1300 km north of the false origin).
    """
    easting, northing = transformer(WGS84, BRITISH_NATIONAL_GRID).transform(lon, lat)
    if not (0 <= easting < GRID_EAST_M and 0 <= northing < GRID_NORTH_M):
        raise InvalidGridReference(
            f"position ({lon}, {lat}) is outside the British National Grid", field=field
        )
    return format_grid_reference(float(easting), float(northing), digits, field=field)


def _square_corner(letters: str) -> tuple[int, int] | None:
    """South-west corner of a 100 km square named by two letters, or None if off the grid."""
    if any(letter not in _LETTERS for letter in letters):
        return None
    (col1, row1), (col2, row2) = (_column_row(letter) for letter in letters)
    easting = (col1 - _S_COLUMN) * 500_000 + col2 * 100_000
    northing = (row1 - _S_ROW) * 500_000 + row2 * 100_000
    if 0 <= easting < GRID_EAST_M and 0 <= northing < GRID_NORTH_M:
        return easting, northing
    return None


def _column_row(letter: str) -> tuple[int, int]:
    index = _LETTERS.index(letter)
    return index % 5, 4 - index // 5  # rows counted from the bottom, like northings


def _letter(column: int, row: int) -> str:
    return _LETTERS[(4 - row) * 5 + column]
