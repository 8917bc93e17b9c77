"""Request bodies are capped before anything reads them: 16 MB for a caller with valid
credentials, 64 kB for anyone else; a forged or expired token does not lift the cap."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.app import create_app
from service.settings import ApiSettings, MapSettings, Settings
from tests.conftest import run_async
from tests.service.conftest import PASSWORD
from tests.service.test_pages import log_in
from zones.model import Role

FOURTEEN_MB = 14 * 1024 * 1024
SIGHTING = b'{"subject_id": 1, "lon": 0.12, "lat": 52.2, "source": "public", "note": "'


class Counting:
    """The app, and how many body bytes it took from the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.consumed = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            self.consumed += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def huge_sighting() -> bytes:
    return SIGHTING + b"x" * FOURTEEN_MB + b'"}'


def forged_token(key: str, **claims: Any) -> str:
    now = datetime.now(UTC)
    body = {"sub": "test-admin", "role": "admin", "jti": "f" * 32, "iat": now}
    return jwt.encode(body | {"exp": now + timedelta(hours=1)} | claims, key, algorithm="HS256")


def test_a_stranger_s_14_mb_is_refused_unread_with_no_forged_or_expired_token(
    app: FastAPI, settings: Settings
) -> None:
    secret = settings.auth.secret
    assert secret is not None
    callers: dict[str, dict[str, str]] = {
        "no token": {},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "forged": {"Authorization": f"Bearer {forged_token('another key of 32 bytes or more!!')}"},
        "expired": {
            "Authorization": f"Bearer {forged_token(secret, exp=datetime.now(UTC) - timedelta(1))}"
        },
        "forged cookie": {"Cookie": f"zones_session={forged_token('x' * 40)}"},
        "made-up personal token": {
            "Authorization": "Bearer zpat_" + "A" * 43 + ".AAAAAAAAAAAAAAAA"
        },
    }
    for who, headers in callers.items():
        counting = Counting(app)
        r = TestClient(counting).post(
            "/api/v1/sightings/check",
            content=huge_sighting(),
            headers=headers | {"Content-Type": "application/json"},
        )
        assert r.status_code == 413, who
        assert r.json()["error"]["code"] == "body_too_large"
        assert "65536 bytes" in r.json()["error"]["message"]
        assert counting.consumed == 0, who


def test_a_sign_in_form_fits_under_the_stranger_s_cap(app: FastAPI, users: dict[Role, str]) -> None:
    r = TestClient(app).post(
        "/api/v1/auth/token",
        data={"username": users[Role.OFFICER], "password": PASSWORD, "scope": "x" * 20_000},
    )
    assert r.status_code == 200


def test_a_signed_in_user_can_still_send_a_big_batch(
    app: FastAPI, officer: TestClient, users: dict[Role, str]
) -> None:
    subject = officer.post("/api/v1/subjects", json={"reference": "BIG-1", "name": "Big Batch"})
    start = datetime(2026, 3, 1, tzinfo=UTC)
    fixes = [
        {
            "subject_id": subject.json()["id"],
            "lon": 0.12 + i * 1e-5,
            "lat": 52.2,
            "time": (start + timedelta(seconds=30 * i)).isoformat(),
            "accuracy_m": 10,
        }
        for i in range(1_500)
    ]
    body = json.dumps(fixes).encode()
    assert len(body) > 2 * 64 * 1024
    counting = Counting(app)
    client = TestClient(counting)
    client.headers["Authorization"] = officer.headers["Authorization"]
    r = client.post(
        "/api/v1/observations", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1_500
    assert counting.consumed == len(body)


def test_the_session_cookie_lifts_the_cap_too(app: FastAPI, users: dict[Role, str]) -> None:
    client = TestClient(Counting(app))
    log_in(client, users[Role.OFFICER])
    body = b'{"reference": "C-1", "name": "' + b"x" * 100_000 + b'"}'
    r = client.post("/api/v1/subjects", content=body, headers={"Content-Type": "application/json"})
    # Read, then refused for what it says (no CSRF header), not for its size.
    assert r.status_code == 403


def stream_without_length(app: ASGIApp, content_type: bytes) -> tuple[int, int]:
    """POST an endless body in 16 kB chunks with no Content-Length: the status, and the bytes
    the app took before answering."""
    taken, answer = 0, []

    async def receive() -> Message:
        nonlocal taken
        taken += 16_384
        return {"type": "http.request", "body": b"x" * 16_384, "more_body": True}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.append(message["status"])

    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/sightings/check", "raw_path": b"", "root_path": "",
        "query_string": b"", "headers": [(b"content-type", content_type)],
        "client": ("192.0.2.9", 5000), "server": ("testserver", 80),
    }  # fmt: skip
    run_async(asyncio.wait_for(app(scope, receive, send), 30))
    return answer[0], taken


def test_a_body_without_a_length_is_cut_off_at_the_cap(app: FastAPI) -> None:
    for kind in (b"application/json", b"application/octet-stream"):
        status, taken = stream_without_length(app, kind)
        assert status == 413, kind
        assert taken <= 64 * 1024 + 16_384, kind


def test_the_stranger_s_cap_is_a_setting(sessions: sessionmaker[Session]) -> None:
    settings = Settings(map=MapSettings(tiles="none"), api=ApiSettings(anonymous_body_bytes=2048))
    app = create_app(settings)
    app.state.sessionmaker = sessions
    r = TestClient(app).post("/api/v1/auth/token", data={"username": "u", "password": "p" * 3000})
    assert r.status_code == 413 and "2048 bytes" in r.json()["error"]["message"]
