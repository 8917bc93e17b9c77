"""Pages against a forging site: every change made with the session cookie, by a form or by
the API, needs the page's CSRF token; cookies are ``Secure`` outside development; the login
page shows only its own words."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from service.app import create_app
from service.pages.auth_views import LOGIN_ERRORS
from service.settings import Environment, MapSettings, Settings
from tests.service.conftest import PASSWORD
from tests.service.test_pages import LOGIN_CSRF, log_in
from zones.model import Role

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# The page routes that take a form, and what refusing a forged one looks like for each.
PAGE_FORMS = {"/login", "/logout"}
# The one API change that takes no session: signing in (it makes one).
# Routes a session cookie plays no part in: signing in, and a refresh, which the refresh
# token in its body proves (a browser never holds one).
NO_SESSION = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh")}
# Trackers' routes take a device's or gateway's secret and never a session: a signed-in
# browser's cookie gets nothing there, so a forged request has nothing to ride on.
DEVICE_FEEDS = "/api/v1/feeds/"


def unsafe_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path is not None
        for method in (getattr(route, "methods", None) or set()) & UNSAFE
    )


def test_every_page_form_is_one_this_test_knows(app: FastAPI) -> None:
    pages = {path for _, path in unsafe_routes(app) if not path.startswith("/api/")}
    assert pages == PAGE_FORMS, "a new form route: add its forged-token case below"


def test_a_login_form_without_its_own_token_signs_nobody_in(
    app: FastAPI, users: dict[Role, str]
) -> None:
    client = TestClient(app)
    real = LOGIN_CSRF.findall(client.get("/login").text)[0]  # the cookie is now set
    for given in ("", "forged", real[:-1] + ("A" if real[-1] != "A" else "B")):
        r = client.post(
            "/login",
            data={"username": users[Role.OFFICER], "password": PASSWORD, "csrf_token": given},
            follow_redirects=False,
        )
        assert r.status_code == 303 and "error=expired" in r.headers["location"], given
        assert "zones_session" not in client.cookies
    # Another browser's token is no good without that browser's cookie.
    stranger = TestClient(app)
    r = stranger.post(
        "/login",
        data={"username": users[Role.OFFICER], "password": PASSWORD, "csrf_token": real},
        follow_redirects=False,
    )
    assert "error=expired" in r.headers["location"] and "zones_session" not in stranger.cookies


def test_a_forged_log_out_leaves_the_session_alone(app: FastAPI, users: dict[Role, str]) -> None:
    client = TestClient(app)
    log_in(client, users[Role.SUPERVISOR])
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": "0" * 40}):
        r = client.post("/logout", data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert client.get("/", follow_redirects=False).status_code == 200, data


def test_every_api_change_through_the_cookie_needs_the_csrf_header(
    app: FastAPI, users: dict[Role, str]
) -> None:
    client = TestClient(app)
    log_in(client, users[Role.ADMIN])
    checked, feeds = [], []
    for method, path in unsafe_routes(app):
        if path.startswith(DEVICE_FEEDS):
            url = re.sub(r"\{[^}]+\}", "zgw_not-a-secret", path)
            r = client.request(method, url, json={})
            assert r.status_code == 401, (method, path, r.status_code, r.text)  # cookie: nothing
            feeds.append(path)
            continue
        if not path.startswith("/api/") or (method, path) in NO_SESSION:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            r = client.request(method, url, json={}, headers=headers)
            assert r.status_code == 403, (method, path, headers, r.status_code, r.text)
            assert "X-CSRF-Token" in r.json()["error"]["message"], (method, path)
        checked.append(path)
    assert len(checked) >= 20 and "/api/v1/auth/logout" in checked
    assert "/api/v1/feeds/traccar" in feeds and "/api/v1/feeds/owntracks" in feeds
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def production_app(sessions: sessionmaker[Session]) -> FastAPI:
    app = create_app(Settings(environment=Environment.PRODUCTION, map=MapSettings(tiles="none")))
    app.state.sessionmaker = sessions
    return app


def test_cookies_are_secure_outside_development(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    client = TestClient(production_app(sessions), base_url="https://testserver")
    form = client.get("/login")
    assert all("secure" in c.lower() for c in form.headers.get_list("set-cookie"))
    [token] = LOGIN_CSRF.findall(form.text)
    signed_in = client.post(
        "/login",
        data={"username": users[Role.OFFICER], "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookies = signed_in.headers.get_list("set-cookie")
    assert any(c.startswith("zones_session=") for c in cookies)
    assert all(re.search(r";\s*Secure", c, re.IGNORECASE) for c in cookies), cookies
    assert all("httponly" in c.lower() and "samesite=strict" in c.lower() for c in cookies[:1])


def test_cookies_work_on_plain_http_in_development(app: FastAPI) -> None:
    cookies = TestClient(app).get("/login").headers.get_list("set-cookie")
    assert cookies and not any("secure" in c.lower() for c in cookies)


def test_the_login_page_says_only_its_own_words(app: FastAPI) -> None:
    client = TestClient(app)
    for code, words in LOGIN_ERRORS.items():
        assert words in client.get("/login", params={"error": code}).text
    for chosen in ("<b>call 0800 123</b>", "wrong", "expired ", "__class__"):
        page = client.get("/login", params={"error": f"Account locked: {chosen}"}).text
        assert "0800" not in page and 'role="alert"' not in page
