"""The bulk judging benchmark: the domain's grid against the tools a user would reach for.

Every way of answering "which zones cover which fixes" runs on the same inputs in the same
run, must agree pair for pair, and is timed the same way: each starts from longitude and
latitude arrays and unprepared zone polygons, and its time covers building its index and
querying it (the database peers, whose loading is a separate step, are timed on the query).
The domain runs on every usable core and on one, since most peers use one.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
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
from zones.grid import GridIndex

Pairs = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]
FloatArray = npt.NDArray[np.float64]
GeometryArray = npt.NDArray[np.object_]
Method = Callable[[FloatArray, FloatArray, GeometryArray], Pairs]
# Targets of issue 10 for the realistic set, as ratios of the peers' times to the domain's.
TARGETS = {"strtree": 8.0, "sjoin": 12.0}
TARGET_FIXES_PER_S = 10_000_000


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
    ratio_to_domain: float  # this method's best time over the domain's (every core)
    ratio_to_one_core: float  # this method's best time over the domain's on one core

    @property
    def best_s(self) -> float:
        """Best-of-repeats wall time in seconds."""
        return min(self.seconds)

    @property
    def fixes_per_s(self) -> float:
        """Fixes judged per second at the best time."""
        return self.fixes / self.best_s


def by_domain(lon: FloatArray, lat: FloatArray, zones: GeometryArray) -> Pairs:
    """The domain's way: :class:`zones.grid.GridIndex`, built and queried on every core."""
    return GridIndex(zones).covering_pairs(lon, lat)


def by_domain_one_core(lon: FloatArray, lat: FloatArray, zones: GeometryArray) -> Pairs:
    """The domain's way on one core."""
    return GridIndex(zones, threads=1).covering_pairs(lon, lat)


