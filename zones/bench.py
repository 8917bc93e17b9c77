"""The judging benchmark: the domain's covering pairs against geopandas and a bare STRtree.

Three ways of answering "which zones cover which fixes" run on the same inputs in the same
run, must agree pair for pair, and are timed the same way: each starts from longitude and
latitude arrays and unprepared zone polygons, and its time covers making the points,
building the spatial index and querying it.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

import geopandas as gpd
import shapely
from shapely import STRtree

from zones.benchdata import REAL_FIXES, REAL_ZONES, Dataset, real_dataset, synthetic_dataset
from zones.crs import WGS84
from zones.judge import ZoneIndex

Pairs = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]
FloatArray = npt.NDArray[np.float64]
GeometryArray = npt.NDArray[np.object_]
Method = Callable[[FloatArray, FloatArray, GeometryArray], Pairs]


class MethodsDisagree(RuntimeError):
    """Two ways of judging the same fixes against the same zones found different pairs."""


@dataclass(frozen=True)
class BenchResult:
    """The timings of one method on one dataset."""

    dataset: str
    method: str
    fixes: int
    zones: int
    seconds: tuple[float, ...]  # one per repeat
    pairs: int
    fixes_inside: int  # fixes covered by at least one zone
    peak_rss_delta_mib: float | None  # highest over the repeats; None where not measurable
    ratio_to_domain: float  # this method's best time over the domain's

    @property
    def best_s(self) -> float:
        """Best-of-repeats wall time in seconds."""
        return min(self.seconds)

    @property
    def fixes_per_s(self) -> float:
        """Fixes judged per second at the best time."""
        return self.fixes / self.best_s


def by_domain(lon: FloatArray, lat: FloatArray, zones: GeometryArray) -> Pairs:
    """The domain's way: :class:`zones.judge.ZoneIndex`, built and queried."""
    return ZoneIndex(zones).covering_pairs(lon, lat)


