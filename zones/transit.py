"""Possible transits: sparse fixes either side of a zone, and whether the subject went through.

A tag that reports rarely can show a subject outside a park at 14:00 and outside on its
far side at 14:20. Neither fix is a breach, but the subject may have walked straight through.
For each consecutive pair of fixes (A at tA, B at tB) at least ``min_gap_s`` apart, and each
target whose area (the zone plus every point within ``buffer_m`` of it, in geodesic metres)
holds neither fix (a fix in the area is a stay, judged elsewhere), this module reports:

* ``path_crosses``: the straight path from A to B (straight in longitude and latitude, as the
  zone's edges are) enters the area. The interval is when, moving steadily from A to B, the
  subject would have been inside.
* ``detour_possible``: the path misses, but at the subject's top speed ``v`` there was time to
  go into the area and on to B: some point X of it has d(A, X) + d(X, B) <= v * (tB - tA)
  (an ellipse with foci A and B). The interval is [tA + d(A, area) / v, tB - d(B, area) / v],
  the only times the subject could have been inside.

A fix's accuracy radius widens what is possible: the budget becomes v * dt + accA + accB, so
where a fix's accuracy disc already reaches the area a detour may be reported that a
stricter reading would rule out (never the other way round).

Method: one local azimuthal equidistant projection per target, centred on its zone (not on
each pair: one projection of the zone then serves every pair, and the distances that matter,
from fixes to points of the zone, are measured from near the centre, where they are geodesic
to within (r / R)^2 / 6: under 0.5 mm per km for fixes within 10 km of the zone, 0.05 % at
500 km). Zone edges and paths are densified in longitude/latitude before projecting, so they
stay straight in longitude/latitude; buffers are grown there with fine round corners. Without
a buffer, whether the path crosses is decided exactly on the lon/lat line against the zone as
stored (``covers`` semantics: a path along an edge crosses). A fix is in the area when the
zone as stored covers it or it lies within the buffer. Everything for one target is one
vectorised pass over its candidate pairs, which come from an STRtree over the zones queried
with each pair's reach. Exact bounds come before any ellipse: d(A, area) + d(B, area) above
the budget rules a detour out; the area's points nearest A and B fitting the budget rule it in.

Limits: pairs whose budget exceeds ``MAX_DETOUR_REACH_M`` (500 km) are checked for crossings
only, not detours. Longitude is unwrapped relative to A, so a hop across 180 degrees is the
short way round; hops longer than a few thousand kilometres are not meaningful here. The
ellipse is an inscribed 256-gon: a detour needing more than about 99.99 % of the budget may
be missed. A transit is never a breach: it is a possibility to look into.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache, partial

import numpy as np
import numpy.typing as npt

import shapely
from pyproj import CRS, Geod, Transformer
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from zones.explain import metres, zone
from zones.localtime import DEFAULT_TZ, describe_local, time_zone
from zones.model import Target

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Geometries = npt.NDArray[np.object_]

WALKING_MPS, BICYCLE_MPS, CAR_MPS = 2.0, 8.0, 35.0
MIN_GAP_S = 120.0
MAX_DETOUR_REACH_M = 500_000.0
DENSIFY_DEG = 0.005  # ~500 m: a lon/lat-straight edge bows < 1 cm from the projected chord
ELLIPSE_VERTICES = 256
BUFFER_QUAD_SEGS = 32  # a buffer's round corners within 0.012 % of its radius
GEOD = Geod(ellps="WGS84")
_M_PER_DEG_LAT = 110_574.0  # the least there is (at the equator): degrees from it are generous
_COMPASS = (
    "north",
    "north-east",
    "east",
    "south-east",
    "south",
    "south-west",
    "west",
    "north-west",
)


class TransitKind(enum.StrEnum):
    PATH_CROSSES = "path_crosses"
    DETOUR_POSSIBLE = "detour_possible"


@dataclass(frozen=True, slots=True)
class Transit:
    """A possible transit of one target's area between two consecutive fixes (not a breach)."""

    from_index: int
    to_index: int
    target_index: int
    kind: TransitKind
    start: datetime  # when the subject could first have been inside (UTC)
    end: datetime  # when the subject could last have been inside (UTC)
    min_distance_m: float  # from the straight path to the zone: 0 when it crosses the zone
    implied_speed_mps: float  # straight-line distance between the fixes over their gap
    implausible_speed: bool  # faster than the top speed even allowing for accuracy
    from_time: datetime
    to_time: datetime
    top_speed_mps: float
    inside_m: float  # length of the straight path inside the area (0 for a detour)
    from_distance_m: float  # from each fix to the zone
    to_distance_m: float
    from_side: str  # where each fix lies from the zone: "west", "north-east", ...
    to_side: str
    zone_label: str  # "Jesus Green (zone 3, version 1)"
    buffer_m: float = 0.0

    def describe(self, tz: str = DEFAULT_TZ) -> str:
        """The transit as sentences an officer could read out in court."""
        area = "the zone" if not self.buffer_m else f"the area within {metres(self.buffer_m)} of it"
        pace = f"{_pace(self.top_speed_mps)} ({self.top_speed_mps:.1f} m/s)"
        until = _later(self.from_time, self.to_time, tz)
        head = (
            f"Between {describe_local(self.from_time, tz)} and {until} the "
            f"subject moved from a point {metres(self.from_distance_m)} {self.from_side} of "
            f"{self.zone_label} to one {metres(self.to_distance_m)} {self.to_side} of it; "
        )
        window = f"from about {_clock(self.start, tz)} to {_clock(self.end, tz)}"
        if self.kind is TransitKind.PATH_CROSSES:
            minutes = _minutes(self.inside_m / self.top_speed_mps)
            body = (
                f"the straight path between the fixes crosses {area} for about "
                f"{metres(self.inside_m)}, which at {pace} would take {minutes}; moving "
                f"steadily between the fixes the subject would have been inside {window}."
            )
        else:
            body = (
                f"the straight path between the fixes passes {metres(self.min_distance_m)} "
                f"from the zone, but at {pace} there was time to go into {area} and on to the "
                f"second fix, so the subject could have been inside at some time {window}."
            )
        odd = (
            f" The fixes imply {self.implied_speed_mps:.1f} m/s in a straight line, faster "
            f"than {pace}: one of them may be wrong."
            if self.implausible_speed
            else ""
        )
        return f"{head}{body}{odd} This is a possible transit, not a confirmed breach."


