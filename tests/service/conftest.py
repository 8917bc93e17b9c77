"""A real PostGIS for service tests: migrated once, each test in a transaction rolled back.

The database is a fresh one for the run (see ``tests.conftest.scratch_database``): in the
private cluster, or beside the one ``ZONES_DATABASE_URL`` names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from service.app import create_app
from service.audit_mac import AuditKey
from service.auth import add_user
from service.db import audit_store, units_store
from service.db.migrate import upgrade
from service.settings import MapSettings, Settings
from tests.conftest import scratch_database
from zones.model import Role

PASSWORD = "test-password-1"


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    with scratch_database("test") as url:
        eng = create_engine(url)
        upgrade(eng)
        yield eng
        eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def audit_key(settings: Settings, tmp_path: Path) -> AuditKey:
    """The installation's audit key, with its head recorded in the test's own folder."""
    return replace(AuditKey.of(settings), head_file=tmp_path / "audit-head")


@pytest.fixture
def sessions(connection: Connection, audit_key: AuditKey) -> sessionmaker[Session]:
    """Sessions that commit into savepoints of the test's transaction (and can audit)."""
    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info=audit_store.binding(audit_key, client="test"),
    )


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def settings() -> Settings:
    return Settings(map=MapSettings(tiles="none"))


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> FastAPI:
    app = create_app(settings)
    app.state.sessionmaker = sessions
    return app


HOME_UNIT, OTHER_UNIT = "test-unit", "other-unit"


@pytest.fixture
def users(session: Session) -> dict[Role, str]:
    """One user of each role, all members of the unit ``test-unit``; ``other-unit`` exists
    too, with no members here."""
    for code in (HOME_UNIT, OTHER_UNIT):
        units_store.add_unit(session, code, f"The {code}")
    names = {role: f"test-{role.value}" for role in Role}
    for role, name in names.items():
        add_user(session, name, PASSWORD, role)
        units_store.set_members(session, name, [HOME_UNIT])
    session.commit()
    return names


@pytest.fixture
def client_as(app: FastAPI, users: dict[Role, str]) -> Iterator[Callable[[Role], TestClient]]:
    """A logged-in API client for a role."""
    opened: list[TestClient] = []

    def make(role: Role) -> TestClient:
        client = TestClient(app)
        opened.append(client)
        r = client.post("/api/v1/auth/token", data={"username": users[role], "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return client

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def officer(client_as: Callable[[Role], TestClient]) -> TestClient:
    return client_as(Role.OFFICER)


@pytest.fixture
def control(client_as: Callable[[Role], TestClient]) -> TestClient:
    return client_as(Role.CONTROL_ROOM)


def square(lon: float, lat: float, half: float = 0.001) -> dict[str, Any]:
    """A GeoJSON square around lon, lat (half-side in degrees)."""
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - half, lat - half],
                [lon + half, lat - half],
                [lon + half, lat + half],
                [lon - half, lat + half],
                [lon - half, lat - half],
            ]
        ],
    }


def zone_feature(
    geometry: dict[str, Any],
    name: str = "Test park",
    category: str = "park",
    reason: str | None = None,
) -> dict[str, Any]:
    properties = {"name": name, "category": category}
    if reason is not None:
        properties["reason"] = reason
    return {"type": "Feature", "geometry": geometry, "properties": properties}
