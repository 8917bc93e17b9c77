"""Zone geometries are read once per zone version (and database), and a new version of a
zone is read as itself: the cache never answers with another version's shape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.db import zone_shapes
from tests.service.conftest import square, zone_feature


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    bind = session.get_bind()

    def note(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        if "zone_versions" in statement:
            seen.append(statement)

    event.listen(bind, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", note)


def test_a_version_is_read_once_and_a_new_version_as_itself(
    officer: TestClient, session: Session
) -> None:
    zone = officer.post("/api/v1/zones", json=zone_feature(square(0.12, 52.2), "Shape Park"))
    zid = zone.json()["id"]

    with statements(session) as first:
        v1 = zone_shapes.geometries(session, [(zid, 1)])[(zid, 1)]
    with statements(session) as again:
        assert zone_shapes.geometries(session, [(zid, 1)])[(zid, 1)] is v1
    assert len(first) == 1 and again == []
    assert v1.bounds == pytest.approx((0.119, 52.199, 0.121, 52.201), abs=1e-12)

    bigger = zone_feature(square(0.12, 52.2, 0.002), "Shape Park", reason="fence moved")
    assert officer.put(f"/api/v1/zones/{zid}", json=bigger).status_code == 200
    shapes = zone_shapes.geometries(session, [(zid, 1), (zid, 2)])
    assert shapes[(zid, 1)] is v1
    assert shapes[(zid, 2)].bounds == pytest.approx((0.118, 52.198, 0.122, 52.202), abs=1e-12)


def test_the_cache_is_bounded(
    officer: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zone_shapes, "LIMIT", 2)
    ids = [
        officer.post(
            "/api/v1/zones", json=zone_feature(square(0.12 + i / 100, 52.2), f"Z{i}")
        ).json()["id"]
        for i in range(3)
    ]
    found = zone_shapes.geometries(session, [(z, 1) for z in ids])

    assert len(found) == 3  # all answered, however many are kept
    assert len(zone_shapes._caches[session.get_bind()]) == 2
