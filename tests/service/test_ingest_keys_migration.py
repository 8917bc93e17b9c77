"""Revision 0013 carries stored observations across: a fix stored under the old sha256 text
key is still recognised when sent again, and the way back keeps one row per observation."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from service import monitoring
from service.db.migrate import alembic_config, upgrade
from service.settings import ApiSettings
from tests.conftest import scratch_database
from zones import model

FIX = model.Observation(
    lon=0.1218,
    lat=52.2053,
    time=datetime(2026, 11, 28, 14, 3, tzinfo=UTC),
    accuracy_m=12.0,
    subject_id=1,
    kind=model.ObservationKind.FIX,
)
# The key as the code before 0013 made it: the sha256 of this text, in hex.
OLD_TEXT = "1||fix|2026-11-28T14:03:00+00:00|0.1218000|52.2053000"


@pytest.fixture
def engine() -> Iterator[Engine]:
    with scratch_database("ingest_keys") as url:
        eng = create_engine(url)
        yield eng
        eng.dispose()


def test_a_fix_stored_before_0013_is_a_duplicate_after_it(engine: Engine) -> None:
    upgrade(engine, "0009")
    with engine.begin() as c:
        c.execute(text("INSERT INTO units (code, name) VALUES ('u', 'U')"))
        c.execute(
            text("INSERT INTO subjects (id, reference, name, unit) VALUES (1, 'K-1', 'Kay', 'u')")
        )
        c.execute(
            text(
                "INSERT INTO observations (subject_id, kind, observed_at, geom, late, dedup_key) "
                "VALUES (1, 'fix', :t, ST_SetSRID(ST_MakePoint(0.1218, 52.2053), 4326), false, "
                ":k), (1, 'sighting', :t, ST_SetSRID(ST_MakePoint(0.12, 52.2), 4326), false, "
                "'not-a-hash')"
            ),
            {"t": FIX.time, "k": hashlib.sha256(OLD_TEXT.encode()).hexdigest()},
        )
    upgrade(engine)
    with engine.connect() as c:
        keys = dict(c.execute(text("SELECT kind, dedup_key FROM observations")).all())
    assert keys["fix"] == monitoring.dedup_key(FIX, 1)  # the first 64 bits of the old key
    assert isinstance(keys["sighting"], int)  # a key that was no hash is hashed

    with Session(engine) as session:
        [again] = monitoring.record(session, [FIX], ApiSettings())
        session.commit()
    assert again.error is None and again.duplicate

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0009")
    with engine.connect() as c:
        back = c.execute(text("SELECT dedup_key FROM observations ORDER BY id")).scalars().all()
    assert len(back) == 2 and back[0] == hashlib.sha256(OLD_TEXT.encode()).hexdigest()[:16]
    upgrade(engine)  # and up again
