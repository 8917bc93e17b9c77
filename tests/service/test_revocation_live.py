"""Revocation at once, against the app served for real (live event streams need the server's
listener): log-out, revoking a personal token and `zones user disable` end access tokens,
refresh tokens, personal tokens, page cookies and the open alert streams of each; a stream
outlives the token it was opened with and the renewals of its page's cookie, but not its
sign-in. Also the password rules in `zones user add` and `zones user password`."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import jwt
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from service import cli, sign_ins
from service.api import stream_routes
from service.auth import add_user
from service.db.migrate import upgrade
from service.settings import DatabaseSettings, MapSettings, Settings
from tests.conftest import scratch_database
from tests.live import serve
from zones.model import Role

PASSWORD = "test-password-1"
USERS = {"officer": Role.OFFICER, "supervisor": Role.SUPERVISOR, "admin": Role.ADMIN,
         "leaver": Role.SUPERVISOR, "changer": Role.OFFICER}  # fmt: skip
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PROMPT = 2.0  # seconds within which a revocation reaches an open stream


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[str, str, Settings]]:
    """The app served on a scratch database of its own with committed users; its base URL,
    the database URL and its settings. Streams recheck their user every 0.3 s, and page
    cookies are renewed on every request, so that both can be seen within a test."""
    with (
        scratch_database("revocation") as url,
        pytest.MonkeyPatch.context() as patch,
    ):
        engine = create_engine(url)
        upgrade(engine)
        with Session(engine) as session:
            for name, role in USERS.items():
                add_user(session, name, PASSWORD, role)
            session.commit()
        engine.dispose()
        patch.setattr(stream_routes, "KEEPALIVE_SECONDS", 0.3)
        patch.setattr(sign_ins, "RENEW_AFTER", timedelta(0))
        settings = Settings(database=DatabaseSettings(url=url), map=MapSettings(tiles="none"))
        with serve(settings) as base:
            yield base, url, settings


def api_sign_in(base: str, name: str, password: str = PASSWORD) -> dict[str, Any]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": name, "password": password})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def page_sign_in(base: str, name: str) -> tuple[httpx.Client, str]:
    """A browser-like client logged in through the form; and its page's CSRF token."""
    client = httpx.Client(base_url=base, timeout=10, follow_redirects=True)
    [token] = CSRF.findall(client.get("/login").text)
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200 and "zones_session" in client.cookies, r.text[:300]
    [csrf] = CSRF.findall(client.get("/").text)
    return client, csrf


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Stream:
    """An open alert stream: its events and comments, line by line, as they come."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next_event(self) -> str:
        """The next event's name (keep-alive comments skipped)."""
        for line in self.lines:
            if line.startswith("event:"):
                return line.removeprefix("event:").strip()
        return "(ended)"

    def quiet_for(self, seconds: float) -> int:
        """Read for ``seconds``; only keep-alives may come. How many came."""
        kept, until = 0, time.monotonic() + seconds
        for line in self.lines:
            assert not line.startswith("event:"), f"the stream said {line!r}"
            kept += line.startswith(": keepalive")
            if time.monotonic() > until:
                return kept
        pytest.fail("the stream ended")


@contextmanager
def stream(client: httpx.Client, headers: dict[str, str] | None = None) -> Iterator[Stream]:
    with client.stream("GET", "/api/v1/alerts/stream", headers=headers or {}) as response:
        assert response.status_code == 200, response.read()
        opened = Stream(response)
        assert opened.next_event() == "ready"
        yield opened


def ends_promptly(opened: Stream) -> None:
    started = time.monotonic()
    assert opened.next_event() == "signed_out"
    assert time.monotonic() - started < PROMPT
    assert opened.next_event() == "(ended)"


def test_a_stream_outlives_its_access_token_but_not_the_log_out(
    live: tuple[str, str, Settings],
) -> None:
    base, _, settings = live
    first = api_sign_in(base, "supervisor")
    sid = jwt.decode(first["access_token"], settings.auth.secret, algorithms=["HS256"])["sid"]
    ends = datetime.now(UTC) + timedelta(hours=1)
    brief = sign_ins.access_token("supervisor", sid, timedelta(seconds=3), ends, settings.auth)
    with httpx.Client(base_url=base, timeout=10) as client, stream(client, auth(brief)) as s:
        assert s.quiet_for(4.5) >= 6  # rechecked several times after the token expired
        assert client.get("/api/v1/alerts", headers=auth(brief)).status_code == 401
        fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert fresh.status_code == 200
        out = client.post("/api/v1/auth/logout", headers=auth(fresh.json()["access_token"]))
        assert out.status_code == 204
        ends_promptly(s)