def possible_transits(
    times: Sequence[datetime] | npt.NDArray[np.datetime64],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    targets: Sequence[Target],
    *,
    top_speed_mps: float = WALKING_MPS,
    min_gap_s: float = MIN_GAP_S,
    accuracy_m: npt.ArrayLike | None = None,
) -> list[Transit]:
    """Every possible transit of one subject's fixes through the targets' areas.

    Parameters
    ----------
    times
        Instants of the fixes, sorted: aware datetimes, or numpy ``datetime64`` in UTC.
    lon, lat
        Positions of the fixes in EPSG:4326.
    targets
        Zones (EPSG:4326) with their buffers in metres.
    top_speed_mps
        The fastest the subject plausibly moves: walking 2, bicycle ~8, car ~35 m/s.
    min_gap_s
        Pairs of fixes closer in time than this are dense enough and are not checked.
    accuracy_m
        Accuracy radius of each fix in metres (NaN or 0 for none), or None.

    Returns
    -------
    list of Transit
        Sorted by pair, then target; at most one per pair and target.
    """
    if not top_speed_mps > 0:
        raise ValueError(f"top speed must be positive, got {top_speed_mps}")
    [found] = transits_of_groups(
        times, lon, lat, [(0, len(np.asarray(lon)), targets, top_speed_mps)],
        min_gap_s=min_gap_s, accuracy_m=accuracy_m,
    )  # fmt: skip
    return found


Group = tuple[int, int, Sequence[Target], float]


