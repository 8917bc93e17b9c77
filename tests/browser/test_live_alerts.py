"""Live alerts across server processes: the service runs as two processes on two ports over
one database; an alert made through one reaches a desk open on the other as a server-sent
event, a reconnecting client gets what it missed, and logging out ends a stream."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Request, expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import (
    CONTROL,
    OFFICER,
    SUPERVISOR,
    api_client,
    demo_database,
    open_visit,
)
from tests.browser.test_alert_desk import make_case, queue_item, sighting_inside
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
START_SECONDS = 45


@dataclass
class Server:
    """A ``zones serve`` process of our own, and its log."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def zones_serve(database_url: str, folder: Path, *args: str) -> Iterator[Server]:
    """``zones serve --port P [args]`` as a subprocess on the scratch database; stopped (its
    whole process group: uvicorn's workers too) at the end."""
    port = free_port()
    log = folder / f"serve-{port}.log"
    env = os.environ | {
        "ZONES_DATABASE_URL": database_url,
        "ZONES_MAP_TILES": "none",
        "ZONES_MAP_ASSETS": "local",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to stop it with its workers
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_until_answering(*servers: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    waiting = list(servers)
    while waiting:
        for server in list(waiting):
            if server.process.poll() is not None:
                pytest.fail(f"{server.base_url} stopped:\n{server.tail()}")
            try:
                if httpx.get(f"{server.base_url}/login", timeout=2).status_code == 200:
                    waiting.remove(server)
            except httpx.TransportError:
                pass
        if waiting and time.monotonic() > deadline:
            pytest.fail(f"{waiting[0].base_url} did not answer:\n{waiting[0].tail()}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def live_database() -> Iterator[str]:
    """A scratch database of these servers' own, migrated, with the demo loaded."""
    with demo_database("live_alerts") as url:
        yield url


@pytest.fixture(scope="module")
def two_servers(
    live_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """Processes A and B: two `zones serve` on two ports, sharing the database."""
    folder = tmp_path_factory.mktemp("servers")
    with (
        zones_serve(live_database, folder) as a,
        zones_serve(live_database, folder) as b,
    ):
        wait_until_answering(a, b)
        yield a.base_url, b.base_url


def server_sent_events(response: httpx.Response) -> Iterator[tuple[str, str | None, Any]]:
    """(event, id, data) of each server-sent event of ``response``, as they come."""
    event, ident, data = "message", None, []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield event, ident, json.loads("\n".join(data))
            event, ident, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "id":
                ident = value
            elif name == "data":
                data.append(value)


def until_ready(events: Iterator[tuple[str, str | None, Any]]) -> tuple[list[Any], Any]:
    """The alert events before ``ready``, and ``ready``'s data."""
    alerts = []
    for event, ident, data in events:
        if event == "ready":
            return alerts, data
        assert event == "alert", (event, data)
        assert ident == str(data["event_id"])
        alerts.append(data)
    pytest.fail("the stream ended before it was ready")


def token(base_url: str, user: tuple[str, str]) -> str:
    got = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": user[0], "password": user[1]}
    )
    assert got.status_code == 200, got.text
    access: str = got.json()["access_token"]
    return access


def test_an_alert_made_through_one_process_reaches_a_desk_open_on_the_other(
    browser: Browser, two_servers: tuple[str, str]
) -> None:
    a, b = two_servers
    with closing(api_client(a, OFFICER)) as officer_a, closing(api_client(a, CONTROL)) as control_a:
        case = make_case(officer_a, "LIVE")
        context, visit = open_visit(browser, b)
        try:
            page = visit.page
            requests: list[Request] = []
            page.on("request", lambda request: requests.append(request))
            visit.open_as("/desk", SUPERVISOR)
            visit.wait_for_map()
            expect(page.locator("#live-state")).to_contain_text("Live")
            expect(page.locator("#queue-summary")).to_contain_text("shown")
            page.mouse.click(*centre_of(page, "#desk-title"))  # a touch lets the page make sound

            alert_id = sighting_inside(control_a, case)  # through A
            answered = time.monotonic()
            page.wait_for_function(
                "ref => [...document.querySelectorAll('#queue .queue-item')]"
                ".some(item => item.textContent.includes(ref))",
                arg=case.reference,
                polling=20,
                timeout=2000,
            )
            delay = time.monotonic() - answered
            print(
                f"\nalert {alert_id}, made through A, on the desk on B {delay * 1000:.0f} ms later"
            )
            assert delay < 2.0

            item = queue_item(page, case.reference)
            expect(item).to_contain_text("New")
            expect(item).to_contain_text("Unhandled")
            expect(page.locator("#desk-announce")).to_contain_text(f"New alert {alert_id}")
            assert page.locator("#sound").get_attribute("data-played") == "1"

            # Chosen, it is on the map; a change made through A updates it in place.
            item.click()
            expect(page.locator("#detail-heading")).to_contain_text(case.reference)
            expect(page.locator(f'.desk-pin[title*="{case.reference}"]')).to_have_count(1)
            acted = control_a.post(f"/alerts/{alert_id}/actions", json={"action": "acknowledge"})
            assert acted.status_code == 200, acted.text
            expect(item).to_contain_text("Acknowledged", timeout=2000)
            expect(item).to_have_count(1)
            expect(page.locator("#detail-badges")).to_contain_text("Acknowledged")
            expect(page.locator("#detail-history")).to_contain_text("Acknowledged by control")

            # The sound can be switched off: the next new alert comes in silence.
            page.get_by_label("Sound for new alerts").uncheck()
            other = make_case(officer_a, "LIVE")
            sighting_inside(control_a, other)
            expect(queue_item(page, other.reference)).to_contain_text("New", timeout=2000)
            assert page.locator("#sound").get_attribute("data-played") == "1"

            # It came over the stream: the one list request is the page's first, made before
            # the alert existed; the stream is an EventSource.
            paths = [(urlsplit(r.url).path, r.resource_type) for r in requests]
            assert [p for p in paths if p[0] == "/api/v1/alerts"] == [("/api/v1/alerts", "fetch")]
            assert ("/api/v1/alerts/stream", "eventsource") in paths
            assert visit.problems() == {}
        finally:
            context.close()


def centre_of(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_a_reconnect_with_last_event_id_gets_exactly_what_it_missed(
    two_servers: tuple[str, str],
) -> None:
    a, b = two_servers
    headers = {"Authorization": f"Bearer {token(b, SUPERVISOR)}"}
    with (
        closing(api_client(a, OFFICER)) as officer_a,
        closing(api_client(a, CONTROL)) as control_a,
        httpx.Client(base_url=f"{b}/api/v1", timeout=10) as client_b,
    ):
        case = make_case(officer_a, "REPLAY")
        with client_b.stream("GET", "/alerts/stream", headers=headers) as stream:
            _, ready = until_ready(server_sent_events(stream))
        last = ready["last_event_id"]

        # Two changes while nobody listens on B: an alert opens, then is acknowledged.
        alert_id = sighting_inside(control_a, case)
        acted = control_a.post(f"/alerts/{alert_id}/actions", json={"action": "acknowledge"})
        assert acted.status_code == 200, acted.text

        with client_b.stream(
            "GET", "/alerts/stream", headers=headers | {"Last-Event-ID": str(last)}
        ) as stream:
            missed, ready = until_ready(server_sent_events(stream))
        assert [(e["kind"], e["alert"]["id"]) for e in missed] == [
            ("opened", alert_id),
            ("action", alert_id),
        ]
        assert all(e["event_id"] > last for e in missed)
        assert missed[1]["alert"]["handling"] == "acknowledged"  # the alert as it is now
        assert ready["last_event_id"] == missed[-1]["event_id"]

        # ?after= does the same for clients that cannot set the header.
        with client_b.stream(
            "GET", "/alerts/stream", headers=headers, params={"after": last}
        ) as stream:
            again, _ = until_ready(server_sent_events(stream))
        assert [e["event_id"] for e in again] == [e["event_id"] for e in missed]


def test_logging_out_ends_an_open_stream(two_servers: tuple[str, str]) -> None:
    a, b = two_servers
    bearer = token(a, SUPERVISOR)
    headers = {"Authorization": f"Bearer {bearer}"}
    with httpx.Client(base_url=f"{b}/api/v1", timeout=10) as client_b:
        with client_b.stream("GET", "/alerts/stream", headers=headers) as stream:
            events = server_sent_events(stream)
            until_ready(events)
            # Logged out through A, with the same token: the stream on B ends at once.
            out = httpx.post(f"{a}/api/v1/auth/logout", headers=headers)
            assert out.status_code == 204, out.text
            started = time.monotonic()
            event, _, _ = next(events)
            assert event == "signed_out"
            assert time.monotonic() - started < 2.0
            assert list(events) == []  # and the stream is over
        assert client_b.get("/alerts", headers=headers).status_code == 401


def test_zones_serve_with_two_workers_answers(
    live_database: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("workers")
    with zones_serve(live_database, folder, "--workers", "2") as server:
        wait_until_answering(server)
        headers = {"Authorization": f"Bearer {token(server.base_url, SUPERVISOR)}"}
        with httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=10) as client:
            assert client.get("/alerts", headers=headers, params={"limit": 1}).status_code == 200
            with client.stream("GET", "/alerts/stream", headers=headers) as stream:
                until_ready(server_sent_events(stream))
        deadline = time.monotonic() + 10
        while server.log.read_text().count("Started server process") < 2:
            assert time.monotonic() < deadline, server.tail()
            time.sleep(0.1)


def test_events_committed_out_of_order_all_reach_an_open_stream(
    live_database: str, two_servers: tuple[str, str]
) -> None:
    """Event ids are taken when written but heard when committed: two processes' writes may
    commit in the other order, and the lower id, heard second, must still be sent."""
    _, b = two_servers
    headers = {"Authorization": f"Bearer {token(b, SUPERVISOR)}"}
    engine = create_engine(live_database)
    add = text("INSERT INTO alert_events (alert_id, kind) VALUES (:alert, 'action') RETURNING id")
    try:
        with (
            httpx.Client(base_url=f"{b}/api/v1", timeout=10) as client_b,
            client_b.stream("GET", "/alerts/stream", headers=headers) as stream,
            engine.connect() as first,
            engine.connect() as second,
        ):
            events = server_sent_events(stream)
            until_ready(events)
            alert_id = second.execute(text("SELECT min(id) FROM alerts")).scalar_one()
            second.commit()
            early = first.execute(add, {"alert": alert_id}).scalar_one()  # not committed yet
            late = second.execute(add, {"alert": alert_id}).scalar_one()
            second.commit()
            assert early < late
            assert next(events)[2]["event_id"] == late
            first.commit()
            assert next(events)[2]["event_id"] == early
    finally:
        engine.dispose()


SOUTH = ("south-supervisor", "south-supervisor-pw")


def test_a_stream_carries_only_the_alerts_of_subjects_within_reach(
    live_database: str, two_servers: tuple[str, str]
) -> None:
    """A supervisor of another unit, listening while an alert of the city unit's subject
    opens, hears nothing of it, live or on catching up; the city's supervisor hears it."""
    from sqlalchemy.orm import Session

    from service.auth import add_user
    from service.db import units_store
    from zones.model import Role

    engine = create_engine(live_database)
    with Session(engine) as session:
        if not units_store.memberships(session).get(SOUTH[0]):
            add_user(session, SOUTH[0], SOUTH[1], Role.SUPERVISOR)
            units_store.set_members(session, SOUTH[0], ["cambs-ppu-south"])
            session.commit()
    engine.dispose()
    a, b = two_servers
    south = {"Authorization": f"Bearer {token(b, SOUTH)}"}
    city = {"Authorization": f"Bearer {token(b, SUPERVISOR)}"}
    with (
        closing(api_client(a, OFFICER)) as officer_a,
        closing(api_client(a, CONTROL)) as control_a,
        httpx.Client(base_url=f"{b}/api/v1", timeout=10) as client_b,
        client_b.stream("GET", "/alerts/stream", headers=south) as south_stream,
        client_b.stream("GET", "/alerts/stream", headers=city) as city_stream,
    ):
        south_events, city_events = (
            server_sent_events(south_stream),
            server_sent_events(city_stream),
        )
        _, ready = until_ready(south_events)
        until_ready(city_events)
        alert_id = sighting_inside(control_a, make_case(officer_a, "REACH"))
        event, _, data = next(city_events)
        assert (event, data["alert"]["id"]) == ("alert", alert_id)
        # The south supervisor's stream ends when they log out, after the alert was sent
        # to every stream of the process: nothing came before the end.
        out = httpx.post(f"{a}/api/v1/auth/logout", headers=south)
        assert out.status_code == 204, out.text
        assert [e for e, _, _ in south_events] == ["signed_out"]
        with client_b.stream(
            "GET", "/alerts/stream", headers=city, params={"after": ready["last_event_id"]}
        ) as again:
            missed, _ = until_ready(server_sent_events(again))
        assert alert_id in {e["alert"]["id"] for e in missed}
        south = {"Authorization": f"Bearer {token(b, SOUTH)}"}
        with client_b.stream(
            "GET", "/alerts/stream", headers=south, params={"after": ready["last_event_id"]}
        ) as again:
            missed, _ = until_ready(server_sent_events(again))
        assert missed == []
