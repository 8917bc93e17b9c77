"""The subject list says how many orders each subject has, and how many are in force today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from service.db.orders_store import civil_day
from tests.service.conftest import square, zone_feature


def today() -> date:
    """The UK civil date, as the API counts it, read when a test runs (not at import: a whole CI
    run takes long enough to cross midnight between collecting this file and running it)."""
    return civil_day([datetime.now(UTC)])[0]


def subject(officer: TestClient, reference: str, name: str) -> int:
    r = officer.post("/api/v1/subjects", json={"reference": reference, "name": name})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def order(officer: TestClient, subject_id: int, reference: str, starts: date, **more: Any) -> int:
    body = {
        "subject_id": subject_id,
        "reference": reference,
        "starts": starts.isoformat(),
        "conditions": [{"text": "Not to enter the park."}],
        **more,
    }
    r = officer.post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def listed(officer: TestClient, q: str) -> dict[str, tuple[int, int]]:
    r = officer.get("/api/v1/subjects", params={"q": q})
    assert r.status_code == 200, r.text
    return {s["reference"]: (s["orders"], s["orders_in_force"]) for s in r.json()}


def test_each_listed_subject_has_its_order_counts(officer: TestClient) -> None:
    TODAY = today()  # noqa: N806 (reads like the data)
    busy = subject(officer, "COUNT-1", "Busy Subject")
    subject(officer, "COUNT-2", "Idle Subject")
    park = officer.post("/api/v1/zones", json=zone_feature(square(0.4, 52.4))).json()["id"]
    order(officer, busy, "SHPO/C/1", TODAY - timedelta(days=10), ends=None)
    order(officer, busy, "SHPO/C/2", TODAY + timedelta(days=5))  # not yet in force
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    order(officer, busy, "SHPO/C/3", TODAY - timedelta(days=30), ends=yesterday)  # ended
    revoked = order(officer, busy, "SHPO/C/4", TODAY - timedelta(days=3))
    r = officer.put(
        f"/api/v1/orders/{revoked}",
        json={
            "subject_id": busy,
            "reference": "SHPO/C/4",
            "starts": (TODAY - timedelta(days=3)).isoformat(),
            "status": "revoked",
            "reason": "set aside on appeal",
            "conditions": [{"text": "Not to enter the park.", "zone_ids": [park]}],
        },
    )
    assert r.status_code == 200, r.text
    assert listed(officer, "COUNT-") == {"COUNT-1": (4, 1), "COUNT-2": (0, 0)}


def test_an_order_ending_today_is_still_in_force(officer: TestClient) -> None:
    TODAY = today()  # noqa: N806 (reads like the data)
    sid = subject(officer, "COUNT-3", "Last Day")
    order(officer, sid, "SHPO/C/5", TODAY - timedelta(days=1), ends=TODAY.isoformat())
    order(officer, sid, "SHPO/C/6", TODAY)
    assert listed(officer, "COUNT-3") == {"COUNT-3": (2, 2)}


def test_one_subject_read_alone_has_no_counts(officer: TestClient) -> None:
    sid = subject(officer, "COUNT-4", "Plain Read")
    got = officer.get(f"/api/v1/subjects/{sid}").json()
    assert "orders" not in got and got["reference"] == "COUNT-4"
