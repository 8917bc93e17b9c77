"""Legal holds over HTTP: supervisors and admins place and release them with a reason, and
every change is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from zones.model import Role

REASON = "Crown Court appeal, case 2026/117"


@pytest.fixture
def supervisor(client_as: Callable[[Role], TestClient]) -> TestClient:
    return client_as(Role.SUPERVISOR)


@pytest.fixture
def admin(client_as: Callable[[Role], TestClient]) -> TestClient:
    return client_as(Role.ADMIN)


@pytest.fixture
def subject_id(officer: TestClient) -> int:
    r = officer.post("/api/v1/subjects", json={"reference": "H-1", "name": "Held Example"})
    return int(r.json()["id"])


def place(client: TestClient, **body: Any) -> Any:
    return client.post("/api/v1/holds", json=body)


def test_supervisors_and_admins_hold_and_release_with_a_reason(
    supervisor: TestClient, admin: TestClient, subject_id: int
) -> None:
    r = place(supervisor, subject_id=subject_id, reason=REASON)
    assert r.status_code == 201, r.text
    hold = r.json()
    assert hold["subject_id"] == subject_id and hold["alert_id"] is None
    assert hold["placed_by"] == "test-supervisor" and hold["active"] is True
    assert place(admin, subject_id=subject_id, reason="second matter").status_code == 201

    r = admin.post(f"/api/v1/holds/{hold['id']}/release", json={"reason": "appeal dismissed"})
    assert r.status_code == 200, r.text
    released = r.json()
    assert released["active"] is False and released["released_by"] == "test-admin"
    assert released["release_reason"] == "appeal dismissed" and released["released_at"]
    again = supervisor.post(f"/api/v1/holds/{hold['id']}/release", json={"reason": "again"})
    assert again.status_code == 409

    active = supervisor.get("/api/v1/holds", params={"active": "true"}).json()
    assert [h["reason"] for h in active] == ["second matter"]
    done = supervisor.get("/api/v1/holds", params={"active": "false", "subject_id": subject_id})
    assert [h["id"] for h in done.json()] == [hold["id"]]


def test_every_hold_change_is_audited_with_its_reason(
    supervisor: TestClient, admin: TestClient, subject_id: int
) -> None:
    hold = place(supervisor, subject_id=subject_id, reason=REASON).json()
    supervisor.post(f"/api/v1/holds/{hold['id']}/release", json={"reason": "case closed"})
    audit = admin.get("/api/v1/audit", params={"username": "test-supervisor"}).json()
    entries = audit["entries"]
    changes = [(e["action"], e["object_id"], e["reason"], e["detail"]) for e in entries]
    assert changes[:2] == [
        ("legal_hold.release", str(hold["id"]), "case closed", {"subject": subject_id}),
        ("legal_hold.place", str(hold["id"]), REASON, {"subject": subject_id}),
    ]


@pytest.mark.parametrize("role", [Role.OFFICER, Role.CONTROL_ROOM])
def test_other_roles_may_not_hold_release_or_list(
    client_as: Callable[[Role], TestClient], supervisor: TestClient, subject_id: int, role: Role
) -> None:
    client = client_as(role)
    hold = place(supervisor, subject_id=subject_id, reason=REASON).json()
    assert place(client, subject_id=subject_id, reason=REASON).status_code == 403
    r = client.post(f"/api/v1/holds/{hold['id']}/release", json={"reason": "not mine"})
    assert r.status_code == 403
    assert client.get("/api/v1/holds").status_code == 403


def test_a_hold_needs_one_target_that_exists_and_a_reason(
    supervisor: TestClient, subject_id: int
) -> None:
    assert place(supervisor, subject_id=subject_id).status_code == 422  # no reason
    assert place(supervisor, subject_id=subject_id, reason="").status_code == 422
    assert place(supervisor, reason=REASON).status_code == 422  # no target
    both = place(supervisor, subject_id=subject_id, alert_id=1, reason=REASON)
    assert both.status_code == 422
    r = place(supervisor, subject_id=999_999, reason=REASON)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_subject")
    r = place(supervisor, alert_id=999_999, reason=REASON)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_alert")
    r = supervisor.post("/api/v1/holds/999999/release", json={"reason": "no such hold"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_hold")
    r = supervisor.post("/api/v1/holds/1/release", json={})
    assert r.status_code == 422  # a release needs a reason too
