"""The password rules hold wherever a password is set: creating a user, changing one's own
through the API (which ends one's other sign-ins), and the CLI (see test_user_cli)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.auth import add_user
from service.passwords import WeakPassword
from tests.service.conftest import PASSWORD
from zones.model import Role

NEW = "a long and uncommon passphrase"


def sign_in(app: FastAPI, username: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app)
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


@pytest.mark.parametrize("password", ["too-short-1", "1qaz2wsx3edc", "NEW-OFFICER-7"])
def test_a_user_cannot_be_made_with_a_weak_password(session: Session, password: str) -> None:
    with pytest.raises(WeakPassword):
        add_user(session, "new-officer-7", password, Role.OFFICER)


def test_changing_ones_password_ends_the_other_sign_ins(
    app: FastAPI, users: dict[Role, str]
) -> None:
    name = users[Role.OFFICER]
    here, elsewhere = sign_in(app, name), sign_in(app, name)
    r = here.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                  "new_password": NEW})  # fmt: skip
    assert r.status_code == 204, r.text
    assert here.get("/api/v1/subjects").status_code == 200  # this sign-in goes on
    gone = elsewhere.get("/api/v1/subjects")
    assert gone.status_code == 401 and "password was changed" in gone.json()["error"]["message"]
    login = {"username": name, "password": PASSWORD}
    assert TestClient(app).post("/api/v1/auth/token", data=login).status_code == 401
    sign_in(app, name, NEW)
    audit = sign_in(app, users[Role.ADMIN]).get("/api/v1/audit?action=user.password").json()
    audit = audit["entries"]
    assert audit[0]["username"] == name


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"current_password": "not-the-password", "new_password": NEW}, 403, "forbidden"),
        ({"current_password": PASSWORD, "new_password": "password1234"}, 422, "weak_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, 422, "weak_password"),
        ({"current_password": PASSWORD, "new_password": "TEST-OFFICER"}, 422, "weak_password"),
    ],
)
def test_a_wrong_current_or_weak_new_password_is_refused(
    app: FastAPI, users: dict[Role, str], body: dict[str, str], status: int, code: str
) -> None:
    client = sign_in(app, users[Role.OFFICER])
    r = client.post("/api/v1/auth/password", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert client.get("/api/v1/subjects").status_code == 200  # nothing ended
