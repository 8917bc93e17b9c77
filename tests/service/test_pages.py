"""Pages over HTTP: logging in and out, and the headers that keep scripts out."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from service.app import create_app
from service.settings import AssetSource, MapSettings, Settings
from tests.service.conftest import PASSWORD
from zones.model import Role

EXTERNAL = re.compile(r'<(?:script|link)[^>]+(?:src|href)="(https?:)?//[^"]+"')
LOGIN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(client: TestClient, username: str, password: str = PASSWORD, next: str = "/") -> str:
    """Log in through the form, as a browser does; returns where it was sent."""
    form = client.get("/login", params={"next": next}).text
    [token] = LOGIN_CSRF.findall(form)
    r = client.post(
        "/login",
        data={"username": username, "password": password, "next": next, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return str(r.headers["location"])


def test_pages_ask_for_a_login_first(app: FastAPI) -> None:
    r = TestClient(app).get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/"


def test_a_login_form_without_its_token_is_refused(app: FastAPI, users: dict[Role, str]) -> None:
    client = TestClient(app)
    r = client.post(
        "/login",
        data={"username": users[Role.OFFICER], "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "error=expired" in r.headers["location"]
    assert "zones_session" not in client.cookies


def test_a_wrong_password_comes_back_with_an_error_and_no_cookie(
    app: FastAPI, users: dict[Role, str]
) -> None:
    client = TestClient(app)
    where = log_in(client, users[Role.OFFICER], "nope-nope")
    assert "error=wrong" in where
    assert "wrong username or password" in client.get(where).text
    assert "zones_session" not in client.cookies


def test_the_login_page_shows_no_text_chosen_by_a_link(app: FastAPI) -> None:
    page = TestClient(app).get("/login", params={"error": "Your account is locked: call 0800"})
    assert "0800" not in page.text and 'role="alert"' not in page.text


def test_an_outside_next_is_not_followed(app: FastAPI, users: dict[Role, str]) -> None:
    assert log_in(TestClient(app), users[Role.OFFICER], next="//evil.example/x") == "/"


def test_log_out_is_a_post_that_ends_the_token(app: FastAPI, users: dict[Role, str]) -> None:
    client = TestClient(app)
    assert log_in(client, users[Role.SUPERVISOR]) == "/"
    home = client.get("/")
    assert home.status_code == 200
    # A link (GET) does not log out: a page elsewhere could embed it.
    client.get("/logout")
    assert client.get("/", follow_redirects=False).status_code == 200
    cookie = client.cookies["zones_session"]
    [csrf] = re.findall(r'name="csrf_token" value="([^"]+)"', home.text)
    assert (
        client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    # The old token is refused even when sent again by hand.
    again = TestClient(app)
    again.cookies.set("zones_session", cookie)
    assert again.get("/", follow_redirects=False).status_code == 303
    r = TestClient(app).get("/api/v1/alerts", headers={"Authorization": f"Bearer {cookie}"})
    assert r.status_code == 401


def test_a_change_through_the_cookie_needs_the_csrf_header(
    app: FastAPI, users: dict[Role, str]
) -> None:
    client = TestClient(app)
    log_in(client, users[Role.OFFICER])
    subject = {"reference": "CSRF-1", "name": "Cookie Only"}
    r = client.post("/api/v1/subjects", json=subject)
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["error"]["message"]
    [csrf] = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    r = client.post("/api/v1/subjects", json=subject, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text


def test_pages_forbid_inline_scripts_and_framing(app: FastAPI, users: dict[Role, str]) -> None:
    client = TestClient(app)
    log_in(client, users[Role.SUPERVISOR])
    for path in ("/login", "/", "/docs"):
        r = client.get(path)
        policy = r.headers["content-security-policy"]
        [scripts] = [p for p in policy.split("; ") if p.startswith("script-src")]
        assert "'unsafe-inline'" not in scripts and "'nonce-" in scripts
        assert "frame-ancestors 'none'" in policy and r.headers["x-frame-options"] == "DENY"
        nonce = re.search(r"'nonce-([^']+)'", scripts)
        assert nonce is not None
        # Every script that runs is a file of ours or carries the nonce (JSON data does not run).
        inline = re.findall(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))([^>]*)>", r.text)
        assert all(f'nonce="{nonce.group(1)}"' in attrs for attrs in inline), (path, inline)


def test_the_docs_load_every_script_from_this_service(app: FastAPI) -> None:
    page = TestClient(app).get("/docs").text
    assert EXTERNAL.findall(page) == []
    assert "/static/npm/swagger-ui-dist/swagger-ui-bundle.js" in page


def test_the_cdn_setting_loads_them_from_cdns(sessions: sessionmaker[Session]) -> None:
    app = create_app(Settings(map=MapSettings(tiles="none", assets=AssetSource.CDN)))
    app.state.sessionmaker = sessions
    page = TestClient(app).get("/docs").text
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist" in page
