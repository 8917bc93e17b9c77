"""The permission table, enforced on every API route: generated from the OpenAPI document, for
every role, against records of the user's own unit and of another unit.

A route that declares no permission fails here, so a new route cannot escape the table. A
subject of another unit answers 404, not 403: walking ids discloses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.auth import add_user
from service.db import audit_store, units_store
from tests.service.conftest import HOME_UNIT, OTHER_UNIT, PASSWORD, square, zone_feature
from zones.model import Role
from zones.permissions import TABLE, Action, Reach, grant

# Routes of one's own sign-in (/auth/...: signing in and out, refreshing, one's password
# and personal access tokens; no personal data of anyone else), and the event stream, which
# reads a token before it can know the user and checks the table itself (tested with live
# servers in tests/browser/test_live_alerts.py).
OWN_ACCOUNT = "/api/v1/auth/"
OPEN_ROUTES = {("GET", "/api/v1/alerts/stream")}
# Routes of trackers' own protocols (OsmAnd, Traccar forwarding, OwnTracks): authenticated
# by a device's or gateway's credential, never a user's; tested with those credentials in
# tests/service/test_device_feeds.py (refused without one, each limited to its devices).
DEVICE_FEEDS = "/api/v1/feeds/"
# Parameters naming a personal record: of the user's own unit, or of the other unit.
PERSONAL = ("subject_id", "order_id", "alert_id", "visit_id")
PARK = (0.1500, 52.1000)  # both subjects are barred from the same park


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def action_of(route: Any) -> Action | None:
    """The permission a route's dependencies demand (``allow(action)`` marks itself)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        action = getattr(dep.call, "action", None)
        if action is not None:
            return Action(action)
        stack.extend(dep.dependencies)
    return None


