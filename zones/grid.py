"""Which zones cover which points, for millions of points: a grid of cells over the zones.

Every cell of a regular lon/lat grid lists the zones that reach it, each marked as covering
the whole cell or only part of it. A point finds its cell by arithmetic; a zone covering
the whole cell covers the point with no test, and only zones whose boundary passes through
the cell are tested exactly. Points stay coordinate arrays throughout:
no geometry object is made for a point, and the compiled loops release the GIL, so chunks
of points run on all cores from plain threads.

Why the cell marks are exact: a point's cell index is ``floor((x - x0) * inverse_width)``,
monotone in ``x`` in floating point too, and cells are computed for a zone's and an edge's
bounding corners (floats) the same way. So every point in an edge's bounding box falls in
a cell within the edge's cell range, and a cell reached by no edge (with one cell of slack
around a long edge's path) holds no boundary: all its points are inside the zone, or none
are, as its centre is. The few points whose side of an edge floating point cannot tell are
decided by GEOS (``shapely.intersects_xy``, which for a point means "covered by").

The exact test: a zone is a range of rings, each a range of closed coordinates (shapely's
ragged layout). A point is covered when it lies in the interior (an odd number of ring
crossings on a ray to the east: shells and holes of every part of a valid (multi)polygon
alike) or on any ring, as ``ST_Covers`` and ``covers`` say. Each side-of-edge test is
Shewchuk's orientation filter: where the floating-point sign of the determinant cannot be
trusted, the answer is UNSURE and GEOS (whose orientation is exact) decides. Every answer
given is therefore the exact one.

The kernels live in this one module on purpose: numba's on-disk cache is invalidated by the
file that holds a function only, so a kernel inlined from another module could run stale.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
from numba import njit

import shapely

IntArray = npt.NDArray[np.intp]
# What a point-in-zone test answers; UNSURE: floating point cannot tell, GEOS decides.
OUT, IN, UNSURE = 0, 1, 2
# Shewchuk's ccwerrboundA: (3 + 16 eps) eps with eps = 2**-53.
_ERRBOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53

# Cells are kept in blocks of BLOCK x BLOCK, and only blocks some zone reaches are stored:
# the tables a point reads stay small (they fit in cache where zones cluster in towns).
BLOCK_BITS = 4
BLOCK = 1 << BLOCK_BITS
# At most this many blocks over the zones' extent (the block table is 4 bytes a block).
MAX_BLOCKS = 16_000_000
# Cells about this share of a typical zone's smaller side: most of a zone's cells are then
# whole (no test), at a few dozen cells a zone.
CELLS_PER_ZONE_SIDE = 6.0
CHUNK = 65_536  # points per task when spread over threads


class GridIndex:
    """Zones in EPSG:4326 on a grid of cells; build once, query with many points.

    Parameters
    ----------
    geometries
        Polygons and multipolygons (lon/lat); None and empty geometries cover nothing.
    cell_deg
        Cell width and height in degrees; by default a quarter of the zones' median smaller
        bounding-box side (widened if the extent would need more than :data:`MAX_BLOCKS`
        blocks of cells).
    threads
        Threads a query spreads its points over (default: the usable cores).
    """

    def __init__(
        self,
        geometries: npt.ArrayLike,
        *,
        cell_deg: float | None = None,
        threads: int | None = None,
    ) -> None:
        self.geometries = np.asarray(geometries, dtype=object)
        self.threads = threads or len(os.sched_getaffinity(0))
        zones = self.geometries.copy()
        zones[shapely.is_missing(zones)] = shapely.Polygon()
        kinds = set(shapely.get_type_id(zones).tolist())
        if not kinds <= {3, 6}:
            raise ValueError("a zone index holds polygons and multipolygons only")
        self._zone_rings, self._ring_coords, self._xs, self._ys = _rings(zones)
        bounds = shapely.bounds(zones).reshape(-1, 4)
        known = ~np.isnan(bounds[:, 0])
        extent = bounds[known] if known.any() else np.array([[0.0, 0.0, 1.0, 1.0]])
        west, south = extent[:, 0].min(), extent[:, 1].min()
        east, north = extent[:, 2].max(), extent[:, 3].max()
        width = cell_deg or _cell_width(extent, east - west, north - south)
        self.origin = (float(west), float(south))
        self.inverse = 1.0 / width
        self.columns = math.floor((east - west) * self.inverse) + 1
        self.rows = math.floor((north - south) * self.inverse) + 1
        zone_cells = np.full((len(zones), 4), -1, dtype=np.int64)
        zone_cells[known] = _cell_ranges(bounds[known], self.origin, self.inverse)
        # The zones' cells are marked in parts on every core (the loops release the GIL).
        parts = np.array_split(np.arange(len(zones)), max(1, min(self.threads, len(zones))))

        def mark(part: IntArray) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
            return _mark_cells(  # type: ignore[no-any-return]
                zone_cells, part[0] if len(part) else 0, part[-1] + 1 if len(part) else 0,
                self._zone_rings, self._ring_coords, self._xs, self._ys,
                self.origin[0], self.origin[1], self.inverse, self.columns,
            )  # fmt: skip

        if len(parts) > 1:
            with ThreadPoolExecutor(len(parts)) as pool:
                marked = list(pool.map(mark, parts))
        else:
            marked = [mark(parts[0])]
        cell = np.concatenate([m[0] for m in marked])
        zone = np.concatenate([m[1] for m in marked])
        whole = np.concatenate([m[2] for m in marked])
        # Blocks some zone reaches get a slot each; entries are bucketed by slot and cell.
        self.block_columns = (self.columns >> BLOCK_BITS) + 1
        n_blocks = ((self.rows >> BLOCK_BITS) + 1) * self.block_columns
        self._block_slot, key, used = _block_keys(cell, self.columns, self.block_columns, n_blocks)
        self._cell_start = np.zeros(
            used * BLOCK * BLOCK + 1, np.int32 if len(key) < 2**31 else np.int64
        )
        order = _bucket(key, self._cell_start)
        self._entry_zone = zone[order].astype(np.int32)
        self._entry_whole = whole[order]

    @property
    def cell_deg(self) -> float:
        """Cell width and height in degrees."""
        return 1.0 / self.inverse

    def stats(self) -> dict[str, float]:
        """Size of the grid: cells, entries, the share of entries that need no test."""
        n = len(self._entry_zone)
        return {
            "cells": float(self.rows * self.columns),
            "stored_cells": float(len(self._cell_start) - 1),
            "cell_m": self.cell_deg * 111_320.0,
            "entries": float(n),
            "whole_share": float(self._entry_whole.mean()) if n else 0.0,
        }

    def covering_pairs(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[IntArray, IntArray]:
        """Indices ``(point, zone)`` of every zone covering every point, sorted by point
        and then by zone. NaN coordinates are covered by nothing."""
        x = np.ascontiguousarray(lon, dtype=np.float64)
        y = np.ascontiguousarray(lat, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError("lon and lat must be one-dimensional arrays of the same length")
        starts = list(range(0, len(x), CHUNK)) or [0]
        if self.threads > 1 and len(starts) > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                parts = list(pool.map(lambda s: self._query(x, y, s), starts))
        else:
            parts = [self._query(x, y, s) for s in starts]
        # Chunks come in order, and a cell lists its zones in order: already sorted.
        point = np.concatenate([p for p, _ in parts]).astype(np.intp, copy=False)
        zone = np.concatenate([z for _, z in parts]).astype(np.intp, copy=False)
        return point, zone

    def _query(self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], start: int):  # type: ignore[no-untyped-def]
        stop = min(start + CHUNK, len(x))
        point, zone, unsure = _pairs(
            x,
            y,
            start,
            stop,
            self.origin[0],
            self.origin[1],
            self.inverse,
            self.columns,
            self.rows,
            self.block_columns,
            self._block_slot,
            self._cell_start,
            self._entry_zone,
            self._entry_whole,
            self._zone_rings,
            self._ring_coords,
            self._xs,
            self._ys,
        )
        if unsure.any():
            # Almost on an edge: GEOS's exact orientation decides.
            rows = np.flatnonzero(unsure)
            covered = shapely.intersects_xy(
                self.geometries[zone[rows]], x[point[rows]], y[point[rows]]
            )
            keep = ~unsure
            keep[rows[covered]] = True
            point, zone = point[keep], zone[keep]
        return point, zone


def _rings(
    zones: npt.NDArray[np.object_],
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Each zone's range of rings and each ring's range of coordinates.

    From the flat coordinates alone (no ring objects, which cost more than the rest of the
    build): a ring ends where its first coordinate comes again. A ring that touches itself
    at a vertex is split there into two closed rings with the same edges between them,
    which counts crossings the same; only the edges matter here.
    """
    coords, owner = shapely.get_coordinates(zones, return_index=True)
    xs = np.ascontiguousarray(coords[:, 0])
    ys = np.ascontiguousarray(coords[:, 1])
    zone_rings, ring_coords = _split_rings(xs, ys, owner.astype(np.int64), len(zones))
    return zone_rings, ring_coords, xs, ys


