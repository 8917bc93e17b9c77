"""Concurrent feeds against a live server: each fix stored once, each stay one alert.

Tracker feeds retry and overlap, so the same fixes can arrive in several requests at once,
in any order. The subject's row lock must serialise them.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine

from service import demo
from service.db.migrate import upgrade
from service.settings import DatabaseSettings, MapSettings, Settings
from tests.conftest import scratch_database
from tests.live import serve

JESUS_GREEN, OUTSIDE = (0.1235, 52.2110), (0.1150, 52.2080)  # demo subject 2 is barred from it


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with scratch_database("concurrency_test") as url:
        engine = create_engine(url)
        upgrade(engine)
        demo.run(engine)
        engine.dispose()
        settings = Settings(database=DatabaseSettings(url=url), map=MapSettings(tiles="none"))
        with serve(settings) as base, httpx.Client(base_url=f"{base}/api/v1", timeout=60) as c:
            form = {"username": "control", "password": "control-demo-pw"}
            token = c.post("/auth/token", data=form).json()["access_token"]
            c.headers["Authorization"] = f"Bearer {token}"
            yield c


def walk(start: datetime) -> list[dict[str, Any]]:
    """600 fixes a second apart: 100 out, 100 in, ... three stays on Jesus Green."""
    return [
        {
            "subject_id": 2,
            "lon": (JESUS_GREEN if (i // 100) % 2 else OUTSIDE)[0],
            "lat": (JESUS_GREEN if (i // 100) % 2 else OUTSIDE)[1],
            "time": (start + timedelta(seconds=i)).isoformat(),
            "accuracy_m": 5,
        }
        for i in range(600)
    ]


def test_the_same_batch_four_times_at_once_is_stored_once(api: httpx.Client) -> None:
    before = {a["id"] for a in api.get("/alerts", params={"subject_id": 2}).json()}
    fixes = walk(datetime.now(UTC) - timedelta(minutes=20))
    random.Random(7).shuffle(fixes)  # out of order as well
    answers: list[dict[str, Any]] = []

    def send() -> None:
        answers.append(api.post("/observations", json=fixes).json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = [r["status"] for answer in answers for r in answer["results"]]
    assert statuses.count("stored") == 600 and statuses.count("duplicate") == 1_800
    stays = [
        a for a in api.get("/alerts", params={"subject_id": 2}).json() if a["id"] not in before
    ]
    assert sorted((a["observation_count"], a["status"]) for a in stays) == [
        (100, "closed"),
        (100, "closed"),
        (100, "open"),
    ]


def test_one_walk_split_over_four_concurrent_requests_is_three_stays(api: httpx.Client) -> None:
    before = {a["id"] for a in api.get("/alerts", params={"subject_id": 2}).json()}
    fixes = walk(datetime.now(UTC) - timedelta(hours=3))  # clear of the demo's own stays
    parts = [fixes[i::4] for i in range(4)]  # every request holds a piece of every stay
    answers: list[dict[str, Any]] = []

    def send(part: list[dict[str, Any]]) -> None:
        answers.append(api.post("/observations", json=part).json())

    threads = [threading.Thread(target=send, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(a["accepted"] for a in answers) == 600
    stays = [
        a for a in api.get("/alerts", params={"subject_id": 2}).json() if a["id"] not in before
    ]
    assert sorted(a["observation_count"] for a in stays) == [100, 100, 100]


def test_the_same_new_device_registered_eight_times_at_once_is_one_device(
    api: httpx.Client,
) -> None:
    with httpx.Client(base_url=api.base_url, timeout=60) as officer:
        form = {"username": "officer", "password": "officer-demo-pw"}
        token = officer.post("/auth/token", data=form).json()["access_token"]
        officer.headers["Authorization"] = f"Bearer {token}"
        answers: list[httpx.Response] = []
        barrier = threading.Barrier(8)

        def register(subject_id: int) -> None:
            barrier.wait()  # all at once: each finds no such device yet
            body = {"identifier": "TAG-RACE", "subject_id": subject_id}
            answers.append(officer.post("/devices", json=body))

        threads = [threading.Thread(target=register, args=(1 + i % 2,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [r.status_code for r in answers] == [201] * 8, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
