"""Lists that grow come in pages: a page size, a cursor, and a Link to the next page.

Paging through a list with a small ``limit`` gives each item exactly once, in the order of
one big page, however many items share a sort value; filters hold on every page; the last
page has no Link; a cursor that is not one the list gave is a 422, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db import tables
from tests.service.conftest import OTHER_UNIT, square, zone_feature
from zones.model import Role

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')
Pages = list[tuple[list[Any], Any]]


def follow(client: TestClient, path: str, params: dict[str, Any]) -> Pages:
    """Every page of a list, from the first, following each ``Link`` as given."""
    pages: Pages = []
    r = client.get(path, params=params)
    while True:
        assert r.status_code == 200, r.text
        pages.append((r.json(), r))
        link = r.headers.get("link")
        if link is None:
            assert "next-cursor" not in r.headers
            return pages
        found = LINK.match(link)
        assert found, link
        assert f"cursor={r.headers['next-cursor']}" in found["url"]
        assert len(pages) < 200, "the pages never end"
        r = client.get(found["url"])


def ids(items: list[Any]) -> list[int]:
    return [item["id"] for item in items]


@pytest.fixture
def barred(officer: TestClient, session: Session) -> dict[str, Any]:
    """Two subjects under an SHPO barring each from one park, and the park's condition."""
    zone = officer.post("/api/v1/zones", json=zone_feature(square(0.15, 52.1), "Paging Park"))
    subjects = []
    for n in (1, 2):
        s = officer.post("/api/v1/subjects", json={"reference": f"PG-{n}", "name": f"Page {n}"})
        order = officer.post(
            "/api/v1/orders",
            json={
                "subject_id": s.json()["id"],
                "reference": f"SHPO/PG/{n}",
                "starts": "2020-01-01",
                "conditions": [
                    {"text": "Not to enter Paging Park.", "zone_ids": [zone.json()["id"]]}
                ],
            },
        )
        assert order.status_code == 201, order.text
        condition = session.scalars(
            select(tables.Condition).where(tables.Condition.order_id == order.json()["id"])
        ).one()
        subjects.append((s.json()["id"], condition))
    return {"zone": zone.json()["id"], "subjects": subjects}


def store_alerts(
    session: Session, barred: dict[str, Any], starts: list[datetime], handling: str = "unhandled"
) -> list[int]:
    """Closed, confirmed alerts that began at ``starts``, the two subjects in turn."""
    rows = []
    for i, start in enumerate(starts):
        subject_id, condition = barred["subjects"][i % 2]
        rows.append(
            tables.Alert(
                subject_id=subject_id,
                order_id=condition.order_id,
                condition_id=condition.id,
                clause_id=condition.clause_id,
                zone_id=barred["zone"],
                zone_version=1,
                status="closed",
                evidence="definite",
                deepest_m=3.0,
                first_at=start,
                last_at=start + timedelta(minutes=5),
                closed_at=start + timedelta(minutes=6),
                confirmed_at=start,
                handling=handling,
                geom="SRID=4326;POINT(0.15 52.1)",
            )
        )
    session.add_all(rows)
    session.commit()
    return [r.id for r in rows]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    minutes=st.lists(st.integers(0, 3), min_size=0, max_size=30),  # few instants: many ties
    limit=st.integers(1, 7),
)
def test_pages_give_every_alert_once_in_the_order_of_one_page(
    control: TestClient,
    session: Session,
    barred: dict[str, Any],
    minutes: list[int],
    limit: int,
) -> None:
    session.execute(delete(tables.Alert))
    stored = store_alerts(session, barred, [T0 + timedelta(minutes=m) for m in minutes])
    whole = control.get("/api/v1/alerts")
    assert whole.status_code == 200 and "link" not in whole.headers
    assert sorted(ids(whole.json())) == sorted(stored)
    pages = follow(control, "/api/v1/alerts", {"limit": limit})
    assert all(len(page) == limit for page, _ in pages[:-1])
    assert 0 < len(pages[-1][0]) <= limit or stored == []
    assert [i for page, _ in pages for i in ids(page)] == ids(whole.json())


