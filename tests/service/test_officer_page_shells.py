"""The officer's page shells: who may open them, 404 for what does not exist, and that the
shell holds no user text (the page's script fetches it)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.service.test_pages import log_in
from zones.model import Role, TravelMode

CONFIG = re.compile(r'<script type="application/json" id="page-config">(.*?)</script>', re.DOTALL)
PLANTED = "Zebedee-planted-name"


def page_config(html: str) -> dict[str, Any]:
    [found] = CONFIG.findall(html)
    config: dict[str, Any] = json.loads(found)
    return config


@pytest.fixture
def order(officer: TestClient) -> dict[str, Any]:
    r = officer.post("/api/v1/subjects", json={"reference": "SHELL-1", "name": PLANTED})
    assert r.status_code == 201, r.text
    r = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": r.json()["id"],
            "reference": f"REF-{PLANTED}",
            "starts": "2025-01-01",
            "conditions": [{"text": f"Clause of {PLANTED}"}],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def paths(order: dict[str, Any]) -> list[str]:
    sid, oid = order["subject_id"], order["id"]
    return [
        "/subjects",
        "/subjects/new",
        f"/subjects/{sid}",
        f"/subjects/{sid}/orders/new",
        f"/orders/{oid}",
        f"/orders/{oid}/edit",
        "/library",
    ]


@pytest.mark.parametrize("role", [Role.OFFICER])
def test_officers_open_every_page_and_no_shell_holds_user_text(
    app: FastAPI, users: dict[Role, str], order: dict[str, Any], role: Role
) -> None:
    client = TestClient(app)
    log_in(client, users[role])
    for path in paths(order):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert PLANTED not in r.text, path
        assert re.search(r'<script src="/static/app/officer_\w+\.js"></script>', r.text), path
    config = page_config(client.get(f"/orders/{order['id']}").text)
    assert (config["order_id"], config["subject_id"]) == (order["id"], order["subject_id"])
    assert isinstance(config["map"], str)
    edit = page_config(client.get(f"/orders/{order['id']}/edit").text)
    assert (edit["order_id"], edit["subject_id"]) == (order["id"], order["subject_id"])


@pytest.mark.parametrize("role", [Role.CONTROL_ROOM, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN])
def test_other_roles_are_refused_with_a_page(
    app: FastAPI, users: dict[Role, str], order: dict[str, Any], role: Role
) -> None:
    client = TestClient(app)
    log_in(client, users[role])
    for path in paths(order):
        r = client.get(path)
        assert r.status_code == 403, path
        assert r.headers["content-type"].startswith("text/html")


def test_the_pages_ask_for_a_login_first(app: FastAPI) -> None:
    r = TestClient(app).get("/subjects/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/subjects/new"


@pytest.mark.parametrize(
    "path",
    [
        "/subjects/999999",
        "/subjects/999999/orders/new",
        "/orders/999999",
        "/orders/999999/edit",
        "/orders/0",
        "/subjects/99999999999",
    ],
)
def test_what_does_not_exist_is_a_404_page(app: FastAPI, users: dict[Role, str], path: str) -> None:
    client = TestClient(app)
    log_in(client, users[Role.OFFICER])
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")


def test_a_recorded_subjects_page_loads_its_visits_and_every_travel_mode(
    app: FastAPI, users: dict[Role, str], order: dict[str, Any]
) -> None:
    client = TestClient(app)
    log_in(client, users[Role.OFFICER])
    recorded = client.get(f"/subjects/{order['subject_id']}").text
    assert '<script src="/static/app/officer_visits.js"></script>' in recorded
    modes = re.findall(r'<option value="(\w+)">[^<]* \(up to [\d.]+ m/s\)</option>', recorded)
    assert modes == [m.value for m in TravelMode]
    new = client.get("/subjects/new").text  # nothing to visit yet: no panel, no script
    assert "officer_visits.js" not in new and 'id="visit-form"' not in new
    assert 'id="subject-travel_mode"' in new


def test_the_order_forms_load_the_schedule_editor_before_the_form(
    app: FastAPI, users: dict[Role, str], order: dict[str, Any]
) -> None:
    client = TestClient(app)
    log_in(client, users[Role.OFFICER])
    for path in (f"/subjects/{order['subject_id']}/orders/new", f"/orders/{order['id']}/edit"):
        html = client.get(path).text
        assert html.index("officer_schedule.js") < html.index("officer_order_form.js"), path
