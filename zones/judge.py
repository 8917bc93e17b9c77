"""Judging observations against zones, vectorised over observations and zones.

Two entry points:

* :func:`covering_pairs` answers only "which zones cover which points" for many points and
  many zones (the bulk test a tracker feed or an analyst needs);
* :func:`judge` gives the full verdict (status, signed distance in metres, accuracy
  evidence) for every pair of observations and targets, as a subject's sighting check needs.

Inside means covered: a point on a zone's boundary is inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import shapely
from shapely import STRtree

from zones.crs import metric_epsg_for, project, project_xy
from zones.model import Evidence, Status, Target, Verdict

STATUS_CODES = (Status.OUTSIDE, Status.BUFFER, Status.INSIDE)
EVIDENCE_CODES = (Evidence.NONE, Evidence.POSSIBLE, Evidence.DEFINITE)
DISC_QUAD_SEGS = 16  # a 64-gon: its area is 99.84 % of the true disc


class ZoneIndex:
    """An STRtree over zones in EPSG:4326, built once and queried with many points."""

    def __init__(self, geometries: npt.ArrayLike) -> None:
        self.geometries = np.asarray(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)

    def covering_pairs(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Indices ``(point, zone)`` of every zone that covers every point, sorted by point."""
        x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        # Index first (bounding boxes only), then one vectorised exact test on the candidates.
        # STRtree.query(..., predicate=) would prepare the query points, not our zones; testing
        # coordinates against the prepared zones with intersects_xy uses the preparation, and
        # for a point "intersects" equals "covered by" (a point on the boundary is covered).
        point, zone = self.tree.query(_points(x, y))
        hit = shapely.intersects_xy(self.geometries[zone], x[point], y[point])
        return point[hit], zone[hit]


def _points(x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.object_]:
    return np.asarray(shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float)))


def covering_pairs(
    lon: npt.ArrayLike, lat: npt.ArrayLike, geometries: npt.ArrayLike
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Indices ``(point, zone)`` of every zone covering every point (boundary counts inside)."""
    return ZoneIndex(geometries).covering_pairs(lon, lat)


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

    def breach(self) -> npt.NDArray[np.bool_]:
        """True where the reported position lies inside the zone or its buffer."""
        return self.status > 0

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
                )
            )
        return out


def judge(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    accuracy_m: npt.ArrayLike | None,
    targets: Sequence[Target],
) -> Judgement:
    """Judge every observation against every target (the full cross product).

    Parameters
    ----------
    lon, lat
        Observation positions in EPSG:4326.
    accuracy_m
        Accuracy radius of each observation in metres (NaN or 0 for none), or None.
    targets
        The zone versions of the conditions to judge against, each with its buffer.

    Returns
    -------
    Judgement
        One row per (observation, target) pair, observation-major.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    n_obs, n_tgt = len(lon_a), len(targets)
    obs_idx = np.repeat(np.arange(n_obs), n_tgt)
    tgt_idx = np.tile(np.arange(n_tgt), n_obs)
    acc = np.zeros(n_obs) if accuracy_m is None else np.asarray(accuracy_m, dtype=float)
    acc = np.nan_to_num(acc, nan=0.0)
    geoms = np.array([t.geometry for t in targets], dtype=object)
    buffers = np.array([t.buffer_m for t in targets], dtype=float)
    return judge_pairs(lon_a, lat_a, acc, geoms, buffers, obs_idx, tgt_idx)


def judge_pairs(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    accuracy_m: npt.NDArray[np.float64],
    geometries: npt.NDArray[np.object_],
    buffers_m: npt.NDArray[np.float64],
    obs_idx: npt.NDArray[np.intp],
    tgt_idx: npt.NDArray[np.intp],
) -> Judgement:
    """Judge the given (observation, target) pairs; see :func:`judge`."""
    n = len(obs_idx)
    points = _points(lon, lat)
    shapely.prepare(geometries)
    # Inside is decided on the stored EPSG:4326 geometry, as PostGIS ST_Covers decides it.
    inside = shapely.covers(geometries[tgt_idx], points[obs_idx]) if n else np.zeros(0, bool)

    distance = np.zeros(n)
    fraction = np.full(n, np.nan)
    evidence = np.zeros(n, dtype=np.int8)
    acc = accuracy_m[obs_idx]
    buf = buffers_m[tgt_idx]
    epsg = metric_epsg_for(geometries) if len(geometries) else np.zeros(0, np.int64)
    for code in np.unique(epsg[tgt_idx]) if n else ():
        sel = np.flatnonzero(epsg[tgt_idx] == code)
        o, t = obs_idx[sel], tgt_idx[sel]
        # Project only the zones and observations this CRS serves, once each.
        zsel, osel = epsg == code, np.unique(o)
        zones_m = np.full(len(geometries), None, dtype=object)
        zones_m[zsel] = project(geometries[zsel], int(code))
        edges = np.full(len(geometries), None, dtype=object)
        edges[zsel] = shapely.boundary(zones_m[zsel])
        pts_m = np.full(len(lon), None, dtype=object)
        pts_m[osel] = _points(*project_xy(lon[osel], lat[osel], int(code)))
        d = shapely.distance(pts_m[o], edges[t])
        signed = np.where(inside[sel], -d, d)
        distance[sel] = signed
        # Signed distance to the condition's area (zone grown by its buffer).
        to_area = signed - buf[sel]
        a = acc[sel]
        point_breach = inside[sel] | (to_area <= 0)
        no_disc = a <= 0
        ev = np.where(point_breach, 2, 0).astype(np.int8)
        fr = np.where(point_breach, 1.0, 0.0)
        # With a disc: wholly inside when the point is inside the zone at least a radius
        # from its edge; wholly outside when at least a radius beyond the area (exact, as a
        # buffer's distance is the zone's distance minus the buffer). Between, measure it.
        definite = inside[sel] & (d >= a)
        none = to_area >= a
        unsure = ~no_disc & ~definite & ~none
        ev = np.where(no_disc, ev, np.where(definite, 2, np.where(none, 0, 1))).astype(np.int8)
        fr = np.where(no_disc, np.nan, fr)
        if unsure.any():
            u = np.flatnonzero(unsure)
            area = shapely.buffer(zones_m[t[u]], buf[sel][u])
            discs = shapely.buffer(pts_m[o[u]], a[u], quad_segs=DISC_QUAD_SEGS)
            share = shapely.area(shapely.intersection(discs, area)) / shapely.area(discs)
            share = np.clip(share, 0.0, 1.0)
            fr[u] = share
            ev[u] = np.where(share >= 1.0 - 1e-9, 2, np.where(share <= 0.0, 0, 1))
        evidence[sel] = ev
        fraction[sel] = fr
    within_buffer = (buf > 0) & (distance <= buf)
    status = np.select([inside, within_buffer], [2, 1], 0).astype(np.int8)
    return Judgement(obs_idx, tgt_idx, status, distance, evidence, fraction)