def test_many_alerts_sharing_one_start_are_neither_skipped_nor_repeated(
    control: TestClient, session: Session, barred: dict[str, Any]
) -> None:
    stored = store_alerts(session, barred, [T0] * 23 + [T0 - timedelta(hours=1)] * 4)
    pages = follow(control, "/api/v1/alerts", {"limit": 5})
    assert [len(page) for page, _ in pages] == [5, 5, 5, 5, 5, 2]
    seen = [i for page, _ in pages for i in ids(page)]
    assert seen == sorted(stored[:23], reverse=True) + sorted(stored[23:], reverse=True)


def test_filters_hold_on_every_page_and_the_link_carries_them(
    control: TestClient, session: Session, barred: dict[str, Any]
) -> None:
    first, second = (s for s, _ in barred["subjects"])
    store_alerts(session, barred, [T0 + timedelta(minutes=m % 4) for m in range(20)])
    store_alerts(session, barred, [T0] * 6, handling="acknowledged")
    params = {"subject_id": first, "handling": ["unhandled", "resolved"], "limit": 3}
    whole = control.get("/api/v1/alerts", params={**params, "limit": 500}).json()
    assert len(whole) == 10
    pages = follow(control, "/api/v1/alerts", params)
    assert len(pages) == 4
    for page, r in pages:
        assert {a["subject_id"] for a in page} == {first}
        assert {a["handling"] for a in page} == {"unhandled"}
        if "link" in r.headers:
            url = r.headers["link"]
            assert f"subject_id={first}" in url and url.count("handling=") == 2
            assert "limit=3" in url and url.count("cursor=") == 1
    assert [i for page, _ in pages for i in ids(page)] == ids(whole)
    assert second not in {a["subject_id"] for page, _ in pages for a in page}


def test_a_full_last_page_has_no_link(
    control: TestClient, session: Session, barred: dict[str, Any]
) -> None:
    store_alerts(session, barred, [T0] * 4)
    r = control.get("/api/v1/alerts", params={"limit": 4})
    assert len(r.json()) == 4
    assert "link" not in r.headers and "next-cursor" not in r.headers
    r = control.get("/api/v1/alerts", params={"limit": 3})
    nxt = control.get("/api/v1/alerts", params={"limit": 3, "cursor": r.headers["next-cursor"]})
    assert len(nxt.json()) == 1 and "link" not in nxt.headers


def tampered(cursor: str) -> str:
    middle = len(cursor) // 2
    return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda c: "garbage",
        lambda c: "",
        lambda c: "%%%!!",
        lambda c: "eyJub3QiOiJvdXJzIn0",  # base64 JSON, unsigned
        tampered,
        lambda c: c[: len(c) // 2],
        lambda c: c + "AAAA",
    ],
    ids=["word", "empty", "symbols", "unsigned", "tampered", "truncated", "extended"],
)
def test_a_cursor_the_list_did_not_give_is_a_clear_422(
    control: TestClient,
    session: Session,
    barred: dict[str, Any],
    spoil: Callable[[str], str],
) -> None:
    store_alerts(session, barred, [T0] * 3)
    cursor = control.get("/api/v1/alerts", params={"limit": 1}).headers["next-cursor"]
    r = control.get("/api/v1/alerts", params={"limit": 1, "cursor": spoil(cursor)})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_cursor", "cursor")
    assert "cursor" in error["message"] and "start again" in error["message"]


def test_a_cursor_of_one_list_or_order_is_refused_by_another(
    officer: TestClient, control: TestClient, session: Session, barred: dict[str, Any]
) -> None:
    store_alerts(session, barred, [T0] * 3)
    of_alerts = control.get("/api/v1/alerts", params={"limit": 1}).headers["next-cursor"]
    of_subjects = officer.get("/api/v1/subjects", params={"limit": 1}).headers["next-cursor"]
    of_pg = officer.get("/api/v1/subjects", params={"limit": 1, "q": "pg"}).headers["next-cursor"]
    for path, params in [
        ("/api/v1/subjects", {"cursor": of_alerts}),
        ("/api/v1/alerts", {"cursor": of_subjects}),
        ("/api/v1/subjects", {"cursor": of_subjects, "q": "pg"}),
        ("/api/v1/subjects", {"cursor": of_pg, "q": "page"}),
        ("/api/v1/subjects", {"cursor": of_pg}),
        ("/api/v1/zones", {"cursor": of_subjects}),
    ]:
        r = (control if "alerts" in path else officer).get(path, params=params)
        assert r.status_code == 422, (path, params, r.text)
        assert r.json()["error"]["code"] == "invalid_cursor"
    assert officer.get("/api/v1/subjects", params={"cursor": of_subjects}).status_code == 200


