"""The pages' session cookie slides: any page or API request made with a cookie a few
minutes old gets a fresh one for the same sign-in (the page's CSRF token stays good), one
left alone for 30 minutes is refused, and none outlives the sign-in's 12 hours."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.db import tables
from service.settings import Settings
from tests.service.test_pages import log_in
from zones.model import Role

COOKIE = "zones_session"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def claims(cookie: str, settings: Settings) -> dict[str, Any]:
    found: dict[str, Any] = jwt.decode(cookie, settings.auth.secret, algorithms=["HS256"])
    return found


def issued_ago(cookie: str, settings: Settings, minutes: float) -> str:
    """The same cookie as if it had been issued ``minutes`` ago (signed with the real key)."""
    c = claims(cookie, settings)
    then = datetime.now(UTC) - timedelta(minutes=minutes)
    c["iat"], c["exp"] = then, then + timedelta(minutes=settings.auth.idle_minutes)
    return jwt.encode(c, settings.auth.secret, algorithm="HS256")


def renewed(response: Any) -> str | None:
    """The session cookie a response sets, if it sets one."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{COOKIE}="):
            return str(header.split(";")[0].split("=", 1)[1])
    return None


def use(client: TestClient, cookie: str) -> None:
    """Send ``cookie`` from now on (instead of the one the log-in set)."""
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie)


def signed_in(app: FastAPI, username: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    log_in(client, username)
    return client, client.cookies[COOKIE]


def test_the_login_cookie_lives_30_idle_minutes(
    app: FastAPI, users: dict[Role, str], settings: Settings
) -> None:
    client = TestClient(app)
    form = client.get("/login").text
    [token] = CSRF.findall(form)
    r = client.post(
        "/login",
        data={"username": users[Role.SUPERVISOR], "password": "test-password-1",
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    [header] = [h for h in r.headers.get_list("set-cookie") if h.startswith(COOKIE)]
    assert "Max-Age=1800" in header and "HttpOnly" in header and "SameSite=strict" in header
    c = claims(client.cookies[COOKIE], settings)
    assert c["exp"] - c["iat"] == 30 * 60


def test_a_fresh_cookie_is_not_reissued(app: FastAPI, users: dict[Role, str]) -> None:
    client, _ = signed_in(app, users[Role.SUPERVISOR])
    assert renewed(client.get("/api/v1/alerts")) is None
    assert renewed(client.get("/desk")) is None


def test_a_page_or_api_request_renews_a_cookie_a_few_minutes_old(
    app: FastAPI, users: dict[Role, str], settings: Settings
) -> None:
    client, cookie = signed_in(app, users[Role.SUPERVISOR])
    for path in ("/desk", "/api/v1/alerts", "/api/v1/auth/session"):
        old = issued_ago(cookie, settings, 6)
        use(client, old)
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:200])
        fresh = renewed(r)
        assert fresh is not None, path
        before, after = claims(old, settings), claims(fresh, settings)
        assert after["sid"] == before["sid"]  # the same sign-in...
        assert after["exp"] - before["exp"] >= 5 * 60  # ...for another 30 minutes


def test_a_page_keeps_its_csrf_token_across_renewals(
    app: FastAPI, users: dict[Role, str], settings: Settings
) -> None:
    client, cookie = signed_in(app, users[Role.OFFICER])
    csrf = CSRF.findall(client.get("/").text)[0]  # as the page was served
    use(client, issued_ago(cookie, settings, 10))
    first = {"reference": "SLIDE-1", "name": "Still Here"}
    r = client.post("/api/v1/subjects", json=first, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    fresh = renewed(r)
    assert fresh is not None
    use(client, fresh)
    second = {"reference": "SLIDE-2", "name": "Still Here Too"}
    r = client.post("/api/v1/subjects", json=second, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text


def test_an_idle_cookie_is_refused(
    app: FastAPI, users: dict[Role, str], settings: Settings
) -> None:
    client, cookie = signed_in(app, users[Role.SUPERVISOR])
    use(client, issued_ago(cookie, settings, 31))
    r = client.get("/desk", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert client.get("/api/v1/alerts").status_code == 401


def test_no_renewal_outlives_the_sign_in(
    app: FastAPI, users: dict[Role, str], settings: Settings, session: Session
) -> None:
    client, cookie = signed_in(app, users[Role.SUPERVISOR])
    sid = claims(cookie, settings)["sid"]
    soon = datetime.now(UTC) + timedelta(minutes=2)
    session.execute(update(tables.SignIn).where(tables.SignIn.id == sid).values(ends_at=soon))
    session.commit()
    use(client, issued_ago(cookie, settings, 6))
    fresh = renewed(client.get("/api/v1/alerts"))
    assert fresh is not None
    assert claims(fresh, settings)["exp"] <= soon.timestamp()
    # And at the end, the sign-in is over, whatever the cookie says.
    session.execute(
        update(tables.SignIn)
        .where(tables.SignIn.id == sid)
        .values(ends_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    session.commit()
    use(client, cookie)
    assert client.get("/desk", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/alerts").status_code == 401


def test_log_out_ends_every_cookie_of_the_sign_in_and_sets_none_again(
    app: FastAPI, users: dict[Role, str], settings: Settings
) -> None:
    client, cookie = signed_in(app, users[Role.SUPERVISOR])
    csrf = CSRF.findall(client.get("/").text)[0]
    older = issued_ago(cookie, settings, 6)
    use(client, older)
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    [header] = [h for h in out.headers.get_list("set-cookie") if h.startswith(COOKIE)]
    assert 'zones_session=""' in header or "Max-Age=0" in header  # cleared, not renewed
    for stale in (cookie, older):
        again = TestClient(app)
        use(again, stale)
        assert again.get("/", follow_redirects=False).status_code == 303


def test_api_log_out_with_the_cookie_clears_it(app: FastAPI, users: dict[Role, str]) -> None:
    client, cookie = signed_in(app, users[Role.SUPERVISOR])
    csrf = CSRF.findall(client.get("/").text)[0]
    r = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert renewed(r) in (None, "", '""')
    again = TestClient(app)
    use(again, cookie)
    assert again.get("/api/v1/alerts").status_code == 401