def transits_of_groups(
    times: Sequence[datetime] | npt.NDArray[np.datetime64],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    groups: Sequence[Group],
    *,
    min_gap_s: float = MIN_GAP_S,
    accuracy_m: npt.ArrayLike | None = None,
) -> list[list[Transit]]:
    """:func:`possible_transits` of many subjects in one pass.

    ``groups`` are ``(first, count, targets, top_speed_mps)``: fixes ``first ..
    first+count-1`` are one subject's, sorted by time, tested against its own targets at its
    own top speed. Returns each group's transits, their fix indices counted from the group's
    first fix and their target indices into the group's targets, as :func:`possible_transits`
    gives them. A zone many subjects' targets share is indexed and framed once.
    """
    t = _utc_microseconds(times)
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if not (len(t) == len(x) == len(y)):
        raise ValueError(f"times, lon and lat differ in length: {len(t)}, {len(x)}, {len(y)}")
    acc = np.zeros(len(x)) if accuracy_m is None else np.asarray(accuracy_m, dtype=float)
    acc = np.nan_to_num(acc, nan=0.0)
    out: list[list[Transit]] = [[] for _ in groups]
    # Each fix's group (-1: in none), and the hops: consecutive fixes of one group.
    group_of = np.full(len(t), -1, dtype=np.intp)
    speeds = np.zeros(len(groups))
    every: list[Target] = []  # all groups' targets; target_group says whose
    target_group: list[int] = []
    for g, (first, count, targets, speed) in enumerate(groups):
        if count >= 2 and np.any(np.diff(t[first : first + count]) < np.timedelta64(0, "us")):
            raise ValueError("fixes must be sorted by time")
        if not speed > 0:
            raise ValueError(f"top speed must be positive, got {speed}")
        group_of[first : first + count] = g
        speeds[g] = speed
        every.extend(targets)
        target_group += [g] * len(targets)
    if len(t) < 2 or not every:
        return out
    dt = (t[1:] - t[:-1]) / np.timedelta64(1, "s")
    same = (group_of[:-1] == group_of[1:]) & (group_of[:-1] >= 0)
    pair = np.flatnonzero(same & (dt >= min_gap_s) & (dt > 0))
    hops = _Hops.of(pair, dt[pair], x, y, acc, speeds[group_of[pair]])
    # One tree over the distinct zones; a (hop, zone) candidate is one for every target of
    # the hop's own subject on that zone.
    shape_of: dict[int, int] = {}
    target_shape = [shape_of.setdefault(id(tg.geometry), len(shape_of)) for tg in every]
    shapes = np.empty(len(shape_of), dtype=object)
    for tg, k in zip(every, target_shape, strict=True):
        shapes[k] = tg.geometry
    mine: dict[tuple[int, int], list[int]] = {}
    for k, (g, sh) in enumerate(zip(target_group, target_shape, strict=True)):
        mine.setdefault((g, sh), []).append(k)
    widest = max(tg.buffer_m for tg in every)
    cand_hop, cand_shape = _candidates(hops, shapes, widest)
    hop_group = group_of[hops.a]
    by_area: dict[tuple[int, float], tuple[list[int], list[int]]] = {}
    for h, sh in zip(cand_hop.tolist(), cand_shape.tolist(), strict=True):
        for k in mine.get((int(hop_group[h]), sh), ()):
            rows, ks = by_area.setdefault((sh, every[k].buffer_m), ([], []))
            rows.append(h)
            ks.append(k)
    firsts = np.array([first for first, _, _, _ in groups], dtype=np.intp)
    offsets = np.cumsum([0] + [len(tg) for _, _, tg, _ in groups])
    for rows, ks in by_area.values():
        for tr in _judge_area(hops.take(np.array(rows, np.intp)), every, ks, t):
            g = int(group_of[tr.from_index])
            out[g].append(
                replace(
                    tr,
                    from_index=tr.from_index - int(firsts[g]),
                    to_index=tr.to_index - int(firsts[g]),
                    target_index=tr.target_index - int(offsets[g]),
                )
            )
    for found in out:
        found.sort(key=lambda tr: (tr.from_index, tr.target_index))
    return out


