"""Shapes that cost far more to check than their size suggests, and a probe that sends them
to the API in a process of its own, to measure its peak memory and that of its children.

Run as ``python -m tests.service.shape_bombs DATABASE_URL``: it serves the app in-process
(over a transaction it rolls back), sends each bomb as an officer, and prints one JSON line:
each answer's status, error code and seconds, and the peak resident memory of the process
and of every process it started, in MB.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
from multiprocessing import forkserver
from typing import Any

import numpy as np

SQUARE = [[0.12, 52.2], [0.13, 52.2], [0.13, 52.21], [0.12, 52.21], [0.12, 52.2]]


def feature(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"name": "B", "category": "x"}}


def copies(n: int) -> dict[str, Any]:
    """The issue's bomb: a MultiPolygon of ``n`` copies of one square (4,000: 320 kB)."""
    return {"type": "MultiPolygon", "coordinates": [[SQUARE]] * n}


def star(n: int = 2001) -> dict[str, Any]:
    """A star polygon whose every edge crosses about n/2 others: 80 kB, and repairing it
    takes minutes and gigabytes."""
    i = (np.arange(n + 1) * (n // 2)) % n
    angle = 2 * math.pi * i / n
    ring = np.c_[0.12 + 0.01 * np.cos(angle), 52.2 + 0.01 * np.sin(angle)]
    return {"type": "Polygon", "coordinates": [ring.tolist()]}


def target(n: int = 2500) -> dict[str, Any]:
    """A valid MultiPolygon of ``n`` nested square rings (each a square with a hole, inside
    the hole of the last): 700 kB, and GEOS takes 10 s to confirm it is valid."""
    parts = []
    for k in range(n):
        outer, inner = 0.1 * (1 - 2 * k / (2 * n)), 0.1 * (1 - (2 * k + 1) / (2 * n))
        parts.append([_square(outer), _square(inner)[::-1]])
    return {"type": "MultiPolygon", "coordinates": parts}


def _square(r: float) -> list[list[float]]:
    return [[0.12 - r, 52.2 - r], [0.12 + r, 52.2 - r], [0.12 + r, 52.2 + r], [0.12 - r, 52.2 + r],
            [0.12 - r, 52.2 - r]]  # fmt: skip


def bombs() -> dict[str, tuple[dict[str, Any], bool]]:
    """Each bomb by name, with whether to ask for it to be repaired."""
    return {
        "4000 copies, repaired": (copies(4_000), True),
        "50000 copies": (copies(50_000), False),
        "a star, repaired": (star(), True),
        "nested rings": (target(), False),
    }


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM): unlike ``ru_maxrss``, which Linux carries
    over an exec, so that a process started by a big one (pytest) starts at its size."""
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def main(url: str) -> None:
    from zones import bounded

    # The fork server first, while this process is small: an exec'd process's ru_maxrss
    # starts at its parent's, and the server's children (where the checks run) are
    # counted through it.
    bounded.warm_up()
    # Imported here: the fork server's children import this module again (it is __main__),
    # and the checks they run need none of this.
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from service.app import create_app
    from service.auth import add_user
    from service.settings import MapSettings, Settings
    from zones.model import Role

    engine = create_engine(url)
    with engine.connect() as connection:
        outer = connection.begin()
        sessions = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        with sessions() as session:
            add_user(session, "bomb-officer", "bomb-password-1", Role.OFFICER)
            session.commit()
        app = create_app(Settings(map=MapSettings(tiles="none")))
        app.state.sessionmaker = sessions
        client = TestClient(app, raise_server_exceptions=False)
        token = client.post(
            "/api/v1/auth/token", data={"username": "bomb-officer", "password": "bomb-password-1"}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        before = peak_mb()  # the app and its imports
        answers: dict[str, Any] = {}
        for name, (geometry, repair) in bombs().items():
            body = json.dumps(feature(geometry))
            started = time.perf_counter()
            r = client.post(
                "/api/v1/zones",
                params={"repair": str(repair).lower()},
                content=body,
                headers={"content-type": "application/json"},
            )
            answers[name] = {
                "status": r.status_code,
                "code": r.json().get("error", {}).get("code") if r.status_code >= 400 else None,
                "seconds": time.perf_counter() - started,
                "kB": len(body) // 1000,
                "peak_mb_after": peak_mb(),
            }
        outer.rollback()
    engine.dispose()
    stop = getattr(forkserver._forkserver, "_stop", None)  # CPython's own, for its tests
    assert stop is not None, "cannot stop the fork server to count its children's memory"
    stop()  # reaped here, so that its children's peaks count as ours
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak = {"before": before, "self": peak_mb(), "children": children}
    print(json.dumps({"answers": answers, "peak_mb": peak}))


if __name__ == "__main__":
    main(sys.argv[1])
