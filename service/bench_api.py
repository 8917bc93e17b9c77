"""``zones bench api``: the sighting check over HTTP against a floor of our own, in one run.

It serves ``zones serve`` on a scratch database (or a given one) seeded with an officer and
subjects under an order of two clauses (a park; 200 m round two schools), on 1 and then on
2 worker processes. Against each it sends, from a load generator in a process of its own,
``POST /api/v1/sightings/check`` and the floor ``POST /api/v1/bench/floor`` (one row
inserted and committed through the same pool: the least a request that stores something
costs, see :mod:`service.api.bench_floor_routes`), from 1 and from 8 connections, and
prints throughput, p50/p95/p99 latency, the server's peak memory, what the load generator
itself used of the CPU, and every ratio of the check to the floor against the targets.
It checks by query that every answered check stored its sighting and every answered floor
request its row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from service.bench_flood import CENTRE, _Api, _database, _response, _seed_user

CHECK, FLOOR = "/api/v1/sightings/check", "/api/v1/bench/floor"
TARGET_P99_MS = 10.0  # at 8 connections
TARGET_P99_RATIO = 3.0  # the check's p99 over the floor's
TARGET_THROUGHPUT = 0.5  # the check's throughput over the floor's
OUTSIDE_DEG = 0.01  # about 680 m east of the park's centre: outside every zone and buffer


@dataclass(frozen=True)
class Phase:
    """One endpoint under one number of connections."""

    name: str
    connections: int
    seconds: float
    samples_ms: np.ndarray[Any, np.dtype[np.float64]]
    failures: int
    client_cpu_s: float

    @property
    def rate(self) -> float:
        return len(self.samples_ms) / self.seconds

    def p(self, q: float) -> float:
        return float(np.percentile(self.samples_ms, q)) if len(self.samples_ms) else float("nan")

    @property
    def client_cores(self) -> float:
        """How much of the machine's CPU the load generator used while it ran."""
        return self.client_cpu_s / self.seconds


@dataclass(frozen=True)
class Served:
    """Every phase against one server, and its peak memory."""

    workers: int
    phases: dict[tuple[str, int], Phase]
    rss_peak_mb: float
    stored: tuple[int, int]  # sightings stored, floor rows stored
    answered: tuple[int, int]  # checks and floor requests answered 200


@dataclass(frozen=True)
class ApiResult:
    runs: list[Served]

    def met(self) -> bool:
        """The issue's targets, at 8 connections on the last (largest) server."""
        last = self.runs[-1]
        check, floor = last.phases[("check", 8)], last.phases[("floor", 8)]
        return (
            check.p(99) <= TARGET_P99_MS
            and check.p(99) <= TARGET_P99_RATIO * floor.p(99)
            and check.rate >= TARGET_THROUGHPUT * floor.rate
        )


