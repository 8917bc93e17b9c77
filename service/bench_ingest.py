"""The ingest benchmark: real bus fixes, scaled to a national load, through the HTTP batch route.

It seeds a database (a scratch one unless given) with ``tags`` subjects, each wearing one
device and under an order whose one condition names 10 of the 86 real Smart Cambridge
geofences; stores ``stored`` fixes first (by ``COPY``: history, not judged); times a
``COPY`` of the fixes about to be sent, into the real observations table with all its
indexes (rolled back); then serves ``zones serve`` and sends the fixes through
``POST /api/v1/observations`` from client threads, live (interleaved in time) and then as a
back-fill burst (device after device). It prints fixes per second end to end, the ``COPY``
rate, their ratio, memory, where a batch's time goes inside the server's code (the same
functions, run in this process on a few batches), and checks by query that every alert was
raised once: no two alerts of one track overlap, and sending the burst again changes nothing.

The synthetic part, stated in the output: the buses are numbered by how many of their fixes
fall in a geofence, most first; tag ``k`` replays real bus ``k mod B`` (B buses in the file),
shifted ``(k div B) * 37`` seconds later so its copies are not simultaneous; a tag that has
used up its bus's hour starts it again an hour later (the hour repeats, with a jump from the
track's end back to its start); positions are the real ones, so the real geofences are met as
the real buses met them. Times are moved so that the last fix was five minutes ago. Accuracy
is 10 m throughout (the feed gives none).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from service.bench_flood import PROJECT, _Api, _database, _free_port, _seed_user, _wait_ready

BUS_FIXES = Path(
    "cambridge-uk-bus-positions-smartcambridge/sirivm_cambridgeshire_2019-10-01_0900-1000.csv.gz"
)
GEOFENCES = Path("cambridge-uk-zones-smartcambridge/zones.geojson")
NATIONAL_TAGS = 12_000  # people on GPS tags in England and Wales, 2025 (issue 9)
ZONES_PER_CONDITION = 10
COPY_SHIFT_S = 37
ACCURACY_M = 10.0
PAGE = os.sysconf("SC_PAGE_SIZE")
USER, PASSWORD = "bench-ingest", "bench-ingest-password-1"
TARGET_RATE, TARGET_SHARE = 100_000.0, 0.40
# --full: the terms (sustained: at least 60 s or 6 million fixes, 1 million stored)
FULL = {"tags": NATIONAL_TAGS, "stored": 1_000_000, "live": 6_000_000, "burst": 1_000_000,
        "seconds": 120.0}  # fmt: skip
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Fixes:
    """Fixes as columns: the tag (0..tags-1), position, and Unix time in seconds."""

    tag: IntArray
    lon: FloatArray
    lat: FloatArray
    t: IntArray

    def __len__(self) -> int:
        return len(self.tag)

    def take(self, order: IntArray) -> Fixes:
        return Fixes(self.tag[order], self.lon[order], self.lat[order], self.t[order])


@dataclass
class Phase:
    """One timed sending: fixes accepted, seconds, answers by status."""

    name: str
    fixes: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    stored: int = 0
    duplicates: int = 0

    @property
    def rate(self) -> float:
        return self.fixes / max(self.seconds, 1e-9)


@dataclass
class IngestResult:
    """What one run measured."""

    tags: int
    live: Phase
    burst: Phase
    resent: Phase
    copy_rows: int
    copy_seconds: float
    breakdown: dict[str, float]
    server_rss_peak_mb: float
    client_rss_peak_mb: float
    alerts: int
    overlapping_alerts: int
    alerts_after_resend: int

    @property
    def copy_rate(self) -> float:
        return self.copy_rows / max(self.copy_seconds, 1e-9)

    @property
    def share_of_copy(self) -> float:
        return self.live.rate / self.copy_rate


def bus_tracks(data_dir: Path) -> pd.DataFrame:
    """The real bus fixes, ordered by bus and time: columns bus (0..B-1), lon, lat, t; the
    buses numbered by how many of their fixes fall in a geofence, most first."""
    import shapely

    with gzip.open(data_dir / BUS_FIXES) as f:
        raw = pd.read_csv(f, usecols=["vehicle_ref", "unix_ts", "latitude", "longitude"])
    raw = raw.drop_duplicates(["vehicle_ref", "unix_ts"])
    points = shapely.points(raw["longitude"].to_numpy(), raw["latitude"].to_numpy())
    inside = np.zeros(len(raw), dtype=np.int64)
    np.add.at(inside, shapely.STRtree(geofences(data_dir)).query(points, "within")[0], 1)
    ranked = raw.assign(inside=inside).groupby("vehicle_ref")["inside"].sum()
    ranked = ranked.sort_values(ascending=False, kind="stable")
    number = pd.Series(np.arange(len(ranked)), index=ranked.index)
    raw = raw.assign(bus=raw["vehicle_ref"].map(number)).sort_values(["bus", "unix_ts"])
    return pd.DataFrame(
        {
            "bus": raw["bus"].to_numpy(np.int64),
            "lon": raw["longitude"].to_numpy(np.float64),
            "lat": raw["latitude"].to_numpy(np.float64),
            "t": raw["unix_ts"].to_numpy(np.int64),
        }
    )


def geofences(data_dir: Path) -> list[Any]:
    """The 86 real Smart Cambridge geofences, as shapely geometries."""
    from shapely.geometry import shape

    features = json.loads((data_dir / GEOFENCES).read_text())["features"]
    return [shape(f["geometry"]) for f in features]


def scaled(tracks: pd.DataFrame, tags: int, per_tag: int, end: datetime) -> Fixes:
    """``per_tag`` fixes of each of ``tags`` tags by the rules in the module's docstring, in
    tag-then-time order, the last one at ``end``."""
    bus = tracks["bus"].to_numpy()
    buses = int(bus.max()) + 1
    starts = np.searchsorted(bus, np.arange(buses))
    counts = np.diff(np.append(starts, len(bus)))
    hour0 = int(tracks["t"].min())
    tag = np.repeat(np.arange(tags, dtype=np.int64), per_tag)
    j = np.tile(np.arange(per_tag, dtype=np.int64), tags)
    b = tag % buses
    idx = starts[b] + j % counts[b]
    t = (
        tracks["t"].to_numpy()[idx]
        - hour0
        + (j // counts[b]) * 3600
        + (tag // buses) * COPY_SHIFT_S
    )
    t = t + (int(end.timestamp()) - int(t.max()))
    return Fixes(tag, tracks["lon"].to_numpy()[idx], tracks["lat"].to_numpy()[idx], t)


def rules(buses: int, tags: int, per_tag: int) -> str:
    return (
        f"synthetic part: {tags:,} tags replay {buses} real buses (numbered by fixes in a "
        f"geofence, most first; tag k: bus k mod {buses}, "
        f"{COPY_SHIFT_S} s later per copy k div {buses}); {per_tag:,} fixes per tag, the "
        f"bus's hour repeated an hour later when used up; real positions; accuracy "
        f"{ACCURACY_M:g} m; times moved so the last fix was 5 minutes ago"
    )


# -- the database -----------------------------------------------------------------------------


def seed(url: str, data_dir: Path, tags: int, since: datetime, tracks: pd.DataFrame) -> list[str]:
    """The real geofences, and ``tags`` subjects each wearing a device since ``since``,
    under an SHPO whose condition names 10 of them: those its bus entered most, then the
    next ones in the file; the devices' identifiers."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from service.db import devices_store, orders_store, zones_store
    from zones import model

    shapes = geofences(data_dir)
    chosen = zones_of_buses(tracks, shapes)
    engine = create_engine(url)
    devices = [f"bench-tag-{k:05d}" for k in range(tags)]
    try:
        with Session(engine) as session:
            zone_ids = zones_store.create_many(
                session,
                shapes,
                [f"Geofence {i}" for i in range(len(shapes))],
                ["other"] * len(shapes),
                ["Smart Cambridge geofences"] * len(shapes),
            )
            for k, device in enumerate(devices):
                subject = orders_store.create_subject(
                    session, model.Subject(None, f"BENCH-{k:05d}", f"Bench tag {k}", unit="bench")
                )
                assert subject.id is not None
                names = [zone_ids[z] for z in chosen[k % len(chosen)]]
                orders_store.create_order(
                    session,
                    model.Order(
                        None,
                        subject.id,
                        f"SHPO/BENCH/{k:05d}",
                        model.OrderType.SHPO,
                        date(2000, 1, 1),
                        None,
                        (model.Condition(None, "Not to enter these places.", tuple(names)),),
                    ),
                )
                devices_store.assign_device(session, device, subject.id, since, USER)
            session.commit()
    finally:
        engine.dispose()
    return devices


