"""Sealing while others write, with real commits: ids that commit out of order, writers that
never wait for the sealer, and ``zones audit verify`` from the command line."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from service import cli, worker
from service.audit_mac import AuditKey
from service.auth import add_user
from service.db import audit_store
from service.db.audit_chain import seal, verify
from service.db.migrate import upgrade
from service.settings import DatabaseSettings, MapSettings, Settings
from tests.conftest import scratch_database
from tests.live import serve
from zones.model import Role


@pytest.fixture(scope="module")
def committed() -> Iterator[Engine]:
    """A database of its own: these tests commit for real."""
    with scratch_database("audit") as url:
        engine = create_engine(url, pool_size=8)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def engine(committed: Engine) -> Iterator[Engine]:
    yield committed
    with committed.begin() as c:  # each test starts from an empty log
        c.execute(text("TRUNCATE audit_log RESTART IDENTITY"))


@pytest.fixture
def key(tmp_path: Path) -> AuditKey:
    return AuditKey(b"audit-key-for-the-sealing-tests-0123456789", tmp_path / "audit-head")


def positions(engine: Engine) -> dict[int, int | None]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, seal_seq FROM audit_log"))
        return {r.id: r.seal_seq for r in rows}


def test_an_entry_that_commits_after_a_later_one_is_sealed_next_without_waiting(
    engine: Engine, key: AuditKey
) -> None:
    sessions = sessionmaker(engine, info=audit_store.binding(key))
    with sessions() as early, sessions() as late, sessions() as sealer:
        audit_store.record(early, "pc-ames", "subject.track", "subject", 1)
        early.flush()  # takes the lower id, and keeps its transaction open
        audit_store.record(late, "pc-bell", "subject.track", "subject", 2)
        late.commit()
        # The sealer must not wait for the open transaction: a lock wait would fail here.
        sealer.execute(text("SET lock_timeout = '2s'"))
        assert seal(sealer, key) == 1
        low = early.scalar(text("SELECT id FROM audit_log WHERE username = 'pc-ames'"))
        [(high, first)] = positions(engine).items()
        assert low < high and first == 1
        early.commit()
        assert seal(sealer, key) == 1
        assert positions(engine) == {high: 1, low: 2}  # the chain follows commit order
        report = verify(sealer, key)
        assert report.ok and report.unsealed == 0, report.text()


def test_many_writers_and_a_sealer_at_once_seal_every_entry_once(
    engine: Engine, key: AuditKey
) -> None:
    sessions = sessionmaker(engine, info=audit_store.binding(key))
    writers, per_writer = 4, 60
    stop = threading.Event()
    failures: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with sessions() as s:
                for i in range(per_writer):
                    for _ in range(rng.randint(1, 3)):  # a request may write several
                        audit_store.record(s, f"writer-{seed}", "subject.track", "subject", i)
                    s.flush()
                    if rng.random() < 0.5:
                        stop.wait(rng.uniform(0, 0.01))  # hold the ids a while
                    if rng.random() < 0.1:
                        s.rollback()  # a failed request: its ids are spent, never sealed
                    else:
                        s.commit()
        except BaseException as exc:
            failures.append(exc)

    def sealing() -> None:
        try:
            with sessions() as s:
                while not stop.is_set():
                    seal(s, key)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    sealer = threading.Thread(target=sealing)
    sealer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    sealer.join()
    assert failures == []
    with sessions() as s:
        seal(s, key)
        report = verify(s, key)
    assert report.ok and report.unsealed == 0, report.text()
    found = positions(engine)
    assert sorted(p for p in found.values() if p is not None) == list(range(1, len(found) + 1))


def test_zones_audit_verify_says_intact_or_names_the_first_bad_entry(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ZONES_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ZONES_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("ZONES_AUDIT_KEY", raising=False)
    key = AuditKey.of(Settings())
    with Session(engine, info=audit_store.binding(key, client="10.1.2.3")) as s:
        for n in range(4):
            audit_store.record(s, "pc-ames", "order.edit", "order", n, reason=f"change {n}")
        s.commit()
        ids = s.scalars(text("SELECT id FROM audit_log ORDER BY id")).all()

    assert cli.main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "sealed 4 new entries" in out
    assert f"4 entries, chain intact up to id {ids[-1]} (position 4), 0 unsealed" in out

    with engine.begin() as c:
        c.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        c.execute(text("UPDATE audit_log SET reason = 'nothing' WHERE id = :i"), {"i": ids[1]})
        c.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    assert cli.main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[1] == (
        f"audit chain BROKEN: entry {ids[1]} (position 2) altered: "
        "its content does not match its MAC"
    )
    assert f"chain intact up to id {ids[0]} (position 1)" in out


def test_a_live_server_audits_with_the_installation_key_and_the_worker_seals_it(
    engine: Engine, tmp_path: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        database=DatabaseSettings(url=url), map=MapSettings(tiles="none"), state_dir=tmp_path
    )
    with Session(engine) as s:
        if s.scalar(text("SELECT count(*) FROM users WHERE username = 'sup-live'")) == 0:
            add_user(s, "sup-live", "live-password-1", Role.SUPERVISOR)
            s.commit()
    with serve(settings) as base, httpx.Client(base_url=f"{base}/api/v1") as api:
        form = {"username": "sup-live", "password": "live-password-1"}
        token = api.post("/auth/token", data=form).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        assert api.get("/audit").json()["entries"] == []
        [read] = api.get("/audit").json()["entries"]  # the first reading, audited
    assert (read["action"], read["client"], read["sealed"]) == ("audit.read", "127.0.0.1", False)
    key = AuditKey.of(settings)
    sessions = sessionmaker(engine, info=audit_store.binding(key, client="worker"))
    assert worker.run_jobs(sessions, settings.api, datetime.now(UTC))["audit_seal"] == 2
    with sessions() as s:
        report = verify(s, key)
    assert report.ok and report.sealed == 2, report.text()
