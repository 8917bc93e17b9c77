"""Password guessing is refused: 10 failures in 15 minutes lock the account and the client
address for 15 minutes, with 429 and Retry-After; a right password then proves nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from service.app import create_app
from service.db import tables
from service.settings import AuthSettings, MapSettings, Settings
from tests.service.conftest import PASSWORD
from zones.model import Role


def client_for(sessions: sessionmaker[Session]) -> TestClient:
    settings = Settings(
        map=MapSettings(tiles="none"), auth=AuthSettings(trusted_proxies="testclient")
    )
    app = create_app(settings)
    app.state.sessionmaker = sessions
    return TestClient(app)


def sign_in(client: TestClient, user: str, password: str, address: str) -> Any:
    return client.post(
        "/api/v1/auth/token",
        data={"username": user, "password": password},
        headers={"X-Forwarded-For": f"198.51.100.7, {address}"},
    )


def test_ten_failures_lock_the_account_even_from_new_addresses_and_a_right_password(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    officer = users[Role.OFFICER]
    with client_for(sessions) as client:
        for i in range(10):
            r = sign_in(client, officer, "wrong-guess", f"203.0.113.{i}")
            assert r.status_code == 401
        locked = sign_in(client, officer, PASSWORD, "203.0.113.99")
        assert locked.status_code == 429
        assert locked.json()["error"]["code"] == "too_many_attempts"
        wait = int(locked.headers["Retry-After"])
        assert 800 < wait <= 900
        # Another account from another address is not affected.
        other = sign_in(client, users[Role.SUPERVISOR], PASSWORD, "203.0.113.50")
        assert other.status_code == 200
        # Once the failures are older than 15 minutes, the right password works again.
        with sessions() as s:
            s.execute(
                update(tables.SignInFailure).values(
                    at=tables.SignInFailure.at - timedelta(minutes=16)
                )
            )
            s.commit()
        again = sign_in(client, officer, PASSWORD, "203.0.113.99")
        assert again.status_code == 200


def test_ten_failures_from_one_address_lock_that_address_for_every_account(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    with client_for(sessions) as client:
        for i in range(10):
            assert sign_in(client, f"nobody-{i}", "x", "192.0.2.1").status_code == 401
        r = sign_in(client, users[Role.CONTROL_ROOM], PASSWORD, "192.0.2.1")
        assert r.status_code == 429 and "address" in r.json()["error"]["message"]
        assert sign_in(client, users[Role.CONTROL_ROOM], PASSWORD, "192.0.2.2").status_code == 200


def test_an_untrusted_peer_cannot_choose_its_address_with_a_header(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    settings = Settings(map=MapSettings(tiles="none"))  # no trusted proxy
    app = create_app(settings)
    app.state.sessionmaker = sessions
    with TestClient(app) as client:
        for i in range(10):
            sign_in(client, f"ghost-{i}", "x", f"10.0.0.{i}")  # the header is ignored
        r = sign_in(client, users[Role.OFFICER], PASSWORD, "10.0.0.200")
        assert r.status_code == 429


def test_the_login_page_says_the_account_is_locked(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    with client_for(sessions) as client:
        for _ in range(10):
            sign_in(client, users[Role.SUPERVISOR], "nope", "203.0.113.1")
        page = client.get("/login")
        csrf = page.cookies.get("zones_login_csrf") or next(
            v for k, v in client.cookies.items() if "csrf" in k
        )
        r = client.post(
            "/login",
            data={"username": users[Role.SUPERVISOR], "password": PASSWORD, "csrf_token": csrf},
            headers={"X-Forwarded-For": "203.0.113.1"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and "error=locked" in r.headers["location"]
        assert "too many failed sign-ins" in client.get(r.headers["location"]).text
