"""A token is checked against the database on every use: log-out, disabling and role
changes take effect at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.db import tables
from service.settings import Settings
from tests.service.conftest import PASSWORD
from zones.model import Role


def test_log_out_ends_the_token(client_as: Callable[[Role], TestClient]) -> None:
    control = client_as(Role.CONTROL_ROOM)
    assert control.get("/api/v1/alerts").status_code == 200
    assert control.post("/api/v1/auth/logout").status_code == 204
    r = control.get("/api/v1/alerts")
    assert r.status_code == 401 and "logged out" in r.json()["error"]["message"]


def test_a_disabled_user_is_refused_at_once_and_cannot_log_in(
    client_as: Callable[[Role], TestClient], users: dict[Role, str]
) -> None:
    officer = client_as(Role.OFFICER)
    admin = client_as(Role.ADMIN)
    assert admin.post(f"/api/v1/users/{users[Role.OFFICER]}/disable").status_code == 204
    assert officer.get("/api/v1/subjects").status_code == 401
    r = TestClient(officer.app).post(
        "/api/v1/auth/token", data={"username": users[Role.OFFICER], "password": PASSWORD}
    )
    assert r.status_code == 401 and "disabled" in r.json()["error"]["message"]
    assert admin.post(f"/api/v1/users/{users[Role.OFFICER]}/enable").status_code == 204
    assert officer.get("/api/v1/subjects").status_code == 401  # ended for good: log in anew
    officer = client_as(Role.OFFICER)
    assert officer.post("/api/v1/users/nobody/disable").status_code == 403  # officers may not
    assert admin.post("/api/v1/users/nobody/disable").status_code == 404  # names no one


def test_a_changed_role_counts_from_the_next_request(
    client_as: Callable[[Role], TestClient], users: dict[Role, str], session: Session
) -> None:
    officer = client_as(Role.OFFICER)
    subject = {"reference": "ROLE-1", "name": "Demoted"}
    session.execute(
        update(tables.User)
        .where(tables.User.username == users[Role.OFFICER])
        .values(role=Role.SUPERVISOR.value)
    )
    session.commit()
    r = officer.post("/api/v1/subjects", json=subject)  # the token still says "officer"
    assert r.status_code == 403 and "supervisor" in r.json()["error"]["message"]


def test_a_token_for_a_user_who_does_not_exist_is_refused(
    client_as: Callable[[Role], TestClient], settings: Settings
) -> None:
    client = client_as(Role.OFFICER)
    now = datetime.now(UTC)
    forged = jwt.encode(
        {"sub": "ghost", "role": "admin", "jti": "x", "iat": now, "exp": now + timedelta(hours=1)},
        settings.auth.secret,
        algorithm="HS256",
    )
    r = client.get("/api/v1/subjects", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    no_jti = jwt.encode(
        {"sub": "test-admin", "role": "admin", "exp": now + timedelta(hours=1)},
        settings.auth.secret,
        algorithm="HS256",
    )
    r = client.get("/api/v1/subjects", headers={"Authorization": f"Bearer {no_jti}"})
    assert r.status_code == 401


def test_assignable_users_are_the_active_ones(
    client_as: Callable[[Role], TestClient], users: dict[Role, str]
) -> None:
    names = [u["username"] for u in client_as(Role.SUPERVISOR).get("/api/v1/users").json()]
    assert set(users.values()) <= set(names)
    assert client_as(Role.OFFICER).get("/api/v1/users").status_code == 403


def test_a_token_signed_with_the_old_published_default_is_refused(
    app: FastAPI, users: dict[Role, str]
) -> None:
    forged = jwt.encode(
        {"sub": "intruder", "role": "admin", "jti": "x" * 16,
         "exp": datetime.now(UTC) + timedelta(hours=1)},
        "development-only-secret-change-me-0123456789",
        algorithm="HS256",
    )  # fmt: skip
    with TestClient(app) as client:
        r = client.get("/api/v1/users", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
