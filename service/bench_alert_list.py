"""How ``GET /api/v1/alerts`` grows with the number of stored alerts.

Run as ``python -m service.bench_alert_list [--sizes 1000,10000,100000] [--runs N]``. On a
scratch database (beside the configured one, dropped afterwards) it records, through the API,
a unit, a supervisor and a control-room user, a zone and 50 subjects each under an SHPO of
one clause; then stores alerts by one ``INSERT ... SELECT generate_series`` each step, up to
each size: three alerts per start time (one every two minutes backwards from now, so many
rows share a ``first_at``), the subjects in turn, one in ten unhandled, one in ten
acknowledged, the rest resolved, the newest 30 still open. At each size it times the list
through the real app (in-process, FastAPI's TestClient, the production engine and pool)
with the default query, common filters and a cursor to the list's last page, and prints
the median and the fastest milliseconds per request.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from service.app import create_app
from service.bench_flood import _database
from service.db.migrate import upgrade
from service.settings import DatabaseSettings, MapSettings, Settings

UNIT = "bench-unit"
SUBJECTS = 50
PASSWORD = "bench-list-password-1"

INSERT = """
WITH c AS (
    SELECT array_agg(c.id ORDER BY c.id) AS ids, array_agg(c.order_id ORDER BY c.id) AS orders,
           array_agg(c.clause_id ORDER BY c.id) AS clauses, array_agg(o.subject_id ORDER BY c.id)
           AS subjects, count(*)::int AS n
    FROM conditions c JOIN orders o ON o.id = c.order_id
)
INSERT INTO alerts (subject_id, order_id, condition_id, clause_id, zone_id, zone_version, status,
    evidence, first_at, last_at, closed_at, observation_count, late, deepest_m, geom, handling,
    disposition, handled_at, severity, confirmed_at, opened_by, closed_by, kind)
SELECT c.subjects[1 + g % c.n], c.orders[1 + g % c.n], c.ids[1 + g % c.n],
    c.clauses[1 + g % c.n], :zone, 1, CASE WHEN g < 30 THEN 'open' ELSE 'closed' END,
    'definite', t, t + interval '5 minutes',
    CASE WHEN g < 30 THEN NULL ELSE t + interval '6 minutes' END, 3, false, 12.5,
    ST_SetSRID(ST_MakePoint(0.15 + (g % 97) * 1e-5, 52.1 + (g % 89) * 1e-5), 4326),
    CASE g % 10 WHEN 0 THEN 'unhandled' WHEN 1 THEN 'acknowledged' ELSE 'resolved' END,
    CASE WHEN g % 10 > 1 THEN 'breach_confirmed' END,
    CASE WHEN g % 10 > 0 THEN t + interval '7 minutes' END,
    'breach', t, 'fix', CASE WHEN g >= 30 THEN 'fix' END, 'zone'
FROM c, generate_series(CAST(:start AS int), CAST(:stop AS int) - 1) AS g,
     LATERAL (SELECT now() - (g / 3) * interval '2 minutes' AS t) AS at
