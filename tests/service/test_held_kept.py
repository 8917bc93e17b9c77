"""What held for a subject is kept between checks only while it is the same: a zone edited,
an order edited, a visit recorded or withdrawn between two checks is judged at the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import square, zone_feature
from tests.service.test_versions_api import edit, new_subject, sighting

PARK = (0.4000, 52.4000)
EDGE = (0.4015, 52.4000)  # outside the park, inside it once its fence moves out
AWAY = (0.4500, 52.4000)


@pytest.fixture
def held(officer: TestClient) -> dict[str, Any]:
    park = officer.post("/api/v1/zones", json=zone_feature(square(*PARK), "Kept Park")).json()
    sid = new_subject(officer, "K-1", "Kept Subject")
    r = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": sid,
            "reference": "SHPO/K/1",
            "court": "Cambridge Magistrates' Court",
            "starts": "2020-01-01",
            "conditions": [{"text": "Not to enter Kept Park.", "zone_ids": [park["id"]]}],
        },
    )
    assert r.status_code == 201, r.text
    return {"park": park["id"], "subject_id": sid, "order": r.json()}


def test_a_zone_edited_between_two_checks_is_judged_at_the_second(
    officer: TestClient, control: TestClient, held: dict[str, Any]
) -> None:
    sid = held["subject_id"]
    assert sighting(control, sid, EDGE, 30)["breach"] is False
    bigger = zone_feature(square(*PARK, 0.002), "Kept Park", reason="fence moved")
    assert officer.put(f"/api/v1/zones/{held['park']}", json=bigger).status_code == 200
    assert sighting(control, sid, EDGE, 0)["breach"] is True  # an edit holds from when made


def test_an_order_edited_between_two_checks_is_judged_at_the_second(
    officer: TestClient, control: TestClient, held: dict[str, Any]
) -> None:
    sid = held["subject_id"]
    assert sighting(control, sid, PARK, 30)["breach"] is True
    assert edit(officer, held["order"], status="revoked").status_code == 200
    assert sighting(control, sid, PARK, 0)["outcome"] == "nothing_in_force"


def test_a_visit_recorded_or_withdrawn_between_two_checks_is_judged_at_the_next(
    officer: TestClient, control: TestClient, held: dict[str, Any]
) -> None:
    sid = held["subject_id"]
    assert sighting(control, sid, AWAY, 50)["alert_id"] is None  # what held, now kept
    r = officer.post(
        f"/api/v1/subjects/{sid}/visits",
        json={"zone_id": held["park"], "starts": _ago(45), "ends": _ago(5),
              "authorised_by": "DS 1 Kept", "reason": "supervised contact visit"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert sighting(control, sid, PARK, 40)["alert_id"] is None  # covered by the visit
    r = officer.post(f"/api/v1/visits/{r.json()['id']}/withdraw", json={"reason": "mistake"})
    assert r.status_code == 200, r.text
    assert sighting(control, sid, PARK, 20)["alert_id"] is not None


def _ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()
