"""Pages over HTTP: the login cookie, and where the map scripts come from."""

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


def logged_in(app: FastAPI, users: dict[Role, str]) -> TestClient:
    client = TestClient(app)
    r = client.post(
        "/login",
        data={"username": users[Role.SUPERVISOR], "password": PASSWORD, "next": "/alerts/map"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/alerts/map"
    return client


def test_pages_ask_for_a_login_first(app: FastAPI) -> None:
    r = TestClient(app).get("/alerts/map", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/alerts/map"


def test_a_wrong_password_comes_back_with_an_error_and_no_cookie(
    app: FastAPI, users: dict[Role, str]
) -> None:
    client = TestClient(app)
    r = client.post("/login", data={"username": users[Role.OFFICER], "password": "nope-nope"})
    assert "wrong username or password" in r.text
    assert "zones_session" not in client.cookies


def test_the_alert_map_loads_every_script_from_this_service(
    app: FastAPI, users: dict[Role, str]
) -> None:
    page = logged_in(app, users).get("/alerts/map").text
    assert "L.map(" in page
    assert EXTERNAL.findall(page) == []
    assert '/static/npm/leaflet/dist/leaflet.js"' in page


def test_the_cdn_setting_loads_them_from_cdns(
    users: dict[Role, str], sessions: sessionmaker[Session]
) -> None:
    app = create_app(Settings(map=MapSettings(tiles="none", assets=AssetSource.CDN)))
    app.state.sessionmaker = sessions
    page = logged_in(app, users).get("/alerts/map").text
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in page
    assert "/static/npm/" not in page