@dataclass(frozen=True)
class _Hops:
    """Consecutive pairs of fixes as parallel arrays; B's longitude unwrapped relative to A."""

    a: IntArray
    dt: FloatArray
    lon_a: FloatArray
    lat_a: FloatArray
    lon_b: FloatArray  # unwrapped: within 180 degrees of lon_a
    lat_b: FloatArray
    acc_a: FloatArray
    acc_b: FloatArray
    d_ab: FloatArray  # geodesic
    budget: FloatArray  # v * dt + accA + accB: the longest way from A to B there was time for
    speed: FloatArray  # the subject's top speed

    @classmethod
    def of(
        cls, a: IntArray, dt: FloatArray, x: FloatArray, y: FloatArray, acc: FloatArray,
        v: FloatArray,
    ) -> _Hops:  # fmt: skip
        lon_a, lat_a, lon_b, lat_b = x[a], y[a], x[a + 1], y[a + 1]
        # Only where the hop is shorter the other way round: arithmetic on every longitude
        # would move a fix on a zone's edge off it by a rounding error.
        step = lon_b - lon_a
        lon_b = np.where(step > 180.0, lon_b - 360.0, np.where(step < -180.0, lon_b + 360.0, lon_b))
        _, _, d_ab = GEOD.inv(lon_a, lat_a, lon_b, lat_b)
        budget = v * dt + acc[a] + acc[a + 1]
        return cls(a, dt, lon_a, lat_a, lon_b, lat_b, acc[a], acc[a + 1], d_ab, budget, v)

    def take(self, rows: IntArray) -> _Hops:
        return replace(self, **{f: getattr(self, f)[rows] for f in self.__dataclass_fields__})

    @property
    def implausible(self) -> npt.NDArray[np.bool_]:
        """Even the straight path is longer than the budget: one fix (or the speed) is wrong."""
        return self.d_ab > self.budget

    @property
    def detour_checked(self) -> npt.NDArray[np.bool_]:
        return (self.budget <= MAX_DETOUR_REACH_M) & ~self.implausible


def _candidates(hops: _Hops, geoms: Geometries, buffer_m: float) -> tuple[IntArray, IntArray]:
    """(hop, target) pairs whose bounding boxes come within reach, from an STRtree."""
    # Every point of the ellipse lies within its semi-minor axis of the segment A-B.
    half = np.maximum(hops.budget, hops.d_ab) / 2.0
    semi_minor = np.sqrt(np.maximum(half**2 - (hops.d_ab / 2.0) ** 2, 0.0))
    reach = (np.where(hops.detour_checked, semi_minor, 0.0) + buffer_m) * 1.01 + 1.0
    dlat = reach / _M_PER_DEG_LAT
    south = np.minimum(hops.lat_a, hops.lat_b) - dlat
    north = np.maximum(hops.lat_a, hops.lat_b) + dlat
    widest = np.cos(np.radians(np.minimum(np.maximum(np.abs(south), np.abs(north)), 90.0)))
    dlon = np.minimum(reach / (_M_PER_DEG_LAT * np.maximum(widest, 1e-9)), 360.0)
    west = np.minimum(hops.lon_a, hops.lon_b) - dlon
    east = np.maximum(hops.lon_a, hops.lon_b) + dlon
    tree = STRtree(geoms)
    found = []
    # A box beyond +-180 degrees is looked up again on the other side of the antimeridian.
    for shift in (0.0, -360.0, 360.0):
        hit = np.ones(len(west), bool) if shift == 0 else (east > 180) if shift < 0 else west < -180
        rows = np.flatnonzero(hit)
        boxes = shapely.box(west[rows] + shift, south[rows], east[rows] + shift, north[rows])
        hop, target = tree.query(boxes)
        found.append(np.column_stack([rows[hop], target]))
    both = np.unique(np.concatenate(found), axis=0)
    return both[:, 0], both[:, 1]


