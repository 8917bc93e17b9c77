"""The worker: one leader among any number, taken over when the leader goes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from service import worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _forget_job_runs(engine: Engine) -> Iterator[None]:
    """The real workers started here commit when each job last ran; a later test that runs
    the jobs on a clock of its own (days before today) would find them run "in the future"
    and skip them."""
    yield
    with engine.begin() as c:
        c.execute(text("DELETE FROM worker_jobs"))


def test_one_worker_leads_and_another_takes_over_when_it_goes(engine: Engine) -> None:
    first, second = engine.connect(), engine.connect()
    try:
        assert worker.try_lead(first) is True
        assert worker.try_lead(second) is False
        first.invalidate()  # the leader dies: its session ends and the lock with it
        # PostgreSQL frees the lock once the dead session's backend has noticed the closed
        # socket and ended, a moment later on a loaded machine.
        deadline = time.monotonic() + 15
        while not worker.try_lead(second):
            assert time.monotonic() < deadline, "the lock was never freed"
            time.sleep(0.05)
    finally:
        first.close()
        second.invalidate()
        second.close()


def test_the_worker_command_runs_its_jobs_and_records_when(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    # Its own state folder: the audit head it records belongs to this test database.
    env = {**os.environ, "ZONES_DATABASE_URL": url, "ZONES_STATE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "leading" in done.stderr
    with engine.connect() as c:
        names = c.execute(text("SELECT name FROM worker_jobs")).scalars().all()
    assert {"stays_on_time", "audit_seal"} <= set(names)


def test_a_second_worker_waits_while_the_first_leads(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "ZONES_DATABASE_URL": url, "ZONES_STATE_DIR": str(tmp_path)}
    holder = engine.connect()
    try:
        assert worker.try_lead(holder)
        follower = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--tick", "0.2"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert follower.poll() is None  # still running, waiting to lead
    finally:
        holder.invalidate()
        holder.close()
    time.sleep(2)
    follower.send_signal(signal.SIGTERM)
    _, err = follower.communicate(timeout=30)
    assert err.count("leading") == 1, err  # it took over once the holder went