def test_a_page_stream_survives_cookie_renewals_and_ends_at_log_out(
    live: tuple[str, str, Settings],
) -> None:
    base, _, _ = live
    client, csrf = page_sign_in(base, "supervisor")
    with closing(client), stream(client) as s:
        opened_with = client.cookies["zones_session"]
        assert client.get("/desk").status_code == 200  # renews the cookie
        assert client.get("/api/v1/auth/session").status_code == 200  # and again
        assert client.cookies["zones_session"] != opened_with
        assert s.quiet_for(1.0) >= 1
        out = client.post("/logout", data={"csrf_token": csrf})  # with the renewed cookie
        assert out.status_code == 200 and "/login" in str(out.url)
        ends_promptly(s)


def test_revoking_a_personal_token_ends_its_stream(live: tuple[str, str, Settings]) -> None:
    base, _, _ = live
    access = api_sign_in(base, "officer")["access_token"]
    made = httpx.post(
        f"{base}/api/v1/auth/tokens",
        json={"name": "script", "scope": "read", "expires_in_days": 7},
        headers=auth(access),
    ).json()
    with (
        httpx.Client(base_url=base, timeout=10) as client,
        stream(client, auth(made["token"])) as s,
    ):
        assert s.quiet_for(0.7) >= 1
        gone = client.delete(f"/api/v1/auth/tokens/{made['id']}", headers=auth(access))
        assert gone.status_code == 204
        ends_promptly(s)
        assert client.get("/api/v1/alerts", headers=auth(made["token"])).status_code == 401


def test_zones_user_disable_ends_every_token_cookie_and_stream_at_once(
    live: tuple[str, str, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, url, _ = live
    api = api_sign_in(base, "leaver")
    pat = httpx.post(
        f"{base}/api/v1/auth/tokens",
        json={"name": "QGIS", "scope": "full", "expires_in_days": 30},
        headers=auth(api["access_token"]),
    ).json()["token"]
    page, _ = page_sign_in(base, "leaver")
    monkeypatch.setenv("ZONES_DATABASE_URL", url)
    with closing(page), httpx.Client(base_url=base, timeout=10) as client:
        with (
            stream(client, auth(api["access_token"])) as by_token,
            stream(client, auth(pat)) as by_pat,
            stream(page) as by_cookie,
        ):
            assert cli.main(["user", "disable", "leaver"]) == 0
            for s in (by_token, by_pat, by_cookie):
                ends_promptly(s)
        assert cli.main(["user", "enable", "leaver"]) == 0  # enabled again: all still ended
        assert client.get("/api/v1/alerts", headers=auth(api["access_token"])).status_code == 401
        assert client.get("/api/v1/alerts", headers=auth(pat)).status_code == 401
        refresh = {"refresh_token": api["refresh_token"]}
        assert client.post("/api/v1/auth/refresh", json=refresh).status_code == 401
        assert page.get("/desk").url.path == "/login"
    api_sign_in(base, "leaver")  # a new log-in works


def test_the_cli_holds_to_the_password_rules(
    live: tuple[str, str, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, url, _ = live
    monkeypatch.setenv("ZONES_DATABASE_URL", url)
    for weak in ("short-pw", "password1234", "newcomer"):
        assert cli.main(["user", "add", "newcomer", "--role", "officer", "--password", weak]) == 2
        assert "weak_password" in capsys.readouterr().err
    # Without --password, the password comes from standard input (not the shell's history).
    monkeypatch.setattr("sys.stdin", io.StringIO("tall ships and cold tea\n"))
    assert cli.main(["user", "add", "newcomer", "--role", "officer"]) == 0
    api_sign_in(base, "newcomer", "tall ships and cold tea")
    # An admin's reset through the CLI ends the user's sign-ins.
    before = api_sign_in(base, "changer")
    monkeypatch.setattr("sys.stdin", io.StringIO("1qaz2wsx3edc\n"))
    assert cli.main(["user", "password", "changer"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a reset by the admin desk\n"))
    assert cli.main(["user", "password", "changer"]) == 0
    r = httpx.get(f"{base}/api/v1/subjects", headers=auth(before["access_token"]))
    assert r.status_code == 401 and "password was changed" in json.loads(r.text)["error"]["message"]
    api_sign_in(base, "changer", "a reset by the admin desk")