def _judge_area(
    hops: _Hops, targets: Sequence[Target], ks: list[int], t: npt.NDArray[np.datetime64]
) -> list[Transit]:
    """The transits of the given hops through one area (a zone and a buffer), all in one
    local frame; hop ``i`` is tested for target ``targets[ks[i]]``, which has that area."""
    target = targets[ks[0]]
    project = _local_projection(target.geometry)
    zone_ll = target.geometry
    shapely.prepare(zone_ll)
    zone_m = project.one(shapely.segmentize(zone_ll, DENSIFY_DEG))
    buf = target.buffer_m
    area_m = zone_m if buf <= 0 else shapely.buffer(zone_m, buf, quad_segs=BUFFER_QUAD_SEGS)
    shapely.prepare(zone_m)
    shapely.prepare(area_m)

    pts_a = project(np.asarray(shapely.points(hops.lon_a, hops.lat_a)))
    pts_b = project(np.asarray(shapely.points(hops.lon_b, hops.lat_b)))
    d_a, d_b = shapely.distance(pts_a, zone_m), shapely.distance(pts_b, zone_m)
    # In the area: covered by the zone as stored (as judging decides it), or within the buffer.
    in_a = shapely.intersects_xy(zone_ll, _wrap(hops.lon_a), hops.lat_a) | (d_a <= buf)
    in_b = shapely.intersects_xy(zone_ll, _wrap(hops.lon_b), hops.lat_b) | (d_b <= buf)
    keep = np.flatnonzero(~in_a & ~in_b)
    if not keep.size:
        return []
    ks = [ks[i] for i in keep]
    hops, pts_a, pts_b, d_a, d_b = hops.take(keep), pts_a[keep], pts_b[keep], d_a[keep], d_b[keep]

    ends = np.stack(
        [np.column_stack([hops.lon_a, hops.lat_a]), np.column_stack([hops.lon_b, hops.lat_b])],
        axis=1,
    )
    lines = np.asarray(shapely.linestrings(ends))
    paths: Geometries = np.full(len(lines), None, dtype=object)  # in the frame, when needed
    # Without a buffer the area is the zone as stored: decide on it exactly, in lon/lat, so that
    # a path along an edge crosses as a fix on it is inside. A buffer needs metres: the frame.
    if buf <= 0:
        crosses = _crosses_lonlat(lines, zone_ll)
    else:
        paths = _in_frame(lines, project)
        crosses = shapely.intersects(paths, area_m)

    # Exact lower bound first: no ellipse reaches an area farther from A and B than the budget.
    v = hops.speed
    late_in = np.maximum(d_a - buf - hops.acc_a, 0.0) / v  # seconds after tA at the earliest
    early_out = np.maximum(d_b - buf - hops.acc_b, 0.0) / v  # seconds before tB at the latest
    reachable = ~crosses & hops.detour_checked & (late_in + early_out <= hops.dt)
    reachable &= (d_a - buf) + (d_b - buf) <= hops.budget
    reachable &= hops.budget > shapely.distance(pts_a, pts_b)  # else no ellipse, only the path
    rows = np.flatnonzero(reachable)
    detour = np.zeros(len(keep), bool)
    if rows.size:
        # Exact upper bound next: the points of the area nearest A and nearest B are points
        # X of it, so if either fits the budget no ellipse is needed.
        near_a = shapely.get_point(shapely.shortest_line(area_m, pts_a[rows]), 0)
        near_b = shapely.get_point(shapely.shortest_line(area_m, pts_b[rows]), 0)
        room = hops.budget[rows]
        via_a = shapely.distance(pts_a[rows], near_a) + shapely.distance(near_a, pts_b[rows])
        via_b = shapely.distance(pts_a[rows], near_b) + shapely.distance(near_b, pts_b[rows])
        detour[rows] = (via_a <= room) | (via_b <= room)
        rows = rows[~detour[rows]]
    if rows.size:
        detour[rows] = shapely.intersects(
            _ellipses(pts_a[rows], pts_b[rows], hops.budget[rows]), area_m
        )

    report = np.flatnonzero(crosses | detour)
    if not report.size:
        return []
    if buf <= 0:
        paths[report] = _in_frame(lines[report], project)
    start_s = late_in.copy()
    end_s = hops.dt - early_out
    inside_m = np.zeros(len(keep))
    cross = np.flatnonzero(crosses)
    if cross.size:
        first, last, inside_m[cross] = _entry_exit(paths[cross], area_m)
        start_s[cross], end_s[cross] = first * hops.dt[cross], last * hops.dt[cross]

    labels: dict[int, str] = {}
    min_distance = shapely.distance(paths[report], zone_m)
    side_a, side_b = _sides(zone_m, pts_a[report]), _sides(zone_m, pts_b[report])
    out = []
    for j, r in enumerate(report):
        a, k = int(hops.a[r]), ks[r]
        if k not in labels:
            tk = targets[k]
            labels[k] = zone(tk.names, tk.zone_id, tk.zone_version)
        t_a, t_b = _instant(t[a]), _instant(t[a + 1])
        out.append(
            Transit(
                from_index=a,
                to_index=a + 1,
                target_index=k,
                kind=TransitKind.PATH_CROSSES if crosses[r] else TransitKind.DETOUR_POSSIBLE,
                start=t_a + timedelta(seconds=float(start_s[r])),
                end=t_a + timedelta(seconds=float(end_s[r])),
                min_distance_m=float(min_distance[j]),
                implied_speed_mps=float(hops.d_ab[r] / hops.dt[r]),
                implausible_speed=bool(hops.implausible[r]),
                from_time=t_a,
                to_time=t_b,
                top_speed_mps=float(v[r]),
                inside_m=float(inside_m[r]),
                from_distance_m=float(d_a[r]),
                to_distance_m=float(d_b[r]),
                from_side=side_a[j],
                to_side=side_b[j],
                zone_label=labels[k],
                buffer_m=buf,
            )
        )
    return out


