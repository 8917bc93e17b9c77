"""The sighting check page's shell (/check): who may open it, and what it is told."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.service.test_pages import log_in
from zones.model import Role

CONFIG = re.compile(r'<script type="application/json" id="page-config">(.*?)</script>', re.DOTALL)


def page_config(html: str) -> dict[str, object]:
    [found] = CONFIG.findall(html)
    config: dict[str, object] = json.loads(found)
    return config


def test_the_check_asks_for_a_login_first(app: FastAPI) -> None:
    r = TestClient(app).get("/check", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/check"


@pytest.mark.parametrize(
    ("role", "place_search"),
    [
        (Role.OFFICER, False),
        (Role.CONTROL_ROOM, True),
        (Role.SUPERVISOR, True),
    ],
)
def test_every_checker_opens_it_and_only_place_searchers_get_the_place_search(
    app: FastAPI, users: dict[Role, str], role: Role, place_search: bool
) -> None:
    client = TestClient(app)
    log_in(client, users[role], next="/check")
    r = client.get("/check")
    assert r.status_code == 200
    config = page_config(r.text)
    assert config["place_search"] is place_search
    assert config["role"] == role.value and isinstance(config["map"], str)
    assert ('id="barred-reason"' in r.text) is place_search
    assert '<script src="/static/app/control_check.js"></script>' in r.text


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMIN])
def test_roles_that_check_no_sightings_are_refused_the_page(
    app: FastAPI, users: dict[Role, str], role: Role
) -> None:
    client = TestClient(app)
    log_in(client, users[role], next="/check")
    assert client.get("/check").status_code == 403
