"""Retention against a real PostGIS: old positions go, alert evidence and held data stay,
young data stays, a dry run removes nothing, and old alerts derive the same stays again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from pyproj import Transformer

from service import monitoring, retention, worker
from service.db import tables
from service.db.migrate import upgrade
from service.settings import ApiSettings, RetentionSettings
from service.stays_sync import reach, resync
from tests.conftest import scratch_database
from tests.service.conftest import square, zone_feature
from zones import model
from zones.model import Role

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)
PARK = (0.1200, 52.2000)
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
FROM_BNG = Transformer.from_crs(27700, 4326, always_xy=True)
API = ApiSettings(retention=RetentionSettings(observation_days=90, alert_days=200, batch_size=100))
MINUTE = timedelta(minutes=1)


def east_of(metres: float) -> tuple[float, float]:
    x, y = TO_BNG.transform(*PARK)
    lon, lat = FROM_BNG.transform(x + metres, y)
    return float(lon), float(lat)


FAR = east_of(2000)
WEST, EAST = east_of(-600), east_of(600)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def walk(
    session: Session, subject_id: int, start: datetime, minutes: int, inside: range = range(0)
) -> None:
    """One fix a minute from ``start``, in the park during the minutes ``inside``, recorded
    as it arrived then."""
    fixes = [
        model.Observation(
            *(PARK if m in inside else FAR), start + m * MINUTE, 5.0, subject_id=subject_id
        )
        for m in range(minutes)
    ]
    monitoring.record(session, fixes, API, reporter="tracker", now=fixes[-1].time + MINUTE)
    session.commit()


@pytest.fixture
def supervisor(client_as: Callable[[Role], TestClient]) -> TestClient:
    return client_as(Role.SUPERVISOR)


def subject_with_park_order(officer: TestClient, reference: str) -> int:
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK))).json()
    subject = {"reference": reference, "name": "R"}
    sid = int(officer.post("/api/v1/subjects", json=subject).json()["id"])
    order = {
        "subject_id": sid, "reference": f"SHPO/{reference}", "type": "SHPO",
        "starts": "2020-01-01", "ends": None,
        # A stay ends at the first of three clear fixes: the two after it are what close it.
        "conditions": [{"text": "Not to enter the park.", "zone_ids": [zone["id"]],
                        "clear_fixes": 3}],
    }  # fmt: skip
    assert officer.post("/api/v1/orders", json=order).status_code == 201
    return sid


def alert_near(session: Session, subject_id: int, at: datetime) -> tables.Alert:
    a = tables.Alert
    return session.scalars(
        select(a).where(a.subject_id == subject_id, a.first_at.between(at, at + 600 * MINUTE))
    ).one()


STAY = ("id", "first_at", "last_at", "closed_at", "closed_by", "observation_count", "status",
        "merged_into", "confirmed_at")  # fmt: skip


def stays(session: Session, subject_id: int) -> list[tuple[Any, ...]]:
    a = tables.Alert
    columns = [getattr(a, name) for name in STAY]
    rows = session.execute(select(*columns).where(a.subject_id == subject_id).order_by(a.id))
    return [tuple(r) for r in rows]


def count(session: Session, table: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def observations_of(session: Session, subject_id: int) -> list[datetime]:
    o = tables.Observation
    times = select(o.observed_at).where(o.subject_id == subject_id).order_by(o.observed_at)
    return list(session.scalars(times))


@pytest.fixture
def world(officer: TestClient, supervisor: TestClient, session: Session) -> dict[str, Any]:
    """Two subjects' tracks, a few thousand rows: one subject held; for the other, alerts of
    every age, one held, one handled yesterday, and positions old and young."""
    sid = subject_with_park_order(officer, "RET-1")
    held_sid = subject_with_park_order(officer, "RET-2")
    walk(session, sid, days_ago(300), 200, inside=range(80, 100))  # alert past its period
    walk(session, sid, days_ago(280), 200, inside=range(80, 100))  # ... handled yesterday
    walk(session, sid, days_ago(250), 200, inside=range(80, 100))  # ... under a hold
    walk(session, sid, days_ago(120), 600, inside=range(300, 320))  # alert in its period
    walk(session, sid, days_ago(10), 600)  # young positions
    walk(session, held_sid, days_ago(120), 600)  # a held subject's old positions
    # Two sparse fixes either side of the park: a possible transit between them.
    sparse = [
        model.Observation(*WEST, days_ago(150), 5.0, subject_id=sid),
        model.Observation(*EAST, days_ago(150) + 10 * MINUTE, 5.0, subject_id=sid),
    ]
    monitoring.record(session, sparse, API, reporter="tracker", now=days_ago(150) + 11 * MINUTE)
    # A sighting nobody's alert uses: stored with its verdict, "outside".
    seen = model.Observation(
        *FAR, days_ago(100), 50.0, subject_id=sid, kind=model.ObservationKind.SIGHTING,
        source=model.SightingSource.PUBLIC,
    )  # fmt: skip
    monitoring.record(session, [seen], API, reporter="test-control_room", now=days_ago(100))
    session.commit()
    expired = alert_near(session, sid, days_ago(300))
    handled = alert_near(session, sid, days_ago(280))
    held = alert_near(session, sid, days_ago(250))
    kept = alert_near(session, sid, days_ago(120))
    expired.handled_at = days_ago(300) + 200 * MINUTE
    handled.handled_at = NOW - timedelta(days=1)
    session.add(
        tables.AlertAction(
            alert_id=expired.id, action="acknowledge", by_user="test-control_room",
            at=expired.handled_at, handling_after="acknowledged",
        )
    )  # fmt: skip
    session.commit()
    for body in ({"alert_id": held.id}, {"subject_id": held_sid}):
        r = supervisor.post("/api/v1/holds", json=body | {"reason": "appeal pending, case 17"})
        assert r.status_code == 201, r.text
    assert count(session, tables.PossibleTransit, tables.PossibleTransit.subject_id == sid) >= 1
    return {"sid": sid, "held_sid": held_sid, "expired": expired.id, "handled": handled.id,
            "held": held.id, "kept": kept.id}  # fmt: skip


def within_reach(alert: tuple[Any, ...], at: datetime) -> bool:
    r = reach(API)
    return alert[1] - r <= at <= (alert[3] or NOW) + r


def test_old_positions_go_while_alert_evidence_holds_and_young_data_stay(
    session: Session, world: dict[str, Any]
) -> None:
    sid, held_sid = world["sid"], world["held_sid"]
    before = {a[0]: a for a in stays(session, sid)}
    track = observations_of(session, sid)
    held_track = observations_of(session, held_sid)
    kept_alerts = [before[world[k]] for k in ("handled", "held", "kept")]
    # What must survive: every young position, and every old one within the stays' reach
    # of an alert that is kept (past its period but handled yesterday, held, or in period).
    survivors = [
        t for t in track if t >= days_ago(90) or any(within_reach(a, t) for a in kept_alerts)
    ]
    assert len(track) == 200 * 3 + 600 + 600 + 2 + 1 and len(track) - len(survivors) > 500

    dry = retention.run(session, API, NOW, by="test", dry_run=True)
    assert observations_of(session, sid) == track  # a dry run removes nothing
    assert dry.removed["alerts"] == 1 and dry.held_subjects == 1 and dry.held_alerts == 1

    commits: list[int] = []
    event.listen(session, "after_commit", lambda s: commits.append(1))
    report = retention.run(session, API, NOW, by="test")
    assert report.removed == dry.removed  # the dry run counted exactly what the run removed

    # The expired alert went whole: its row, handling, events and evidence.
    after = {a[0]: a for a in stays(session, sid)}
    assert set(after) == set(before) - {world["expired"]}
    assert {after[i] for i in after} == {before[i] for i in after}  # the rest unchanged
    for table in (tables.AlertAction, tables.AlertEvent, tables.Verdict):
        assert count(session, table, table.alert_id == world["expired"]) == 0
    assert observations_of(session, sid) == survivors
    assert observations_of(session, held_sid) == held_track  # the held subject: all of it
    assert count(session, tables.PossibleTransit, tables.PossibleTransit.subject_id == sid) == 0
    assert report.removed["observations"] == len(track) - len(survivors)
    assert report.removed["verdicts"] == 20 + 1  # the expired alert's, and the sighting's
    assert report.removed["possible_transits"] >= 1
    assert report.removed["alert_actions"] == 1 and report.removed["alert_events"] >= 1
    # In bounded batches: a transaction per 100 positions at most.
    assert len(commits) >= report.removed["observations"] / 100

    # Each run is audited once, with counts and never a position.
    entries = session.scalars(
        select(tables.AuditEntry).where(
            tables.AuditEntry.action.like("retention.%"), tables.AuditEntry.username == "test"
        )
    ).all()  # the audit log is append-only: a worker's runs in other tests stay in it
    assert [(e.action, e.username) for e in entries] == [
        ("retention.dry_run", "test"),
        ("retention.run", "test"),
    ]
    assert entries[1].detail == report.as_dict()
    assert "lon" not in str(entries[1].detail) and "POINT" not in str(entries[1].detail)

    # Nothing more is due: a second run removes nothing.
    assert retention.run(session, API, NOW, by="test").total == 0


def test_stays_derived_again_after_retention_are_the_stays_stored(
    session: Session, world: dict[str, Any]
) -> None:
    sid = world["sid"]
    retention.run(session, API, NOW, by="test")
    stored = stays(session, sid)
    # An authorised visit recorded for a day long gone re-derives everything since.
    resync(session, sid, days_ago(330), NOW, API)
    session.commit()
    assert stays(session, sid) == stored  # no alert rewritten, none raised from the holes


def test_releasing_a_hold_lets_the_next_run_delete(
    session: Session, supervisor: TestClient, world: dict[str, Any]
) -> None:
    retention.run(session, API, NOW, by="test")
    holds = supervisor.get("/api/v1/holds", params={"active": "true"}).json()
    for hold in holds:
        r = supervisor.post(f"/api/v1/holds/{hold['id']}/release", json={"reason": "appeal ended"})
        assert r.status_code == 200, r.text
    report = retention.run(session, API, NOW, by="test")
    assert report.removed["alerts"] == 1  # the held alert, now past its period
    assert report.held_subjects == 0 and report.held_alerts == 0
    assert [t for t in observations_of(session, world["held_sid"]) if t < days_ago(90)] == []


def test_once_positions_are_deleted_a_fix_among_the_holes_is_refused(
    control: TestClient, officer: TestClient, session: Session
) -> None:
    sid = subject_with_park_order(officer, "RET-3")
    untouched = subject_with_park_order(officer, "RET-4")
    walk(session, sid, days_ago(120), 60)
    retention.run(session, API, NOW, by="test")
    oldest = days_ago(90) + 2 * reach(API)  # the cut, and twice the stays' reach after it
    fixes = [
        {"subject_id": sid, "lon": PARK[0], "lat": PARK[1], "time": t.isoformat()}
        for t in (oldest - MINUTE, oldest + MINUTE)
    ]
    # A subject none of whose positions were deleted may still get old ones.
    fixes.append(fixes[0] | {"subject_id": untouched})
    results = control.post("/api/v1/observations", json=fixes).json()["results"]
    assert results[0]["error"]["code"] == "observation_too_old"
    assert results[0]["error"]["field"] == "[0].time"
    assert oldest.isoformat() in results[0]["error"]["message"]
    assert [r["status"] for r in results] == ["rejected", "stored", "stored"]


def test_the_worker_applies_retention_once_a_day(
    sessions: sessionmaker[Session], session: Session
) -> None:
    def all_runs() -> int:
        return count(session, tables.AuditEntry, tables.AuditEntry.action == "retention.run")

    # The audit log is append-only: runs committed by other tests' workers stay in it.
    before = all_runs()

    def runs() -> int:
        return all_runs() - before

    session.execute(delete(tables.WorkerJob))  # as on a new installation (rolled back after)
    session.commit()
    worker.run_jobs(sessions, API, NOW)
    worker.run_jobs(sessions, API, NOW + timedelta(hours=6))
    assert runs() == 1
    worker.run_jobs(sessions, API, NOW + timedelta(days=1, minutes=1))
    assert runs() == 2


def test_zones_retention_run_reports_what_it_removed_and_a_dry_run_removes_nothing() -> None:
    with scratch_database("retention_cli") as url:
        engine = create_engine(url)
        try:
            upgrade(engine)
            with engine.begin() as c:
                c.execute(text("INSERT INTO units (code, name) VALUES ('u', 'U')"))
                c.execute(
                    text(
                        "INSERT INTO subjects (id, reference, name, unit) "
                        "VALUES (1, 'C-1', 'C', 'u')"
                    )
                )
                c.execute(
                    text(
                        "INSERT INTO observations (subject_id, kind, observed_at, geom, late, "
                        "dedup_key) SELECT 1, 'fix', now() - make_interval(days => 100 + n), "
                        "ST_SetSRID(ST_MakePoint(0.12, 52.2), 4326), false, n "
                        "FROM generate_series(1, 250) AS n"
                    )
                )
            env = {**os.environ, "ZONES_DATABASE_URL": url, "ZONES_RETENTION_BATCH_SIZE": "100"}

            def zones(*args: str) -> str:
                done = subprocess.run(
                    [sys.executable, "-m", "service.cli", "retention", "run", *args],
                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                )  # fmt: skip
                assert done.returncode == 0, done.stderr
                return done.stdout

            dry = json.loads(zones("--dry-run", "--json"))
            assert dry["dry_run"] is True and dry["removed"]["observations"] == 250
            assert "observations: 250" in zones()
            with engine.connect() as c:
                assert c.execute(text("SELECT count(*) FROM observations")).scalar_one() == 0
                audited = c.execute(
                    text("SELECT action, username FROM audit_log ORDER BY id")
                ).all()
            assert [a for a, _ in audited] == ["retention.dry_run", "retention.run"]
            assert all(who.startswith("cli:") for _, who in audited)
        finally:
            engine.dispose()
