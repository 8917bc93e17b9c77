"""``GET /api/v1/audit``: supervisors and admins read the audit, filtered and paged, and
their reading is audited too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.db import audit_store
from zones.model import Role


@pytest.fixture
def logged(session: Session) -> None:
    """Five reads of subject 42's track, then one of 43's, then an edit of order 7."""
    for _ in range(5):
        audit_store.record(session, "pc-ames", "subject.track", "subject", 42)
    audit_store.record(session, "pc-bell", "subject.track", "subject", 43)
    audit_store.record(
        session, "pc-ames", "order.edit", "order", 7, reason="variation 2",
        detail={"version": 2}, records={"condition": [11, 12]},
    )  # fmt: skip
    session.commit()


def read(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/audit", params=params)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.SUPERVISOR, Role.ADMIN)])
def test_only_supervisors_and_admins_read_the_audit(
    client_as: Callable[[Role], TestClient], role: Role
) -> None:
    assert client_as(role).get("/api/v1/audit").status_code == 403


def test_a_supervisor_finds_who_read_a_subject_from_where(
    client_as: Callable[[Role], TestClient], logged: None
) -> None:
    supervisor = client_as(Role.SUPERVISOR)
    page = read(supervisor, object_type="subject", object_id="42")
    assert [e["username"] for e in page["entries"]] == ["pc-ames"] * 5
    assert {e["client"] for e in page["entries"]} == {"test"}
    assert page["next_cursor"] is None
    [edit] = read(supervisor, username="pc-ames", action="order.edit")["entries"]
    assert edit["reason"] == "variation 2" and edit["records"] == {"condition": [11, 12]}
    assert edit["sealed"] is False  # the worker seals within seconds


def test_pages_follow_the_cursor_to_the_end(
    client_as: Callable[[Role], TestClient], logged: None
) -> None:
    admin = client_as(Role.ADMIN)
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = read(
            admin, action="subject.track", limit=2, **({"cursor": cursor} if cursor else {})
        )
        seen += [e["id"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)  # newest first, each once


def test_a_period_selects_by_when(client_as: Callable[[Role], TestClient], logged: None) -> None:
    admin = client_as(Role.ADMIN)
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    assert len(read(admin, action="subject.track", **{"from": (now - hour).isoformat()})[
        "entries"]) == 6  # fmt: skip
    assert read(admin, **{"from": (now + hour).isoformat()})["entries"] == []
    assert read(admin, to=(now - hour).isoformat())["entries"] == []


def test_reading_the_audit_is_audited(
    client_as: Callable[[Role], TestClient], logged: None
) -> None:
    supervisor = client_as(Role.SUPERVISOR)
    read(supervisor, object_type="subject", object_id="42")
    [entry] = read(supervisor, action="audit.read", limit=1)["entries"]
    assert entry["username"] == "test-supervisor"
    assert entry["detail"] == {
        "object_type": "subject", "object_id": "42", "cursor": None, "entries": 5,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"object_id": "42"}, "object_type"),
        ({"cursor": "abc"}, "query.cursor"),
        ({"cursor": "99999999999999999999"}, "query.cursor"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-02T00:00:00"}, "query.from"),
        ({"limit": 0}, "query.limit"),
        ({"who": "x"}, "who"),
    ],
)
def test_a_bad_query_is_refused_plainly(
    client_as: Callable[[Role], TestClient], params: dict[str, Any], field: str
) -> None:
    r = client_as(Role.ADMIN).get("/api/v1/audit", params=params)
    assert r.status_code in (400, 422) and r.json()["error"]["field"] == field, r.text


def test_the_page_is_documented(client_as: Callable[[Role], TestClient]) -> None:
    spec = client_as(Role.ADMIN).get("/openapi.json").json()
    get = spec["paths"]["/api/v1/audit"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AuditPage"
    )
    names = {p["name"] for p in get["parameters"]}
    assert {
        "username",
        "action",
        "object_type",
        "object_id",
        "from",
        "to",
        "cursor",
        "limit",
    } <= names
    assert "client" in spec["components"]["schemas"]["AuditOut"]["properties"]