@njit(cache=True, nogil=True)
def _split_rings(
    xs: np.ndarray, ys: np.ndarray, owner: np.ndarray, n_zones: int
) -> tuple[np.ndarray, np.ndarray]:
    zone_rings = np.zeros(n_zones + 1, np.int64)
    ring_coords = np.zeros(len(xs) + 1, np.int64)
    rings = 0
    k = 0
    while k < len(xs):
        start = k
        k += 1
        while (
            k < len(xs)
            and owner[k] == owner[start]
            and not (xs[k] == xs[start] and ys[k] == ys[start])
        ):
            k += 1
        if k < len(xs) and owner[k] == owner[start]:
            k += 1  # past the closing coordinate (a ring never closed ends with its zone)
        rings += 1
        ring_coords[rings] = k
        zone_rings[owner[start] + 1] = rings
    # Zones without rings (empty) end where the zone before them ended.
    for z in range(n_zones):
        zone_rings[z + 1] = max(zone_rings[z + 1], zone_rings[z])
    return zone_rings, ring_coords[: rings + 1]


def _cell_width(bounds: npt.NDArray[np.float64], span_x: float, span_y: float) -> float:
    side = np.minimum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    positive = side[side > 0]
    width = float(np.median(positive)) / CELLS_PER_ZONE_SIDE if positive.size else 1e-3
    # Wide enough that the block table stays within MAX_BLOCKS.
    floor = math.sqrt(max(span_x, 1e-9) * max(span_y, 1e-9) / MAX_BLOCKS) / BLOCK
    width = max(width, floor, 1e-7)
    while (span_x / width / BLOCK + 2) * (span_y / width / BLOCK + 2) > MAX_BLOCKS:
        width *= 1.1
    return width


