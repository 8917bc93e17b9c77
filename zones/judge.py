"""Judging observations against zones, vectorised over observations and zones.

Two entry points:

* :func:`covering_pairs` answers only "which zones cover which points" for many points and
  many zones (the bulk test a tracker feed or an analyst needs);
* :func:`judge` gives the full verdict (status, signed distance in metres, accuracy
  evidence) for every pair of observations and targets, as a subject's sighting check needs.

Inside means covered: a point on a zone's boundary is inside. Distances are geodesic on
WGS 84 (:mod:`zones.geodesy`) to the same lon/lat-straight edges ``covers`` decides on, and
accuracy discs are geodesic discs (:mod:`zones.discs`): no projected CRS is involved.

Status from the one distance ``d`` to the zone's boundary: INSIDE when covered; BUFFER when
not covered and ``d <= buffer_m`` (buffer > 0); WARNING when not a breach and
``d <= buffer_m + warning_m`` (warning > 0); else OUTSIDE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import shapely

from zones import reach
from zones.discs import disc_fraction_in_area
from zones.geodesy import boundary_distance_m
from zones.grid import GridIndex
from zones.model import Evidence, Status, Target, Verdict

# Codes are indices into these tuples; WARNING came last so the older codes kept their meaning.
STATUS_CODES = (Status.OUTSIDE, Status.BUFFER, Status.INSIDE, Status.WARNING)
EVIDENCE_CODES = (Evidence.NONE, Evidence.POSSIBLE, Evidence.DEFINITE)


def covering_pairs(
    lon: npt.ArrayLike, lat: npt.ArrayLike, geometries: npt.ArrayLike
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Indices ``(point, zone)`` of every zone covering every point (boundary counts inside),
    sorted by point; see :class:`zones.grid.GridIndex` to build the index once."""
    return GridIndex(geometries).covering_pairs(lon, lat)


