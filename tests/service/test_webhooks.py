"""Alert notifications to webhooks: an outbox written with the alert, delivered at least once
to a real HTTP receiver that is down, then failing, then back; signed, keyed, never lost."""

from __future__ import annotations

import json
import random
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from service import cli, worker
from service.db import alert_events, tables
from service.settings import Settings, WebhookSettings
from service.webhooks import deliver, sealing, signature
from tests.service.test_judgement_api import FAR, LONDON, PARK, fixes, setup
from zones.model import Role


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """A real HTTP server on a free port: up (200), failing (500), or down (refused)."""

    port: int = 0
    answer: int = 200
    got: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append(
                    Received(self.path, dict(self.headers.items()), body, receiver.answer)
                )
                self.send_response(receiver.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def admin(client_as: Callable[[Role], TestClient]) -> TestClient:
    return client_as(Role.ADMIN)


def add_hook(admin: TestClient, name: str, url: str, **more: Any) -> dict[str, Any]:
    r = admin.post("/api/v1/webhooks", json={"name": name, "url": url, **more})
    assert r.status_code == 201, r.text
    return dict(r.json())


def run(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with sessions() as session:
        return deliver.deliver(session, now, now, settings.api)


def deliveries(client: TestClient, alert_id: int) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/alerts/{alert_id}/deliveries")
    assert r.status_code == 200, r.text
    return list(r.json())


def test_every_alert_arrives_after_the_receiver_was_down_and_failing(
    admin: TestClient,
    officer: TestClient,
    control: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
) -> None:
    hooks = settings.api.webhooks
    hooks.retry_base_seconds, hooks.retry_cap_seconds, hooks.failing_after = 10, 60, 3
    hooks.timeout_seconds = 2
    cad = add_hook(admin, "cad", receiver.url("/cad"))
    sms = add_hook(admin, "sms", receiver.url("/sms"))
    assert admin.post(f"/api/v1/webhooks/{sms['id']}/disable").json()["enabled"] is False
    # Alerts raised through the real API while the receiver is down.
    t0 = datetime.now(UTC).replace(microsecond=0)
    alert_ids = []
    for n in range(4):
        sid = setup(officer, f"S-HOOK-{n}")["subject"]["id"]
        answer = fixes(control, sid, [(PARK, t0 - timedelta(minutes=10 - n))])
        [alert_id] = answer["results"][0]["alert_ids"]
        alert_ids.append(alert_id)
    fixes(control, sid, [(FAR, t0 - timedelta(minutes=2))])  # the last one's stay ends
    acted = control.post(f"/api/v1/alerts/{alert_ids[0]}/actions", json={"action": "acknowledge"})
    assert acted.status_code == 200, acted.text
    expected = {(a, "opened") for a in alert_ids} | {(alert_ids[3], "closed")}
    expected |= {(alert_ids[0], "handled")}
    # Connection refused, tick after tick, with the clock moving on.
    now = t0
    for _ in range(6):
        now += timedelta(seconds=61)
        assert run(sessions, settings, now) == 0
    first = deliveries(control, alert_ids[0])
    assert {(d["webhook"], d["event"]) for d in first} == {("cad", "opened"), ("cad", "handled")}
    assert all(d["status"] == "failing" and d["attempts"] >= 3 for d in first), first
    assert "Connect" in first[0]["last_result"]
    listed = admin.get("/api/v1/webhooks").json()
    assert [(h["name"], h["pending"], h["failing"]) for h in listed] == [
        ("cad", 6, 6),
        ("sms", 0, 0),
    ]
    # Up, but answering 500: the notices reach it and are retried.
    receiver.answer = 500
    receiver.start()
    for _ in range(4):
        now += timedelta(seconds=61)
        assert run(sessions, settings, now) == 0
    assert len(receiver.got) >= 4
    # Healthy again: everything arrives.
    receiver.answer = 200
    for _ in range(10):
        now += timedelta(seconds=61)
        run(sessions, settings, now)
    taken = [g for g in receiver.got if g.answered == 200]
    told = {(json.loads(g.body)["alert"]["id"], json.loads(g.body)["event"]) for g in taken}
    assert told == {(a, f"alert.{e}") for a, e in expected}
    assert len(taken) == len(expected)  # each taken once: nothing more is sent once it is
    assert {g.path for g in receiver.got} == {"/cad"}  # the disabled webhook got nothing
    by_key: dict[str, list[Received]] = {}
    for g in receiver.got:
        by_key.setdefault(g.headers["Idempotency-Key"], []).append(g)
    retried = [tries for tries in by_key.values() if len(tries) > 1]
    assert retried, "some notice was tried more than once"
    for tries in by_key.values():
        assert len({t.body for t in tries}) == 1  # the same bytes on every try
        for t in tries:
            assert json.loads(t.body)["id"] == t.headers["Idempotency-Key"]
            stamp = int(t.headers["Zones-Signature"].split(",")[0].removeprefix("t="))
            assert signature.verify(cad["secret"], t.headers["Zones-Signature"], t.body, stamp)
            assert not signature.verify(sms["secret"], t.headers["Zones-Signature"], t.body, stamp)
    assert all(d["status"] == "delivered" for a in alert_ids for d in deliveries(control, a))


def test_the_least_personal_data_unless_configured_for_more(
    admin: TestClient,
    officer: TestClient,
    control: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
) -> None:
    receiver.start()
    add_hook(admin, "plain", receiver.url("/plain"), events=["opened"])
    add_hook(admin, "full", receiver.url("/full"), events=["opened"], detail="positions")
    sid = setup(officer, "S-LEAST")["subject"]["id"]
    [alert_id] = fixes(control, sid, [(PARK, datetime.now(UTC) - timedelta(minutes=3))])["results"][
        0
    ]["alert_ids"]
    settings.api.webhooks.batch = 1  # one tick drains batch after batch, within its budget
    assert run(sessions, settings, datetime.now(UTC) + timedelta(seconds=1)) == 2
    got = {g.path: json.loads(g.body) for g in receiver.got}
    plain, full = got["/plain"], got["/full"]
    assert plain["subject"] == {"reference": "S-LEAST"} and "position" not in plain
    assert "Judge Ment" not in json.dumps(plain) and str(PARK[0]) not in json.dumps(plain)
    assert plain["order"]["reference"] == "SHPO/S-LEAST" and plain["zone"]["name"] == "Test park"
    assert plain["link"].endswith(f"/desk?alert={alert_id}") and plain["event"] == "alert.opened"
    assert full["subject"]["name"] == "Judge Ment"
    assert (full["position"]["lon"], full["position"]["lat"]) == pytest.approx(PARK)


def test_a_webhook_added_later_is_told_of_new_alerts_only(
    admin: TestClient,
    officer: TestClient,
    control: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
) -> None:
    receiver.start()
    add_hook(admin, "early", receiver.url("/early"))
    sid = setup(officer, "S-OLD")["subject"]["id"]
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    [old] = fixes(control, sid, [(PARK, t0)])["results"][0]["alert_ids"]
    add_hook(admin, "late", receiver.url("/late"))
    fixes(control, sid, [(FAR, t0 + timedelta(minutes=1))])  # the old alert closes
    sid2 = setup(officer, "S-NEW")["subject"]["id"]
    [new] = fixes(control, sid2, [(PARK, t0 + timedelta(minutes=2))])["results"][0]["alert_ids"]
    run(sessions, settings, datetime.now(UTC) + timedelta(seconds=1))
    told = {(g.path, json.loads(g.body)["alert"]["id"], json.loads(g.body)["event"])
            for g in receiver.got}  # fmt: skip
    assert told == {
        ("/early", old, "alert.opened"),
        ("/early", old, "alert.closed"),
        ("/early", new, "alert.opened"),
        ("/late", new, "alert.opened"),
    }
    # The outbox row was written with the alert: one opened notice per alert, whatever
    # number of commits touched it.
    n = tables.AlertNotice
    counts = session.execute(
        select(n.alert_id, func.count()).where(n.event == "opened").group_by(n.alert_id)
    ).all()
    assert sorted(tuple(c) for c in counts) == sorted([(old, 1), (new, 1)])


def test_only_admins_manage_webhooks_and_bad_ones_are_refused_at_the_field(
    admin: TestClient, officer: TestClient
) -> None:
    r = officer.post("/api/v1/webhooks", json={"name": "x", "url": "https://x.example"})
    assert r.status_code == 403
    for body, where in (
        ({"name": "cad", "url": "ftp://x.example/"}, "url"),
        ({"name": "cad", "url": "https://user:pw@x.example/"}, "url"),
        ({"name": "Not A Name", "url": "https://x.example/"}, "name"),
        ({"name": "cad", "url": "https://x.example/", "events": []}, "events"),
    ):
        r = admin.post("/api/v1/webhooks", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == where, r.text
    hook = add_hook(admin, "cad", "https://cad.example.org/zones")
    assert (
        admin.post("/api/v1/webhooks", json={"name": "cad", "url": "https://x.example"}).status_code
        == 409
    )
    rotated = admin.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook["secret"]
    assert "secret" not in admin.get("/api/v1/webhooks").json()[0]
    assert admin.post("/api/v1/webhooks/999999/disable").status_code == 404


def test_the_webhook_commands_add_list_disable_and_rotate(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ZONES_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ZONES_STATE_DIR", str(tmp_path))
    name = "cli-hook"
    try:
        assert cli.main(["webhook", "add", name, "https://sms.example.org/in", "--event", "opened",
                         "--detail", "names"]) == 0  # fmt: skip
        added = capsys.readouterr().out
        [secret] = re.findall(r"whsec_\S+", added)
        assert cli.main(["webhook", "list"]) == 0
        [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith(name)]
        assert "enabled" in line and "names" in line and "opened" in line and secret not in line
        assert cli.main(["webhook", "rotate-secret", name]) == 0
        [rotated] = re.findall(r"whsec_\S+", capsys.readouterr().out)
        assert rotated != secret
        assert cli.main(["webhook", "disable", name]) == 0
        capsys.readouterr()
        assert cli.main(["webhook", "list"]) == 0
        assert "DISABLED" in capsys.readouterr().out
        assert cli.main(["webhook", "disable", "no-such-hook"]) == 2
        with engine.connect() as c:
            sealed = c.execute(
                select(tables.Webhook.secret_sealed).where(tables.Webhook.name == name)
            ).scalar_one()
            actions = (
                c.execute(
                    select(tables.AuditEntry.action).where(
                        tables.AuditEntry.object_type == "webhook"
                    )
                )
                .scalars()
                .all()
            )
        assert rotated.encode() not in sealed  # encrypted at rest
        key = (tmp_path / "webhook-key").read_text().strip()
        assert sealing.unseal(key, name, sealed) == rotated
        assert {"webhook.add", "webhook.rotate_secret", "webhook.disable"} <= set(actions)
    finally:
        with engine.begin() as c:  # committed by the commands: not to be told of others' alerts
            c.execute(delete(tables.Webhook).where(tables.Webhook.name == name))


def test_back_off_doubles_with_jitter_up_to_its_cap_and_never_stops() -> None:
    cfg = WebhookSettings(retry_base_seconds=10, retry_cap_seconds=600)
    rng = random.Random(9)
    for attempts, ceiling in ((1, 10), (2, 20), (3, 40), (7, 600), (500, 600)):
        waits = [deliver.backoff(attempts, cfg, rng).total_seconds() for _ in range(200)]
        assert ceiling / 2 <= min(waits) < max(waits) <= ceiling  # spread: retries part


def test_a_signature_fails_for_another_body_time_or_secret() -> None:
    body = b'{"id":"k"}'
    header = signature.header("whsec_a", 1_800_000_000, body)
    assert signature.verify("whsec_a", header, body, now=1_800_000_100)
    assert not signature.verify("whsec_a", header, body + b" ", now=1_800_000_100)
    assert not signature.verify("whsec_b", header, body, now=1_800_000_100)
    assert not signature.verify("whsec_a", header, body, now=1_800_000_000 + 301)  # replayed
    moved = header.replace("t=1800000000", "t=1800000200")
    assert not signature.verify("whsec_a", moved, body, now=1_800_000_200)


def test_an_alert_the_worker_opens_on_time_is_in_the_outbox_too(
    admin: TestClient,
    officer: TestClient,
    control: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_hook(admin, "cad", "http://127.0.0.1:9/hook", events=["opened"])  # nobody listens
    now = datetime.now(UTC)
    opens = (now + timedelta(minutes=2)).astimezone(LONDON).replace(second=0, microsecond=0)
    closes = opens + timedelta(minutes=3)
    window = {
        "days": [opens.strftime("%a").lower()],
        "start": opens.strftime("%H:%M"),
        "end": closes.strftime("%H:%M"),
    }
    sid = setup(officer, "S-ONTIME", schedule={"windows": [window]})["subject"]["id"]
    fixes(control, sid, [(PARK, now - timedelta(seconds=30))])  # inside, before the window
    assert control.get("/api/v1/alerts", params={"subject_id": sid}).json() == []
    worker.run_jobs(sessions, settings.api, opens.astimezone(UTC) + timedelta(seconds=5))
    [alert] = control.get("/api/v1/alerts", params={"subject_id": sid}).json()
    assert alert["opened_by"] == "window_opened"
    # The same tick then tried to deliver it: refused, so it waits for its next try.
    [told] = deliveries(control, alert["id"])
    assert (told["webhook"], told["event"]) == ("cad", "opened") and told["attempts"] == 1


def test_a_notice_commits_with_its_alert_change_or_not_at_all(
    admin: TestClient, officer: TestClient, control: TestClient, sessions: sessionmaker[Session]
) -> None:
    sid = setup(officer, "S-TX")["subject"]["id"]
    [alert_id] = fixes(control, sid, [(PARK, datetime.now(UTC) - timedelta(minutes=3))])["results"][
        0
    ]["alert_ids"]
    add_hook(admin, "cad", "http://127.0.0.1:9/hook")
    n, d = tables.AlertNotice, tables.WebhookDelivery
    with sessions() as session:
        alert_events.announce(session, alert_id, "opened")  # told as opened (the hook is new)
        session.commit()
        session.get_one(tables.Alert, alert_id).handling = "acknowledged"
        alert_events.announce(session, alert_id, "action")
        session.flush()
        session.rollback()  # the change is undone: nothing more is told
        assert session.scalars(select(n.event)).all() == ["opened"]
        session.get_one(tables.Alert, alert_id).handling = "acknowledged"
        alert_events.announce(session, alert_id, "action")
        session.commit()  # now it is, with its delivery
        told = session.execute(
            select(n.event, func.count(d.id)).join(d, d.notice_id == n.id).group_by(n.event)
        ).all()
    assert sorted(tuple(t) for t in told) == [("handled", 1), ("opened", 1)]