def by_sjoin(lon: FloatArray, lat: FloatArray, zones: GeometryArray) -> Pairs:
    """An analyst's way: two GeoDataFrames and ``geopandas.sjoin``."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=WGS84)
    areas = gpd.GeoDataFrame(geometry=zones, crs=WGS84)
    # For a point, "intersects" equals "covered by": a point has no interior of its own to
    # lie partly outside, so touching the zone at all means lying in it or on its boundary.
    # "within" would drop fixes on the boundary, which the domain counts inside.
    joined = gpd.sjoin(points, areas, how="inner", predicate="intersects")
    return joined.index.to_numpy(np.intp), joined["index_right"].to_numpy(np.intp)


def by_strtree(lon: FloatArray, lat: FloatArray, zones: GeometryArray) -> Pairs:
    """The bare way: a shapely STRtree over the zones, queried in bulk with the points."""
    points = shapely.points(lon, lat)
    # "intersects" means "covered by" for a point, as in by_sjoin.
    pairs = STRtree(zones).query(points, predicate="intersects")
    return pairs[0], pairs[1]


METHODS: dict[str, Method] = {"domain": by_domain, "sjoin": by_sjoin, "strtree": by_strtree}


def run_judge_bench(
    data_dir: Path | None,
    *,
    fixes: int = 1_000_000,
    zones: int = 10_000,
    seed: int = 0,
    repeat: int = 3,
    out: Callable[[str], None] = print,
) -> list[BenchResult]:
    """Time the three methods on the real Cambridge data and on a synthetic set.

    Parameters
    ----------
    data_dir
        ``shared/data``; without it (None or missing files) only the synthetic set runs.
    fixes, zones, seed
        Size and seed of the synthetic set.
    repeat
        Runs of each method; the best time counts.
    out
        Receives each printed line.

    Returns
    -------
    list[BenchResult]
        One per dataset and method, the domain first within each dataset.

    Raises
    ------
    MethodsDisagree
        When any method finds a different set of (fix, zone) pairs from the domain's.
    """
    out(
        f"zones bench judge: which zones cover which fixes, three ways, best of {repeat}; "
        "every time includes making the points and building the index"
    )
    out(
        'predicate "intersects" in all three: for a point it means "covered by", '
        "so a fix on a zone's boundary is inside"
    )
    datasets = []
    if data_dir is None or not all((data_dir / p).is_file() for p in (REAL_ZONES, REAL_FIXES)):
        out(f"real data not found at {data_dir}: running the synthetic set only")
    else:
        datasets.append(real_dataset(data_dir))
    started = time.perf_counter()
    datasets.append(synthetic_dataset(fixes, zones, seed))
    out(f"generated the synthetic set in {time.perf_counter() - started:.2f} s")

    results: list[BenchResult] = []
    for data in datasets:
        results.extend(_bench_dataset(data, repeat))
    for data in datasets:
        inside = next(r.fixes_inside for r in results if r.dataset == data.name)
        out(f"{data.name}: " + data.description[0])
        for line in data.description[1:]:
            out("  " + line)
        out(f"  {inside:,} of {len(data.lon):,} fixes ({inside / len(data.lon):.1%}) inside a zone")
    for line in _table(results):
        out(line)
    out("all three methods found exactly the same (fix, zone) pairs on every dataset")
    return results


def _bench_dataset(data: Dataset, repeat: int) -> list[BenchResult]:
    times: dict[str, list[float]] = {name: [] for name in METHODS}
    rss: dict[str, list[float | None]] = {name: [] for name in METHODS}
    keys: dict[str, npt.NDArray[np.int64]] = {}
    inside = 0
    # Round-robin over the methods so that a noisy neighbour slows each of them alike.
    for _ in range(max(1, repeat)):
        for name, method in METHODS.items():
            # Each run starts from unprepared zones: the domain prepares them in place.
            shapely.destroy_prepared(data.zones)
            gc.collect()
            baseline = _reset_peak_rss()
            started = time.perf_counter()
            pairs = method(data.lon, data.lat, data.zones)
            times[name].append(time.perf_counter() - started)
            peak = _peak_rss_mib()
            rss[name].append(None if baseline is None or peak is None else peak - baseline)
            keys[name] = _pair_keys(pairs, len(data.zones))
            if name == "domain":
                inside = len(np.unique(pairs[0]))
    shapely.destroy_prepared(data.zones)
    _check_agreement(data.name, keys)
    best_domain = min(times["domain"])
    return [
        BenchResult(
            dataset=data.name,
            method=name,
            fixes=len(data.lon),
            zones=len(data.zones),
            seconds=tuple(times[name]),
            pairs=len(keys[name]),
            fixes_inside=inside,
            peak_rss_delta_mib=_max_or_none(rss[name]),
            ratio_to_domain=min(times[name]) / best_domain,
        )
        for name in METHODS
    ]


def _pair_keys(pairs: Pairs, n_zones: int) -> npt.NDArray[np.int64]:
    """Each (point, zone) pair as one sorted integer, so that sets compare as arrays."""
    return np.sort(pairs[0].astype(np.int64) * n_zones + pairs[1].astype(np.int64))


def _check_agreement(dataset: str, keys: dict[str, npt.NDArray[np.int64]]) -> None:
    reference = keys["domain"]
    for name, found in keys.items():
        if np.array_equal(found, reference):
            continue
        missing = np.setdiff1d(reference, found)
        extra = np.setdiff1d(found, reference)
        raise MethodsDisagree(
            f"{dataset}: {name} found {len(found):,} pairs, the domain {len(reference):,}; "
            f"{len(missing):,} of the domain's are missing and {len(extra):,} are extra "
            f"(first keys point * n_zones + zone: missing {missing[:5].tolist()}, "
            f"extra {extra[:5].tolist()})"
        )


def _table(results: list[BenchResult]) -> list[str]:
    header = ("dataset", "method", "best s", "fixes/s", "pairs", "peak RSS", "vs domain")
    rows = [
        (
            r.dataset,
            r.method,
            f"{r.best_s:.3f}",
            f"{r.fixes_per_s:,.0f}",
            f"{r.pairs:,}",
            "n/a" if r.peak_rss_delta_mib is None else f"+{r.peak_rss_delta_mib:,.0f} MiB",
            "reference" if r.method == "domain" else f"{r.method}/domain {r.ratio_to_domain:.2f}x",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    left = {0, 1, 6}
    return [
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in (header, *rows)
    ]


def _reset_peak_rss() -> float | None:
    """Reset the kernel's peak-RSS mark (Linux) and return the current RSS in MiB."""
    # Hand freed heap back first, or the previous run's leftovers hide this run's growth.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_mib("VmRSS")


def _peak_rss_mib() -> float | None:
    return _status_mib("VmHWM")


def _status_mib(field: str) -> float | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def _max_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None