def zones_of_buses(tracks: pd.DataFrame, zones: list[Any]) -> list[list[int]]:
    """For each bus, 10 zones (indices): those its fixes fall in most, then the next in order."""
    import shapely

    points = shapely.points(tracks["lon"].to_numpy(), tracks["lat"].to_numpy())
    fix, zone = shapely.STRtree(zones).query(points, predicate="within")
    hits = pd.DataFrame({"bus": tracks["bus"].to_numpy()[fix], "zone": zone})
    ranked = hits.groupby(["bus", "zone"]).size().sort_values(ascending=False).reset_index()
    chosen: list[list[int]] = []
    for b in range(int(tracks["bus"].max()) + 1):
        mine = ranked.loc[ranked["bus"] == b, "zone"].tolist()[:ZONES_PER_CONDITION]
        others = (z % len(zones) for z in range(b, b + len(zones)))
        mine += [z for z in others if z not in mine][: ZONES_PER_CONDITION - len(mine)]
        chosen.append(mine)
    return chosen


COPY_COLUMNS = ("subject_id", "device_id", "kind", "observed_at", "geom", "accuracy_m", "late")


def copy_text(fixes: Fixes, devices: list[str]) -> bytes:
    """The fixes as rows of ``COPY ... FROM STDIN`` (text), the subject of tag k being k+1."""
    import shapely

    stamps = pd.to_datetime(fixes.t, unit="s", utc=True).strftime("%Y-%m-%d %H:%M:%S+00")
    frame = pd.DataFrame(
        {
            "subject_id": fixes.tag + 1,
            "device_id": np.asarray(devices, dtype=object)[fixes.tag],
            "kind": "fix",
            "observed_at": stamps,
            "geom": shapely.to_wkb(
                shapely.set_srid(shapely.points(fixes.lon, fixes.lat), 4326),
                hex=True,
                include_srid=True,
            ),
            "accuracy_m": ACCURACY_M,
            "late": "t",
        }
    )
    from service import monitoring

    keys = monitoring.copy_keys(
        frame["subject_id"].tolist(),
        frame["device_id"].tolist(),
        fixes.t.tolist(),
        fixes.lon.tolist(),
        fixes.lat.tolist(),
    )
    for name, values in keys.items():
        frame[name] = values
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False)
    return buffer.getvalue().encode()