@dataclass(frozen=True)
class Judgement:
    """Verdicts for pairs of observations and targets, as parallel arrays."""

    observation: npt.NDArray[np.intp]
    target: npt.NDArray[np.intp]
    status: npt.NDArray[np.int8]  # index into STATUS_CODES
    distance_m: npt.NDArray[np.float64]  # signed: negative inside the zone
    evidence: npt.NDArray[np.int8]  # index into EVIDENCE_CODES
    disc_fraction_inside: npt.NDArray[np.float64]  # NaN where no accuracy was given

    def __len__(self) -> int:
        return len(self.observation)

    def where(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Judgement:
        """The pairs where ``keep`` is true (or at the rows ``keep`` lists, in its order)."""
        return Judgement(
            self.observation[keep],
            self.target[keep],
            self.status[keep],
            self.distance_m[keep],
            self.evidence[keep],
            self.disc_fraction_inside[keep],
        )

    def breach(self) -> npt.NDArray[np.bool_]:
        """True where the reported position lies inside the zone or its buffer (not warning)."""
        breach: npt.NDArray[np.bool_] = (self.status == 1) | (self.status == 2)
        return breach

    def verdicts_for(self, observation: int, targets: Sequence[Target]) -> list[Verdict]:
        """The verdicts of one observation as domain objects."""
        return self._verdicts(np.flatnonzero(self.observation == observation), targets)

    def verdicts_by_observation(
        self, targets: Sequence[Target], n_observations: int
    ) -> list[list[Verdict]]:
        """Every observation's verdicts, in one pass (not one array scan per observation)."""
        order = np.argsort(self.observation, kind="stable")
        ends = np.cumsum(np.bincount(self.observation, minlength=n_observations))
        return (
            [self._verdicts(rows, targets) for rows in np.split(order, ends[:-1])]
            if n_observations
            else []
        )

    def _verdicts(self, rows: npt.NDArray[np.intp], targets: Sequence[Target]) -> list[Verdict]:
        out = []
        for r in rows:
            t = targets[int(self.target[r])]
            frac = float(self.disc_fraction_inside[r])
            out.append(
                Verdict(
                    order_id=t.order_id,
                    condition_id=t.condition_id,
                    zone_id=t.zone_id,
                    zone_version=t.zone_version,
                    status=STATUS_CODES[self.status[r]],
                    distance_m=float(self.distance_m[r]),
                    evidence=EVIDENCE_CODES[self.evidence[r]],
                    disc_fraction_inside=None if np.isnan(frac) else frac,
                    clause_id=t.clause_id,
                    names=t.names,
                    buffer_m=t.buffer_m,
                    warning_m=t.warning_m,
                )
            )
        return out


def judge(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    accuracy_m: npt.ArrayLike | None,
    targets: Sequence[Target],
    *,
    near_m: float | None = None,
    nearest: bool = False,
) -> Judgement:
    """Judge observations against targets.

    Parameters
    ----------
    lon, lat
        Observation positions in EPSG:4326.
    accuracy_m
        Accuracy radius of each observation in metres (NaN or 0 for none), or None.
    targets
        The zone versions of the conditions to judge against, each with its buffer.
    near_m, nearest
        None: every pair (the full cross product). A number: only the pairs that matter,
        and with ``nearest`` the nearest zone of each condition (see :func:`judge_groups`).

    Returns
    -------
    Judgement
        One row per judged (observation, target) pair, observation-major.
    """
    lon_a = np.asarray(lon, dtype=float)
    judgement, _ = judge_groups(
        lon_a, lat, accuracy_m, [(0, len(lon_a), targets)], near_m=near_m, nearest=nearest
    )
    return judgement


def judge_groups(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    accuracy_m: npt.ArrayLike | None,
    groups: Sequence[tuple[int, int, Sequence[Target]]],
    *,
    near_m: float | None = None,
    nearest: bool = False,
) -> tuple[Judgement, list[Target]]:
    """Judge many subjects' observations at once, each group's against its own targets.

    ``groups`` are ``(first, count, targets)``: observations ``first .. first+count-1`` are
    judged against ``targets`` (none across groups). Returns the judgement, whose target
    indices point into the returned list (the groups' targets in order). A zone's geometry
    object shared by many groups is measured once.

    With ``near_m`` None every pair is judged (a cross product per group). With a number,
    only the pairs that matter (:mod:`zones.reach`): the zones an observation is inside, in
    the buffer or warning ring of, possibly inside (its accuracy disc reaches the area), or
    within ``near_m`` of; with ``nearest``, also the nearest zone of each condition. These
    verdicts are exactly those the cross product gives for the same pairs. Rows come
    sorted by observation, then target.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    acc = np.zeros(len(lon_a)) if accuracy_m is None else np.asarray(accuracy_m, dtype=float)
    acc = np.nan_to_num(acc, nan=0.0)
    every: list[Target] = []
    spans: list[tuple[int, int, int, int]] = []  # (first, count, first target, targets)
    for first, count, targets in groups:
        spans.append((first, count, len(every), len(targets)))
        every.extend(targets)
    shapes: dict[int, int] = {}  # one row per geometry object (the loader shares them)
    geometry_of = np.array(
        [shapes.setdefault(id(t.geometry), len(shapes)) for t in every], dtype=np.intp
    )
    geoms = np.empty(len(shapes), dtype=object)
    for t, g in zip(every, geometry_of, strict=True):
        geoms[g] = t.geometry
    buffers = np.array([t.buffer_m for t in every], dtype=float)
    warnings = np.array([t.warning_m for t in every], dtype=float)
    if near_m is None:
        obs_parts, tgt_parts = [], []
        for first, count, offset, m in spans:
            if count and m:
                obs_parts.append(np.repeat(np.arange(first, first + count), m))
                tgt_parts.append(np.tile(np.arange(offset, offset + m), count))
        obs_idx = np.concatenate(obs_parts) if obs_parts else np.zeros(0, np.intp)
        tgt_idx = np.concatenate(tgt_parts) if tgt_parts else np.zeros(0, np.intp)
        judgement = judge_pairs(
            lon_a, lat_a, acc, geoms, buffers, obs_idx, tgt_idx, warnings, geometry_of=geometry_of
        )
        return judgement, every
    pairs = _Pairs(lon_a, lat_a, acc, geoms, geometry_of, buffers, warnings, spans, near_m)
    judged = pairs.within_reach()
    d = np.abs(judged.distance_m)
    keep = (judged.status != 0) | (judged.evidence != 0) | (d <= near_m)
    judgement = judged.where(keep)
    if nearest:
        conditions = np.array([t.condition_id for t in every], dtype=np.int64)
        judgement = pairs.with_nearest(judged, keep, conditions)
    order = np.lexsort((judgement.target, judgement.observation))
    return judgement.where(order), every


class _Pairs:
    """The observations and targets of :func:`judge_groups` when only some pairs matter."""

    def __init__(
        self,
        lon: npt.NDArray[np.float64],
        lat: npt.NDArray[np.float64],
        accuracy_m: npt.NDArray[np.float64],
        geometries: npt.NDArray[np.object_],
        geometry_of: npt.NDArray[np.intp],
        buffers_m: npt.NDArray[np.float64],
        warnings_m: npt.NDArray[np.float64],
        spans: list[tuple[int, int, int, int]],
        near_m: float,
    ) -> None:
        self.lon, self.lat, self.acc = lon, lat, accuracy_m
        self.geoms, self.geometry_of = geometries, geometry_of
        self.buffers, self.warnings = buffers_m, warnings_m
        self.spans, self.near_m = spans, near_m
        self.group_of_obs = np.full(len(lon), -1, np.intp)
        self.group_of_target = np.full(len(geometry_of), -1, np.intp)
        # How far each observation's verdicts can matter: the farthest of its targets' areas
        # and rings, its accuracy disc beyond the buffer, or near_m.
        self.radius = np.zeros(len(lon))
        for g, (first, count, offset, m) in enumerate(spans):
            self.group_of_obs[first : first + count] = g
            self.group_of_target[offset : offset + m] = g
            if count and m:
                b = buffers_m[offset : offset + m]
                w = warnings_m[offset : offset + m]
                self.radius[first : first + count] = np.maximum(
                    np.maximum((b + w).max(), b.max() + accuracy_m[first : first + count]),
                    near_m,
                )
        # Targets by (group, geometry row), to turn geometries found into targets.
        n_geo = max(1, len(geometries))
        self._n_geo = n_geo
        key = self.group_of_target.astype(np.int64) * n_geo + geometry_of
        self._target_order = np.argsort(key, kind="stable")
        self._target_keys = key[self._target_order]

    def _judge(self, obs: npt.NDArray[np.intp], tgt: npt.NDArray[np.intp]) -> Judgement:
        return judge_pairs(
            self.lon, self.lat, self.acc, self.geoms, self.buffers, obs, tgt, self.warnings,
            geometry_of=self.geometry_of,
        )  # fmt: skip

    def _signed(
        self, obs: npt.NDArray[np.intp], tgt: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.float64]:
        """Signed distances (negative inside) of pairs, without the rest of a verdict."""
        if not len(obs):
            return np.zeros(0)
        geo = self.geometry_of[tgt]
        used = np.unique(geo)
        geoms, row = self.geoms[used], np.searchsorted(used, geo)
        shapely.prepare(geoms)
        inside = shapely.intersects_xy(geoms[row], self.lon[obs], self.lat[obs])
        d = boundary_distance_m(self.lon, self.lat, geoms, obs, row)
        return np.where(inside, -d, d)

    def _targets_of(
        self, point: npt.NDArray[np.intp], geometry: npt.NDArray[np.intp]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        key = self.group_of_obs[point].astype(np.int64) * self._n_geo + geometry
        lo = np.searchsorted(self._target_keys, key, "left")
        hi = np.searchsorted(self._target_keys, key, "right")
        n = hi - lo
        at = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(n.sum())
        return np.repeat(point, n), self._target_order[at]

    def within_reach(self) -> Judgement:
        """Every pair within its observation's reach, judged (the caller keeps some)."""
        judged = np.flatnonzero(self.group_of_obs >= 0)
        point, target = reach.candidates(
            self.lon[judged],
            self.lat[judged],
            self.radius[judged],
            self.geoms,
            lambda p, g: self._targets_of(judged[p], g),
        )
        return self._judge(point, target)

    def with_nearest(
        self, judged: Judgement, keep: npt.NDArray[np.bool_], conditions: npt.NDArray[np.int64]
    ) -> Judgement:
        """The kept pairs and the nearest zone of each observation's every condition.

        Where a condition's nearest candidate lies within the observation's reach it is the
        nearest of all (a zone nearer would have been a candidate); the rest are searched
        (:func:`zones.reach.nearest`), every condition of every group in one pass.
        """
        cond = conditions[judged.target]
        order = np.lexsort((judged.target, judged.distance_m, cond, judged.observation))
        o, c = judged.observation[order], cond[order]
        head = (
            order[np.flatnonzero(np.r_[True, (o[1:] != o[:-1]) | (c[1:] != c[:-1])])]
            if len(o)
            else order
        )
        proven = head[judged.distance_m[head] <= self.radius[judged.observation[head]]]
        keep = keep.copy()
        keep[proven] = True
        done = set(zip(judged.observation[proven].tolist(), cond[proven].tolist(), strict=True))
        sets = []
        for first, count, offset, m in self.spans:
            if not (count and m):
                continue
            for k in np.unique(conditions[offset : offset + m]).tolist():
                mine = offset + np.flatnonzero(conditions[offset : offset + m] == k)
                asked = np.array(
                    [q for q in range(first, first + count) if (q, k) not in done], dtype=np.intp
                )
                if len(asked):
                    sets.append((asked, self.geoms[self.geometry_of[mine]], mine))
        parts = [judged.where(keep)]
        if sets:
            point, target = reach.nearest(self.lon, self.lat, sets, self._signed)
            parts.append(self._judge(point, target))
        return _concat(parts)


def _concat(parts: Sequence[Judgement]) -> Judgement:
    return Judgement(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in (
                "observation", "target", "status", "distance_m", "evidence",
                "disc_fraction_inside",
            )
        )
    )  # fmt: skip