def by_numpy_grid(lon: FloatArray, lat: FloatArray, zones: GeometryArray) -> Pairs:
    """A numpy user's way: zones binned by bounding box on a grid, candidates by array
    arithmetic, then one exact ``intersects_xy`` over them (no point objects)."""
    bounds = shapely.bounds(zones)
    cell = float(np.median(np.minimum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])))
    x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
    columns = int((bounds[:, 2].max() - x0) // cell) + 1
    rows = int((bounds[:, 3].max() - y0) // cell) + 1
    i0, j0 = (
        ((bounds[:, 0] - x0) // cell).astype(np.int64),
        ((bounds[:, 1] - y0) // cell).astype(np.int64),
    )
    i1, j1 = (
        ((bounds[:, 2] - x0) // cell).astype(np.int64),
        ((bounds[:, 3] - y0) // cell).astype(np.int64),
    )
    width, height = i1 - i0 + 1, j1 - j0 + 1
    zone = np.repeat(np.arange(len(zones)), width * height)
    k = np.arange(len(zone)) - np.repeat(np.cumsum(width * height) - width * height, width * height)
    cell_of = (j0[zone] + k // width[zone]) * columns + i0[zone] + k % width[zone]
    order = np.argsort(cell_of, kind="stable")
    zone_sorted = zone[order]
    start = np.searchsorted(cell_of[order], np.arange(rows * columns + 1))
    pi, pj = np.floor((lon - x0) / cell), np.floor((lat - y0) / cell)
    inside = (pi >= 0) & (pj >= 0) & (pi < columns) & (pj < rows)
    point = np.flatnonzero(inside)
    c = (pj[point] * columns + pi[point]).astype(np.int64)
    n = start[c + 1] - start[c]
    cand_point = np.repeat(point, n)
    cand_zone = zone_sorted[np.repeat(start[c] - np.cumsum(n) + n, n) + np.arange(n.sum())]
    shapely.prepare(zones)
    hit = shapely.intersects_xy(zones[cand_zone], lon[cand_point], lat[cand_point])
    return cand_point[hit], cand_zone[hit]


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


class DuckDBSpatial:
    """An analyst's way with a big CSV of fixes: DuckDB's spatial join, on all its threads.

    Its loading (points and polygons into DuckDB tables) is a separate, untimed step, as it
    would be done once; the join and fetching its pairs are timed.
    """

    def __init__(self) -> None:
        import duckdb

        self.connection = duckdb.connect()
        self.connection.execute(f"LOAD '{duckdb_spatial_extension()}'")
        self.connection.execute("SET enable_progress_bar = false")
        self._loaded: tuple[int, int] | None = None

    def prepare(self, data: Dataset) -> float:
        """Load the fixes and zones; seconds taken."""
        import pandas as pd

        began = time.perf_counter()
        points = pd.DataFrame({"i": np.arange(len(data.lon)), "x": data.lon, "y": data.lat})
        areas = pd.DataFrame({"z": np.arange(len(data.zones)), "w": shapely.to_wkb(data.zones)})
        c = self.connection
        c.register("points_frame", points)
        c.register("areas_frame", areas)
        c.execute("CREATE OR REPLACE TABLE p AS SELECT i, ST_Point(x, y) AS g FROM points_frame")
        c.execute("CREATE OR REPLACE TABLE z AS SELECT z, ST_GeomFromWKB(w) AS g FROM areas_frame")
        self._loaded = (id(data.lon), id(data.zones))
        return time.perf_counter() - began

    def __call__(self, lon: FloatArray, lat: FloatArray, zones: GeometryArray) -> Pairs:
        if self._loaded != (id(lon), id(zones)):
            raise RuntimeError("DuckDBSpatial.prepare was not called with these fixes")
        # ST_Intersects, as in the other peers: for a point it means "covered by".
        found = self.connection.execute(
            "SELECT p.i, z.z FROM p JOIN z ON ST_Intersects(z.g, p.g)"
        ).fetchnumpy()
        return np.asarray(found["i"], np.intp), np.asarray(found["z"], np.intp)


def duckdb_spatial_extension() -> Path:
    """The spatial extension the ``duckdb-ext-spatial`` wheel ships for this duckdb."""
    import duckdb

    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("duckdb-ext-spatial is not installed")
    for root in spec.submodule_search_locations:
        found = sorted(
            Path(root).glob(f"extensions/v{duckdb.__version__}/*/spatial.duckdb_extension")
        )
        if found:
            return found[0]
    raise ModuleNotFoundError(f"no spatial extension for duckdb {duckdb.__version__}")


METHODS: dict[str, Method] = {
    "domain": by_domain,
    "domain-1core": by_domain_one_core,
    "numpy-grid": by_numpy_grid,
    "strtree": by_strtree,
    "sjoin": by_sjoin,
}


def run_judge_bench(
    data_dir: Path | None,
    *,
    fixes: int = 1_000_000,
    zones: int = 10_000,
    seed: int = 0,
    repeat: int = 3,
    peers: dict[str, Method] | None = None,
    out: Callable[[str], None] = print,
) -> list[BenchResult]:
    """Time every method on the real Cambridge data and on a generated realistic set.

    Parameters
    ----------
    data_dir
        ``shared/data``; without it (None or missing files) only the generated set runs.
    fixes, zones, seed
        Size and seed of the generated set.
    repeat
        Runs of each method; the best time counts.
    peers
        More methods (such as PostGIS, which needs a database): each may have a
        ``prepare(dataset) -> seconds`` step, run untimed before its first run on a dataset.
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
    methods = dict(METHODS)
    try:
        methods["duckdb"] = DuckDBSpatial()
    except ModuleNotFoundError as missing:
        out(f"duckdb spatial not run: {missing} (pip install -e '.[bench]')")
    methods.update(peers or {})
    out(
        f"zones bench judge: which zones cover which fixes, {len(methods)} ways, best of "
        f"{repeat}; every time includes building the index (databases: the query only)"
    )
    out(
        'predicate "intersects" (ST_Covers in PostGIS): for a point it means "covered by", '
        "so a fix on a zone's boundary is inside"
    )
    datasets = []
    if data_dir is None or not all((data_dir / p).is_file() for p in (REAL_ZONES, REAL_FIXES)):
        out(f"real data not found at {data_dir}: running the generated set only")
    else:
        datasets.append(real_dataset(data_dir))
    started = time.perf_counter()
    datasets.append(synthetic_dataset(fixes, zones, seed))
    out(f"generated the synthetic set in {time.perf_counter() - started:.2f} s")

    results: list[BenchResult] = []
    for data in datasets:
        out(f"{data.name}: " + data.description[0])
        for line in data.description[1:]:
            out("  " + line)
        for name, method in methods.items():
            prepare = getattr(method, "prepare", None)
            if prepare is not None:
                out(f"  {name}: loaded in {prepare(data):.2f} s (not timed below)")
        dataset_results = _bench_dataset(data, methods, repeat)
        results.extend(dataset_results)
        inside = dataset_results[0].fixes_inside
        candidates = _candidates_per_fix(data)
        out(
            f"  {inside:,} of {len(data.lon):,} fixes ({inside / len(data.lon):.1%}) inside "
            f"a zone; {candidates:.2f} candidate zones per fix (zones whose bounding box "
            "holds it)"
        )
        out("  " + _build_line(data, repeat))
    for line in _table(results):
        out(line)
    out(f"all {len(methods)} methods found exactly the same (fix, zone) pairs on every dataset")
    for line in _targets(results):
        out(line)
    return results


def _candidates_per_fix(data: Dataset) -> float:
    found = STRtree(data.zones).query(shapely.points(data.lon, data.lat))
    return len(found[0]) / max(1, len(data.lon))


def _build_line(data: Dataset, repeat: int) -> str:
    times = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        index = GridIndex(data.zones)
        times.append(time.perf_counter() - started)
    stats = index.stats()
    return (
        f"domain index build alone: {min(times) * 1000:.1f} ms ({stats['cells']:,.0f} cells "
        f"of {stats['cell_m']:.0f} m, {stats['entries']:,.0f} zone entries, "
        f"{stats['whole_share']:.0%} covering their whole cell)"
    )


def _targets(results: list[BenchResult]) -> list[str]:
    synthetic = {r.method: r for r in results if r.dataset == "synthetic"}
    if "domain" not in synthetic:
        return []
    domain = synthetic["domain"]
    met = "met" if domain.fixes_per_s >= TARGET_FIXES_PER_S else "not met"
    lines = [
        f"target on the synthetic set: at least {TARGET_FIXES_PER_S / 1e6:.0f}M fixes/s: "
        f"{domain.fixes_per_s / 1e6:.1f}M ({met})"
    ]
    for peer, want in TARGETS.items():
        if peer in synthetic:
            got = synthetic[peer].ratio_to_domain
            lines.append(
                f"target on the synthetic set: {peer} at least {want:.0f}x the domain's time: "
                f"{got:.1f}x ({'met' if got >= want else 'not met'})"
            )
    return lines


def _bench_dataset(data: Dataset, methods: dict[str, Method], repeat: int) -> list[BenchResult]:
    times: dict[str, list[float]] = {name: [] for name in methods}
    rss: dict[str, list[float | None]] = {name: [] for name in methods}
    keys: dict[str, npt.NDArray[np.int64]] = {}
    inside = 0
    # Round-robin over the methods so that a noisy neighbour slows each of them alike.
    for _ in range(max(1, repeat)):
        for name, method in methods.items():
            # Each run starts from unprepared zones: some methods prepare them in place.
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
    best = {name: min(t) for name, t in times.items()}
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
            ratio_to_domain=best[name] / best["domain"],
            ratio_to_one_core=best[name] / best.get("domain-1core", best["domain"]),
        )
        for name in methods
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
    header = ("dataset", "method", "best s", "fixes/s", "pairs", "peak RSS", "/domain", "/1 core")
    rows = [
        (
            r.dataset,
            r.method,
            f"{r.best_s:.3f}",
            f"{r.fixes_per_s:,.0f}",
            f"{r.pairs:,}",
            "n/a" if r.peak_rss_delta_mib is None else f"+{r.peak_rss_delta_mib:,.0f} MiB",
            f"{r.ratio_to_domain:.2f}x",
            f"{r.ratio_to_one_core:.2f}x",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    left = {0, 1}
    lines = [
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in (header, *rows)
    ]
    return [
        *lines,
        "/domain: the method's time over the domain's on every core; /1 core: over the "
        "domain's on one core (above 1: the domain is faster)",
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
