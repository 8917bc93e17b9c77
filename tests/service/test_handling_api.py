"""Alerts handled by people, apart from the stays they record; every action in the history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import square, zone_feature
from zones.model import Role

PARK = (0.1500, 52.1000)
AWAY = (0.1800, 52.1000)  # about 2 km east: outside


def when(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


@pytest.fixture
def setup(officer: TestClient) -> dict[str, Any]:
    """A subject barred from one park by an SHPO."""
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK), "Handling Park")).json()
    subject = officer.post(
        "/api/v1/subjects", json={"reference": "H-1", "name": "Harry Handled"}
    ).json()
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": subject["id"],
            "reference": "SHPO/H/1",
            "starts": "2020-01-01",
            "conditions": [{"text": "Not to enter Handling Park.", "zone_ids": [zone["id"]]}],
        },
    ).json()
    return {"zone": zone, "subject": subject, "order": order}


def sighting(client: TestClient, subject_id: int, where: tuple[float, float], ago: float) -> Any:
    r = client.post(
        "/api/v1/sightings/check",
        json={
            "subject_id": subject_id,
            "lon": where[0],
            "lat": where[1],
            "time": when(ago),
            "source": "public",
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def act(client: TestClient, alert_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/alerts/{alert_id}/actions", json=body)


def test_an_alert_stays_unhandled_after_the_stay_ends(
    control: TestClient, setup: dict[str, Any]
) -> None:
    sid = setup["subject"]["id"]
    alert_id = sighting(control, sid, PARK, 20)["alert_id"]
    sighting(control, sid, AWAY, 10)  # the subject left: the stay ends
    alert = control.get(f"/api/v1/alerts/{alert_id}").json()
    assert (alert["status"], alert["handling"]) == ("closed", "unhandled")
    # It is still in the queue of alerts to handle.
    queue = control.get("/api/v1/alerts", params={"handling": "unhandled"}).json()
    assert alert_id in [a["id"] for a in queue]
    # A re-entry is a new stay: a new alert, never the old one reopened.
    again = sighting(control, sid, PARK, 5)["alert_id"]
    assert again != alert_id


def test_acknowledge_assign_note_resolve_and_the_history_says_who(
    control: TestClient,
    client_as: Callable[[Role], TestClient],
    users: dict[Role, str],
    setup: dict[str, Any],
) -> None:
    supervisor = client_as(Role.SUPERVISOR)
    alert_id = sighting(control, setup["subject"]["id"], PARK, 3)["alert_id"]
    steps = [
        (control, {"action": "acknowledge"}, "acknowledged"),
        (supervisor, {"action": "assign", "assignee": users[Role.OFFICER]}, "acknowledged"),
        (control, {"action": "note", "note": "Patrol 4C sent."}, "acknowledged"),
        (supervisor, {"action": "resolve", "disposition": "breach_confirmed"}, "resolved"),
    ]
    for client, body, handling in steps:
        r = act(client, alert_id, **body)
        assert r.status_code == 200, r.text
        assert r.json()["alert"]["handling"] == handling
    alert = control.get(f"/api/v1/alerts/{alert_id}").json()
    assert alert["assigned_to"] == users[Role.OFFICER]
    assert alert["disposition"] == "breach_confirmed"
    history = control.get(f"/api/v1/alerts/{alert_id}/history").json()
    assert [(h["action"], h["by"]) for h in history] == [
        ("acknowledge", users[Role.CONTROL_ROOM]),
        ("assign", users[Role.SUPERVISOR]),
        ("note", users[Role.CONTROL_ROOM]),
        ("resolve", users[Role.SUPERVISOR]),
    ]
    assert history[2]["note"] == "Patrol 4C sent."
    assert history[3]["at_local"].endswith(("GMT", "BST"))


def test_actions_that_do_not_fit_are_refused_with_a_reason(
    control: TestClient,
    officer: TestClient,
    client_as: Callable[[Role], TestClient],
    setup: dict[str, Any],
) -> None:
    supervisor = client_as(Role.SUPERVISOR)
    alert_id = sighting(control, setup["subject"]["id"], PARK, 2)["alert_id"]
    cases = [
        (officer, {"action": "acknowledge"}, 403, "forbidden"),
        (control, {"action": "resolve"}, 409, "invalid_alert_action"),  # no disposition
        (control, {"action": "note"}, 409, "invalid_alert_action"),  # no text
        (control, {"action": "assign", "assignee": "nobody-here"}, 409, "invalid_alert_action"),
        (
            control,
            {"action": "acknowledge", "disposition": "duplicate"},
            409,
            "invalid_alert_action",
        ),
        (control, {"action": "reopen", "note": "why"}, 403, "forbidden"),
        (control, {"action": "shout"}, 422, "validation_error"),
        (control, {"action": "note", "note": "x", "colour": "red"}, 422, "validation_error"),
    ]
    for client, body, status, code in cases:
        r = act(client, alert_id, **body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
    assert act(control, alert_id, action="acknowledge").status_code == 200
    r = act(control, alert_id, action="acknowledge")
    assert r.status_code == 409 and "already acknowledged" in r.json()["error"]["message"]
    assert act(control, alert_id, action="resolve", disposition="false_alarm").status_code == 200
    # Only a supervisor reopens, and only with a note saying why.
    assert act(supervisor, alert_id, action="reopen").status_code == 409
    r = act(supervisor, alert_id, action="reopen", note="It was not GPS drift: CCTV confirms.")
    assert r.status_code == 200
    assert (r.json()["alert"]["handling"], r.json()["alert"]["disposition"]) == (
        "acknowledged",
        None,
    )
    assert act(control, 987654, action="acknowledge").status_code == 404


def test_alerts_filter_by_handling_disposition_and_order_type(
    control: TestClient, setup: dict[str, Any]
) -> None:
    sid = setup["subject"]["id"]
    first = sighting(control, sid, PARK, 30)["alert_id"]
    sighting(control, sid, AWAY, 25)
    second = sighting(control, sid, PARK, 20)["alert_id"]
    act(control, first, action="resolve", disposition="duplicate")

    def ids(**params: Any) -> list[int]:
        r = control.get("/api/v1/alerts", params={"subject_id": sid, **params})
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()]

    assert ids(handling="unhandled") == [second]
    assert ids(handling=["unhandled", "resolved"]) == [second, first]
    assert ids(disposition="duplicate") == [first]
    assert ids(order_type="SHPO") == [second, first]
    assert ids(order_type="SRO") == []
    bad = control.get("/api/v1/alerts", params={"handling": "forgotten"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "query.handling[0]"


def test_every_alert_names_what_it_was_judged_against(
    control: TestClient, setup: dict[str, Any]
) -> None:
    alert_id = sighting(control, setup["subject"]["id"], PARK, 1)["alert_id"]
    alert = control.get(f"/api/v1/alerts/{alert_id}").json()
    assert {k: alert[k] for k in ("subject_reference", "subject_name", "order_reference")} == {
        "subject_reference": "H-1",
        "subject_name": "Harry Handled",
        "order_reference": "SHPO/H/1",
    }
    assert (alert["order_type"], alert["clause_number"]) == ("SHPO", 1)
    assert alert["clause_text"] == "Not to enter Handling Park."
    assert (alert["zone_name"], alert["zone_version"]) == ("Handling Park", 1)
    assert "Handling Park (zone" in alert["explanation"]
    assert "clause 1 of SHPO SHPO/H/1" in alert["explanation"]


def test_unknown_query_parameters_are_refused_not_ignored(control: TestClient) -> None:
    for path in ("/api/v1/alerts", "/api/v1/subjects", "/api/v1/zones", "/api/v1/orders"):
        r = control.get(path, params={"reference": "X"})
        assert r.status_code == 400, (path, r.text)
        error = r.json()["error"]
        assert (error["code"], error["field"]) == ("unknown_parameter", "reference")
        assert "unknown query parameter 'reference'" in error["message"]
