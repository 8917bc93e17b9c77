"""A condition of many zones ("every park in town"): a sighting check lists the zones that
matter and the nearest of each condition, every zone only when asked, and counts everything
in force either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import square, zone_feature

NOW = datetime.now(UTC).replace(microsecond=0)
# A 6 x 5 grid of small parks, 0.01 deg apart (about 680 m east-west, 1.1 km north-south).
PARKS = [(0.10 + 0.01 * i, 52.18 + 0.01 * j) for i in range(6) for j in range(5)]


@pytest.fixture
def every_park(officer: TestClient) -> dict[str, Any]:
    ids = [
        officer.post(
            "/api/v1/zones", json=zone_feature(square(x, y, 0.0005), name=f"Park {k}")
        ).json()["id"]
        for k, (x, y) in enumerate(PARKS)
    ]
    school = officer.post(
        "/api/v1/zones", json=zone_feature(square(0.30, 52.30, 0.001), name="School")
    ).json()["id"]
    subject = officer.post("/api/v1/subjects", json={"reference": "P-1", "name": "Parks"}).json()
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": subject["id"],
            "reference": "SHPO/PARKS/1",
            "type": "SHPO",
            "starts": "2020-01-01",
            "ends": None,
            "conditions": [
                {"text": "Not to enter any park.", "zone_ids": ids, "buffer_m": 50},
                {"text": "Not to enter the school.", "zone_ids": [school], "buffer_m": 0},
            ],
        },
    )
    assert order.status_code == 201, order.text
    return {"subject": subject["id"], "parks": ids, "school": school}


def check(client: TestClient, subject: int, lon: float, lat: float, query: str = "") -> Any:
    body = {
        "subject_id": subject,
        "lon": lon,
        "lat": lat,
        "time": (NOW - timedelta(minutes=1)).isoformat(),
        "source": "officer",
    }
    r = client.post(f"/api/v1/sightings/check{query}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_in_one_park_of_thirty_lists_what_matters(
    control: TestClient, every_park: dict[str, Any]
) -> None:
    x, y = PARKS[7]
    found = check(control, every_park["subject"], x, y)

    assert found["outcome"] == "breach"
    assert found["judged_against"] == {"in_force": True, "orders": 1, "conditions": 2, "zones": 31}
    listed = {(v["zone_id"], v["status"]) for v in found["verdicts"]}
    # The park it is in; its neighbours within 1 km (680 m east and west); the school, the
    # nearest (and only) zone of the other condition, some 25 km away.
    assert (every_park["parks"][7], "inside") in listed
    assert (every_park["school"], "outside") in listed
    assert len(listed) < 10
    distances = [v["distance_m"] for v in found["verdicts"] if v["zone_id"] != every_park["school"]]
    assert max(distances) <= 1000
    assert "judged against" not in found["summary"] or "31 zone(s)" in found["summary"]


def test_every_zone_comes_when_asked(control: TestClient, every_park: dict[str, Any]) -> None:
    x, y = PARKS[7]
    some = check(control, every_park["subject"], x, y)
    every = check(control, every_park["subject"], x + 0.0001, y, "?verdicts=all")

    assert len(every["verdicts"]) == 31
    assert every["judged_against"] == some["judged_against"]
    # The verdicts both list are the same verdicts (the second sighting is 7 m east).
    for v in some["verdicts"]:
        [same] = [w for w in every["verdicts"] if w["zone_id"] == v["zone_id"]]
        assert same["status"] == v["status"]
        assert same["distance_m"] == pytest.approx(v["distance_m"], abs=8)


def test_far_from_every_park_the_nearest_is_named(
    control: TestClient, every_park: dict[str, Any]
) -> None:
    found = check(control, every_park["subject"], 0.05, 52.20)  # ~3.4 km west of the parks

    assert found["outcome"] == "no_breach"
    assert "31 zone(s) in force" in found["summary"]
    nearest_park = min(
        (v for v in found["verdicts"] if v["zone_id"] != every_park["school"]),
        key=lambda v: v["distance_m"],
    )
    assert [v["zone_id"] for v in found["verdicts"]] == [
        nearest_park["zone_id"],
        every_park["school"],
    ]
    # Park 0-4 are the westmost column; 52.20 is the latitude of park 2.
    assert nearest_park["zone_id"] == every_park["parks"][2]
    assert found["nearest"] == []  # nothing within 1 km


def test_an_unknown_verdict_list_is_refused(
    control: TestClient, every_park: dict[str, Any]
) -> None:
    body = {
        "subject_id": every_park["subject"],
        "lon": 0.1,
        "lat": 52.2,
        "time": NOW.isoformat(),
        "source": "officer",
    }
    r = control.post("/api/v1/sightings/check?verdicts=some", json=body)

    assert r.status_code == 422
    assert "verdicts" in r.text
