"""Provenance: the reporter is the signed-in user, and a fix counts only for the subject
who wore its device at the fix's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import tables

NOW = datetime.now(UTC).replace(microsecond=0)
PLACE = (0.1300, 52.2100)


def ago(minutes: float) -> str:
    return (NOW - timedelta(minutes=minutes)).isoformat()


def fix(minutes_ago: float, **who: Any) -> dict[str, Any]:
    return {"lon": PLACE[0], "lat": PLACE[1], "time": ago(minutes_ago), "accuracy_m": 5} | who


@pytest.fixture
def alice(officer: TestClient) -> int:
    r = officer.post("/api/v1/subjects", json={"reference": "P-A", "name": "Alice Example"})
    return int(r.json()["id"])


@pytest.fixture
def bob(officer: TestClient) -> int:
    r = officer.post("/api/v1/subjects", json={"reference": "P-B", "name": "Bob Example"})
    return int(r.json()["id"])


def fit(officer: TestClient, tag: str, subject_id: int | None, minutes_ago: float) -> None:
    body = {"identifier": tag, "subject_id": subject_id, "assigned_from": ago(minutes_ago)}
    r = officer.post("/api/v1/devices", json=body)
    assert r.status_code == 201, r.text


def post(client: TestClient, fixes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = client.post("/api/v1/observations", json=fixes)
    assert r.status_code in (200, 422), r.text
    return list(r.json()["results"])


def test_a_fix_carrying_another_subjects_tag_is_refused_and_the_rest_stored(
    officer: TestClient, control: TestClient, session: Session, alice: int, bob: int
) -> None:
    fit(officer, "TAG-ALICE", alice, 120)
    fit(officer, "TAG-BOB", bob, 120)
    results = post(
        control,
        [
            fix(10, subject_id=alice, device_id="TAG-ALICE"),
            fix(9, subject_id=alice, device_id="TAG-BOB"),  # Bob's tag, said to be Alice
            fix(8, subject_id=alice),
            fix(7, subject_id=alice, device_id="TAG-NOBODY"),  # no such tag
        ],
    )
    assert [r["status"] for r in results] == ["stored", "rejected", "stored", "rejected"]
    refused = results[1]["error"]
    assert refused["code"] == "device_not_assigned" and refused["field"] == "[1].device_id"
    assert "TAG-BOB" in refused["message"] and f"subject {alice}" in refused["message"]
    assert results[3]["error"]["code"] == "unknown_device"
    stored = session.scalars(
        select(tables.Observation.subject_id).where(tables.Observation.device_id == "TAG-BOB")
    ).all()
    assert stored == []  # nothing of Bob's tag was stored, for Alice or for Bob


def test_a_tag_counts_for_whoever_wore_it_at_the_fixs_time(
    officer: TestClient, control: TestClient, session: Session, alice: int, bob: int
) -> None:
    fit(officer, "TAG-1", alice, 120)  # on Alice two hours ago ...
    fit(officer, "TAG-1", bob, 60)  # ... moved to Bob an hour ago
    results = post(
        control,
        [
            fix(150, device_id="TAG-1"),  # before anybody wore it
            fix(90, device_id="TAG-1"),  # Alice's, back-filled late
            fix(30, device_id="TAG-1"),  # Bob's
            fix(20, device_id="TAG-1", subject_id=alice),  # Alice's name on Bob's tag
        ],
    )
    assert [r["status"] for r in results] == ["rejected", "stored", "stored", "rejected"]
    assert results[0]["error"]["code"] == "device_not_assigned"
    assert "any subject" in results[0]["error"]["message"]
    assert results[3]["error"]["code"] == "device_not_assigned"
    owners = dict(
        session.execute(
            select(tables.Observation.id, tables.Observation.subject_id).where(
                tables.Observation.device_id == "TAG-1"
            )
        ).all()
    )
    assert owners == {results[1]["observation_id"]: alice, results[2]["observation_id"]: bob}


def test_a_tag_taken_off_counts_for_nobody_afterwards(
    officer: TestClient, control: TestClient, alice: int
) -> None:
    fit(officer, "TAG-2", alice, 120)
    fit(officer, "TAG-2", None, 60)  # taken off
    results = post(control, [fix(90, device_id="TAG-2"), fix(30, device_id="TAG-2")])
    assert [r["status"] for r in results] == ["stored", "rejected"]
    assert results[1]["error"]["code"] == "device_not_assigned"


def test_a_device_move_may_not_rewrite_who_wore_it_before(
    officer: TestClient, alice: int, bob: int
) -> None:
    fit(officer, "TAG-3", alice, 60)
    body = {"identifier": "TAG-3", "subject_id": bob, "assigned_from": ago(90)}
    r = officer.post("/api/v1/devices", json=body)
    assert r.status_code == 409 and r.json()["error"]["field"] == "assigned_from"
    future = body | {"assigned_from": (NOW + timedelta(hours=1)).isoformat()}
    assert officer.post("/api/v1/devices", json=future).status_code == 422


def test_a_device_registered_without_a_time_is_worn_from_now(
    officer: TestClient, control: TestClient, alice: int
) -> None:
    r = officer.post("/api/v1/devices", json={"identifier": "TAG-4", "subject_id": alice})
    assert r.status_code == 201
    assert datetime.fromisoformat(r.json()["assigned_from"]) >= NOW
    # A fix from before it was registered is not the subject's to claim.
    [early] = post(control, [fix(5, device_id="TAG-4")])
    assert early["error"]["code"] == "device_not_assigned"


def test_nobody_can_name_another_reporter(
    control: TestClient, session: Session, alice: int
) -> None:
    sighting = {"subject_id": alice, "lon": PLACE[0], "lat": PLACE[1], "time": ago(1)}
    sighting |= {"source": "public", "source_detail": "caller by the bus stop"}
    r = control.post("/api/v1/sightings/check", json=sighting | {"reporter": "PC 99 Other"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reporter"
    [refused, stored] = post(
        control, [fix(3, subject_id=alice, reporter="PC 99 Other"), fix(2, subject_id=alice)]
    )
    assert refused["status"] == "rejected" and refused["error"]["field"] == "[0].reporter"
    assert stored["status"] == "stored"
    answer = control.post("/api/v1/sightings/check", json=sighting).json()
    assert answer["reporter"] == "test-control_room"
    assert answer["source_detail"] == "caller by the bus stop"
    reporters = set(
        session.scalars(
            select(tables.Observation.reporter).where(tables.Observation.subject_id == alice)
        )
    )
    assert reporters == {"test-control_room"}  # the fix and the sighting alike
