"""Trackers' own protocols over HTTP, authenticated by device and gateway credentials.

These routes are exempt from the user-permission walk (tests/service/test_permissions.py):
here they are refused without a credential or with a wrong one, a device may submit only
for itself and a gateway only for its set, and refusals are counted for admins to see.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.app import create_app
from service.db import tables
from service.settings import ApiSettings, MapSettings, Settings
from tests.service.conftest import square, zone_feature
from tests.test_feed_osmand import DECODER_JSON
from tests.test_feed_traccar import FORWARDED
from zones.model import Role

NOW = datetime.now(UTC).replace(microsecond=0)
PARK = (0.1500, 52.1000)
ELSEWHERE = (0.1300, 52.2100)
KNOT = 1852 / 3600


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@pytest.fixture
def subject(officer: TestClient) -> int:
    """A subject barred from the park, wearing TAG-1 and the phone jane/phone; TAG-2 is
    registered and worn by nobody."""
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK), "Park")).json()
    r = officer.post("/api/v1/subjects", json={"reference": "F-1", "name": "Feed Example"})
    sid = int(r.json()["id"])
    order = officer.post(
        "/api/v1/orders",
        json={"subject_id": sid, "reference": "SHPO/F/1", "starts": "2020-01-01",
              "conditions": [{"text": "Not to enter the park.", "zone_ids": [zone["id"]]}]},
    )  # fmt: skip
    assert order.status_code == 201, order.text
    for tag, who in (("TAG-1", sid), ("jane/phone", sid), ("TAG-2", None)):
        body = {"identifier": tag, "subject_id": who, "assigned_from": ago(120).isoformat()}
        assert officer.post("/api/v1/devices", json=body).status_code == 201
    return sid


def issue(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
def tag_secret(officer: TestClient, subject: int) -> str:
    return str(issue(officer, "/api/v1/device-credentials", {"device": "TAG-1"})["secret"])


@pytest.fixture
def admin(client_as: Callable[[Role], TestClient]) -> TestClient:
    return client_as(Role.ADMIN)


@pytest.fixture
def gateway(admin: TestClient, subject: int) -> dict[str, Any]:
    return issue(admin, "/api/v1/gateways", {"name": "Traccar HQ", "devices": ["TAG-1"]})


def stored(session: Session, device: str) -> list[tables.Observation]:
    session.expire_all()
    o = tables.Observation
    return list(session.scalars(select(o).where(o.device_id == device).order_by(o.observed_at)))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def osmand_query(device: str, minutes_ago: float, place: tuple[float, float] = ELSEWHERE) -> str:
    # The fields of github:traccar/traccar OsmAndProtocolDecoderTest's last query.
    when = int(ago(minutes_ago).timestamp())
    return (
        f"id={device}&timestamp={when}&lat={place[1]}&lon={place[0]}"
        "&bearing=7.19889788244&speed=40&ignition=true&rpm=933&fuel=24"
    )


def test_a_secret_is_shown_once_and_issuing_is_audited(
    officer: TestClient, admin: TestClient, session: Session, subject: int
) -> None:
    made = issue(officer, "/api/v1/device-credentials", {"device": "TAG-1", "username": "tag"})
    assert made["secret"].startswith("zdev_") and made["devices"] == ["TAG-1"]
    listed = officer.get("/api/v1/device-credentials").json()
    assert [c["id"] for c in listed] == [made["id"]] and "secret" not in listed[0]
    hashes = session.scalars(select(tables.FeedCredential.secret_hash)).all()
    assert made["secret"] not in hashes  # stored as its hash only
    actions = session.scalars(select(tables.AuditEntry.action)).all()
    assert "device_credential.create" in actions
    unknown = admin.post("/api/v1/gateways", json={"name": "x", "devices": ["NOPE"]})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "devices"
    assert officer.post("/api/v1/gateways", json={"name": "x", "devices": []}).status_code == 403


def test_osmand_query_with_a_device_key_is_stored_in_our_units(
    app: FastAPI, session: Session, tag_secret: str
) -> None:
    client = TestClient(app)
    r = client.get(f"/api/v1/feeds/osmand?{osmand_query('TAG-1', 3)}", headers=bearer(tag_secret))
    assert r.status_code == 200 and r.content == b""
    [obs] = stored(session, "TAG-1")
    assert obs.speed_mps == pytest.approx(40 * KNOT) and obs.protocol == "osmand"
    assert obs.valid and obs.flags is None and obs.reporter.startswith("device:")
    future = client.get(
        f"/api/v1/feeds/osmand?{osmand_query('TAG-1', -60)}", headers=bearer(tag_secret)
    )
    assert future.status_code == 400 and future.json()["error"]["field"] == "time"
    assert len(stored(session, "TAG-1")) == 1


def test_the_traccar_clients_json_with_the_secret_in_the_url_is_stored_once(
    app: FastAPI, session: Session, gateway: dict[str, Any]
) -> None:
    body = json.loads(DECODER_JSON[2])  # github:traccar/traccar OsmAndProtocolDecoderTest
    body["device_id"] = "TAG-1"
    body["location"]["timestamp"] = ago(2).isoformat()
    client = TestClient(app)
    url = f"/api/v1/feeds/osmand/{gateway['secret']}"
    for _ in range(2):  # the app resends what it got no answer to
        r = client.post(url, content=json.dumps(body), headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
    [obs] = stored(session, "TAG-1")
    assert obs.speed_mps == 18.67 and obs.battery_pct == pytest.approx(79)
    # The app's push token, as github:traccar/traccar-client lib/push_service.dart posts
    # it: a form with no position, for a device that must still be the gateway's.
    token = {"Content-Type": "application/x-www-form-urlencoded"}
    r = client.post(url, content="id=TAG-1&notificationToken=abc", headers=token)
    assert r.status_code == 200 and r.content == b""
    r = client.post(url, content="id=TAG-2&notificationToken=abc", headers=token)
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_device"
    assert len(stored(session, "TAG-1")) == 1


BAD_HEADERS = [
    {},
    {"Authorization": "Bearer zdev_wrong"},
    {"Authorization": "Basic !!"},
    {"Authorization": "Basic " + base64.b64encode(b"tag:zdev_wrong").decode()},
]


def test_without_a_good_credential_every_protocol_is_refused(
    app: FastAPI, officer: TestClient, session: Session, tag_secret: str
) -> None:
    client = TestClient(app)
    [cred] = officer.get("/api/v1/device-credentials").json()
    assert officer.post(f"/api/v1/device-credentials/{cred['id']}/revoke").status_code == 200
    for headers in [*BAD_HEADERS, bearer(tag_secret)]:  # the last one revoked
        calls = [
            client.get(f"/api/v1/feeds/osmand?{osmand_query('TAG-1', 3)}", headers=headers),
            client.post("/api/v1/feeds/osmand/zdev_not_a_real_secret", data={"id": "TAG-1"}),
            client.post("/api/v1/feeds/traccar", json=FORWARDED, headers=headers),
            client.post("/api/v1/feeds/owntracks", content=b"{}", headers=headers),
        ]
        assert [c.status_code for c in calls] == [401] * 4, headers
    assert stored(session, "TAG-1") == []


def test_a_device_cannot_submit_for_another_and_the_refusal_is_counted(
    app: FastAPI, admin: TestClient, session: Session, tag_secret: str
) -> None:
    client = TestClient(app)
    r = client.get(f"/api/v1/feeds/osmand?{osmand_query('TAG-2', 3)}", headers=bearer(tag_secret))
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_device"
    assert stored(session, "TAG-2") == []
    session.expire_all()
    [cred] = session.scalars(select(tables.FeedCredential)).all()
    assert (cred.refused_count, cred.last_refused_device) == (1, "TAG-2")


def test_a_gateway_submits_for_its_set_only_and_admins_see_its_refusals(
    app: FastAPI, admin: TestClient, session: Session, gateway: dict[str, Any]
) -> None:
    client = TestClient(app)
    body = json.loads(json.dumps(FORWARDED))
    body["position"]["fixTime"] = ago(4).isoformat()
    body["device"]["uniqueId"] = "TAG-1"
    r = client.post("/api/v1/feeds/traccar", json=body, headers=bearer(gateway["secret"]))
    assert r.status_code == 200, r.text
    body["device"]["uniqueId"] = "TAG-2"  # registered, but not this gateway's
    r = client.post("/api/v1/feeds/traccar", json=body, headers=bearer(gateway["secret"]))
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_device"
    [listed] = admin.get("/api/v1/gateways").json()
    assert listed["refused_count"] == 1 and listed["last_refused_device"] == "TAG-2"
    r = admin.put(f"/api/v1/gateways/{gateway['id']}/devices", json={"devices": ["TAG-1", "TAG-2"]})
    assert r.status_code == 200 and r.json()["devices"] == ["TAG-1", "TAG-2"]
    assert stored(session, "TAG-2") == []  # worn by nobody: still refused, never stored
    r = client.post("/api/v1/feeds/traccar", json=body, headers=bearer(gateway["secret"]))
    assert r.status_code == 422 and r.json()["error"]["code"] == "device_not_assigned"


def test_traccar_units_a_retried_forward_stored_once_and_invalid_fixes_not_judged(
    app: FastAPI, session: Session, gateway: dict[str, Any]
) -> None:
    body = json.loads(json.dumps(FORWARDED))
    body["position"]["fixTime"] = ago(4).isoformat()
    body["device"]["uniqueId"] = "TAG-1"
    client = TestClient(app)
    for _ in range(2):
        r = client.post("/api/v1/feeds/traccar", json=body, headers=bearer(gateway["secret"]))
        assert r.status_code == 200, r.text
    # forward.retry: the same position id, even were its time rewritten
    body["position"]["fixTime"] = ago(3).isoformat()
    assert (
        client.post(
            "/api/v1/feeds/traccar", json=body, headers=bearer(gateway["secret"])
        ).status_code
        == 200
    )
    # The same device and instant without an id, its position rounded otherwise: a resend
    del body["position"]["id"]
    body["position"] |= {"fixTime": ago(4).isoformat(), "latitude": 52.20531}
    assert (
        client.post(
            "/api/v1/feeds/traccar", json=body, headers=bearer(gateway["secret"])
        ).status_code
        == 200
    )
    [obs] = stored(session, "TAG-1")
    assert obs.client_id == "5243" and obs.protocol == "traccar"
    assert obs.speed_mps == pytest.approx(10 * KNOT) and obs.battery_pct == 14
    # A position the device marks invalid, in the park: stored, flagged, never judged.
    body["position"] |= {"fixTime": ago(2).isoformat(), "valid": False, "id": 9,
                         "latitude": PARK[1], "longitude": PARK[0]}  # fmt: skip
    assert (
        client.post(
            "/api/v1/feeds/traccar", json=body, headers=bearer(gateway["secret"])
        ).status_code
        == 200
    )
    _, invalid = stored(session, "TAG-1")
    assert invalid.flags == ["invalid"] and not invalid.valid
    v = tables.Verdict
    assert session.scalars(select(v).where(v.observation_id == invalid.id)).all() == []
    # No breach from the invalid fix; the forwarded tamper and power-cut alarms open alerts
    # of their own, one each, however often they were resent.
    kinds = sorted(a.kind for a in session.scalars(select(tables.Alert)))
    assert kinds == ["power_cut", "tamper"]


def test_a_jump_is_judged_and_its_flag_travels_with_the_alert(
    app: FastAPI, control: TestClient, session: Session, tag_secret: str
) -> None:
    client = TestClient(app)
    first = client.get(
        f"/api/v1/feeds/osmand?{osmand_query('TAG-1', 10, ELSEWHERE)}", headers=bearer(tag_secret)
    )
    # 12 km in one minute: 200 m/s, beyond the 100 m/s limit
    second = client.get(
        f"/api/v1/feeds/osmand?{osmand_query('TAG-1', 9, PARK)}", headers=bearer(tag_secret)
    )
    assert (first.status_code, second.status_code) == (200, 200)
    before, jumped = stored(session, "TAG-1")
    assert before.flags is None and jumped.flags == ["jump"]
    [alert] = control.get("/api/v1/alerts").json()
    assert alert["flags"] == ["jump"]  # on the alert itself, as on its evidence
    evidence = control.get(f"/api/v1/alerts/{alert['id']}/evidence").json()
    assert [e["flags"] for e in evidence] == [["jump"]]
    # A tamper alarm a minute later, from the same place: its alert carries no jump.
    tamper = client.get(
        f"/api/v1/feeds/osmand?{osmand_query('TAG-1', 8, PARK)}&alarm=tampering",
        headers=bearer(tag_secret),
    )
    assert tamper.status_code == 200
    flags = {a["kind"]: a["flags"] for a in control.get("/api/v1/alerts").json()}
    assert flags == {"zone": ["jump"], "tamper": []}


def test_owntracks_over_http_answers_an_empty_array(
    app: FastAPI, officer: TestClient, session: Session, subject: int
) -> None:
    made = issue(
        officer, "/api/v1/device-credentials", {"device": "jane/phone", "username": "jane"}
    )
    # github:owntracks/booklet docs/guide/quicksetup.md, sent now; the headers as
    # docs/tech/http.md shows them.
    location = {"_type": "location", "SSID": "mywifi", "alt": 154, "batt": 53, "conn": "w",
                "lat": PARK[1], "lon": PARK[0], "tid": "j1", "tst": int(ago(1).timestamp()),
                "vel": 0}  # fmt: skip
    headers = basic("jane", made["secret"]) | {"X-Limit-U": "jane", "X-Limit-D": "phone"}
    client = TestClient(app)
    r = client.post("/api/v1/feeds/owntracks", content=json.dumps(location), headers=headers)
    assert r.status_code == 200 and r.json() == []
    [obs] = stored(session, "jane/phone")
    assert obs.altitude_m == 154 and obs.protocol == "owntracks"
    # a transition (github:owntracks/booklet docs/features/beacons.md) is no fix
    transition = {"_type": "transition", "acc": 65, "desc": "Main@WestWing", "event": "enter",
                  "lat": 2.2222, "lon": 1.1111, "tid": "jp", "tst": 1433342520,
                  "wtst": 1432817332}  # fmt: skip
    r = client.post("/api/v1/feeds/owntracks", json=transition, headers=headers)
    assert r.status_code == 200 and r.json() == []
    encrypted = {"_type": "encrypted", "data": "1Vu7Owp"}  # docs/features/encrypt.md
    r = client.post("/api/v1/feeds/owntracks", json=encrypted, headers=headers)
    assert r.status_code == 422 and "encrypt" in r.json()["error"]["message"]
    other = headers | {"X-Limit-D": "tablet"}  # not this credential's device
    r = client.post("/api/v1/feeds/owntracks", content=json.dumps(location), headers=other)
    assert r.status_code == 404
    wrong_user = basic("john", made["secret"]) | {"X-Limit-D": "phone"}
    r = client.post("/api/v1/feeds/owntracks", content=json.dumps(location), headers=wrong_user)
    assert r.status_code == 401
    assert len(stored(session, "jane/phone")) == 1


def test_an_officer_cannot_issue_for_another_units_device(
    client_as: Callable[[Role], TestClient], session: Session, subject: int
) -> None:
    from service.auth import add_user
    from service.db import units_store
    from tests.service.conftest import OTHER_UNIT, PASSWORD

    add_user(session, "other-officer", PASSWORD, Role.OFFICER)
    units_store.set_members(session, "other-officer", [OTHER_UNIT])
    session.commit()
    other = TestClient(client_as(Role.OFFICER).app)
    r = other.post("/api/v1/auth/token", data={"username": "other-officer", "password": PASSWORD})
    other.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    r = other.post("/api/v1/device-credentials", json={"device": "TAG-1"})
    assert r.status_code == 404
    assert other.post("/api/v1/device-credentials", json={"device": "TAG-2"}).status_code == 201


def test_the_osmand_port_serves_only_the_osmand_route(
    sessions: Any, session: Session, tag_secret: str
) -> None:
    # TestClient's requests arrive at port 80: make that the OsmAnd port.
    settings = Settings(map=MapSettings(tiles="none"), api=ApiSettings(osmand_port=80))
    app = create_app(settings)
    app.state.sessionmaker = sessions
    client = TestClient(app)
    r = client.post(f"/{tag_secret}?{osmand_query('TAG-1', 3)}")
    assert r.status_code == 200 and r.content == b""
    assert len(stored(session, "TAG-1")) == 1
    assert client.get("/api/v1/subjects").status_code == 404