def run_api_bench(
    database_url: str | None = None,
    *,
    seconds: float = 10.0,
    warmup_s: float = 2.0,
    subjects: int = 64,
    workers: Sequence[int] = (1, 2),
    connections: Sequence[int] = (1, 8),
    out: Callable[[str], None] = print,
) -> ApiResult:
    """Serve the app on each number of ``workers`` in turn and time both endpoints.

    Parameters
    ----------
    database_url
        A database to seed and use; None for a scratch one, dropped afterwards.
    seconds
        Timed seconds of each phase (an endpoint under a number of connections).
    warmup_s
        Untimed seconds of load before each phase's timed ones.
    subjects
        Subjects the checks are spread over, each sighted a minute after its last (at
        least as many as the most connections: each connection sights its own).
    """
    if subjects < max(connections):
        raise ValueError(f"at least {max(connections)} subjects, one per connection")
    from sqlalchemy import create_engine, text

    from service.api.bench_floor_routes import CREATE, TABLE
    from service.bench_ingest import _RssPeak, zones_serve

    runs: list[Served] = []
    with _database(database_url) as url:
        username, password = "bench-api-officer", "bench-api-password-1"
        _seed_user(url, username, password)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(CREATE))
        ids: list[int] = []
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
        used: dict[int, int] = {}  # minutes each subject's sightings have used so far
        out(
            f"zones bench api: POST {CHECK} against the floor POST {FLOOR} (one row "
            f"inserted and committed through the same pool); {subjects} subjects under an "
            "SHPO of a park and 200 m round two schools, each sighted a minute after its "
            "last, alternately in the park and 680 m east of it (outside); "
            f"{seconds:g} s timed per phase after {warmup_s:g} s of warm-up; the load "
            "generator is one asyncio process on the same machine, its CPU shown"
        )
        try:
            for w in workers:
                env = {"ZONES_API_BENCH_FLOOR": "true"}
                with zones_serve(url, workers=w, env=env) as (host, port, process):
                    with _RssPeak(process.pid) as rss, contextlib.closing(_Api(host, port)) as api:
                        api.sign_in(username, password)
                        token = api.headers["Authorization"]
                        if not ids:
                            ids = [api.seed_subject(f"S{i}") for i in range(subjects)]
                            used = dict.fromkeys(ids, 0)
                        before = _counts(engine, TABLE)
                        phases: dict[tuple[str, int], Phase] = {}
                        answered = [0, 0]
                        for c in connections:
                            for name, path in (("check", CHECK), ("floor", FLOOR)):
                                phase, took = _load(
                                    host, port, token, path, c, seconds, warmup_s, ids,
                                    start, used,
                                )  # fmt: skip
                                for sid, n in took.items():
                                    used[sid] += n
                                phases[(name, c)] = phase
                                answered[name == "floor"] += sum(took.values()) - phase.failures
                                out(_line(w, phase))
                    after = _counts(engine, TABLE)
                    stored = (after[0] - before[0], after[1] - before[1])
                    served = Served(w, phases, rss.peak / 2**20, stored, (answered[0], answered[1]))
                runs.append(served)
                for line in _summary(served, connections):
                    out(line)
        finally:
            with engine.begin() as connection:
                connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
            engine.dispose()
    result = ApiResult(runs)
    last = runs[-1]
    out(
        f"targets at 8 connections on {last.workers} worker(s): "
        f"{'met' if result.met() else 'NOT MET'}"
    )
    return result


def _counts(engine: Any, table: str) -> tuple[int, int]:
    from sqlalchemy import text

    with engine.connect() as connection:
        sightings = connection.execute(
            text("SELECT count(*) FROM observations WHERE kind = 'sighting'")
        ).scalar_one()
        rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    return int(sightings), int(rows)


def _line(workers: int, p: Phase) -> str:
    failed = f", {p.failures} FAILED" if p.failures else ""
    return (
        f"{workers} worker(s), {p.name:<5} {p.connections} connection(s): "
        f"{p.rate:8,.0f} req/s, p50 {p.p(50):6.1f} ms, p95 {p.p(95):6.1f} ms, "
        f"p99 {p.p(99):6.1f} ms; load generator {p.client_cores:.2f} cores{failed}"
    )


def _summary(s: Served, connections: Sequence[int]) -> list[str]:
    lines = [f"{s.workers} worker(s): server memory peak {s.rss_peak_mb:,.0f} MB (all processes)"]
    for c in connections:
        check, floor = s.phases[("check", c)], s.phases[("floor", c)]
        throughput = check.rate / floor.rate
        p99 = check.p(99) / floor.p(99)
        line = (
            f"{s.workers} worker(s), {c} connection(s), check / floor: throughput "
            f"{throughput:.2f}x (target >= {TARGET_THROUGHPUT:g}), p50 "
            f"{check.p(50) / floor.p(50):.2f}x, p99 {p99:.2f}x (target <= {TARGET_P99_RATIO:g}); "
            f"check p99 {check.p(99):.1f} ms (target <= {TARGET_P99_MS:g} ms)"
        )
        if c == 8:
            ok = (
                throughput >= TARGET_THROUGHPUT
                and p99 <= TARGET_P99_RATIO
                and check.p(99) <= TARGET_P99_MS
            )
            line += f": {'within targets' if ok else 'OVER TARGET'}"
        lines.append(line)
    checks, floors = s.answered
    held = s.stored == s.answered and not any(p.failures for p in s.phases.values())
    lines.append(
        f"{s.workers} worker(s): stored {s.stored[0]:,} sightings for {checks:,} checks "
        f"answered, {s.stored[1]:,} floor rows for {floors:,} answered: "
        f"{'checks hold' if held else 'CHECKS FAIL'}"
    )
    return lines


