"""Input at the edges of what the database holds: refused with a 4xx, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

BIG = 2**40


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/alerts/{BIG}",
        f"/api/v1/alerts/{BIG}/evidence",
        f"/api/v1/subjects/{BIG}",
        f"/api/v1/orders/{BIG}",
        "/api/v1/orders/1?version=" + str(BIG),
        f"/api/v1/zones/{BIG}",
        f"/api/v1/zones/1?version={BIG}",
        f"/api/v1/alerts?subject_id={BIG}",
        "/api/v1/alerts/0",
        "/api/v1/zones/-5",
    ],
)
def test_ids_beyond_the_database_are_a_422(control: TestClient, path: str) -> None:
    r = control.get(path)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


def test_an_action_on_an_impossible_alert_is_a_422(control: TestClient) -> None:
    r = control.post(f"/api/v1/alerts/{BIG}/actions", json={"action": "acknowledge"})
    assert r.status_code == 422


def test_one_fix_with_an_impossible_subject_is_rejected_alone(control: TestClient) -> None:
    now = datetime.now(UTC).isoformat()
    batch = [
        {"subject_id": BIG, "lon": 0.12, "lat": 52.2, "time": now},
        {"subject_id": 987654, "lon": 0.12, "lat": 52.2, "time": now},
    ]
    r = control.post("/api/v1/observations", json=batch)
    assert r.status_code == 422, r.text  # none stored: both refused, each for its own reason
    codes = [res["error"]["code"] for res in r.json()["results"]]
    assert codes == ["validation_error", "unknown_subject"]
    assert r.json()["results"][0]["error"]["field"] == "[0].subject_id"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "where"),
    [
        ("GET", "/api/v1/subjects?q=a%00b", {}, "query"),
        ("GET", "/api/v1/zones?q=%00", {}, "query"),
        ("POST", "/api/v1/subjects", {"json": {"reference": "N\x00UL", "name": "x"}}, "body"),
        (
            "POST",
            "/api/v1/subjects",
            {"content": b'{"reference": "N\\u0000UL", "name": "x"}'},
            "body",
        ),
    ],
)
def test_nul_characters_are_refused_at_the_door(
    officer: TestClient, method: str, path: str, kwargs: dict[str, object], where: str
) -> None:
    headers = {"content-type": "application/json"} if "content" in kwargs else {}
    r = officer.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 422, r.text
    assert r.json()["error"] == {
        "code": "invalid_text",
        "message": "text may not contain NUL characters (\\u0000)",
        "field": where,
    }


def test_an_escaped_backslash_before_u0000_is_plain_text(officer: TestClient) -> None:
    raw = b'{"reference": "BS-1", "name": "C:\\\\u0000 folder"}'  # the text C:\u0000 folder
    r = officer.post("/api/v1/subjects", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "C:\\u0000 folder"