def effective_routes(routes: list[Any]) -> Iterator[Any]:
    """Every route as served: with its full path and the dependencies of the routers it was
    included through (FastAPI keeps included routers as contexts over the original routes)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, Any]]:
    """Each operation of the OpenAPI document with the route that serves it."""
    paths = app.openapi()["paths"]
    by_key: dict[tuple[str, str], Any] = {}
    for route in effective_routes(app.routes):
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # {zone_id:id} is {zone_id}
        for method in route.methods:
            by_key[(method, path)] = route
    for path, operations in paths.items():
        for method in operations:
            yield method.upper(), path, by_key[(method.upper(), path)]


@pytest.fixture
def world(
    app: FastAPI, session: Session, users: dict[Role, str], client_as: Callable[[Role], TestClient]
) -> dict[str, Any]:
    """Two units, each with a subject barred from the same park by an order, a fix inside it
    (an alert) and an authorised visit; a member of the other unit for each role."""
    for role in Role:
        add_user(session, f"other-{role.value}", PASSWORD, role)
        units_store.set_members(session, f"other-{role.value}", [OTHER_UNIT])
    session.commit()
    control = client_as(Role.CONTROL_ROOM)
    made: dict[str, Any] = {}
    for side, officer in (
        ("home", client_as(Role.OFFICER)),
        ("other", _client(app, "other-officer")),
    ):
        zone = officer.post(
            "/api/v1/zones", json=zone_feature(square(*PARK), f"Park of {side}")
        ).json()
        secret = "Secretly Other" if side == "other" else "Harry Home"
        subject = officer.post(
            "/api/v1/subjects", json={"reference": f"REF-{side.upper()}", "name": secret}
        )
        assert subject.status_code == 201, subject.text
        order = officer.post(
            "/api/v1/orders",
            json={
                "subject_id": subject.json()["id"],
                "reference": f"SHPO/{side}",
                "starts": "2020-01-01",
                "conditions": [{"text": "Not to enter the park.", "zone_ids": [zone["id"]]}],
            },
        )
        assert order.status_code == 201, order.text
        check = control.post(
            "/api/v1/sightings/check",
            json={"subject_id": subject.json()["id"], "lon": PARK[0], "lat": PARK[1],
                  "time": ago(30), "source": "public"},
        )  # fmt: skip
        assert check.status_code == 200 and check.json()["alert_id"], check.text
        visit = officer.post(
            f"/api/v1/subjects/{subject.json()['id']}/visits",
            json={"zone_id": zone["id"], "starts": ago(-60), "ends": ago(-120),
                  "authorised_by": "DS 1 Example", "reason": "a funeral"},
        )  # fmt: skip
        assert visit.status_code == 201, visit.text
        device = {"identifier": f"TAG-{side}", "subject_id": subject.json()["id"]}
        assert officer.post("/api/v1/devices", json=device).status_code == 201
        credential = officer.post("/api/v1/device-credentials", json={"device": f"TAG-{side}"})
        assert credential.status_code == 201, credential.text
        made[side] = {
            "credential_id": credential.json()["id"],
            "subject_id": subject.json()["id"],
            "order_id": order.json()["id"],
            "alert_id": check.json()["alert_id"],
            "visit_id": visit.json()["id"],
            "zone_id": zone["id"],
        }
    gateway = client_as(Role.ADMIN).post(
        "/api/v1/gateways", json={"name": "Traccar", "devices": ["TAG-home", "TAG-other"]}
    )
    assert gateway.status_code == 201, gateway.text
    for side in made.values():
        side["gateway_id"] = gateway.json()["id"]
    hook = client_as(Role.ADMIN).post(
        "/api/v1/webhooks", json={"name": "walk", "url": "https://cad.example.org/zones"}
    )
    assert hook.status_code == 201, hook.text
    for side in made.values():
        side["webhook_id"] = hook.json()["id"]  # not personal: the same for both units
    return made


def _client(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app)
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


FILLERS: dict[str, str] = {
    "username": "test-officer",
    "lon": str(PARK[0]),
    "lat": str(PARK[1]),
    "reason": "incident 4711",
    "from": ago(24 * 60),
    "to": ago(-1),
    "e": "530000",
    "n": "180000",
    "ref": "TL 451 583",
    "local": "2026-06-01T12:00",
}


def call(client: TestClient, method: str, path: str, route: APIRoute, ids: dict[str, Any]) -> Any:
    """The route called with the ids of one side (in the path, and in the query where it
    takes them), required query parameters filled in, and an empty body (permission is
    decided before the body is read)."""
    url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), FILLERS.get(m.group(1), 1))), path)
    params = {
        p.alias: FILLERS.get(p.alias, str(ids.get(p.alias, "1")))
        for p in route.dependant.query_params
        if p.field_info.is_required() or (p.alias in PERSONAL and p.alias in ids)
    }
    if method in ("POST", "PUT"):
        return client.request(method, url, params=params, json={})
    return client.request(method, url, params=params)


def test_every_route_declares_its_permission(app: FastAPI) -> None:
    undeclared = [
        f"{method} {path}"
        for method, path, route in api_routes(app)
        if action_of(route) is None
        and (method, path) not in OPEN_ROUTES
        and not path.startswith((OWN_ACCOUNT, DEVICE_FEEDS))
    ]
    assert undeclared == []


def test_every_action_is_in_the_table_for_every_role_it_names() -> None:
    assert set(TABLE) == set(Action)
    assert all(set(cells) <= set(Role) for cells in TABLE.values())


@pytest.mark.parametrize("role", list(Role))
def test_every_route_for_every_role_own_unit_and_other_unit(
    app: FastAPI, world: dict[str, Any], role: Role, client_as: Callable[[Role], TestClient]
) -> None:
    client = client_as(role)
    wrong: list[str] = []
    for method, path, route in api_routes(app):
        action = action_of(route)
        if action is None:
            continue
        allowed = grant(action, role, frozenset({HOME_UNIT}))
        own = call(client, method, path, route, world["home"])
        names = set(re.findall(r"\{(\w+)\}", path)) | {
            p.alias for p in route.dependant.query_params
        }
        if allowed is None:
            if own.status_code != 403:
                wrong.append(f"{method} {path}: {own.status_code} for a role without {action}")
            continue
        if own.status_code in (401, 403, 404) or own.status_code >= 500:
            wrong.append(f"{method} {path}: {own.status_code} on own unit: {own.text[:120]}")
        if not any(n in PERSONAL for n in names):
            continue
        other = call(client, method, path, route, world["other"])
        if allowed.units is not None and other.status_code != 404:
            wrong.append(f"{method} {path}: {other.status_code} on another unit, not 404")
        if allowed.units is None and other.status_code in (401, 403, 404):
            wrong.append(f"{method} {path}: {other.status_code} for a force-wide role")
    assert wrong == []


@pytest.mark.parametrize("role", list(Role))
def test_no_list_shows_another_units_subject(
    app: FastAPI, world: dict[str, Any], role: Role, client_as: Callable[[Role], TestClient]
) -> None:
    """Every GET without an id, called as each role: the other unit's subject appears only
    where the role reaches the whole force."""
    client = client_as(role)
    leaks: list[str] = []
    for method, path, route in api_routes(app):
        action = action_of(route)
        if method != "GET" or "{" in path or action is None:
            continue
        allowed = grant(action, role, frozenset({HOME_UNIT}))
        if allowed is None or allowed.units is None:
            continue
        r = call(client, method, path, route, {})
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:200]}"
        if "Secretly Other" in r.text or "REF-OTHER" in r.text:
            leaks.append(path)
    assert leaks == []


def test_force_wide_roles_see_both_units(
    world: dict[str, Any], client_as: Callable[[Role], TestClient]
) -> None:
    control = client_as(Role.CONTROL_ROOM)
    refs = {s["reference"] for s in control.get("/api/v1/subjects").json()}
    assert {"REF-HOME", "REF-OTHER"} <= refs
    alerts = control.get("/api/v1/alerts").json()
    assert {world["home"]["alert_id"], world["other"]["alert_id"]} <= {a["id"] for a in alerts}


def test_records_named_in_a_body_are_scoped_too(
    app: FastAPI, world: dict[str, Any], client_as: Callable[[Role], TestClient]
) -> None:
    officer = client_as(Role.OFFICER)
    home, other = world["home"], world["other"]
    order = officer.post(
        "/api/v1/orders",
        json={"subject_id": other["subject_id"], "reference": "X", "starts": "2020-01-01",
              "conditions": [{"text": "Not to enter.", "zone_ids": [home["zone_id"]]}]},
    )  # fmt: skip
    assert order.status_code == 404 and order.json()["error"]["code"] == "unknown_subject"
    check = officer.post(
        "/api/v1/sightings/check",
        json={"subject_id": other["subject_id"], "lon": 0.2, "lat": 52.0, "time": ago(5),
              "source": "public"},
    )  # fmt: skip
    assert check.status_code == 404
    device = officer.post(
        "/api/v1/devices", json={"identifier": "TAG-9", "subject_id": other["subject_id"]}
    )
    assert device.status_code == 404
    batch = officer.post(
        "/api/v1/observations",
        json=[
            {"subject_id": home["subject_id"], "lon": 0.2, "lat": 52.0, "time": ago(3)},
            {"subject_id": other["subject_id"], "lon": 0.2, "lat": 52.0, "time": ago(3)},
        ],
    )
    assert batch.status_code == 200, batch.text
    first, second = batch.json()["results"]
    assert first["status"] == "stored"
    assert second["status"] == "rejected"
    assert second["error"]["code"] == "unknown_subject"


def test_a_place_search_names_only_subjects_within_reach(
    world: dict[str, Any], client_as: Callable[[Role], TestClient]
) -> None:
    params = {"lon": PARK[0], "lat": PARK[1], "reason": "incident 4711"}
    supervisor = client_as(Role.SUPERVISOR).get("/api/v1/places/barred", params=params).json()
    control = client_as(Role.CONTROL_ROOM).get("/api/v1/places/barred", params=params).json()
    assert {b["subject"]["reference"] for b in supervisor["barred"]} == {"REF-HOME"}
    assert {b["subject"]["reference"] for b in control["barred"]} == {"REF-HOME", "REF-OTHER"}


def test_an_officer_edits_no_zone_another_units_orders_use(
    world: dict[str, Any], client_as: Callable[[Role], TestClient]
) -> None:
    officer = client_as(Role.OFFICER)
    theirs = world["other"]["zone_id"]
    feature = zone_feature(square(*PARK, half=0.002), "Bigger", reason="grown by the court")
    r = officer.put(f"/api/v1/zones/{theirs}", json=feature)
    assert r.status_code == 403, r.text
    assert "Secretly Other" not in r.text and "REF-OTHER" not in r.text
    mine = officer.put(f"/api/v1/zones/{world['home']['zone_id']}", json=feature)
    assert mine.status_code == 200, mine.text


def test_a_subject_moves_to_another_unit_with_their_history_and_the_move_is_audited(
    app: FastAPI,
    session: Session,
    world: dict[str, Any],
    client_as: Callable[[Role], TestClient],
) -> None:
    home = world["home"]
    officer, supervisor = client_as(Role.OFFICER), client_as(Role.SUPERVISOR)
    theirs = _client(app, "other-officer")
    assert theirs.get(f"/api/v1/subjects/{home['subject_id']}").status_code == 404
    refused = officer.post(
        f"/api/v1/subjects/{home['subject_id']}/move", json={"unit": OTHER_UNIT, "reason": "x"}
    )
    assert refused.status_code == 403
    moved = supervisor.post(
        f"/api/v1/subjects/{home['subject_id']}/move",
        json={"unit": OTHER_UNIT, "reason": "moved to South Cambridgeshire"},
    )
    assert moved.status_code == 200 and moved.json()["unit"] == OTHER_UNIT, moved.text
    assert officer.get(f"/api/v1/subjects/{home['subject_id']}").status_code == 404
    assert theirs.get(f"/api/v1/subjects/{home['subject_id']}").status_code == 200
    assert theirs.get(f"/api/v1/alerts/{home['alert_id']}").status_code == 200
    assert theirs.get(f"/api/v1/orders/{home['order_id']}").status_code == 200
    [entry] = audit_store.entries(session, action="subject.move")
    assert entry.object_id == str(home["subject_id"])
    assert entry.detail == {"from": HOME_UNIT, "to": OTHER_UNIT}
    assert entry.reason == "moved to South Cambridgeshire"


def test_a_new_subject_goes_to_the_officers_unit_and_only_to_one_of_theirs(
    client_as: Callable[[Role], TestClient], users: dict[Role, str]
) -> None:
    officer = client_as(Role.OFFICER)
    made = officer.post("/api/v1/subjects", json={"reference": "N-1", "name": "New"})
    assert made.status_code == 201 and made.json()["unit"] == HOME_UNIT
    elsewhere = officer.post(
        "/api/v1/subjects", json={"reference": "N-2", "name": "New", "unit": OTHER_UNIT}
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["field"] == "unit"


def test_the_readme_shows_the_permission_table() -> None:
    from pathlib import Path

    from zones.permissions import markdown_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert markdown_table() in readme, "run `zones permissions` and paste it into the README"


def test_reaches_are_as_the_issue_says() -> None:
    """The roles' reach in words: officers their unit, the control room the force,
    supervisors their units' alerts, analysts analysis only, admins users and units."""
    assert TABLE[Action.SUBJECT_WRITE] == {Role.OFFICER: Reach.UNIT}
    assert TABLE[Action.ALERT_HANDLE] == {
        Role.CONTROL_ROOM: Reach.FORCE,
        Role.SUPERVISOR: Reach.UNIT,
    }
    assert Role.CONTROL_ROOM not in TABLE[Action.SUBJECT_WRITE]
    assert Role.CONTROL_ROOM not in TABLE[Action.ZONE_EDIT]
    assert TABLE[Action.ANALYSIS_RUN] == {Role.ANALYST: Reach.FORCE}
    assert TABLE[Action.USER_MANAGE] == {Role.ADMIN: Reach.FORCE}
    for action in (Action.SUBJECT_READ, Action.POSITIONS_READ, Action.ALERT_READ):
        assert Role.ADMIN not in TABLE[action] and Role.ANALYST not in TABLE[action]
