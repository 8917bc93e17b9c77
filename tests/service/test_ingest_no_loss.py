"""Nothing acknowledged is lost, nothing is doubled: ``zones serve`` killed with SIGKILL in the
middle of a batch, restarted, and sent again what got no answer and some of what did; and a
database that cannot be reached answers 503 with ``Retry-After``, never a drop or a 500.

Real processes throughout: the server is ``zones serve`` in a process group of its own, the
fixes are real Cambridge bus fixes (see :mod:`service.bench_ingest` for how they are spread
over tags), each tag's subject is under a condition of 10 real geofences.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url

from service import bench_ingest
from service.bench_flood import _Api, _seed_user
from tests.conftest import scratch_database

pytestmark = pytest.mark.shared_data

TAGS, PER_TAG, BATCH = 12, 100, 100  # 1,200 fixes in 12 batches
PATH = "/api/v1/observations"


@pytest.fixture(scope="module")
def world(shared_data: Path) -> Iterator[tuple[str, bench_ingest.Fixes, list[str]]]:
    """A migrated scratch database with the bench user and tags; the fixes, in time order."""
    with scratch_database("noloss") as url:
        _seed_user(url, bench_ingest.USER, bench_ingest.PASSWORD)
        tracks = bench_ingest.bus_tracks(shared_data)
        fixes = bench_ingest.scaled(tracks, TAGS, PER_TAG, datetime.now(UTC) - timedelta(minutes=5))
        fixes = fixes.take(fixes.t.argsort(kind="stable"))
        since = datetime.fromtimestamp(int(fixes.t.min()) - 60, UTC)
        devices = bench_ingest.seed(url, shared_data, TAGS, since, tracks)
        yield url, fixes, devices


def signed_in(host: str, port: int) -> _Api:
    api = _Api(host, port)
    api.sign_in(bench_ingest.USER, bench_ingest.PASSWORD)
    return api


def batch_body(fixes: bench_ingest.Fixes, devices: list[str], rows: range) -> Any:
    return json.loads(bench_ingest.fix_json(fixes, devices, rows))


def stored(url: str) -> dict[tuple[str, datetime], int]:
    """How many times each (device, time) is stored."""
    with psycopg.connect(libpq(url)) as c:
        rows = c.execute(
            "SELECT device_id, observed_at, count(*) FROM observations GROUP BY 1, 2"
        ).fetchall()
    return {(d, t): n for d, t, n in rows}


def libpq(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def test_a_server_killed_mid_batch_loses_and_doubles_nothing(
    world: tuple[str, bench_ingest.Fixes, list[str]],
) -> None:
    url, fixes, devices = world
    batches = [range(s, min(s + BATCH, len(fixes))) for s in range(0, len(fixes), BATCH)]
    answers: dict[int, Any] = {}
    in_flight = threading.Event()
    answered_before_kill = threading.Event()

    with bench_ingest.zones_serve(url, workers=1) as (host, port, process):
        api = signed_in(host, port)
        token = api.headers["Authorization"]

        def client() -> None:
            for b, rows in enumerate(batches):
                body = batch_body(fixes, devices, rows)
                in_flight.set()
                status, answer = api.call("POST", PATH, body)
                in_flight.clear()
                if status != 200:
                    return  # the server is gone: the rest is sent again after the restart
                answers[b] = answer
                if len(answers) >= 4:
                    answered_before_kill.set()

        sender = threading.Thread(target=client)
        sender.start()
        assert answered_before_kill.wait(120), "four batches were not answered in time"
        time.sleep(0.15)  # into the next batch's work
        assert in_flight.wait(10)
        os.killpg(process.pid, signal.SIGKILL)
        sender.join(60)
        api.close()
    assert 4 <= len(answers) < len(batches), "the kill came after every batch was answered"
    answered_first = dict(answers)

    with bench_ingest.zones_serve(url, workers=1) as (host, port, _):
        api = _Api(host, port)
        api.headers["Authorization"] = token  # the token outlives the process
        unanswered = [b for b in range(len(batches)) if b not in answered_first]
        again = sorted(answered_first)[::2]  # some that did get an answer, sent once more
        for b in sorted(unanswered + again):
            status, answer = api.call("POST", PATH, batch_body(fixes, devices, batches[b]))
            assert status == 200, answer
            answers[b] = answer
            if b in answered_first:
                assert {r["status"] for r in answer["results"]} == {"duplicate"}
                assert [r["observation_id"] for r in answer["results"]] == [
                    r["observation_id"] for r in answered_first[b]["results"]
                ]
        api.close()

    counts = stored(url)
    expected = {
        (devices[int(fixes.tag[i])], datetime.fromtimestamp(int(fixes.t[i]), UTC))
        for rows in batches
        for i in rows
    }
    assert set(counts) == expected  # every fix is stored...
    assert max(counts.values()) == 1  # ...once
    alert_ids = {
        a for ans in answered_first.values() for r in ans["results"] for a in r["alert_ids"]
    }
    with psycopg.connect(libpq(url)) as c:
        found = {r[0] for r in c.execute("SELECT id FROM alerts").fetchall()}
    assert alert_ids, "the fixes answered before the kill opened no alert: a weak test"
    assert alert_ids <= found  # every alert answered before the kill was committed with it
    _, overlapping = bench_ingest.alert_checks(url)
    assert overlapping == 0


def test_a_database_out_of_reach_answers_503_with_retry_after(
    world: tuple[str, bench_ingest.Fixes, list[str]],
) -> None:
    url, fixes, devices = world
    name = make_url(url).database
    body = batch_body(fixes, devices, range(0, 50))
    with bench_ingest.zones_serve(url, workers=1) as (host, port, _):
        api = signed_in(host, port)
        with psycopg.connect(libpq(url, "postgres"), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            try:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                api.connection.request(
                    "POST",
                    PATH,
                    json.dumps(body),
                    {**api.headers, "Content-Type": "application/json"},
                )
                response = api.connection.getresponse()
                answer = json.loads(response.read())
                assert response.status == 503, answer
                assert response.getheader("Retry-After") == "5"
                assert answer["error"]["code"] == "database_unavailable"
            finally:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        status, answer = api.call("POST", PATH, body)  # sent again once it is back
        assert status == 200, answer
        api.close()
    counts = stored(url)
    assert all(
        counts[(devices[int(fixes.tag[i])], datetime.fromtimestamp(int(fixes.t[i]), UTC))] == 1
        for i in range(50)
    )
