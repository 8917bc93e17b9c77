"""The private cluster, made from nothing, works whoever runs it; bad databases are named."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from service.db.engine import DatabaseUnusable, check_database
from service.localdb import LocalCluster
from service.settings import PROJECT_ROOT, DatabaseSettings
from tests.conftest import in_ci


@pytest.fixture
def fresh_cluster() -> Iterator[LocalCluster]:
    """A new private cluster in a scratch folder of the project (postgres can reach it)."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not shutil.which("initdb"):
        if in_ci():
            pytest.fail("PostgreSQL server binaries missing in CI")
        pytest.skip("no PostgreSQL server binaries on this machine")
    parent = PROJECT_ROOT / ".zones-db"
    parent.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="t-", dir=parent))
    cluster = LocalCluster(DatabaseSettings(dir=folder, name="scratch"))
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_every_client_connects_as_the_cluster_superuser(
    fresh_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ordinary user's psql would otherwise connect as a role named after them, which the
    # cluster does not have (issue 5: 'FATAL: role "newbie" does not exist').
    monkeypatch.setenv("PGUSER", "no_such_role_in_the_cluster")
    url = fresh_cluster.ensure()
    assert fresh_cluster.running()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT current_user")).scalar_one() == "postgres"
        described = check_database(engine)
    finally:
        engine.dispose()
    assert "PostGIS" in described and "available" in described
    # A second ensure() reuses the running cluster and its database.
    assert fresh_cluster.ensure() == url


def test_an_unreachable_database_is_named_in_one_sentence() -> None:
    engine = create_engine("postgresql+psycopg://someone@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(DatabaseUnusable, match=r"cannot connect to .*127\.0\.0\.1:1/nowhere"):
            check_database(engine)
    finally:
        engine.dispose()