def _in_frame(lines: Geometries, project: _Projection) -> Geometries:
    """Lon/lat lines densified (so they stay straight in lon/lat) and projected."""
    dense = lines.copy()
    moved = shapely.length(lines) > 0  # GEOS cannot segmentize a subject who stayed put
    dense[moved] = shapely.segmentize(lines[moved], DENSIFY_DEG)
    return project(dense)


def _crosses_lonlat(lines: Geometries, zone_ll: BaseGeometry) -> npt.NDArray[np.bool_]:
    """Lines (unwrapped, so perhaps beyond +-180 degrees) that meet the zone as stored."""
    hit = np.asarray(shapely.intersects(lines, zone_ll))
    west, _, east, _ = np.asarray(shapely.bounds(lines)).T
    for shift, beyond in ((360.0, east > 180.0), (-360.0, west < -180.0)):
        if beyond.any():
            moved = shapely.transform(zone_ll, partial(_shifted, lon=shift))
            hit[beyond] |= np.asarray(shapely.intersects(lines[beyond], moved))
    return hit


def _shifted(coords: FloatArray, lon: float) -> FloatArray:
    return np.asarray(coords + np.array([lon, 0.0]), dtype=float)


def _ellipses(a: Geometries, b: Geometries, budget: FloatArray) -> Geometries:
    """Polygons inscribed in the ellipses {X: |AX| + |XB| <= budget}, in the local frame."""
    ax, ay, bx, by = shapely.get_x(a), shapely.get_y(a), shapely.get_x(b), shapely.get_y(b)
    semi_major = budget / 2.0
    focal = np.hypot(bx - ax, by - ay) / 2.0
    semi_minor = np.sqrt(np.maximum(semi_major**2 - focal**2, 0.0))
    phi = np.arctan2(by - ay, bx - ax)[:, None]
    theta = np.linspace(0.0, 2.0 * np.pi, ELLIPSE_VERTICES, endpoint=False)
    u, w = semi_major[:, None] * np.cos(theta), semi_minor[:, None] * np.sin(theta)
    ex = (ax + bx)[:, None] / 2.0 + u * np.cos(phi) - w * np.sin(phi)
    ey = (ay + by)[:, None] / 2.0 + u * np.sin(phi) + w * np.cos(phi)
    return np.asarray(shapely.polygons(np.stack([ex, ey], axis=-1)))


