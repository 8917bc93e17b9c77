"""OwnTracks over MQTT with a real Mosquitto broker and a real paho publisher.

Each test starts its own broker process on a free port with a temporary configuration
(never the machine's service). The payloads are the OwnTracks booklet's
(owntracks/booklet docs/guide/quicksetup.md: what ``mosquitto_sub -v -t 'owntracks/#'``
shows of a phone, and docs/tech/json.md for the ``lwt``).
"""

from __future__ import annotations

import gc
import getpass
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service import worker
from service.app import create_app
from service.audit_mac import AuditKey
from service.auth import add_user
from service.db import tables, units_store
from service.db.engine import make_sessionmaker
from service.db.migrate import upgrade
from service.feeds.mqtt import Subscriber
from service.settings import ApiSettings, MqttSettings, Settings
from tests.conftest import scratch_database
from tests.service.conftest import square, zone_feature
from zones.model import Role

ROOT = Path(__file__).resolve().parents[2]
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

# owntracks/booklet docs/guide/quicksetup.md: the location a phone published, as shown by
# mosquitto_sub on topic owntracks/jane/nokia.
QUICKSETUP = (
    b'{"_type":"location","SSID":"mywifi","alt":154,"batt":53,"conn":"w",'
    b'"created_at":1706856299,"lat":48.856826,"lon":2.292713,"tid":"j1","tst":1706856298,'
    b'"vel":0}'
)
# owntracks/booklet docs/tech/json.md: the broker's last will for the app (no fix in it).
LWT = b'{"_type":"lwt","tst":1706856000}'


def later(seconds: int) -> bytes:
    """The quick-setup location, ``seconds`` later (another fix of the same phone)."""
    message = json.loads(QUICKSETUP)
    message["tst"] += seconds
    return json.dumps(message).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    """A Mosquitto of the test's own on a free port; its port."""
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: ./dev.sh test installs it (apt mosquitto)")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 10000\nmax_inflight_messages 1000\n"
    )
    log = tmp_path / "mosquitto.log"
    with log.open("wb") as out:
        process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=out, stderr=out)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                process.wait()
                pytest.fail(f"mosquitto did not start: {log.read_text()[-500:]}")
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)


def publish(port: int, topic: str, *payloads: bytes) -> None:
    """Publish with QoS 1 and wait for the broker's acknowledgement of each."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"phone-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for payload in payloads:
            client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A database of this module's own: the subscriber commits for real, and what it
    commits (zones, subjects, alerts from 2024) must not show in other tests' lists."""
    with scratch_database("mqtt") as url:
        made = create_engine(url)
        upgrade(made)
        yield made
        made.dispose()


@pytest.fixture
def sessions(engine: Engine, settings: Settings, tmp_path: Path) -> sessionmaker[Session]:
    """Sessions that commit for real: the subscriber runs beside the test, not inside it."""
    return make_sessionmaker(engine, replace(AuditKey.of(settings), head_file=tmp_path / "h"))


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings) -> Callable[..., dict[str, Any]]:
    """Make a phone ``user/device`` worn by a new subject barred from a square around
    the quick-setup location (by the API, committed); its device identifier and ids."""
    app = create_app(settings)
    app.state.sessionmaker = sessions

    def make() -> dict[str, Any]:
        tag = uuid.uuid4().hex[:8]
        name, unit = f"mqtt-{tag}", f"unit-{tag}"
        with sessions() as session:
            units_store.add_unit(session, unit, f"The {unit}")
            add_user(session, name, "mqtt-password-1", Role.OFFICER)
            units_store.set_members(session, name, [unit])
            session.commit()
        with TestClient(app) as client:
            form = {"username": name, "password": "mqtt-password-1"}
            token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            sid = client.post(
                "/api/v1/subjects", json={"reference": f"M-{tag}", "name": "Jane"}
            ).json()["id"]
            zone = client.post(
                "/api/v1/zones", json=zone_feature(square(2.292713, 48.856826, 0.001))
            ).json()["id"]
            order = {
                "subject_id": sid,
                "reference": f"SHPO/{tag}",
                "starts": "2020-01-01",
                "conditions": [{"text": "Not to enter the Champ de Mars.", "zone_ids": [zone]}],
            }
            assert client.post("/api/v1/orders", json=order).status_code == 201
            device = {"identifier": f"{tag}/nokia", "subject_id": sid,
                      "assigned_from": "2024-01-01T00:00:00+00:00"}  # fmt: skip
            assert client.post("/api/v1/devices", json=device).status_code == 201
        return {"user": tag, "topic": f"owntracks/{tag}/nokia", "subject_id": sid}

    return make


