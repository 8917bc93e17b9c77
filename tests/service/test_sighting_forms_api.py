"""What the sighting form sends: grid references, local times, windows, sources; and the
control room's start from a place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import square, zone_feature
from zones.gridref import grid_reference_of, parse_grid_reference
from zones.model import Role

PARK = (0.1282, 52.2024)  # Parker's Piece, Cambridge: grid square TL 45 58


@pytest.fixture
def subject(officer: TestClient) -> dict[str, Any]:
    zone = officer.post(
        "/api/v1/zones", json=zone_feature(square(*PARK, 0.003), "Grid Park")
    ).json()
    s = officer.post(
        "/api/v1/subjects",
        json={"reference": "G-1", "name": "Greta Grid", "photo_ref": "CUSTODY/G/1"},
    ).json()
    r = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": s["id"],
            "reference": "SHPO/G/1",
            "starts": "2020-01-01",
            "conditions": [{"text": "Not to enter Grid Park.", "zone_ids": [zone["id"]]}],
        },
    )
    assert r.status_code == 201
    return s


def check(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/sightings/check", json={"source": "public"} | body)


def test_a_six_figure_grid_reference_is_the_centre_of_its_100_m_square(
    control: TestClient, subject: dict[str, Any]
) -> None:
    ref = grid_reference_of(*PARK, 6)
    now = datetime.now(UTC).isoformat()
    r = check(control, {"subject_id": subject["id"], "grid_ref": ref, "time": now})
    assert r.status_code == 200, r.text
    answer = r.json()
    lon, lat = parse_grid_reference(ref).lon_lat()
    assert answer["position"]["given_as"] == "grid_ref"
    assert (answer["position"]["lon"], answer["position"]["lat"]) == pytest.approx((lon, lat))
    assert answer["position"]["accuracy_m"] == pytest.approx(70.71, abs=0.01)
    assert answer["position"]["grid_ref"].startswith(ref[:5])
    assert answer["outcome"] == "breach"
    assert answer["verdicts"][0]["zone_name"] == "Grid Park"
    assert answer["verdicts"][0]["clause_text"] == "Not to enter Grid Park."
    assert answer["summary"].startswith("Breach by G-1 (Greta Grid)")
    # An operator's own accuracy wins over the square's.
    given = check(control, {"subject_id": subject["id"], "grid_ref": ref, "time": now,
                            "accuracy_m": 10}).json()  # fmt: skip
    assert given["position"]["accuracy_m"] == 10


@pytest.mark.parametrize(
    ("ref", "message"),
    [("TL 455 8", "easting"), ("ZZ 123 456", "100 km square"), ("TL45581", "odd")],
)
def test_a_bad_grid_reference_says_what_is_wrong(
    control: TestClient, subject: dict[str, Any], ref: str, message: str
) -> None:
    r = check(control, {"subject_id": subject["id"], "grid_ref": ref,
                        "time": datetime.now(UTC).isoformat()})  # fmt: skip
    assert r.status_code == 422
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_grid_reference", "grid_ref")
    assert message in error["message"]


def test_a_local_time_in_the_repeated_hour_is_asked_about_never_guessed(
    control: TestClient, subject: dict[str, Any]
) -> None:
    body = {"subject_id": subject["id"], "lon": PARK[0], "lat": PARK[1],
            "local_time": "2026-10-25T01:30:00"}  # fmt: skip
    r = check(control, body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "ambiguous_local_time"
    assert (
        "01:30 BST" in r.json()["error"]["message"] and "01:30 GMT" in r.json()["error"]["message"]
    )
    options = control.get(
        "/api/v1/time/local",
        params={"local_time": "2026-10-25T01:30", "time_zone": "Europe/London"},
    ).json()
    assert options["status"] == "ambiguous"
    assert options["instants"] == ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"]
    assert options["labels"] == ["01:30 BST (00:30 UTC)", "01:30 GMT (01:30 UTC)"]
    # The operator chose the second: it is what is stored and judged.
    chosen = check(control, body | {"local_time": None, "time": options["instants"][1]}).json()
    assert chosen["when"]["time"] == "2026-10-25T01:30:00Z"
    assert chosen["when"]["local"] == "Sun 25 Oct 2026 01:30:00 GMT"


def test_a_skipped_local_time_and_a_plain_one(control: TestClient, subject: dict[str, Any]) -> None:
    base = {"subject_id": subject["id"], "lon": PARK[0], "lat": PARK[1]}
    r = check(control, base | {"local_time": "2026-03-29T01:30"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "nonexistent_local_time"
    summer = check(control, base | {"local_time": "2026-07-01T15:00"}).json()
    assert summer["when"]["time"] == "2026-07-01T14:00:00Z"
    options = control.get("/api/v1/time/local", params={"local_time": "2026-03-29T01:30"}).json()
    assert (options["status"], options["instants"]) == ("nonexistent", [])
    r = control.get("/api/v1/time/local", params={"local_time": "2026-07-01T15:00",
                                                  "time_zone": "Mars/Olympus"})  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_time_zone"


def test_a_window_is_judged_at_its_middle_and_kept(
    control: TestClient, subject: dict[str, Any]
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    body = {"subject_id": subject["id"], "lon": PARK[0], "lat": PARK[1],
            "time": start.isoformat(), "time_to": (start + timedelta(minutes=30)).isoformat(),
            "source_detail": "about 3 pm"}  # fmt: skip
    answer = check(control, body).json()
    assert answer["when"]["window_from"] == start.isoformat().replace("+00:00", "Z")
    assert answer["when"]["time"] == (start + timedelta(minutes=15)).isoformat().replace(
        "+00:00", "Z"
    )
    assert answer["when"]["local"].startswith("between ")
    backwards = body | {"time_to": (start - timedelta(minutes=1)).isoformat()}
    assert check(control, backwards).json()["error"]["field"] == "time_to"
    too_long = body | {"time_to": (start + timedelta(hours=25)).isoformat()}
    assert check(control, too_long).status_code == 422


def test_the_form_must_say_where_when_and_from_whom(
    control: TestClient, subject: dict[str, Any]
) -> None:
    now = datetime.now(UTC).isoformat()
    sid = subject["id"]
    cases = [
        {"subject_id": sid, "time": now},  # nowhere
        {"subject_id": sid, "lon": PARK[0], "lat": PARK[1], "grid_ref": "TL4558", "time": now},
        {"subject_id": sid, "lon": PARK[0], "lat": PARK[1]},  # no time
        {"subject_id": sid, "lon": PARK[0], "lat": PARK[1], "time": now, "reporter": "me"},
        {"subject_id": sid, "lon": PARK[0], "lat": PARK[1], "time": now, "source": "gossip"},
    ]
    for body in cases:
        r = control.post("/api/v1/sightings/check", json={"source": "public"} | body)
        assert r.status_code == 422, (body, r.text)
    r = control.post("/api/v1/sightings/check", json={"subject_id": sid, "lon": PARK[0],
                                                      "lat": PARK[1], "time": now})  # fmt: skip
    assert r.json()["error"]["field"] == "source"


def test_nearest_zones_within_a_kilometre_even_without_a_breach(
    control: TestClient, subject: dict[str, Any]
) -> None:
    east = (PARK[0] + 0.008, PARK[1])  # ~340 m beyond the park's edge
    answer = check(control, {"subject_id": subject["id"], "lon": east[0], "lat": east[1],
                             "time": datetime.now(UTC).isoformat()}).json()  # fmt: skip
    assert answer["outcome"] == "no_breach"
    assert answer["judged_against"] == {"in_force": True, "orders": 1, "conditions": 1, "zones": 1}
    [near] = answer["nearest"]
    assert near["zone_name"] == "Grid Park" and 300 < near["distance_m"] < 400
    assert "No breach by G-1" in answer["summary"]


def test_who_is_barred_from_a_place_needs_a_reason_and_is_audited(
    control: TestClient,
    client_as: Callable[[Role], TestClient],
    officer: TestClient,
    subject: dict[str, Any],
) -> None:
    where = {"lon": PARK[0], "lat": PARK[1]}
    r = control.get("/api/v1/places/barred", params=where)
    assert r.status_code == 422 and r.json()["error"]["field"] == "query.reason"
    assert officer.get("/api/v1/places/barred", params=where | {"reason": "x"}).status_code == 403
    r = control.get("/api/v1/places/barred", params=where | {"reason": "incident 4411"})
    assert r.status_code == 200, r.text
    [found] = [b for b in r.json()["barred"] if b["subject"]["reference"] == "G-1"]
    assert found["subject"]["photo_ref"] == "CUSTODY/G/1"
    assert found["verdict"]["zone_name"] == "Grid Park" and found["verdict"]["status"] == "inside"
    far = {"lon": 0.5, "lat": 52.5, "reason": "incident 4412"}
    assert control.get("/api/v1/places/barred", params=far).json()["barred"] == []
    admin = client_as(Role.ADMIN)
    page = admin.get("/api/v1/audit", params={"action": "places.barred", "limit": 2}).json()
    audit = page["entries"]
    assert [a["reason"] for a in audit] == ["incident 4412", "incident 4411"]  # newest first
    assert [a["detail"]["subjects"] for a in audit] == [[], [subject["id"]]]
    assert audit[1]["username"] == "test-control_room"
    assert audit[1]["client"] == "testclient"  # from where: the request's address


def test_the_grid_reference_helper(control: TestClient) -> None:
    r = control.get("/api/v1/gridref", params={"ref": "tl 451 583"})
    assert r.status_code == 200
    assert r.json() | {"lon": 0, "lat": 0} == {
        "grid_ref": "TL 451 583", "easting": 545150.0, "northing": 258350.0, "size_m": 100.0,
        "lon": 0, "lat": 0, "accuracy_m": 70.71,
    }  # fmt: skip
    assert control.get("/api/v1/gridref", params={"ref": "QQ"}).status_code == 422


def test_a_future_time_is_refused_at_the_field_it_was_given_in(
    control: TestClient, subject: dict[str, Any]
) -> None:
    base = {"subject_id": subject["id"], "lon": PARK[0], "lat": PARK[1]}
    r = check(control, base | {"local_time": "2099-07-01T12:00"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "local_time"
    r = check(control, base | {"time": "2099-07-01T12:00:00+00:00"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "time"
