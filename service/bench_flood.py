"""The sign-in flood benchmark: how much an anonymous flood of sign-ins slows signed-in users.

It serves the app with uvicorn in its own process, on a scratch database (or a given one)
seeded with an officer and two subjects with zones; times sighting checks made by the
signed-in officer, first alone and then while another process floods ``POST /auth/token``
from many connections, with wrong passwords, varied usernames and forged
``X-Forwarded-For`` headers; and prints the latencies and their ratio against the target
(under the flood, at most twice as slow). The three parts run in three processes so that
none of them competes with another for Python's global lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np

from service.settings import DatabaseSettings

TARGET_RATIO = 2.0
CENTRE = (0.1200, 52.2000)  # Cambridge
PROJECT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Latency:
    """Sighting-check latencies of one phase, in milliseconds."""

    samples_ms: tuple[float, ...]
    failures: int

    def __add__(self, other: Latency) -> Latency:
        return Latency(self.samples_ms + other.samples_ms, self.failures + other.failures)

    @property
    def p50(self) -> float:
        return float(np.percentile(self.samples_ms, 50))

    @property
    def p99(self) -> float:
        return float(np.percentile(self.samples_ms, 99))


@dataclass(frozen=True)
class FloodResult:
    """Both phases, and what the flood got back (HTTP status -> count)."""

    alone: Latency
    flooded: Latency
    flood_statuses: dict[str, int]
    flood_seconds: float
    clients: int

    @property
    def ratio_p50(self) -> float:
        return self.flooded.p50 / self.alone.p50

    @property
    def ratio_p99(self) -> float:
        return self.flooded.p99 / self.alone.p99

    @property
    def flood_rate(self) -> float:
        """Sign-in attempts answered per second during the flood."""
        return sum(self.flood_statuses.values()) / max(self.flood_seconds, 1e-9)


def run_flood_bench(
    database_url: str | None = None,
    *,
    checks: int = 200,
    clients: int = 64,
    workers: int = 1,
    trust_proxy: bool = False,
    rounds: int = 4,
    warmup_s: float = 2.0,
    out: Callable[[str], None] = print,
) -> FloodResult:
    """Serve the app, seed it, time sighting checks alone and under a sign-in flood.

    Parameters
    ----------
    database_url
        A migrated-or-empty PostGIS database to use (it is migrated and gets a bench user and
        two subjects); None for a scratch database, dropped afterwards.
    checks
        Sighting checks timed in each phase (after a few untimed ones).
    rounds
        Turns of checks alone and checks under the flood: ``checks / rounds`` each.
    clients
        Concurrent connections of the flood, each sending sign-ins back to back.
    workers
        uvicorn worker processes.
    trust_proxy
        Serve as if behind a proxy at 127.0.0.1, so each forged ``X-Forwarded-For`` counts
        as another client: the flood then looks like one from many addresses.
    warmup_s
        How long the flood runs before the timed checks of a turn start (and how long it
        is given to stop).
    """
    with _database(database_url) as url:
        password = secrets.token_urlsafe(18)
        username = f"bench-officer-{secrets.token_hex(3)}"
        _seed_user(url, username, password)
        with (
            _server(url, workers=workers, trust_proxy=trust_proxy) as (host, port),
            contextlib.closing(_Api(host, port)) as api,
        ):
            api.sign_in(username, password)
            subjects = [api.seed_subject(tag) for tag in ("A", "B")]
            out(
                f"zones bench flood: sighting checks by a signed-in officer, alone and under "
                f"an anonymous flood of sign-ins from {clients} connections; "
                f"{workers} server process(es), {checks} timed checks per phase"
                + ("; behind a trusted proxy (forged addresses believed)" if trust_proxy else "")
            )
            start = datetime.now(UTC) - timedelta(hours=12)
            _timed(api, subjects[0], start, min(10, checks))  # warm caches and pools
            # Alone and flooded in turns, so that a neighbour's load on the machine falls on
            # both phases alike; each subject keeps its own track of sightings.
            alone, flooded = Latency((), 0), Latency((), 0)
            flood = _Flood(host, port, clients, usernames=[username, "admin", "control"])
            flood.start()
            flooding_s = 0.0
            try:
                for turn in range(rounds):
                    n = checks // rounds + (turn < checks % rounds)
                    at = start + timedelta(hours=1, minutes=turn * n)
                    alone += _timed(api, subjects[0], at, n)
                    flood.active.set()
                    began = time.perf_counter()
                    time.sleep(warmup_s)
                    flooded += _timed(api, subjects[1], at, n)
                    flood.active.clear()
                    flooding_s += time.perf_counter() - began
                    flood.wait_quiet()  # the server has answered every sign-in sent
            finally:
                statuses = flood.stop()
            out(_line("alone", alone))
            out(_line("under flood", flooded))
    result = FloodResult(alone, flooded, statuses, flooding_s, clients)
    answered = ", ".join(f"{k}: {v:,}" for k, v in sorted(result.flood_statuses.items()))
    out(
        f"the flood: {sum(statuses.values()):,} sign-in attempts in {flooding_s:.1f} s "
        f"of flooding ({result.flood_rate:,.0f}/s); answers {answered or 'none'}"
    )
    within = max(result.ratio_p50, result.ratio_p99) <= TARGET_RATIO
    out(
        f"under flood / alone: p50 {result.ratio_p50:.2f}x, p99 {result.ratio_p99:.2f}x "
        f"(target at most {TARGET_RATIO:g}x): {'within target' if within else 'OVER TARGET'}"
    )
    return result


def _line(phase: str, lat: Latency) -> str:
    failed = f", {lat.failures} failed" if lat.failures else ""
    return (
        f"{phase:>12}: {len(lat.samples_ms)} checks, p50 {lat.p50:.1f} ms, "
        f"p99 {lat.p99:.1f} ms, max {max(lat.samples_ms):.1f} ms{failed}"
    )


def _timed(api: _Api, subject: int, start: datetime, n: int) -> Latency:
    """``n`` sighting checks one after another, alternately inside and outside the zones,
    each a minute after the last; their wall times."""
    samples, failures = [], 0
    for i in range(n):
        offset = 0.0 if i % 2 == 0 else 0.01  # the park's centre, or 700 m east of it
        body = {
            "subject_id": subject,
            "lon": CENTRE[0] + offset,
            "lat": CENTRE[1],
            "accuracy_m": 15,
            "time": (start + timedelta(minutes=i)).isoformat(),
            "source": "officer",
        }
        began = time.perf_counter()
        status, _ = api.call("POST", "/api/v1/sightings/check", body)
        samples.append((time.perf_counter() - began) * 1000)
        failures += status != 200
    return Latency(tuple(samples), failures)


# -- the service -----------------------------------------------------------------------------


@contextlib.contextmanager
def _database(given: str | None) -> Iterator[str]:
    """The given database, or a scratch one beside the configured one (dropped afterwards)."""
    from sqlalchemy import create_engine, make_url, text

    from service.localdb import LocalCluster

    if given:
        yield given
        return
    settings = DatabaseSettings()
    name = f"bench_flood_{os.getpid()}"
    if settings.url:
        base = make_url(settings.url)
        admin_url, target = (
            base.set(database="postgres"),
            base.set(database=f"{base.database}_{name}"),
        )
    else:
        cluster = LocalCluster(settings)
        cluster.ensure()
        admin_url, target = (
            make_url(cluster.url("postgres")),
            make_url(cluster.url(f"zones_{name}")),
        )
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    try:
        with admin.connect() as connection:
            connection.execute(drop)
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
        try:
            yield target.render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(drop)
    finally:
        admin.dispose()


def _seed_user(url: str, username: str, password: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from service.auth import add_user
    from service.db import units_store
    from service.db.migrate import upgrade
    from zones.model import Role

    engine = create_engine(url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            units_store.add_unit(session, "bench", "Bench unit")
            add_user(session, username, password, Role.OFFICER)
            units_store.set_members(session, username, ["bench"])
            session.commit()
    finally:
        engine.dispose()


@contextlib.contextmanager
def _server(url: str, *, workers: int, trust_proxy: bool) -> Iterator[tuple[str, int]]:
    """uvicorn serving the app on a free port, in its own process group; stopped afterwards."""
    host, port = "127.0.0.1", _free_port()
    env = dict(os.environ)
    env.update(
        ZONES_DATABASE_URL=url,
        ZONES_MAP_TILES="none",
        ZONES_AUTH_TRUSTED_PROXIES="127.0.0.1" if trust_proxy else "",
        PYTHONPATH=os.pathsep.join(p for p in (str(PROJECT), env.get("PYTHONPATH")) if p),
    )
    command = [
        sys.executable, "-m", "uvicorn", "service.app:app_from_environment", "--factory",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "3",
        "--no-proxy-headers",  # as `zones serve`: the app alone decides whom to believe
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(host, port, process, log)
            yield host, port
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(host: str, port: int, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"the server stopped while starting:\n{tail}")
        connection = http.client.HTTPConnection(host, port, timeout=5)
        try:
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise RuntimeError("the server did not answer within 90 s")


class _Api:
    """The HTTP API over one kept-alive connection, signed in with a bearer token."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=300)
        self.headers: dict[str, str] = {}

    def close(self) -> None:
        self.connection.close()

    def call(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """The status and JSON answer; once more on a new connection if the server closed
        this one (0 and the error when that fails too)."""
        headers = {**self.headers, "Content-Type": "application/json"}
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, json.dumps(body), headers)
                response = self.connection.getresponse()
                data = response.read()
                return response.status, (json.loads(data) if data else None)
            except (OSError, http.client.HTTPException) as exc:
                self.connection.close()  # reconnects on the next request
                if attempt == 2:
                    return 0, str(exc)
        raise AssertionError("unreachable")

    def sign_in(self, username: str, password: str) -> None:
        form = urlencode({"username": username, "password": password})
        self.connection.request(
            "POST",
            "/api/v1/auth/token",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = self.connection.getresponse()
        token = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"the bench user could not sign in: {token}")
        self.headers["Authorization"] = f"Bearer {token['access_token']}"

    def created(self, path: str, body: Any) -> Any:
        status, answer = self.call("POST", path, body)
        if status != 201:
            raise RuntimeError(f"POST {path} answered {status}: {answer}")
        return answer

    def seed_subject(self, tag: str) -> int:
        """A subject with an SHPO of two clauses: a park, and 200 m round two schools."""
        suffix = secrets.token_hex(3)
        lon, lat = CENTRE
        park = self.created("/api/v1/zones", _zone(f"Bench park {tag}", lon, lat, 0.002))
        schools = [
            self.created("/api/v1/zones", _zone(f"Bench school {tag}{i}", lon + dx, lat, 0.0008))
            for i, dx in enumerate((0.004, -0.004))
        ]
        subject = self.created(
            "/api/v1/subjects", {"reference": f"BENCH-{tag}-{suffix}", "name": f"Bench {tag}"}
        )
        self.created(
            "/api/v1/orders",
            {
                "subject_id": subject["id"],
                "reference": f"SHPO/BENCH/{tag}/{suffix}",
                "starts": "2020-01-01",
                "conditions": [
                    {"text": "Not to enter the park.", "zone_ids": [park["id"]]},
                    {
                        "text": "Not within 200 m of either school.",
                        "zone_ids": [s["id"] for s in schools],
                        "buffer_m": 200,
                    },
                ],
            },
        )
        return int(subject["id"])