def subscriber(
    port: int, sessions: sessionmaker[Session], client_id: str | None = None
) -> Subscriber:
    mqtt_settings = MqttSettings(
        host="127.0.0.1", port=port, client_id=client_id or f"zw-{uuid.uuid4().hex[:8]}",
        retry_seconds=0.2,
    )  # fmt: skip
    started = Subscriber(mqtt_settings, sessions, ApiSettings())
    started.start()
    assert started.connected.wait(10), "the subscriber did not connect"
    return started


def wait_for(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def stored(sessions: sessionmaker[Session], subject_id: int) -> int:
    with sessions() as session:
        o = tables.Observation
        return int(session.scalar(select(func.count()).where(o.subject_id == subject_id)) or 0)


def alerts(sessions: sessionmaker[Session], subject_id: int) -> int:
    with sessions() as session:
        a = tables.Alert
        return int(session.scalar(select(func.count()).where(a.subject_id == subject_id)) or 0)


def test_owntracks_locations_are_stored_and_judged_and_the_rest_acknowledged(
    broker: int, sessions: sessionmaker[Session], world: Callable[..., dict[str, Any]]
) -> None:
    jane = world()
    running = subscriber(broker, sessions)
    try:
        huge = QUICKSETUP.replace(b'"lat":48.856826', b'"lat":' + b"9" * 400)
        publish(broker, jane["topic"], QUICKSETUP, LWT, b"not json", huge, later(60))
        publish(broker, "owntracks/nobody/phone", QUICKSETUP)
        wait_for(lambda: len(running.counts.recent) == 6)
    finally:
        running.stop()
    assert list(running.counts.recent) == [
        *("stored", "ignored", "unreadable", "unreadable", "stored", "refused")
    ]
    assert stored(sessions, jane["subject_id"]) == 2
    assert alerts(sessions, jane["subject_id"]) == 1  # inside the zone: one stay, one alert


def test_a_subscriber_killed_between_commit_and_ack_gets_it_again_and_stores_it_once(
    broker: int, engine: Engine, sessions: sessionmaker[Session], world: Callable[..., Any]
) -> None:
    jane = world()
    client_id = f"zw-{uuid.uuid4().hex[:8]}"
    url = engine.url.render_as_string(hide_password=False)
    doomed = subprocess.Popen(
        [sys.executable, "-m", "tests.service.mqtt_harness", url, "127.0.0.1", str(broker),
         client_id],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert doomed.stdout is not None
        assert doomed.stdout.readline().strip() == "connected"
        publish(broker, jane["topic"], QUICKSETUP)
        assert doomed.wait(timeout=60) == -9  # killed itself after the commit, before the ack
    finally:
        doomed.kill()
        doomed.wait()
        if doomed.stdout is not None:
            doomed.stdout.close()
    assert stored(sessions, jane["subject_id"]) == 1

    again = subscriber(broker, sessions, client_id)  # the same session
    try:
        wait_for(lambda: len(again.counts.recent) == 1)
    finally:
        again.stop()
    assert list(again.counts.recent) == ["duplicate"]  # resent by the broker, stored once
    assert stored(sessions, jane["subject_id"]) == 1

    third = subscriber(broker, sessions, client_id)
    time.sleep(1)
    third.stop()
    assert list(third.counts.recent) == []  # acknowledged at last: not sent a third time


def test_what_is_published_while_the_subscriber_is_away_arrives_when_it_returns(
    broker: int, sessions: sessionmaker[Session], world: Callable[..., dict[str, Any]]
) -> None:
    jane = world()
    client_id = f"zw-{uuid.uuid4().hex[:8]}"
    subscriber(broker, sessions, client_id).stop()  # the session and its subscription exist
    publish(broker, jane["topic"], *(later(60 * i) for i in range(5)))
    back = subscriber(broker, sessions, client_id)
    try:
        wait_for(lambda: len(back.counts.recent) == 5)
    finally:
        back.stop()
    assert list(back.counts.recent) == ["stored"] * 5
    assert stored(sessions, jane["subject_id"]) == 5


def test_a_database_failure_leaves_the_message_to_come_again(
    broker: int,
    engine: Engine,
    sessions: sessionmaker[Session],
    world: Callable[..., dict[str, Any]],
) -> None:
    jane = world()
    down = create_engine(engine.url.set(port=free_port()))  # nothing listens there
    running = subscriber(broker, sessionmaker(bind=down))
    try:
        publish(broker, jane["topic"], QUICKSETUP)
        wait_for(lambda: running.counts.failed >= 1)
        running.sessions = sessions  # the database is back
        wait_for(lambda: running.counts.stored == 1)
    finally:
        running.stop()
        down.dispose()
    assert stored(sessions, jane["subject_id"]) == 1
    assert "failed" in running.counts.recent


def test_only_the_leading_worker_subscribes(
    broker: int,
    engine: Engine,
    sessions: sessionmaker[Session],
    world: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    jane = world()
    env = {
        **os.environ,
        "ZONES_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ZONES_STATE_DIR": str(tmp_path),
        "ZONES_MQTT_HOST": "127.0.0.1",
        "ZONES_MQTT_PORT": str(broker),
        "ZONES_MQTT_CLIENT_ID": f"zw-{uuid.uuid4().hex[:8]}",
        "ZONES_MQTT_RETRY_SECONDS": "0.2",
    }
    holder = engine.connect()
    assert worker.try_lead(holder)  # another worker leads
    follower = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", "--tick", "0.2"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(3)
        publish(broker, jane["topic"], QUICKSETUP)  # nobody subscribes: not for this session
        time.sleep(1)
        assert stored(sessions, jane["subject_id"]) == 0
        holder.invalidate()  # the leader goes; the follower takes over and subscribes
        holder.close()
        deadline, k = time.monotonic() + 60, 1
        while stored(sessions, jane["subject_id"]) == 0:  # until its subscription is made
            assert time.monotonic() < deadline, "the new leader never subscribed"
            publish(broker, jane["topic"], later(60 * k))
            k += 1
            time.sleep(0.5)
        with sessions() as session:
            times = session.scalars(
                select(tables.Observation.observed_at).where(
                    tables.Observation.subject_id == jane["subject_id"]
                )
            ).all()
        assert datetime.fromtimestamp(1706856298, UTC) not in times  # sent before it led
    finally:
        follower.send_signal(signal.SIGTERM)
        _, err = follower.communicate(timeout=30)
    assert "connected to the MQTT broker" in err, err


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate it signed for 127.0.0.1: (ca, certificate, key)."""
    now = datetime.now(UTC)

    def named(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(named("zones CA")).issuer_name(named("zones CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(named("127.0.0.1")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


# paho leaves the socket of a failed TLS handshake to the garbage collector, which warns.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_the_subscriber_speaks_tls_to_a_broker_it_checks(
    sessions: sessionmaker[Session], world: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    jane = world()
    ca, cert, key = certificates(tmp_path)
    plain, tls = free_port(), free_port()
    config = tmp_path / "tls.conf"
    # As root, Mosquitto would otherwise drop to a user who cannot read the key.
    config.write_text(
        f"user {getpass.getuser()}\n"
        f"listener {plain} 127.0.0.1\nallow_anonymous true\n"
        f"listener {tls} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        "allow_anonymous true\n"
    )
    log = tmp_path / "tls.log"
    with log.open("wb") as out:
        process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=out, stderr=out)
    try:
        wait_for(lambda: b"running" in log.read_bytes(), 10)
        settings = MqttSettings(
            host="127.0.0.1", port=tls, tls=True, ca_file=ca, retry_seconds=0.2,
            client_id=f"zw-{uuid.uuid4().hex[:8]}",
        )  # fmt: skip
        running = Subscriber(settings, sessions, ApiSettings())
        running.start()
        try:
            assert running.connected.wait(10), log.read_text()
            publish(plain, jane["topic"], QUICKSETUP)  # the phone on the plain listener
            wait_for(lambda: running.counts.stored == 1)
        finally:
            running.stop()
        untrusting = Subscriber(settings.model_copy(update={"ca_file": None}), sessions,
                                ApiSettings())  # fmt: skip
        untrusting.start()
        try:
            assert not untrusting.connected.wait(2)  # the system's CAs do not know this one
        finally:
            untrusting.stop()
            del untrusting
            gc.collect()
    finally:
        process.terminate()
        process.wait(timeout=10)