@pytest.mark.parametrize("q", [None, "pg", "PAGE"])
def test_subjects_page_through_in_the_order_of_one_page(
    officer: TestClient, barred: dict[str, Any], q: str | None
) -> None:
    for n in range(3, 15):  # names and references that share their starts: ties on all but id
        r = officer.post(
            "/api/v1/subjects",
            json={"reference": f"PG-{n:02d}" if n % 2 else f"X-PG-{n}", "name": f"Page {n % 3}"},
        )
        assert r.status_code == 201, r.text
    params = {"q": q} if q else {}
    whole = officer.get("/api/v1/subjects", params=params)
    assert "link" not in whole.headers
    assert len(whole.json()) == 14
    pages = follow(officer, "/api/v1/subjects", {**params, "limit": 4})
    assert [len(page) for page, _ in pages] == [4, 4, 4, 2]
    assert [i for page, _ in pages for i in ids(page)] == ids(whole.json())


def test_zones_page_through_in_the_order_of_one_page(officer: TestClient) -> None:
    for n in range(9):  # three names, three zones each: ties on the name
        body = zone_feature(square(0.1 + n * 0.01, 52.2), f"Green {n % 3}", category="paging")
        assert officer.post("/api/v1/zones", json=body).status_code == 201
    for params in ({"category": "paging"}, {"category": "paging", "q": "green"}):
        whole = officer.get("/api/v1/zones", params=params)
        assert "link" not in whole.headers
        expected = [f["id"] for f in whole.json()["features"]]
        assert len(expected) == 9
        pages = follow(officer, "/api/v1/zones", {**params, "limit": 2})
        assert [len(page["features"]) for page, _ in pages] == [2, 2, 2, 2, 1]
        assert [f["id"] for page, _ in pages for f in page["features"]] == expected
        for page, _ in pages:
            assert {f["properties"]["category"] for f in page["features"]} == {"paging"}


def test_orders_page_through_by_id_within_the_users_units(
    officer: TestClient, session: Session, barred: dict[str, Any]
) -> None:
    park = {"text": "Not to enter Paging Park.", "zone_ids": [barred["zone"]]}
    elsewhere = []
    for n in range(8):
        s = officer.post("/api/v1/subjects", json={"reference": f"PGO-{n}", "name": f"O {n}"})
        assert s.status_code == 201, s.text
        body = {"subject_id": s.json()["id"], "reference": f"SHPO/PGO/{n}",
                "starts": "2020-01-01", "conditions": [park]}  # fmt: skip
        assert officer.post("/api/v1/orders", json=body).status_code == 201
        if n % 2:
            elsewhere.append(s.json()["id"])
    session.execute(  # half of them move to a unit the officer is not in
        update(tables.Subject).where(tables.Subject.id.in_(elsewhere)).values(unit=OTHER_UNIT)
    )
    session.commit()
    whole = officer.get("/api/v1/orders")
    assert "link" not in whole.headers
    mine = ids(whole.json())
    assert len(mine) == 6 and mine == sorted(mine)  # the barred two and four of the eight
    assert {o["subject_id"] for o in whole.json()}.isdisjoint(elsewhere)
    pages = follow(officer, "/api/v1/orders", {"limit": 4})
    assert [len(page) for page, _ in pages] == [4, 2]
    assert [i for page, _ in pages for i in ids(page)] == mine
    of_subjects = officer.get("/api/v1/subjects", params={"limit": 1}).headers["next-cursor"]
    r = officer.get("/api/v1/orders", params={"cursor": of_subjects})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_cursor", r.text
    assert officer.get("/api/v1/orders", params={"limit": 0}).status_code == 422


def test_the_openapi_document_names_the_cursor_and_the_headers(
    client_as: Callable[[Role], TestClient],
) -> None:
    paths = client_as(Role.ADMIN).get("/openapi.json").json()["paths"]
    for path in ("/api/v1/alerts", "/api/v1/subjects", "/api/v1/zones", "/api/v1/orders"):
        get = paths[path]["get"]
        assert "cursor" in {p["name"] for p in get["parameters"]}, path
        assert {"Link", "Next-Cursor"} <= set(get["responses"]["200"]["headers"]), path
