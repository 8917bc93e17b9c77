"""Bulk back-fill through the API: GPX, NDJSON and CSV files stored, judged, sent twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.db import tables
from service.settings import ApiSettings, MapSettings, Settings, UploadSettings
from tests.feed_files import BILLION_LAUGHS, OSMAND, TRACCAR_GPX_BUILDER, XXE
from tests.service.conftest import square, zone_feature
from zones.model import Role

SINCE = "2019-01-01T00:00:00+00:00"  # the fixtures' times are after it
BODY_CAP = 64 * 1024


@pytest.fixture
def settings() -> Settings:
    """Small caps, to show them: a 64 KiB body, 100 records a file."""
    return Settings(
        map=MapSettings(tiles="none"),
        api=ApiSettings(max_body_bytes=BODY_CAP),
        upload=UploadSettings(max_records=100),
    )


def fitted(officer: TestClient, tag: str, zone_at: tuple[float, float] | None = None) -> int:
    """A subject wearing ``tag`` since 2019, barred from a square around ``zone_at``."""
    subject = officer.post("/api/v1/subjects", json={"reference": f"U-{tag}", "name": "Up"})
    sid: int = subject.json()["id"]
    r = officer.post(
        "/api/v1/devices", json={"identifier": tag, "subject_id": sid, "assigned_from": SINCE}
    )
    assert r.status_code == 201, r.text
    if zone_at is not None:
        zone = officer.post("/api/v1/zones", json=zone_feature(square(*zone_at, 0.0005)))
        order = {
            "subject_id": sid,
            "reference": f"SHPO/{tag}",
            "starts": "2019-01-01",
            "conditions": [{"text": "Not to enter the park.", "zone_ids": [zone.json()["id"]]}],
        }
        assert officer.post("/api/v1/orders", json=order).status_code == 201
    return sid


def upload(client: TestClient, kind: str, data: bytes, **params: Any) -> Any:
    return client.post(
        f"/api/v1/observations/{kind}", params=params, files={"file": (f"f.{kind}", data)}
    )


def test_a_gpx_track_is_stored_judged_and_stored_once_when_sent_again(
    officer: TestClient,
) -> None:
    fitted(officer, "TAG-G", zone_at=(0.1218, 52.2053))
    r = upload(officer, "gpx", TRACCAR_GPX_BUILDER, device="TAG-G")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (2, 0)
    first, second = body["results"]
    assert first["where"] == "trk[0].trkseg[0].trkpt[0]" and first["status"] == "stored"
    assert first["breach"] is True and first["alert_ids"]  # inside the park
    assert second["alert_ids"] == first["alert_ids"]  # one stay, not one alert per fix
    again = upload(officer, "gpx", TRACCAR_GPX_BUILDER, device="TAG-G").json()
    assert [x["status"] for x in again["results"]] == ["duplicate", "duplicate"]
    assert [x["observation_id"] for x in again["results"]] == [
        first["observation_id"],
        second["observation_id"],
    ]


def test_a_gpx_point_without_time_is_refused_alone_and_hdop_is_metres(
    officer: TestClient, session: Session
) -> None:
    fitted(officer, "TAG-O")
    r = upload(officer, "gpx", OSMAND, device="TAG-O", hdop_m=5)
    assert r.status_code == 200, r.text
    wpt, good, timeless = r.json()["results"]
    assert wpt["status"] == good["status"] == "stored"
    assert timeless["status"] == "rejected"
    assert timeless["where"] == "trk[0].trkseg[0].trkpt[1]"
    assert timeless["error"]["field"] == "time"
    stored = session.get(tables.Observation, good["observation_id"])
    assert stored is not None and stored.accuracy_m == 15.0  # hdop 3 x 5 m


def test_a_file_whose_every_record_is_refused_answers_422_with_each_reason(
    officer: TestClient,
) -> None:
    r = upload(officer, "gpx", TRACCAR_GPX_BUILDER, device="NO-SUCH-TAG")
    assert r.status_code == 422
    body = r.json()
    assert body["error"]["code"] == "batch_rejected"
    assert [x["error"]["code"] for x in body["results"]] == ["unknown_device"] * 2


def test_ndjson_and_csv_store_the_good_lines_and_name_the_bad(officer: TestClient) -> None:
    fitted(officer, "TAG-N")
    lines = (
        b'{"device_id": "TAG-N", "time": "2026-11-28T14:03:00+00:00", "lon": 0.1218, '
        b'"lat": 52.2053, "accuracy_m": 12}\n'
        b'{"device_id": "TAG-N", "time": "2026-11-28T14:04:00+00:00", "lon": 200, "lat": 52}\n'
        b'{"device_id": "TAG-X", "time": "2026-11-28T14:05:00+00:00", "lon": 0.1, "lat": 52}\n'
    )
    r = upload(officer, "ndjson", lines)
    assert r.status_code == 200, r.text
    good, far, stranger = r.json()["results"]
    assert good["status"] == "stored" and good["where"] == "line 1"
    assert (far["where"], far["error"]["code"], far["error"]["field"]) == (
        "line 2",
        "invalid_coordinates",
        "lon",
    )
    assert stranger["error"]["code"] == "unknown_device"
    rows = (
        b"device_id,time,lon,lat,accuracy_m\n"
        b"TAG-N,2026-11-28T14:03:00+00:00,0.1218,52.2053,12\n"  # the NDJSON's first fix
        b"TAG-N,2026-11-28T14:07:00+00:00,0.1219,52.2054,\n"
    )
    r = upload(officer, "csv", rows)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "stored"]
    assert r.json()["results"][0]["observation_id"] == good["observation_id"]


def test_a_tag_of_another_unit_cannot_be_back_filled(
    officer: TestClient, client_as: Callable[[Role], TestClient]
) -> None:
    sid = fitted(officer, "TAG-M")
    admin = client_as(Role.ADMIN)
    moved = admin.post(
        f"/api/v1/subjects/{sid}/move", json={"unit": "other-unit", "reason": "moved"}
    )
    assert moved.status_code in (200, 201), moved.text
    r = upload(officer, "gpx", TRACCAR_GPX_BUILDER, device="TAG-M")
    assert r.status_code == 422
    answer = r.text.replace("TAG-M", "TAG-?")
    nobody = upload(officer, "gpx", TRACCAR_GPX_BUILDER, device="TAG-NONE")
    assert answer == nobody.text.replace("TAG-NONE", "TAG-?")  # as if it did not exist


def test_uploads_need_the_feed_writing_permission(
    client_as: Callable[[Role], TestClient],
) -> None:
    r = upload(client_as(Role.ANALYST), "csv", b"device_id,time,lon,lat\n")
    assert r.status_code == 403


def test_the_routes_say_their_format(app: Any) -> None:
    paths = app.openapi()["paths"]
    for kind in ("gpx", "ndjson", "csv"):
        assert paths[f"/api/v1/observations/{kind}"]["post"]["operationId"].startswith(
            f"upload_{kind}"
        )


def test_a_file_over_the_body_cap_or_the_record_cap_is_refused_whole(
    officer: TestClient,
) -> None:
    row = b"TAG-N,2026-11-28T14:03:00+00:00,0.1218,52.2053,12\n"
    big = b"device_id,time,lon,lat,accuracy_m\n" + row * (BODY_CAP // len(row) + 1)
    r = upload(officer, "csv", big)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"
    many = b"device_id,time,lon,lat,accuracy_m\n" + row * 101
    r = upload(officer, "csv", many)
    assert r.status_code == 422
    assert "more than 100 records" in r.json()["error"]["message"]


def gpx_point(lat: str = "52.2053", lon: str = "0.1218", inner: str = "") -> bytes:
    time_ = "<time>2026-11-28T14:03:00Z</time>"
    return (
        f'<gpx version="1.1"><trk><trkseg><trkpt lat="{lat}" lon="{lon}">{inner or time_}'
        "</trkpt></trkseg></trk></gpx>"
    ).encode()


HOSTILE_FILES = [
    ("gpx", BILLION_LAUGHS),
    ("gpx", XXE),
    ("gpx", gpx_point(lat="NaN")),
    ("gpx", gpx_point(lat="1e400")),
    ("gpx", gpx_point(lon="-" + "9" * 5000)),
    ("gpx", gpx_point(inner="<time>9999-12-31T23:59:59Z</time>")),
    ("gpx", gpx_point(inner="<time>0001-01-01T00:00:00+14:00</time>")),
    ("gpx", gpx_point(inner="<time>2026-11-28T14:03:00Z</time><hdop>1e308</hdop>")),
    ("gpx", gpx_point(inner="<time>2026-11-28T14:03:00Z</time><ele>1e999</ele>")),
    ("gpx", gpx_point(inner="<time>\x01</time>")),
    ("gpx", b"\xff\xfe<\x00g\x00p\x00x\x00"),
    ("gpx", b'<?xml version="1.0" encoding="UTF-16"?><gpx/>'),
    ("gpx", b"<gpx>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</gpx>"),
    ("ndjson", b"[" * 100_000),
    (
        "ndjson",
        b'{"device_id": "TAG-H", "time": "2026-11-28T14:03:00Z", "lon": '
        + b"9" * 400
        + b', "lat": 52}',
    ),
    (
        "ndjson",
        b'{"device_id": "TAG-H", "time": "2026-11-28T14:03:00Z", "lon": 0, "lat": -'
        + b"9" * 3000
        + b"}",
    ),
    ("ndjson", b'{"device_id": "TAG-H", "time": "2026-11-28T14:03:00Z", "lon": 1e400}\n'),
    ("ndjson", b'{"device_id": "a\\u0000b", "time": "2026-11-28T14:03:00Z", "lon": 0, "lat": 0}'),
    ("ndjson", b'{"device_id": ["x"], "time": 12, "lon": "0", "lat": true}'),
    (
        "ndjson",
        b'{"device_id": "TAG-H", "time": "2026-11-28T14:03:00Z", "lon": 0.12, "lat": 52.2,'
        b' "accuracy_m": 1e300}',
    ),
    ("csv", b"device_id,time,lon,lat\nTAG\x00H,2026-11-28T14:03:00Z,0.1,52\n"),
    ("csv", b"device_id,time,lon,lat\n" + b"x" * 200_000 + b",t,0,0\n"),
    ("csv", b'device_id,time,lon,lat\n"TAG-H,2026-11-28T14:03:00Z,0.1,52\n'),
    ("csv", b"\n\n\n"),
    ("csv", b""),
]


def test_hostile_files_are_refused_never_a_server_error(app: Any, users: dict[Role, str]) -> None:
    failures = []
    with TestClient(app, raise_server_exceptions=False) as client:
        form = {"username": users[Role.OFFICER], "password": "test-password-1"}
        token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        for kind, data in HOSTILE_FILES:
            r = upload(client, kind, data, **({"device": "TAG-H"} if kind == "gpx" else {}))
            if r.status_code not in (413, 422) or not r.json()["error"]["code"]:
                failures.append(f"{kind} {data[:60]!r} -> {r.status_code} {r.text[:200]}")
    assert not failures, "\n".join(failures)
