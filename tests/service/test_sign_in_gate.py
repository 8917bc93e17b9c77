"""The door to signing in: a rate per client address and per account, a few sign-ins at a
time with a short queue, and 429 with Retry-After for the rest, before any password is
hashed or any thread or database connection is taken."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Message, Receive, Scope, Send

from service import password_hashing as passwords
from service.app import create_app
from service.db import tables
from service.settings import AuthSettings, MapSettings, Settings, SignInSettings
from service.sign_in_gate import Buckets, SignInGate, Slots
from tests.conftest import run_async
from tests.service.conftest import PASSWORD
from zones.model import Role


def client_with(sessions: sessionmaker[Session], **limits: Any) -> TestClient:
    settings = Settings(
        map=MapSettings(tiles="none"),
        auth=AuthSettings(trusted_proxies="testclient"),
        sign_in=SignInSettings(**({"refusal_delay_seconds": 0} | limits)),
    )
    app = create_app(settings)
    app.state.sessionmaker = sessions
    return TestClient(app)


def sign_in(client: TestClient, user: str, password: str, address: str) -> Any:
    return client.post(
        "/api/v1/auth/token",
        data={"username": user, "password": password},
        headers={"X-Forwarded-For": address},
    )


def failures(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(tables.SignInFailure)) or 0)


def test_a_bucket_gives_its_burst_then_one_token_per_interval() -> None:
    now = [100.0]
    bucket = Buckets(per_minute=6, burst=3, clock=lambda: now[0])
    assert [bucket.take("a") for _ in range(3)] == [0, 0, 0]
    assert bucket.take("a") == pytest.approx(10.0)  # one token every 10 s
    assert bucket.take("b") == 0  # another key has its own
    now[0] += 10
    assert bucket.take("a") == 0
    assert bucket.take("a") > 0


def test_a_bucket_forgets_the_least_recent_keys_beyond_its_size() -> None:
    bucket = Buckets(per_minute=1, burst=1, max_keys=2)
    bucket.take("a")
    bucket.take("b")
    bucket.take("c")  # "a" is forgotten: made-up keys cannot fill the memory
    assert bucket.take("a") == 0 and bucket.take("c") > 0


def test_an_address_over_its_rate_is_refused_before_any_password_is_checked(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    with client_with(sessions, per_client_burst=3, per_client_per_minute=1) as client:
        for i in range(3):
            assert sign_in(client, f"nobody-{i}", "wrong-guess", "192.0.2.1").status_code == 401
        refused = sign_in(client, users[Role.OFFICER], PASSWORD, "192.0.2.1")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_sign_ins"
        assert 55 <= int(refused.headers["Retry-After"]) <= 60
        assert failures(sessions) == 3  # the refused attempt reached no handler
        # Another address is another client.
        assert sign_in(client, users[Role.OFFICER], PASSWORD, "192.0.2.2").status_code == 200


def test_an_account_over_its_rate_is_refused_from_any_address(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    officer = users[Role.OFFICER]
    with client_with(sessions, per_account_burst=2, per_account_per_minute=1) as client:
        assert sign_in(client, officer, "wrong-guess", "198.51.100.1").status_code == 401
        assert sign_in(client, officer, PASSWORD, "198.51.100.2").status_code == 200
        refused = sign_in(client, f"  {officer.upper()} ", PASSWORD, "198.51.100.3")
        assert refused.status_code == 429 and "account" in refused.json()["error"]["message"]
        assert failures(sessions) == 1
        assert sign_in(client, users[Role.SUPERVISOR], PASSWORD, "198.51.100.3").status_code == 200


def test_the_login_page_is_limited_too_and_answers_with_a_page(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    with client_with(sessions, per_client_burst=1) as client:
        form = {"username": users[Role.OFFICER], "password": "x", "csrf_token": "forged"}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        refused = client.post("/login", data=form, follow_redirects=False)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["content-type"].startswith("text/html")
        assert "Too many sign-ins" in refused.text
        # The API's sign-in shares the address's bucket.
        assert sign_in(client, users[Role.OFFICER], PASSWORD, "testclient").status_code == 429


def test_a_refusal_is_answered_late_so_retrying_at_once_gains_nothing(
    sessions: sessionmaker[Session], users: dict[Role, str]
) -> None:
    with client_with(sessions, per_client_burst=1, refusal_delay_seconds=0.3) as client:
        sign_in(client, "nobody", "x", "203.0.113.5")
        began = time.perf_counter()
        assert sign_in(client, "nobody", "x", "203.0.113.5").status_code == 429
        assert time.perf_counter() - began >= 0.3


async def _slots_story() -> list[str]:
    slots = Slots(size=1, queue=1, wait_s=0.2)
    story = []
    assert await slots.acquire()  # the one turn
    second = asyncio.create_task(slots.acquire())  # waits
    await asyncio.sleep(0)
    story.append(f"third: {await slots.acquire()}")  # the queue is full: refused at once
    slots.release()  # the turn passes to the waiter
    story.append(f"second: {await second}")
    story.append(f"fourth: {await slots.acquire()}")  # waits 0.2 s, then gives up
    slots.release()
    story.append(f"fifth: {await slots.acquire()}")  # free again
    story.append(f"busy: {slots.busy}, waiting: {len(slots.waiting)}")
    return story


def test_slots_admit_a_few_queue_a_few_and_refuse_the_rest() -> None:
    assert run_async(_slots_story()) == [
        "third: False",
        "second: True",
        "fourth: False",
        "fifth: True",
        "busy: 1, waiting: 0",
    ]


async def _flood_a_gate(n: int) -> tuple[list[int], int, list[str]]:
    """``n`` sign-ins at once through a gate (1 at a time, 2 waiting) in front of a handler
    that holds its turn until released: their statuses, and how many reached it at most."""
    settings = Settings(
        sign_in=SignInSettings(concurrent=1, queue=2, wait_seconds=5, refusal_delay_seconds=0)
    )
    inside, most, release = 0, 0, asyncio.Event()
    order: list[str] = []

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal inside, most
        body = (await receive())["body"]
        inside += 1
        most = max(most, inside)
        order.append(body.decode())
        await release.wait()
        inside -= 1
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    gate = SignInGate(handler, settings, api_paths={"/token"}, page_paths=set())

    async def one(i: int) -> int:
        statuses: list[int] = []
        body = f"username=user{i}&password=x".encode()

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope = {
            "type": "http", "method": "POST", "path": "/token", "query_string": b"",
            "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
            "client": (f"10.0.0.{i}", 1000),
        }  # fmt: skip
        await gate(scope, receive, send)
        return statuses[0]

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    while sum(t.done() for t in tasks) < n - 3:  # all but the admitted and the queued
        await asyncio.sleep(0.01)
    release.set()
    return [await t for t in tasks], most, order


def test_a_flood_of_sign_ins_gets_one_turn_two_places_in_the_queue_and_429s() -> None:
    statuses, most, order = run_async(_flood_a_gate(10))
    assert sorted(statuses) == [401] * 3 + [429] * 7
    assert most == 1  # never two password checks at once
    assert order == ["username=user0&password=x", "username=user1&password=x",
                     "username=user2&password=x"]  # fmt: skip


def test_passwords_are_hashed_in_threads_of_low_priority() -> None:
    if not hasattr(os, "getpriority"):
        pytest.skip("no thread priorities on this platform")

    def where() -> tuple[str, int]:
        return threading.current_thread().name, os.getpriority(
            os.PRIO_PROCESS, threading.get_native_id()
        )

    name, niceness = passwords._in_pool(where)
    assert name.startswith("argon2") and niceness >= passwords.NICENESS
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < niceness
    hashed = passwords.hash_password("correct horse battery")
    passwords.verify_password(hashed, "correct horse battery")