"""


def _seed(client: TestClient) -> tuple[int, int]:
    """The zone and the subjects under orders; the zone's id and one subject's."""
    square = [[0.149, 52.099], [0.151, 52.099], [0.151, 52.101], [0.149, 52.101], [0.149, 52.099]]
    zone = client.post(
        "/api/v1/zones",
        json={
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [square]},
            "properties": {"name": "Bench park", "category": "park"},
        },
    )
    assert zone.status_code == 201, zone.text
    first = 0
    for i in range(SUBJECTS):
        s = client.post(
            "/api/v1/subjects",
            json={"reference": f"BENCH-{i:03d}", "name": f"Bench subject {i}", "unit": UNIT},
        )
        assert s.status_code == 201, s.text
        first = first or s.json()["id"]
        o = client.post(
            "/api/v1/orders",
            json={
                "subject_id": s.json()["id"],
                "reference": f"SHPO/BENCH/{i}",
                "starts": "2020-01-01",
                "conditions": [
                    {"text": "Not to enter Bench park.", "zone_ids": [zone.json()["id"]]}
                ],
            },
        )
        assert o.status_code == 201, o.text
    return int(zone.json()["id"]), first


def _users(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    from service.auth import add_user
    from service.db import units_store
    from zones.model import Role

    with Session(engine) as session:
        units_store.add_unit(session, UNIT, "The bench unit")
        for role in (Role.OFFICER, Role.CONTROL_ROOM, Role.SUPERVISOR):
            add_user(session, f"bench-{role.value}", PASSWORD, role)
            units_store.set_members(session, f"bench-{role.value}", [UNIT])
        session.commit()


def _client(app: Any, role: str) -> TestClient:
    client = TestClient(app)
    r = client.post("/api/v1/auth/token", data={"username": f"bench-{role}", "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def _timed_ms(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """The median and the fastest of ``runs`` calls, in ms: on a shared machine the fastest
    shows the work itself, the median what a user meets."""
    for _ in range(3):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", help="an existing, migrated database (kept)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with _database(args.database) as url, tempfile.TemporaryDirectory() as state:
        engine = create_engine(url)
        upgrade(engine)
        _users(engine)
        settings = Settings(
            database=DatabaseSettings(url=url),
            map=MapSettings(tiles="none"),
            state_dir=Path(state),
        )
        app = create_app(settings)
        with TestClient(app):  # runs the lifespan: the real engine and pool
            officer = _client(app, "officer")
            zone, subject = _seed(officer)
            clients = {"control": _client(app, "control_room"), "super": _client(app, "supervisor")}
            queries: dict[str, tuple[str, dict[str, Any]]] = {
                "default (control room)": ("control", {}),
                "default (supervisor: own units)": ("super", {}),
                "subject_id": ("control", {"subject_id": subject}),
                "handling=unhandled": ("control", {"handling": "unhandled"}),
                "from/to: one day, a week back": ("control", {"from": _ago(8), "to": _ago(7)}),
                "desk: to do, last 24 h": (
                    "control",
                    {"handling": ["unhandled", "acknowledged"], "from": _ago(1)},
                ),
                "from: last hour": ("control", {"from": _ago(1 / 24)}),
                "limit=50": ("control", {"limit": 50}),
            }
            deepest = "cursor: the list's last page"
            paged = _pages()
            names = [*queries, deepest] if paged else list(queries)
            print("median / fastest of each query")
            print(f"{'alerts':>8}  " + "  ".join(f"{n:>32}" for n in names))
            stored = 0
            for size in sizes:
                with engine.begin() as connection:
                    connection.execute(text(INSERT), {"zone": zone, "start": stored, "stop": size})
                    connection.execute(text("ANALYZE alerts"))
                stored = size
                row = []
                timed = list(queries.values())
                if paged:
                    timed.append(
                        ("control", {"cursor": _cursor_before_last(engine, settings, 500)})
                    )
                for who, params in timed:
                    client = clients[who]

                    def call(client: TestClient = client, params: Any = params) -> None:
                        r = client.get("/api/v1/alerts", params=params)
                        assert r.status_code == 200, r.text

                    row.append(_timed_ms(call, args.runs))
                print(
                    f"{size:>8}  " + "  ".join(f"{f'{m:.1f} / {f:.1f}':>29} ms" for m, f in row),
                    flush=True,
                )
        engine.dispose()


def _pages() -> bool:
    """Whether this code has cursors (the benchmark also runs on the code before them)."""
    try:
        import service.api.paging  # noqa: F401
    except ImportError:
        return False
    return True


def _cursor_before_last(engine: Engine, settings: Settings, n: int) -> str:
    """The cursor of the default list's page that holds its ``n`` oldest alerts."""
    from service.api import paging
    from service.auth import signing_key
    from service.db import alerts_store

    with engine.connect() as connection:
        key = connection.execute(
            text("SELECT first_at, id FROM alerts ORDER BY first_at, id OFFSET :n LIMIT 1"),
            {"n": n},
        ).one()
    return paging.encode(signing_key(settings.auth), alerts_store.ORDER, (key[0], key[1]))


def _ago(days: float) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


if __name__ == "__main__":
    main()