def copy_rows(url: str, text: bytes, *, keep: bool) -> float:
    """``COPY`` the rows into observations; seconds taken. Rolled back unless ``keep``."""
    import psycopg

    from service import monitoring

    columns = ", ".join((*COPY_COLUMNS, *monitoring.KEY_COLUMNS))
    with psycopg.connect(_libpq(url)) as connection:
        with connection.cursor() as cursor:
            began = time.perf_counter()
            with cursor.copy(f"COPY observations ({columns}) FROM STDIN") as copy:
                for start in range(0, len(text), 1 << 20):
                    copy.write(text[start : start + (1 << 20)])
            seconds = time.perf_counter() - began
        if keep:
            connection.commit()
        else:
            connection.rollback()
    if not keep:
        with psycopg.connect(_libpq(url), autocommit=True) as connection:
            connection.execute("VACUUM observations")  # the rolled-back rows' index entries
    return seconds


def _libpq(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def alert_checks(url: str) -> tuple[int, int]:
    """Visible alerts, and pairs of them on one track that overlap in time (should be 0)."""
    import psycopg

    with psycopg.connect(_libpq(url)) as connection:
        total = connection.execute(
            "SELECT count(*) FROM alerts WHERE merged_into IS NULL"
        ).fetchone()
        overlapping = connection.execute(
            """SELECT count(*) FROM alerts a JOIN alerts b
               ON a.subject_id = b.subject_id AND a.clause_id = b.clause_id
              AND a.zone_id = b.zone_id AND a.severity = b.severity AND a.id < b.id
              AND a.merged_into IS NULL AND b.merged_into IS NULL
              AND a.first_at <= b.last_at AND b.first_at <= a.last_at"""
        ).fetchone()
    assert total is not None and overlapping is not None
    return int(total[0]), int(overlapping[0])


# -- the server and the clients ---------------------------------------------------------------


@contextlib.contextmanager
def zones_serve(
    url: str, *, workers: int, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    """``zones serve`` on a free port, in its own process group; killed afterwards. ``env``:
    settings of the bench's own on top of the environment."""
    host, port = "127.0.0.1", _free_port()
    extra, env = env or {}, dict(os.environ)
    env.update(
        ZONES_DATABASE_URL=url,
        ZONES_MAP_TILES="none",
        PYTHONPATH=os.pathsep.join(p for p in (str(PROJECT), env.get("PYTHONPATH")) if p),
        **extra,
    )
    command = [sys.executable, "-m", "service.cli", "serve", "--host", host,
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_ready(host, port, process, log)
            yield host, port, process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait()


def fix_json(fixes: Fixes, devices: list[str], rows: range) -> bytes:
    """A batch as the client sends it."""
    stamps = pd.to_datetime(fixes.t[rows.start : rows.stop], unit="s", utc=True)
    return json.dumps(
        [
            {
                "device_id": devices[int(fixes.tag[i])],
                "lon": float(fixes.lon[i]),
                "lat": float(fixes.lat[i]),
                "time": s.isoformat(),
                "accuracy_m": ACCURACY_M,
            }
            for i, s in zip(rows, stamps, strict=True)
        ]
    ).encode()


class _RssPeak:
    """The peak resident memory of a process and its children, sampled five times a second."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.stopping = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _RssPeak:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()

    def _watch(self) -> None:
        while not self.stopping.wait(0.2):
            self.peak = max(self.peak, tree_rss(self.pid))


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux ``/proc``)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent[int(stat.parent.name)] = int(fields[1])
    family, grown = {pid}, True
    while grown:
        more = {p for p, pp in parent.items() if pp in family} - family
        family |= more
        grown = bool(more)
    total = 0
    for p in family:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
    return total


def send(
    host: str,
    port: int,
    token: str,
    name: str,
    fixes: Fixes,
    devices: list[str],
    batches: list[range],
    clients: int,
    seconds: float | None = None,
) -> Phase:
    """Send the batches from ``clients`` threads, each on its own connection; stop taking
    new ones after ``seconds``."""
    work: queue.Queue[range] = queue.Queue()
    for b in batches:
        work.put(b)
    result = Phase(name)
    lock = threading.Lock()
    began = time.perf_counter()

    def client() -> None:
        api = _Api(host, port)
        api.headers["Authorization"] = f"Bearer {token}"
        try:
            while seconds is None or time.perf_counter() - began < seconds:
                try:
                    rows = work.get_nowait()
                except queue.Empty:
                    return
                body = json.loads(fix_json(fixes, devices, rows))
                status, answer = api.call("POST", "/api/v1/observations", body)
                with lock:
                    result.statuses[str(status)] += 1
                    if status == 200:
                        result.fixes += int(answer["accepted"])
                        for r in answer["results"]:
                            result.stored += r["status"] == "stored"
                            result.duplicates += r["status"] == "duplicate"
        finally:
            api.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result


def breakdown(url: str, fixes: Fixes, devices: list[str], batches: list[range]) -> dict[str, float]:
    """Seconds per phase of the route's own code over ``batches``, run in this process."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from service import heap, monitoring
    from service.api.observations_routes import parse_fixes
    from service.phase_clock import listening, phase
    from service.settings import ApiSettings

    settings = ApiSettings()
    heap.settle()  # as each server process does once started
    engine = create_engine(url)
    try:
        with listening() as totals:
            for rows in batches:
                body = fix_json(fixes, devices, rows)
                began = time.perf_counter()
                with phase("json decode"):
                    raw = json.loads(body)
                now = datetime.now(UTC)
                with Session(engine) as session:
                    with phase("parse"):
                        good, _, _ = parse_fixes(raw, now)
                    monitoring.record(
                        session, good, settings, reporter=USER, now=now, outside=False
                    )
                    with phase("commit"):
                        session.commit()
                totals["total"] += time.perf_counter() - began
                totals["fixes"] += len(rows)
                totals["subject-batches"] += len(set(fixes.tag[rows.start : rows.stop].tolist()))
    finally:
        engine.dispose()
    return dict(totals)


# -- the run ----------------------------------------------------------------------------------


def run_ingest_bench(
    data_dir: Path,
    database_url: str | None = None,
    *,
    tags: int = 200,
    live: int = 20_000,
    stored: int = 10_000,
    burst: int = 10_000,
    batch: int = 2_000,
    clients: int = 2,
    workers: int = 2,
    probe_batches: int = 2,
    seconds: float | None = None,
    out: Callable[[str], None] = print,
) -> IngestResult:
    """Seed, store history, time ``COPY``, send live and burst fixes, check alerts; print it all.

    ``live``, ``stored`` and ``burst`` are fix counts (rounded up to whole fixes per tag);
    ``seconds`` stops the live phase taking new batches after that long.
    """
    tracks = bus_tracks(data_dir)
    buses = int(tracks["bus"].max()) + 1
    # whole fixes per tag, rounded up: --full stores and bursts at least its millions
    per_live, per_stored, per_burst = (max(1, -(-n // tags)) for n in (live, stored, burst))
    per_tag = per_stored + per_live + per_burst
    now = datetime.now(UTC)
    everything = scaled(tracks, tags, per_tag, now - timedelta(minutes=5))
    out(rules(buses, tags, per_tag))
    j = np.tile(np.arange(per_tag), tags)
    history = everything.take(np.flatnonzero(j < per_stored))
    in_live = np.flatnonzero((j >= per_stored) & (j < per_stored + per_live))
    live_fixes = everything.take(in_live[np.argsort(everything.t[in_live], kind="stable")])
    burst_fixes = everything.take(np.flatnonzero(j >= per_stored + per_live))  # tag by tag
    since = datetime.fromtimestamp(int(everything.t.min()) - 60, UTC)

    with _database(database_url) as url:
        _seed_user(url, USER, PASSWORD)
        began = time.perf_counter()
        devices = seed(url, data_dir, tags, since, tracks)
        seeding_s = time.perf_counter() - began
        out(
            f"seeded {tags:,} subjects, each with a device and a condition of "
            f"{ZONES_PER_CONDITION} of the real geofences, in {seeding_s:.1f} s"
        )
        copy_rows(url, copy_text(history, devices), keep=True)
        out(f"stored {len(history):,} fixes of history by COPY (not judged)")
        live_batches = [
            range(s, min(s + batch, len(live_fixes))) for s in range(0, len(live_fixes), batch)
        ]
        probe, live_batches = live_batches[:probe_batches], live_batches[probe_batches:]
        sent = live_fixes.take(np.arange(live_batches[0].start, len(live_fixes)))
        copy_s = copy_rows(url, copy_text(sent, devices), keep=False)
        out(f"COPY of the {len(sent):,} live fixes into observations (all its indexes, "
            f"rolled back): {copy_s:.2f} s, {len(sent) / copy_s:,.0f} rows/s")  # fmt: skip
        parts = breakdown(url, live_fixes, devices, probe)
        with (
            zones_serve(url, workers=workers) as (host, port, process),
            _RssPeak(process.pid) as rss,
        ):
            api = _Api(host, port)
            api.sign_in(USER, PASSWORD)
            token = api.headers["Authorization"].removeprefix("Bearer ")
            api.close()
            live_phase = send(host, port, token, "live", live_fixes, devices, live_batches,
                              clients, seconds)  # fmt: skip
            burst_batches = [
                range(s, min(s + batch, len(burst_fixes)))
                for s in range(0, len(burst_fixes), batch)
            ]
            burst_phase = send(host, port, token, "burst", burst_fixes, devices, burst_batches,
                               clients)  # fmt: skip
            alerts, overlapping = alert_checks(url)
            resent = send(host, port, token, "burst again", burst_fixes, devices, burst_batches,
                          clients)  # fmt: skip
            alerts_again, _ = alert_checks(url)
        result = IngestResult(
            tags=tags,
            live=live_phase,
            burst=burst_phase,
            resent=resent,
            copy_rows=len(sent),
            copy_seconds=copy_s,
            breakdown=parts,
            server_rss_peak_mb=rss.peak / 2**20,
            client_rss_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            alerts=alerts,
            overlapping_alerts=overlapping,
            alerts_after_resend=alerts_again,
        )
    report(result, workers, clients, batch, out)
    return result


STORING = ("json decode", "parse", "attribution", "insert", "commit")
JUDGING = ("lock", "context", "judge", "verdicts", "transits", "stays")


def ceiling(parts: dict[str, float], copy_rate: float) -> str:
    """Where the ceiling is, from the breakdown: what one process could do storing alone,
    and what judging adds per subject of a batch."""
    fixes, subjects = parts.get("fixes", 0.0), parts.get("subject-batches", 0.0)
    store = sum(parts.get(k, 0.0) for k in STORING)
    judge = sum(parts.get(k, 0.0) for k in JUDGING)
    if not (fixes and subjects and store and judge):
        return "ceiling: not measured (no batch was timed)"
    return (
        f"ceiling, by this breakdown, one process: storing alone (decode, parse, attribution, "
        f"insert, commit) {fixes / store:,.0f} fixes/s ({store / fixes * 1e6:,.0f} us a fix); "
        f"judging adds {judge / subjects * 1e6:,.0f} us per subject of a batch "
        f"({judge / (store + judge):.0%} of the time), so at these batches' mix "
        f"({fixes / subjects:.1f} fixes a subject) one process tops out near "
        f"{fixes / (store + judge):,.0f} fixes/s. 100,000 fixes/s "
        f"on 2 cores leaves 20 us a fix for everything; COPY alone takes "
        f"{1e6 / copy_rate:,.0f} us a row"
    )


def report(
    r: IngestResult, workers: int, clients: int, batch: int, out: Callable[[str], None]
) -> None:
    for p in (r.live, r.burst, r.resent):
        out(f"{p.name:>12}: {p.fixes:,} fixes accepted in {p.seconds:.1f} s = {p.rate:,.0f} "
            f"fixes/s end to end ({p.stored:,} stored, {p.duplicates:,} duplicate; answers "
            f"{dict(p.statuses)}; {workers} server processes, {clients} clients, batches of "
            f"{batch:,})")  # fmt: skip
    out(f"COPY: {r.copy_rate:,.0f} rows/s; live end to end / COPY = {r.share_of_copy:.1%} "
        f"(target {TARGET_SHARE:.0%}); target {TARGET_RATE:,.0f} fixes/s: "
        f"{'met' if r.live.rate >= TARGET_RATE else 'NOT MET'}")  # fmt: skip
    out(f"memory: server RSS peak {r.server_rss_peak_mb:,.0f} MB (all its processes), "
        f"client peak {r.client_rss_peak_mb:,.0f} MB")  # fmt: skip
    total = r.breakdown.get("total", 0.0)
    out("where a live batch's time goes (the route's code in this process, one process):")
    for name in ("json decode", "parse", "attribution", "lock", "insert", "context", "judge",
                 "verdicts", "transits", "stays", "commit"):  # fmt: skip
        if name in r.breakdown:
            out(f"  {name:>12}: {r.breakdown[name]:7.2f} s  {r.breakdown[name] / total:6.1%}")
    out(f"  {'total':>12}: {total:7.2f} s")
    pairs = r.breakdown.get("subject-batches", 0.0)
    per_subject = sum(
        r.breakdown.get(k, 0.0) for k in ("lock", "context", "judge", "transits", "stays")
    )
    if pairs:
        fixes = r.breakdown.get("fixes", 0.0)
        out(
            f"  {fixes:,.0f} fixes of {pairs:,.0f} subjects: per subject and batch "
            f"{1000 * per_subject / pairs:.2f} ms of context, judging, transits and stays, "
            f"{1000 * (total - per_subject) / fixes:.3f} ms per fix of the rest"
        )
        out(ceiling(r.breakdown, r.copy_rate))
    need = r.tags / 60
    out(
        f"real time: {r.tags:,} tags at one fix a minute send {need:,.0f} fixes/s; live end "
        f"to end took {r.live.rate:,.0f}/s: {'keeps up' if r.live.rate >= need else 'FALLS BEHIND'}"
    )
    out(f"alerts: {r.alerts:,} raised; {r.overlapping_alerts} overlap another of their track "
        f"(must be 0); after sending the burst again: {r.alerts_after_resend:,} "
        f"({'unchanged' if r.alerts_after_resend == r.alerts else 'CHANGED'})")  # fmt: skip