def judge_pairs(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    accuracy_m: npt.NDArray[np.float64],
    geometries: npt.NDArray[np.object_],
    buffers_m: npt.NDArray[np.float64],
    obs_idx: npt.NDArray[np.intp],
    tgt_idx: npt.NDArray[np.intp],
    warnings_m: npt.NDArray[np.float64] | None = None,
    *,
    geometry_of: npt.NDArray[np.intp] | None = None,
) -> Judgement:
    """Judge the given (observation, target) pairs; see :func:`judge`.

    ``warnings_m`` is each target's warning ring beyond its buffer (metres; none if omitted).
    ``geometry_of`` maps each target to its row of ``geometries`` (by default the same row),
    so that targets sharing a zone share its measuring.
    """
    n = len(obs_idx)
    geo_idx = tgt_idx if geometry_of is None else geometry_of[tgt_idx]
    # Only the zones some pair names are prepared and broken into edges: a condition of
    # 1,000 zones of which a fix is near three costs three.
    used = np.unique(geo_idx)
    if len(used) < len(geometries):
        geometries, geo_idx = geometries[used], np.searchsorted(used, geo_idx)
    shapely.prepare(geometries)
    # Inside is decided on the stored EPSG:4326 geometry, as PostGIS ST_Covers decides it;
    # for a point "intersects" is "covered by" (on the boundary counts), with no point made.
    inside = (
        shapely.intersects_xy(geometries[geo_idx], lon[obs_idx], lat[obs_idx])
        if n
        else np.zeros(0, bool)
    )
    # The distance is geodesic, to the same lon/lat-straight edges covers decided on.
    d = boundary_distance_m(lon, lat, geometries, obs_idx, geo_idx) if n else np.zeros(0)
    distance = np.where(inside, -d, d)
    buf = buffers_m[tgt_idx]
    warn = np.zeros(n) if warnings_m is None else warnings_m[tgt_idx]
    in_area = inside | ((buf > 0) & (d <= buf))
    in_warning = ~in_area & (warn > 0) & (d <= buf + warn)
    status = np.select([inside, in_area, in_warning], [2, 1, 3], 0).astype(np.int8)

    a = accuracy_m[obs_idx]
    no_disc = ~(a > 0)
    # Exact without measuring: every point of the disc is within a of the centre, so the disc
    # is wholly in the area when the centre is inside at least a from the edge, or inside with
    # a buffer of at least a, or outside but at least a short of the buffer's edge; wholly
    # outside when at least a beyond the buffer's edge.
    definite = (inside & ((d >= a) | (buf >= a))) | (~inside & (d + a <= buf))
    none = ~inside & (d - buf >= a)
    evidence = np.where(in_area, 2, 0).astype(np.int8)
    fraction = np.full(n, np.nan)
    with_disc = np.flatnonzero(~no_disc)
    evidence[with_disc] = np.where(definite[with_disc], 2, np.where(none[with_disc], 0, 1))
    fraction[with_disc] = np.where(definite[with_disc], 1.0, 0.0)
    unsure = np.flatnonzero(~no_disc & ~definite & ~none)
    if unsure.size:
        o, g = obs_idx[unsure], geo_idx[unsure]
        share = disc_fraction_in_area(lon[o], lat[o], a[unsure], geometries[g], buf[unsure])
        # The position itself decides what the disc cannot overturn: a disc around a point in
        # the area is never "none", around a point outside it never "definite".
        whole, empty = share >= 1.0 - 1e-9, share <= 1e-9
        evidence[unsure] = np.where(
            in_area[unsure], np.where(whole, 2, 1), np.where(empty, 0, 1)
        ).astype(np.int8)
        fraction[unsure] = np.where(
            in_area[unsure], np.maximum(share, 1e-9), np.minimum(share, 1.0 - 1e-9)
        )
    return Judgement(obs_idx, tgt_idx, status, distance, evidence, fraction)