def _entry_exit(paths: Geometries, area: BaseGeometry) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fractions of each path where it first enters and last leaves the area; length inside."""
    inside = shapely.intersection(paths, area)
    coords, owner = shapely.get_coordinates(inside, return_index=True)
    along = shapely.line_locate_point(paths[owner], shapely.points(coords), normalized=True)
    first, last = np.ones(len(paths)), np.zeros(len(paths))
    np.minimum.at(first, owner, along)
    np.maximum.at(last, owner, along)
    # A path that only grazes the area can leave an empty intersection: use where it comes closest.
    grazed = np.flatnonzero(first > last)
    if grazed.size:
        nearest = shapely.get_point(shapely.shortest_line(paths[grazed], area), 0)
        first[grazed] = last[grazed] = shapely.line_locate_point(
            paths[grazed], nearest, normalized=True
        )
    return first, last, np.asarray(shapely.length(inside), dtype=float)


def _local_projection(geometry: BaseGeometry) -> _Projection:
    """A projection to azimuthal equidistant metres centred on the geometry (wrap-aware)."""
    lon, lat = shapely.get_coordinates(geometry).T
    if lon.max() - lon.min() > 180.0:  # split at the antimeridian: centre it on 180
        lon = np.where(lon < 0, lon + 360.0, lon)
    centre_lon = float(_wrap(np.array([(lon.min() + lon.max()) / 2.0]))[0])
    return _Projection(_aeqd(round(centre_lon, 6), round((lat.min() + lat.max()) / 2.0, 6)))


@dataclass(frozen=True)
class _Projection:
    forward: Transformer

    def __call__(self, geometries: Geometries) -> Geometries:
        return np.asarray(shapely.transform(geometries, self._move))

    def one(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, self._move)

    def _move(self, coords: FloatArray) -> FloatArray:
        x, y = self.forward.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])


@cache
def _aeqd(lon_0: float, lat_0: float) -> Transformer:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat_0} +lon_0={lon_0} +datum=WGS84 +units=m")
    return Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)


def _sides(zone_m: BaseGeometry, points: Geometries) -> list[str]:
    """The compass point each point lies at, seen from the nearest point of the zone."""
    ends = shapely.get_coordinates(shapely.shortest_line(zone_m, points)).reshape(-1, 2, 2)
    dx, dy = ends[:, 1, 0] - ends[:, 0, 0], ends[:, 1, 1] - ends[:, 0, 1]
    bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
    return [_COMPASS[int((b + 22.5) % 360.0 // 45.0)] for b in bearing]


def _wrap(lon: FloatArray) -> FloatArray:
    """Longitudes into [-180, 180] (180 itself kept, as a zone split there uses it)."""
    return lon - 360.0 * np.round(lon / 360.0)


def _utc_microseconds(
    times: Sequence[datetime] | npt.NDArray[np.datetime64],
) -> npt.NDArray[np.datetime64]:
    values = np.asarray(times)
    if values.dtype.kind == "M":
        return values.astype("datetime64[us]")
    out = np.empty(len(values), dtype="datetime64[us]")
    for i, moment in enumerate(values):
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            raise ValueError(f"fix {i}: times must be aware datetimes, got {moment!r}")
        out[i] = np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "us")
    return out


def _instant(moment: np.datetime64) -> datetime:
    value = moment.astype("datetime64[us]").item()
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC)


def _clock(moment: datetime, tz: str) -> str:
    """'14:09': local clock time to the nearest minute, for the 'about' of an estimate."""
    return f"{(moment + timedelta(seconds=30)).astimezone(time_zone(tz)):%H:%M}"


def _later(first: datetime, then: datetime, tz: str) -> str:
    """A second instant: its clock time alone when it falls on the first one's local day."""
    zone_info = time_zone(tz)
    if first.astimezone(zone_info).date() == then.astimezone(zone_info).date():
        return f"{then.astimezone(zone_info):%H:%M:%S}"
    return describe_local(then, tz)


def _minutes(seconds: float) -> str:
    m = round(seconds / 60.0)
    if m < 1:
        return "under a minute"
    if m < 90:
        return f"about {m} minute{'s' if m != 1 else ''}"
    return f"about {m // 60} h {m % 60:02d} min"


def _pace(speed_mps: float) -> str:
    return (
        "walking pace"
        if speed_mps <= 3
        else "cycling speed"
        if speed_mps <= 12
        else "driving speed"
    )
