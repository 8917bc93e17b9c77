"""The API's documentation: who may read it (ZONES_API_DOCS), and whether it says what the API
answers (error codes in one shape, Allow on a 405)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from service.app import create_app
from service.settings import ApiSettings, DocsAccess, Environment, MapSettings, Settings
from tests.service.test_pages import log_in
from zones.model import Role


def app_with(docs: DocsAccess | None, sessions: sessionmaker[Session]) -> FastAPI:
    app = create_app(Settings(map=MapSettings(tiles="none"), api=ApiSettings(docs=docs)))
    app.state.sessionmaker = sessions
    return app


def test_docs_are_public_in_development_and_for_signed_in_users_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().docs_access is DocsAccess.PUBLIC
    assert Settings(environment=Environment.PRODUCTION).docs_access is DocsAccess.SIGNED_IN
    monkeypatch.setenv("ZONES_API_DOCS", "off")
    assert Settings(environment=Environment.PRODUCTION).docs_access is DocsAccess.OFF


def test_public_docs_need_no_sign_in(sessions: sessionmaker[Session]) -> None:
    client = TestClient(app_with(DocsAccess.PUBLIC, sessions))
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Exclusion zones"


def test_signed_in_docs_refuse_strangers_and_admit_a_token_or_a_page_session(
    sessions: sessionmaker[Session],
    users: dict[Role, str],
    client_as: Callable[[Role], TestClient],
) -> None:
    app = app_with(DocsAccess.SIGNED_IN, sessions)
    stranger = TestClient(app)
    r = stranger.get("/openapi.json")
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
    r = stranger.get("/docs", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/docs")

    bearer = TestClient(app, headers=dict(client_as(Role.OFFICER).headers))
    assert bearer.get("/openapi.json").status_code == 200

    browser = TestClient(app)
    log_in(browser, users[Role.CONTROL_ROOM], next="/docs")
    assert browser.get("/docs").status_code == 200
    assert browser.get("/openapi.json").status_code == 200  # as Swagger UI fetches it


def test_docs_switched_off_are_not_there_even_for_an_admin(
    sessions: sessionmaker[Session], client_as: Callable[[Role], TestClient]
) -> None:
    admin = TestClient(app_with(DocsAccess.OFF, sessions), headers=client_as(Role.ADMIN).headers)
    assert admin.get("/openapi.json").status_code == 404
    assert admin.get("/docs").status_code == 404
    assert admin.get("/api/v1/users").status_code == 200  # the API itself is unaffected


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    paths = app.openapi()["paths"]
    return [(m.upper(), p, op) for p, item in paths.items() for m, op in item.items()]


def test_every_operation_declares_its_errors_in_the_one_error_shape(app: FastAPI) -> None:
    for method, path, op in operations(app):
        codes = set(op["responses"])
        expected = {"400", "404", "422"}
        expected |= {"401", "403"} if op.get("security") else set()
        expected |= {"413"} if "requestBody" in op else set()
        assert expected <= codes, (method, path, sorted(codes))
        for code in expected:
            assert "ErrorResponse" in json.dumps(op["responses"][code]), (method, path, code)
    assert "HTTPValidationError" not in json.dumps(app.openapi())


def test_a_405_names_every_method_of_the_path(officer: TestClient) -> None:
    r = officer.delete("/api/v1/zones")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["allow"] == "GET, POST"  # two routes share the path
    r = officer.put("/api/v1/zones/preview")  # not zone "preview": the preview takes POST only
    assert (r.status_code, r.headers["allow"]) == (405, "POST")


def test_a_batch_with_no_fix_stored_answers_the_error_shape_with_each_reason(
    control: TestClient,
) -> None:
    r = control.post("/api/v1/observations", json=[{"lon": 0.1}, {"lat": True}])
    assert r.status_code == 422
    answer = r.json()
    assert answer["error"]["code"] == "batch_rejected"
    assert answer["error"]["field"].startswith("[0].")
    assert [x["status"] for x in answer["results"]] == ["rejected", "rejected"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/alerts?to=0.5", None),  # not half a second after 1970
        ("/api/v1/subjects", {"reference": "R-1", "name": "N", "travel_mode": "walking", "x": 1}),
        ("/api/v1/devices", {"identifier": "TAG-1", "subject_id": True}),  # not subject 1
        ("/api/v1/sightings/check", {"subject_id": 1, "lon": "0.1", "lat": 52.2}),
    ],
)
def test_values_of_the_wrong_json_kind_are_refused_not_converted(
    officer: TestClient, path: str, body: dict[str, Any] | None
) -> None:
    r = officer.get(path) if body is None else officer.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
