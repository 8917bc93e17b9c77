"""The migrations carry real data across: a database made at 0001, with an order, an alert
and its verdict, upgraded to head and back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from service.db.migrate import alembic_config, upgrade
from tests.conftest import scratch_database

SEED_0001 = [
    "INSERT INTO subjects (id, reference, name) VALUES (1, 'M-1', 'Mig Rant')",
    "INSERT INTO zones (id, current_version) VALUES (1, 1)",
    "INSERT INTO zone_versions (zone_id, version, name, category, geom, area_m2) VALUES "
    "(1, 1, 'Old Park', 'park', ST_GeomFromText('POLYGON((0 52,0.01 52,0.01 52.01,0 52))', "
    "4326), 1000)",
    "INSERT INTO orders (id, subject_id, reference, type, starts, status, created_by) VALUES "
    "(1, 1, 'SHPO/OLD/1', 'SHPO', '2020-01-01', 'active', 'officer')",
    "INSERT INTO conditions (id, order_id, position, text, kind, buffer_m) VALUES "
    "(1, 1, 1, 'Not to enter Old Park.', 'exclusion', 0)",
    "INSERT INTO condition_zones (condition_id, zone_id, zone_version_at_link) VALUES (1, 1, 1)",
    "INSERT INTO observations (id, subject_id, kind, observed_at, geom, late, dedup_key) VALUES "
    "(1, 1, 'sighting', now(), ST_SetSRID(ST_MakePoint(0.005, 52.004), 4326), false, 'k1')",
    "INSERT INTO alerts (id, subject_id, order_id, condition_id, zone_id, zone_version, status, "
    "evidence, first_at, last_at, observation_count, late, deepest_m, geom) VALUES "
    "(1, 1, 1, 1, 1, 1, 'open', 'definite', now(), now(), 1, false, -100, "
    "ST_SetSRID(ST_MakePoint(0.005, 52.004), 4326))",
    "INSERT INTO verdicts (observation_id, alert_id, order_id, condition_id, zone_id, "
    "zone_version, status, evidence, distance_m) VALUES (1, 1, 1, 1, 1, 1, 'inside', "
    "'definite', -100)",
]


@pytest.fixture
def engine() -> Iterator[Engine]:
    with scratch_database("migrations") as url:
        eng = create_engine(url)
        yield eng
        eng.dispose()


def test_0002_keeps_orders_alerts_and_verdicts_and_goes_back(engine: Engine) -> None:
    upgrade(engine, "0001")
    with engine.begin() as c:
        for statement in SEED_0001:
            c.execute(text(statement))
    upgrade(engine)
    with engine.connect() as c:
        version = c.execute(
            text(
                "SELECT order_id, version, reference, type, status, created_by FROM order_versions"
            )
        ).one()
        assert tuple(version) == (1, 1, "SHPO/OLD/1", "SHPO", "active", "officer")
        condition = c.execute(
            text("SELECT order_version_id, clause_id, text FROM conditions WHERE id = 1")
        ).one()
        assert condition.clause_id == 1 and condition.text == "Not to enter Old Park."
        alert = c.execute(
            text("SELECT clause_id, handling, disposition, kind FROM alerts WHERE id = 1")
        ).one()
        assert tuple(alert) == (1, "unhandled", None, "zone")  # 0011: alerts before were zones
        tagged = c.execute(text("SELECT tag_required, silence_minutes FROM conditions")).one()
        assert tuple(tagged) == (False, 15)
        assert c.execute(text("SELECT clause_id FROM verdicts")).scalar_one() == 1
        assert c.execute(text("SELECT current_version FROM orders")).scalar_one() == 1
    # And back: the order is one row again, holding what its version said.
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0001")
    with engine.connect() as c:
        row = c.execute(text("SELECT reference, type, starts, status FROM orders")).one()
        assert (row.reference, row.type, row.status) == ("SHPO/OLD/1", "SHPO", "active")
        assert c.execute(text("SELECT count(*) FROM alerts")).scalar_one() == 1
    upgrade(engine)  # and up again
