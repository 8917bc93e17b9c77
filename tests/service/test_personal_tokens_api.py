"""Personal access tokens: shown once, stored hashed, scoped, expiring, revocable; a token
cannot make tokens; admins see and revoke anyone's; disabling the user ends them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.db import tables
from zones.model import Role

SUBJECT = {"reference": "PAT-1", "name": "Token Made"}


def make_token(client: TestClient, name: str = "QGIS", scope: str = "read", days: int = 30) -> Any:
    r = client.post(
        "/api/v1/auth/tokens", json={"name": name, "scope": scope, "expires_in_days": days}
    )
    assert r.status_code == 201, r.text
    return r.json()


def bearer(app: FastAPI, token: str) -> TestClient:
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_a_token_is_shown_once_and_stored_as_a_hash(officer: TestClient, session: Session) -> None:
    made = make_token(officer, "QGIS on the analysis laptop", "read", 90)
    assert made["token"].startswith("zpat_") and len(made["token"]) > 40
    assert (made["name"], made["scope"], made["active"]) == (
        "QGIS on the analysis laptop", "read", True,
    )  # fmt: skip
    listed = officer.get("/api/v1/auth/tokens").json()
    assert [t["id"] for t in listed] == [made["id"]]
    assert "token" not in listed[0]
    stored = session.scalars(select(tables.PersonalToken.token_hash)).all()
    assert stored == [hashlib.sha256(made["token"].encode()).hexdigest()]


def test_a_read_token_reads_and_is_refused_any_change(app: FastAPI, officer: TestClient) -> None:
    pat = bearer(app, make_token(officer, scope="read")["token"])
    assert pat.get("/api/v1/subjects").status_code == 200
    me = pat.get("/api/v1/auth/session").json()
    assert (me["kind"], me["scope"]) == ("pat", "read")
    for method, path, body in (
        ("POST", "/api/v1/subjects", SUBJECT),
        ("PUT", "/api/v1/subjects/1", SUBJECT),
        ("DELETE", "/api/v1/auth/tokens/1", None),
        ("POST", "/api/v1/auth/logout", None),
    ):
        r = pat.request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.text)
        assert "may only read" in r.json()["error"]["message"]


def test_a_full_token_acts_with_the_users_role_as_it_is_now(
    app: FastAPI, officer: TestClient, users: dict[Role, str], session: Session
) -> None:
    pat = bearer(app, make_token(officer, scope="full")["token"])
    assert pat.post("/api/v1/subjects", json=SUBJECT).status_code == 201
    session.execute(
        update(tables.User)
        .where(tables.User.username == users[Role.OFFICER])
        .values(role=Role.SUPERVISOR.value)
    )
    session.commit()
    again = {"reference": "PAT-2", "name": "Demoted"}
    assert pat.post("/api/v1/subjects", json=again).status_code == 403


def test_a_token_cannot_make_tokens_refresh_or_change_the_password(
    app: FastAPI, officer: TestClient
) -> None:
    value = make_token(officer, scope="full")["token"]
    pat = bearer(app, value)
    r = pat.post("/api/v1/auth/tokens", json={"name": "more", "expires_in_days": 1})
    assert r.status_code == 403 and "personal access token" in r.json()["error"]["message"]
    change = {"current_password": "x", "new_password": "a fresh long passphrase"}
    assert pat.post("/api/v1/auth/password", json=change).status_code == 403
    assert pat.post("/api/v1/auth/refresh", json={"refresh_token": value}).status_code == 401


def test_an_expiry_is_required_and_bounded(officer: TestClient) -> None:
    for body in (
        {"name": "forever"},
        {"name": "zero", "expires_in_days": 0},
        {"name": "too long", "expires_in_days": 366},
        {"name": " ", "expires_in_days": 5},
        {"name": "bad scope", "expires_in_days": 5, "scope": "admin"},
    ):
        r = officer.post("/api/v1/auth/tokens", json=body)
        assert r.status_code == 422, (body, r.text)
    assert make_token(officer, days=365)["active"]


def test_an_expired_token_is_refused(app: FastAPI, officer: TestClient, session: Session) -> None:
    made = make_token(officer)
    session.execute(
        update(tables.PersonalToken)
        .where(tables.PersonalToken.id == made["id"])
        .values(expires_at=tables.PersonalToken.created_at)
    )
    session.commit()
    r = bearer(app, made["token"]).get("/api/v1/subjects")
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    assert officer.get("/api/v1/auth/tokens").json()[0]["active"] is False


def test_revoking_ones_own_token_ends_it_at_once(app: FastAPI, officer: TestClient) -> None:
    made = make_token(officer)
    pat = bearer(app, made["token"])
    assert pat.get("/api/v1/subjects").status_code == 200
    assert officer.delete(f"/api/v1/auth/tokens/{made['id']}").status_code == 204
    r = pat.get("/api/v1/subjects")
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    [listed] = officer.get("/api/v1/auth/tokens").json()
    assert listed["active"] is False and listed["revoked_by"] == "test-officer"


def test_a_full_token_logging_out_revokes_itself(app: FastAPI, officer: TestClient) -> None:
    pat = bearer(app, make_token(officer, scope="full")["token"])
    assert pat.post("/api/v1/auth/logout").status_code == 204
    assert pat.get("/api/v1/subjects").status_code == 401


def test_others_tokens_are_for_admins_only(
    app: FastAPI, client_as: Callable[[Role], TestClient], users: dict[Role, str]
) -> None:
    officer, control, admin = (
        client_as(Role.OFFICER), client_as(Role.CONTROL_ROOM), client_as(Role.ADMIN),
    )  # fmt: skip
    made = make_token(officer)
    pat = bearer(app, made["token"])
    # Another user's token does not exist for a non-admin: not in a list, not to revoke.
    assert control.get("/api/v1/auth/tokens").json() == []
    assert control.get(f"/api/v1/auth/tokens?username={users[Role.OFFICER]}").status_code == 403
    assert control.get("/api/v1/auth/tokens?all=true").status_code == 403
    assert control.delete(f"/api/v1/auth/tokens/{made['id']}").status_code == 404
    assert pat.get("/api/v1/subjects").status_code == 200
    # An admin lists anyone's, and revokes them.
    theirs = admin.get(f"/api/v1/auth/tokens?username={users[Role.OFFICER]}").json()
    assert [t["id"] for t in theirs] == [made["id"]]
    assert made["id"] in [t["id"] for t in admin.get("/api/v1/auth/tokens?all=true").json()]
    assert admin.delete(f"/api/v1/auth/tokens/{made['id']}").status_code == 204
    assert pat.get("/api/v1/subjects").status_code == 401
    entries = admin.get("/api/v1/audit?action=token.revoke").json()["entries"]
    assert entries[0]["username"] == users[Role.ADMIN]
    assert entries[0]["detail"] == {"owner": users[Role.OFFICER], "name": "QGIS"}
    created = admin.get("/api/v1/audit?action=token.create").json()["entries"]
    assert created[0]["object_id"] == str(made["id"])


def test_disabling_the_user_revokes_their_tokens_for_good(
    app: FastAPI, client_as: Callable[[Role], TestClient], users: dict[Role, str]
) -> None:
    officer, admin = client_as(Role.OFFICER), client_as(Role.ADMIN)
    pat = bearer(app, make_token(officer)["token"])
    name = users[Role.OFFICER]
    assert admin.post(f"/api/v1/users/{name}/disable").status_code == 204
    assert pat.get("/api/v1/subjects").status_code == 401
    assert admin.post(f"/api/v1/users/{name}/enable").status_code == 204
    r = pat.get("/api/v1/subjects")
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]


def test_a_made_up_token_is_refused(app: FastAPI, users: dict[Role, str]) -> None:
    r = bearer(app, "zpat_" + "A" * 43).get("/api/v1/subjects")
    assert r.status_code == 401
