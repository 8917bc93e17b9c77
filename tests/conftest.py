"""Fixtures shared by every test: where the real public data lives, scratch databases."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, make_url, text

from service.localdb import LocalCluster
from service.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

SHARED_DATA = Path(os.environ.get("ZONES_SHARED_DATA", ROOT.parent / "shared" / "data"))


def in_ci() -> bool:
    """Run by CI (``CI=true``): where a missing prerequisite fails a test instead of skipping it."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: skipped on a laptop without it, a failure in CI."""
    if not SHARED_DATA.is_dir():
        message = f"real public data not found at {SHARED_DATA} (set ZONES_SHARED_DATA)"
        if in_ci():
            pytest.fail(message + "; CI must not skip these tests")
        pytest.skip(message)
    return SHARED_DATA


@contextmanager
def scratch_database(suffix: str) -> Iterator[str]:
    """A fresh database for one test run, dropped afterwards; yields its URL.

    In the private cluster by default. With ``ZONES_DATABASE_URL`` it is created beside that
    database on the same server (``<name>_<suffix>``), never in it: tests must not touch a
    database someone points the service at. The name ends with the test process's id, so
    that two runs on one server (two checkouts, two developers) keep apart.
    """
    settings = DatabaseSettings()
    suffix = f"{suffix}_{os.getpid()}"  # runs side by side must never drop each other's
    if settings.url:
        given = make_url(settings.url)
        admin_url, target = (
            given.set(database="postgres"),
            given.set(database=f"{given.database}_{suffix}"),
        )
    else:
        cluster = LocalCluster(settings)
        cluster.ensure()
        admin_url, target = (
            make_url(cluster.url("postgres")),
            make_url(cluster.url(f"zones_{suffix}")),
        )
    drop = text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(drop)
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
        yield target.render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(drop)
    finally:
        admin.dispose()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright (sync API) keeps
    an event loop running in the main thread for the whole session, and ``asyncio.run``
    refuses to start inside one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