# -- the load generator ------------------------------------------------------------------------


def _load(
    host: str,
    port: int,
    token: str,
    path: str,
    connections: int,
    seconds: float,
    warmup_s: float,
    subjects: list[int],
    start: datetime,
    used: dict[int, int],
) -> tuple[Phase, dict[int, int]]:
    """One phase in a process of its own (so that it shares no lock with this one)."""
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[Any] = context.Queue()
    process = context.Process(
        target=_generator,
        args=(host, port, token, path, connections, seconds, warmup_s, subjects,
              start.isoformat(), dict(used), results),
        daemon=True,
    )  # fmt: skip
    process.start()
    try:
        samples, failures, took, cpu_s = results.get(timeout=seconds + warmup_s + 120)
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    name = "check" if path == CHECK else "floor"
    phase = Phase(name, connections, seconds, np.array(samples, float), failures, cpu_s)
    return phase, took


def _generator(
    host: str,
    port: int,
    token: str,
    path: str,
    connections: int,
    seconds: float,
    warmup_s: float,
    subjects: list[int],
    start: str,
    used: dict[int, int],
    results: multiprocessing.Queue[Any],
) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    began = resource.getrusage(resource.RUSAGE_SELF)
    took = dict.fromkeys(subjects, 0)
    samples: list[float] = []
    failures = [0]
    asyncio.run(
        _drive(host, port, token, path, connections, seconds, warmup_s, subjects,
               datetime.fromisoformat(start), used, took, samples, failures)
    )  # fmt: skip
    ended = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ended.ru_utime - began.ru_utime) + (ended.ru_stime - began.ru_stime)
    # The CPU of the timed part only, in proportion: the warm-up ran the same loop.
    results.put((samples, failures[0], took, cpu * seconds / (seconds + warmup_s)))


async def _drive(
    host: str,
    port: int,
    token: str,
    path: str,
    connections: int,
    seconds: float,
    warmup_s: float,
    subjects: list[int],
    start: datetime,
    used: dict[int, int],
    took: dict[int, int],
    samples: list[float],
    failures: list[int],
) -> None:
    loop_start = time.perf_counter()
    timed_from, stop_at = loop_start + warmup_s, loop_start + warmup_s + seconds

    def body(sid: int) -> bytes:
        minute = used[sid] + took[sid]
        took[sid] += 1
        inside = minute % 2 == 0
        return json.dumps(
            {
                "subject_id": sid,
                "lon": CENTRE[0] + (0.0 if inside else OUTSIDE_DEG),
                "lat": CENTRE[1],
                "accuracy_m": 15,
                "time": (start + timedelta(minutes=minute)).isoformat(),
                "source": "officer",
            }
        ).encode()

    async def client(mine: list[int]) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {token}\r\n"
            "Content-Type: application/json\r\n"
        )
        i = 0
        try:
            while (now := time.perf_counter()) < stop_at:
                data = body(mine[i % len(mine)])
                i += 1
                writer.write(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
                status, close = await _response(reader)
                done = time.perf_counter()
                if status != 200:
                    failures[0] += 1
                elif now >= timed_from and done <= stop_at:
                    samples.append((done - now) * 1000)
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    shares = [subjects[i::connections] for i in range(connections)]
    await asyncio.gather(*(client(mine) for mine in shares if mine))