def _zone(name: str, lon: float, lat: float, half: float) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"name": name, "category": "park"},
    }


# -- the flood ------------------------------------------------------------------------------


class _Flood:
    """Sign-in attempts from ``clients`` connections, in a process of its own."""

    def __init__(self, host: str, port: int, clients: int, usernames: list[str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.active, self.stopping = context.Event(), context.Event()
        self.in_flight = context.Value("i", 0)  # sign-ins sent and not yet answered
        self.results: multiprocessing.Queue[dict[str, int]] = context.Queue()
        self.process = context.Process(
            target=_flood_process,
            args=(host, port, clients, usernames, self.active, self.stopping, self.in_flight,
                  self.results),
            daemon=True,
        )  # fmt: skip

    def start(self) -> None:
        self.process.start()

    def wait_quiet(self, timeout_s: float = 300) -> None:
        """Wait until the server has answered every sign-in the flood sent."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight.value > 0 and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> dict[str, int]:
        """Stop the process; the statuses of the answers it got."""
        self.active.clear()
        self.stopping.set()
        try:
            return self.results.get(timeout=60)
        finally:
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.kill()


def _flood_process(
    host: str,
    port: int,
    clients: int,
    usernames: list[str],
    active: EventType,
    stopping: EventType,
    in_flight: Any,
    results: multiprocessing.Queue[dict[str, int]],
) -> None:
    counts: Counter[str] = Counter()
    asyncio.run(_flood(host, port, clients, usernames, active, stopping, in_flight, counts))
    results.put(dict(counts))


async def _flood(
    host: str,
    port: int,
    clients: int,
    usernames: list[str],
    active: EventType,
    stopping: EventType,
    in_flight: Any,
    counts: Counter[str],
) -> None:
    tasks = [
        asyncio.create_task(
            _attacker(host, port, usernames, random.Random(i), active, in_flight, counts)
        )
        for i in range(clients)
    ]
    while not stopping.is_set():
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _attacker(
    host: str,
    port: int,
    usernames: list[str],
    rng: random.Random,
    active: EventType,
    in_flight: Any,
    counts: Counter[str],
) -> None:
    """Sign-ins back to back on one kept-alive connection (reopened when the server closes
    it): wrong passwords, known and made-up usernames, a forged client address each time."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while True:
        if not active.is_set():
            await asyncio.sleep(0.02)
            continue
        try:
            if reader is None or writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            name = rng.choice(usernames) if rng.random() < 0.3 else f"user{rng.randrange(10**6)}"
            body = urlencode({"username": name, "password": secrets.token_hex(8)}).encode()
            forged = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            with in_flight.get_lock():
                in_flight.value += 1
            try:
                writer.write(
                    (
                        f"POST /api/v1/auth/token HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\n"
                        f"Content-Length: {len(body)}\r\nX-Forwarded-For: {forged}\r\n\r\n"
                    ).encode()
                    + body
                )
                status, close = await _response(reader)
            finally:
                with in_flight.get_lock():
                    in_flight.value -= 1
            counts[str(status)] += 1
            if close:
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            counts["connection error"] += 1
            reader = writer = None
            await asyncio.sleep(0.01)


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; its status and whether the server closes the connection."""
    status = int((await reader.readline()).split()[1])
    length, chunked, close = 0, False, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        key, _, value = line.decode("latin-1").partition(":")
        key, value = key.strip().lower(), value.strip().lower()
        if key == "content-length":
            length = int(value)
        elif key == "transfer-encoding":
            chunked = "chunked" in value
        elif key == "connection":
            close = "close" in value
    if chunked:
        while size := int((await reader.readline()).strip() or b"0", 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    else:
        await reader.readexactly(length)
    return status, close