@njit(cache=True, nogil=True)
def _bucket(key: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Counting sort: fills ``start`` (zeros, one more than the keys) with where each key's
    run starts, and returns the stable order that sorts ``key``."""
    n_keys = len(start) - 1
    for k in key:
        start[k + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    fill = start[:-1].copy()
    order = np.empty(len(key), np.int64)
    for e in range(len(key)):
        order[fill[key[e]]] = e
        fill[key[e]] += 1
    return order


def _cell_ranges(
    bounds: npt.NDArray[np.float64], origin: tuple[float, float], inverse: float
) -> npt.NDArray[np.int64]:
    """Columns and rows ``(i0, j0, i1, j1)`` of the cells a bounding box reaches."""
    return np.column_stack(
        [
            np.floor((bounds[:, 0] - origin[0]) * inverse),
            np.floor((bounds[:, 1] - origin[1]) * inverse),
            np.floor((bounds[:, 2] - origin[0]) * inverse),
            np.floor((bounds[:, 3] - origin[1]) * inverse),
        ]
    ).astype(np.int64)


@njit(cache=True, nogil=True)
def _cell_of(v: float, origin: float, inverse: float) -> int:
    return math.floor((v - origin) * inverse)


@njit(cache=True, nogil=True)
def _block_keys(
    cell: np.ndarray, columns: int, block_columns: int, n_blocks: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Each block's slot (-1: no zone reaches it), each entry's key (slot, then the cell
    within the block) and how many blocks are used."""
    slot = np.full(n_blocks, -1, np.int32)
    block = np.empty(len(cell), np.int64)
    for e in range(len(cell)):
        row, column = cell[e] // columns, cell[e] % columns
        block[e] = (row >> BLOCK_BITS) * block_columns + (column >> BLOCK_BITS)
        slot[block[e]] = 0
    used = 0
    for b in range(n_blocks):
        if slot[b] == 0:
            slot[b] = used
            used += 1
    key = np.empty(len(cell), np.int64)
    for e in range(len(cell)):
        row, column = cell[e] // columns, cell[e] % columns
        local = ((row & (BLOCK - 1)) << BLOCK_BITS) + (column & (BLOCK - 1))
        key[e] = (np.int64(slot[block[e]]) << (2 * BLOCK_BITS)) + local
    return slot, key, used


@njit(cache=True, nogil=True)
def _mark_cells(
    zone_cells: np.ndarray,
    first_zone: int,
    stop_zone: int,
    zone_rings: np.ndarray,
    ring_coords: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    x0: float,
    y0: float,
    inverse: float,
    columns: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell, zone, whole) for every cell a zone reaches: whole when the zone covers all
    of it, else the boundary passes through (or near) it and points there are tested."""
    capacity = 1024
    out_cell = np.empty(capacity, np.int64)
    out_zone = np.empty(capacity, np.int64)
    out_whole = np.empty(capacity, np.bool_)
    n = 0
    width = 1.0 / inverse
    for z in range(first_zone, stop_zone):
        i0, j0, i1, j1 = zone_cells[z, 0], zone_cells[z, 1], zone_cells[z, 2], zone_cells[z, 3]
        if i0 < 0:
            continue
        ni, nj = i1 - i0 + 1, j1 - j0 + 1
        edge = np.zeros((nj, ni), np.bool_)
        for ring in range(zone_rings[z], zone_rings[z + 1]):
            for k in range(ring_coords[ring], ring_coords[ring + 1] - 1):
                _mark_edge(edge, xs[k], ys[k], xs[k + 1], ys[k + 1], x0, y0, inverse, i0, j0)
        for jj in range(nj):
            state = -1  # unknown for the run of cells no edge reaches
            for ii in range(ni):
                if edge[jj, ii]:
                    state = -1
                    whole = False
                else:
                    if state == -1:
                        cx = x0 + (i0 + ii + 0.5) * width
                        cy = y0 + (j0 + jj + 0.5) * width
                        state = locate(cx, cy, z, zone_rings, ring_coords, xs, ys)
                    if state == 0:
                        continue
                    # Unsure cannot happen with no edge in the cell; treat it as partial.
                    whole = state == 1
                if n == capacity:
                    capacity *= 2
                    out_cell = _grown(out_cell, capacity)
                    out_zone = _grown(out_zone, capacity)
                    out_whole = _grown(out_whole, capacity)
                out_cell[n] = (j0 + jj) * columns + (i0 + ii)
                out_zone[n] = z
                out_whole[n] = whole
                n += 1
    return out_cell[:n], out_zone[:n], out_whole[:n]


@njit(cache=True, nogil=True)
def _grown(a: np.ndarray, capacity: int) -> np.ndarray:
    b = np.empty(capacity, a.dtype)
    b[: len(a)] = a
    return b


@njit(cache=True, nogil=True)
def _mark_edge(
    edge: np.ndarray,
    ax: float,
    ay: float,
    bx: float,
    by: float,
    x0: float,
    y0: float,
    inverse: float,
    i0: int,
    j0: int,
) -> None:
    """Mark the cells an edge passes through, within its bounding box's cells.

    Row by row, the columns the segment spans in that row's band, one cell of slack each
    side (far beyond rounding); never outside the cells of the edge's bounding box, which
    hold every point of the edge (monotone cell arithmetic on its float corners).
    """
    ci0, ci1 = _cell_of(min(ax, bx), x0, inverse), _cell_of(max(ax, bx), x0, inverse)
    cj0, cj1 = _cell_of(min(ay, by), y0, inverse), _cell_of(max(ay, by), y0, inverse)
    if ci1 - ci0 <= 1 or cj1 - cj0 <= 1 or ay == by:
        for j in range(cj0, cj1 + 1):
            for i in range(ci0, ci1 + 1):
                edge[j - j0, i - i0] = True
        return
    width = 1.0 / inverse
    slope = (bx - ax) / (by - ay)
    for j in range(cj0, cj1 + 1):
        low = max(min(ay, by), y0 + j * width)
        high = min(max(ay, by), y0 + (j + 1) * width)
        xa = ax + (low - ay) * slope
        xb = ax + (high - ay) * slope
        first = max(ci0, _cell_of(min(xa, xb), x0, inverse) - 1)
        last = min(ci1, _cell_of(max(xa, xb), x0, inverse) + 1)
        for i in range(first, last + 1):
            edge[j - j0, i - i0] = True


@njit(cache=True, nogil=True)
def _pairs(
    x: np.ndarray,
    y: np.ndarray,
    start: int,
    stop: int,
    x0: float,
    y0: float,
    inverse: float,
    columns: int,
    rows: int,
    block_columns: int,
    block_slot: np.ndarray,
    cell_start: np.ndarray,
    entry_zone: np.ndarray,
    entry_whole: np.ndarray,
    zone_rings: np.ndarray,
    ring_coords: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, zone, unsure) for the points ``start .. stop-1`` and the zones covering them,
    sorted by point and zone; unsure pairs are those floating point could not decide.

    Points are visited block by block (a counting sort on their block), so that the tables
    of one block are read while they are in cache, and the pairs found are put back in the
    points' order by a second counting sort.
    """
    m = stop - start
    cell_of = np.full(m, -1, np.int64)
    n_slots = (len(cell_start) - 1) >> (2 * BLOCK_BITS)
    per_slot = np.zeros(n_slots + 1, np.int64)
    for k in range(m):
        fi = (x[start + k] - x0) * inverse
        fj = (y[start + k] - y0) * inverse
        # Written so that NaN fails too.
        if not (fi >= 0.0 and fj >= 0.0 and fi < columns and fj < rows):
            continue
        i, j = math.floor(fi), math.floor(fj)
        slot = block_slot[(j >> BLOCK_BITS) * block_columns + (i >> BLOCK_BITS)]
        if slot < 0:
            continue
        cell_of[k] = (
            (slot << (2 * BLOCK_BITS)) + ((j & (BLOCK - 1)) << BLOCK_BITS) + (i & (BLOCK - 1))
        )
        per_slot[slot + 1] += 1
    for b in range(n_slots):
        per_slot[b + 1] += per_slot[b]
    visit = np.empty(per_slot[n_slots], np.int64)
    for k in range(m):
        if cell_of[k] >= 0:
            slot = cell_of[k] >> (2 * BLOCK_BITS)
            visit[per_slot[slot]] = k
            per_slot[slot] += 1

    capacity = max(16, m // 2)
    found_point = np.empty(capacity, np.int64)
    found_zone = np.empty(capacity, np.int64)
    found_unsure = np.empty(capacity, np.bool_)
    n = 0
    per_point = np.zeros(m + 1, np.int64)
    for k in visit:
        p = start + k
        cell = cell_of[k]
        for e in range(cell_start[cell], cell_start[cell + 1]):
            z = entry_zone[e]
            if entry_whole[e]:
                state = IN
            else:
                state = locate(x[p], y[p], z, zone_rings, ring_coords, xs, ys)
                if state != IN and state != UNSURE:
                    continue
            if n == capacity:
                capacity *= 2
                found_point = _grown(found_point, capacity)
                found_zone = _grown(found_zone, capacity)
                found_unsure = _grown(found_unsure, capacity)
            found_point[n] = k
            found_zone[n] = z
            found_unsure[n] = state == UNSURE
            per_point[k + 1] += 1
            n += 1

    # Back in the points' order; a point's pairs keep their order (its cell lists zones
    # in order).
    for k in range(m):
        per_point[k + 1] += per_point[k]
    out_point = np.empty(n, np.int64)
    out_zone = np.empty(n, np.int64)
    out_unsure = np.empty(n, np.bool_)
    for r in range(n):
        k = found_point[r]
        at = per_point[k]
        out_point[at] = start + k
        out_zone[at] = found_zone[r]
        out_unsure[at] = found_unsure[r]
        per_point[k] = at + 1
    return out_point, out_zone, out_unsure


@njit(cache=True, nogil=True, inline="always")
def orientation(
    ax: float, ay: float, bx: float, by: float, px: float, py: float
) -> tuple[float, bool]:
    """The determinant of (a, b, p), positive when p is left of a->b, and whether its sign
    is certain (the filter of Shewchuk's orient2d)."""
    left = (bx - ax) * (py - ay)
    right = (by - ay) * (px - ax)
    det = left - right
    if left > 0.0:
        if right <= 0.0:
            return det, True
        total = left + right
    elif left < 0.0:
        if right >= 0.0:
            return det, True
        total = -left - right
    else:
        return det, True
    return det, abs(det) >= _ERRBOUND * total


@njit(cache=True, nogil=True)
def locate(
    px: float,
    py: float,
    zone: int,
    zone_rings: np.ndarray,
    ring_coords: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
) -> int:
    """OUT, IN (interior or boundary) or UNSURE for one point and one zone."""
    crossings = 0
    for ring in range(zone_rings[zone], zone_rings[zone + 1]):
        for k in range(ring_coords[ring], ring_coords[ring + 1] - 1):
            ax, ay, bx, by = xs[k], ys[k], xs[k + 1], ys[k + 1]
            if ay == by:
                # A horizontal edge never crosses the ray; the point may lie on it.
                if py == ay and min(ax, bx) <= px <= max(ax, bx):
                    return IN
                continue
            if (ay > py) != (by > py):
                det, sure = orientation(ax, ay, bx, by, px, py)
                if not sure:
                    return UNSURE
                if det == 0.0:
                    return IN
                # The edge meets the point's row east of it when the point is left of an
                # upward edge or right of a downward one.
                if (det > 0.0) == (by > ay):
                    crossings += 1
            elif (px == ax and py == ay) or (px == bx and py == by):
                return IN
    return IN if crossings % 2 == 1 else OUT
