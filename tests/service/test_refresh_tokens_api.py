"""Access tokens live 15 minutes; a refresh token buys a new pair once; a refresh token used
twice ends its whole sign-in; log-out and disabling end access and refresh tokens at once."""

from __future__ import annotations

import hashlib
from typing import Any

import jwt
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db import tables
from service.settings import Settings
from tests.service.conftest import PASSWORD
from zones.model import Role


def sign_in(app: FastAPI, username: str) -> dict[str, Any]:
    form = {"username": username, "password": PASSWORD}
    r = TestClient(app).post("/api/v1/auth/token", data=form)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def refresh(app: FastAPI, token: str) -> Any:
    return TestClient(app).post("/api/v1/auth/refresh", json={"refresh_token": token})


def get(app: FastAPI, path: str, access_token: str) -> Any:
    return TestClient(app).get(path, headers={"Authorization": f"Bearer {access_token}"})


def test_a_sign_in_answers_a_short_access_token_and_a_refresh_token(
    app: FastAPI, users: dict[Role, str], settings: Settings, session: Session
) -> None:
    body = sign_in(app, users[Role.CONTROL_ROOM])
    assert body["token_type"] == "bearer" and body["role"] == "control_room"
    assert body["expires_in"] == 15 * 60
    claims = jwt.decode(body["access_token"], settings.auth.secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert body["refresh_token"].startswith("zrt_")
    # Stored as its SHA-256 only.
    stored = session.scalars(select(tables.RefreshToken.token_hash)).all()
    assert hashlib.sha256(body["refresh_token"].encode()).hexdigest() in stored
    assert body["refresh_token"] not in stored
    assert get(app, "/api/v1/alerts", body["access_token"]).status_code == 200


def test_a_refresh_spends_the_token_and_answers_a_working_pair(
    app: FastAPI, users: dict[Role, str]
) -> None:
    first = sign_in(app, users[Role.CONTROL_ROOM])
    r = refresh(app, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["expires_in"] == 15 * 60 and second["role"] == "control_room"
    assert second["refresh_token"] != first["refresh_token"]
    assert get(app, "/api/v1/alerts", second["access_token"]).status_code == 200
    third = refresh(app, second["refresh_token"])  # and the new one works once too
    assert third.status_code == 200


def test_a_refresh_token_used_twice_ends_the_whole_sign_in(
    app: FastAPI, users: dict[Role, str]
) -> None:
    first = sign_in(app, users[Role.CONTROL_ROOM])
    second = refresh(app, first["refresh_token"]).json()  # the rightful client
    stolen = refresh(app, first["refresh_token"])  # a thief replays the spent one
    assert stolen.status_code == 401
    assert "used twice" in stolen.json()["error"]["message"]
    # Every token of that sign-in is dead: the rightful client's new pair too.
    assert refresh(app, second["refresh_token"]).status_code == 401
    r = get(app, "/api/v1/alerts", second["access_token"])
    assert r.status_code == 401 and "used twice" in r.json()["error"]["message"]
    assert get(app, "/api/v1/alerts", first["access_token"]).status_code == 401
    # Another sign-in of the same user is untouched.
    other = sign_in(app, users[Role.CONTROL_ROOM])
    assert get(app, "/api/v1/alerts", other["access_token"]).status_code == 200


def test_log_out_ends_the_refresh_token_too(app: FastAPI, users: dict[Role, str]) -> None:
    body = sign_in(app, users[Role.OFFICER])
    out = TestClient(app).post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert out.status_code == 204
    assert refresh(app, body["refresh_token"]).status_code == 401
    r = get(app, "/api/v1/subjects", body["access_token"])
    assert r.status_code == 401 and "logged out" in r.json()["error"]["message"]


def test_disabling_a_user_ends_their_access_and_refresh_tokens(
    app: FastAPI, users: dict[Role, str]
) -> None:
    officer = sign_in(app, users[Role.OFFICER])
    admin = sign_in(app, users[Role.ADMIN])
    r = TestClient(app).post(
        f"/api/v1/users/{users[Role.OFFICER]}/disable",
        headers={"Authorization": f"Bearer {admin['access_token']}"},
    )
    assert r.status_code == 204
    assert get(app, "/api/v1/subjects", officer["access_token"]).status_code == 401
    assert refresh(app, officer["refresh_token"]).status_code == 401


def test_a_sign_in_ends_after_its_shift_however_often_refreshed(
    app: FastAPI, users: dict[Role, str], session: Session, settings: Settings
) -> None:
    body = sign_in(app, users[Role.OFFICER])
    assert settings.auth.session_hours == 12
    sid = jwt.decode(body["access_token"], settings.auth.secret, algorithms=["HS256"])["sid"]
    row = session.get(tables.SignIn, sid)
    assert row is not None and row.ends_at > row.started_at
    assert abs((row.ends_at - row.started_at).total_seconds() - 12 * 3600) < 5
    session.execute(
        update(tables.SignIn)
        .where(tables.SignIn.id == sid)
        .values(ends_at=tables.SignIn.started_at)
    )
    session.commit()
    r = refresh(app, body["refresh_token"])
    assert r.status_code == 401 and "reached its end" in r.json()["error"]["message"]
    assert get(app, "/api/v1/subjects", body["access_token"]).status_code == 401


def test_tokens_are_not_interchangeable(app: FastAPI, users: dict[Role, str]) -> None:
    body = sign_in(app, users[Role.OFFICER])
    assert get(app, "/api/v1/subjects", body["refresh_token"]).status_code == 401
    assert refresh(app, body["access_token"]).status_code == 401
    assert refresh(app, "zrt_" + "A" * 43).status_code == 401


def test_a_deleted_users_token_is_refused(
    app: FastAPI, users: dict[Role, str], session: Session
) -> None:
    body = sign_in(app, users[Role.OFFICER])
    session.execute(delete(tables.User).where(tables.User.username == users[Role.OFFICER]))
    session.commit()
    assert get(app, "/api/v1/subjects", body["access_token"]).status_code == 401
    assert refresh(app, body["refresh_token"]).status_code == 401


def test_who_am_i_names_the_sign_in_and_its_end(app: FastAPI, users: dict[Role, str]) -> None:
    body = sign_in(app, users[Role.SUPERVISOR])
    me = get(app, "/api/v1/auth/session", body["access_token"])
    assert me.status_code == 200
    answer = me.json()
    assert answer["username"] == users[Role.SUPERVISOR]
    assert (answer["role"], answer["kind"], answer["scope"]) == ("supervisor", "session", "full")
    assert answer["ends_at"]
