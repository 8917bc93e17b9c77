"""Orders and zones as versions: an edit never rewrites what an earlier alert cites."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import square, zone_feature
from zones.model import Role

PARK = (0.3000, 52.3000)
SCHOOL = (0.3100, 52.3000)
AWAY = (0.3500, 52.3000)


def when(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def sighting(client: TestClient, subject_id: int, where: tuple[float, float], ago: float) -> Any:
    r = client.post(
        "/api/v1/sightings/check",
        json={
            "subject_id": subject_id,
            "lon": where[0],
            "lat": where[1],
            "time": when(ago),
            "source": "officer",
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def new_subject(officer: TestClient, reference: str, name: str = "Vera Version") -> int:
    r = officer.post("/api/v1/subjects", json={"reference": reference, "name": name})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
def order(officer: TestClient) -> dict[str, Any]:
    park = officer.post("/api/v1/zones", json=zone_feature(square(*PARK), "Version Park")).json()
    school = officer.post(
        "/api/v1/zones", json=zone_feature(square(*SCHOOL), "Version School", "school")
    ).json()
    sid = new_subject(officer, "V-1")
    r = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": sid,
            "reference": "SHPO/V/1",
            "court": "Cambridge Magistrates' Court",
            "starts": "2020-01-01",
            "conditions": [
                {"text": "Not to enter Version Park.", "zone_ids": [park["id"]]},
                {"text": "Not near the school.", "zone_ids": [school["id"]], "buffer_m": 50},
            ],
        },
    )
    assert r.status_code == 201, r.text
    return {"park": park, "school": school, "subject_id": sid, "order": r.json()}


def edit(officer: TestClient, order: dict[str, Any], **changes: Any) -> Any:
    body = {k: order[k] for k in ("subject_id", "reference", "type", "court", "starts", "ends")} | {
        "conditions": [
            {k: c[k] for k in ("text", "zone_ids", "buffer_m", "clause_id")}
            for c in order["conditions"]
        ],
        "reason": "varied by the court",
    }
    r = officer.put(f"/api/v1/orders/{order['id']}", json=body | changes)
    return r


def test_re_wording_a_clause_keeps_the_old_wording_for_the_old_alert(
    officer: TestClient, control: TestClient, order: dict[str, Any]
) -> None:
    sid, first = order["subject_id"], order["order"]
    alert_id = sighting(control, sid, PARK, 10)["alert_id"]
    conditions = [dict(c) for c in first["conditions"]]
    conditions[0]["text"] = "Not to enter Version Park or its car park."
    r = edit(
        officer,
        first,
        conditions=[
            {k: c[k] for k in ("text", "zone_ids", "buffer_m", "clause_id")} for c in conditions
        ],
    )
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["version"] == 2 and second["reason"] == "varied by the court"
    assert second["created_by"] == "test-officer"
    assert [c["clause_id"] for c in second["conditions"]] == [
        c["clause_id"] for c in first["conditions"]
    ]
    assert second["conditions"][0]["id"] != first["conditions"][0]["id"]  # a new wording
    # The alert raised under version 1 cites version 1's words.
    alert = control.get(f"/api/v1/alerts/{alert_id}").json()
    assert alert["clause_text"] == "Not to enter Version Park."
    # A sighting reported late, from before the edit, is judged by the words then in force.
    late = sighting(control, sid, PARK, 5)
    assert late["verdicts"][0]["clause_text"] == "Not to enter Version Park."
    # The stay goes on across the edit: the same clause, the same zone, the same alert.
    later = sighting(control, sid, PARK, 0)
    assert later["alert_id"] == alert_id
    assert later["verdicts"][0]["clause_text"] == "Not to enter Version Park or its car park."
    versions = officer.get(f"/api/v1/orders/{first['id']}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["conditions"][0]["text"] == "Not to enter Version Park."
    old = officer.get(f"/api/v1/orders/{first['id']}", params={"version": 1}).json()
    assert old["conditions"][0]["text"] == "Not to enter Version Park."


def test_dropping_a_clause_ends_its_stays_and_it_is_judged_no_more(
    officer: TestClient, control: TestClient, order: dict[str, Any]
) -> None:
    sid, first = order["subject_id"], order["order"]
    alert_id = sighting(control, sid, PARK, 10)["alert_id"]
    kept = [{k: first["conditions"][1][k] for k in ("text", "zone_ids", "buffer_m", "clause_id")}]
    assert edit(officer, first, conditions=kept).status_code == 200
    alert = control.get(f"/api/v1/alerts/{alert_id}").json()
    assert alert["status"] == "closed" and alert["handling"] == "unhandled"
    now = sighting(control, sid, PARK, 0)
    assert now["breach"] is False
    assert [v["clause_text"] for v in now["verdicts"]] == ["Not near the school."]


def test_a_revoked_order_is_judged_against_nothing(
    officer: TestClient, control: TestClient, order: dict[str, Any]
) -> None:
    assert edit(officer, order["order"], status="revoked").status_code == 200
    answer = sighting(control, order["subject_id"], PARK, 0)
    assert answer["outcome"] == "nothing_in_force" and answer["verdicts"] == []
    # Seen before the revocation, reported late: the order was in force then.
    assert sighting(control, order["subject_id"], PARK, 2)["outcome"] == "breach"


def test_an_edit_needs_a_reason_and_real_clauses(
    officer: TestClient, order: dict[str, Any]
) -> None:
    first = order["order"]
    r = edit(officer, first, reason="")
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    wrong = [{"text": "x", "zone_ids": [], "buffer_m": 0, "clause_id": 999999}]
    r = edit(officer, first, conditions=wrong)
    assert r.status_code == 404 and r.json()["error"]["field"] == "conditions[0].clause_id"
    other = new_subject(officer, "V-2")
    r = edit(officer, first, subject_id=other)
    assert r.status_code == 409 and r.json()["error"]["field"] == "subject_id"
    assert officer.get(f"/api/v1/orders/{first['id']}").json()["version"] == 1


def test_a_clause_without_zones_yet_is_kept_and_judged_against_nothing(
    officer: TestClient, control: TestClient
) -> None:
    sid = new_subject(officer, "V-3")
    r = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": sid,
            "reference": "LIC/V/3",
            "type": "licence",
            "starts": "2020-01-01",
            "conditions": [{"text": "Not to enter the area on map B (to be drawn)."}],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["conditions"][0]["zone_ids"] == []
    assert sighting(control, sid, PARK, 1)["outcome"] == "nothing_in_force"


def test_editing_a_zone_other_orders_use_warns_first(
    officer: TestClient, order: dict[str, Any]
) -> None:
    park = order["park"]["id"]
    sid = new_subject(officer, "V-4", "Other Order")
    other = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": sid,
            "reference": "SHPO/V/4",
            "starts": "2021-01-01",
            "conditions": [{"text": "Not to enter Version Park either.", "zone_ids": [park]}],
        },
    ).json()
    bigger = zone_feature(square(*PARK, 0.002), "Version Park", reason="fence moved")
    r = officer.put(f"/api/v1/zones/{park}", json=bigger, params={"order_id": order["order"]["id"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "zone_shared"
    assert "SHPO/V/4 (V-4)" in r.json()["error"]["message"]
    assert officer.get(f"/api/v1/zones/{park}").json()["properties"]["version"] == 1
    # Copy for this order alone: the other order keeps the original.
    r = officer.post(f"/api/v1/orders/{order['order']['id']}/zones/{park}/copy", json=bigger)
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["id"] != park and copy["properties"]["reason"] == "fence moved"
    assert f"copy of zone {park} version 1" in copy["properties"]["source"]
    mine = officer.get(f"/api/v1/orders/{order['order']['id']}").json()
    assert mine["version"] == 2 and mine["conditions"][0]["zone_ids"] == [copy["id"]]
    theirs = officer.get(f"/api/v1/orders/{other['id']}").json()
    assert theirs["conditions"][0]["zone_ids"] == [park]
    assert [o["id"] for o in officer.get(f"/api/v1/zones/{park}/orders").json()] == [other["id"]]
    # Confirmed, an edit changes it for everyone who still uses it.
    r = officer.put(f"/api/v1/zones/{park}", json=bigger, params={"confirm_shared": "true"})
    assert r.status_code == 200 and r.json()["properties"]["version"] == 2


def test_subjects_are_found_by_part_of_a_reference_or_name(officer: TestClient) -> None:
    for ref, name in [("CAM-0042", "Sam Smith"), ("CAM-0043", "Jo Bloggs"), ("NOR-0001", "Sam Ng")]:
        new_subject(officer, ref, name)

    def refs(q: str) -> list[str]:
        r = officer.get("/api/v1/subjects", params={"q": q})
        assert r.status_code == 200, r.text
        return [s["reference"] for s in r.json()]

    assert refs("cam-004") == ["CAM-0042", "CAM-0043"]
    assert refs("sam") == ["CAM-0042", "NOR-0001"]
    assert refs("NOR-0001") == ["NOR-0001"]
    assert refs("100%") == [] and refs("_") == []  # LIKE's wildcards are plain characters


def test_a_subject_is_edited_and_the_change_audited(
    officer: TestClient, client_as: Callable[[Role], TestClient]
) -> None:
    sid = new_subject(officer, "V-5", "Before Edit")
    body = {"reference": "V-5", "name": "After Edit", "photo_ref": "CUSTODY/1"}
    r = officer.put(f"/api/v1/subjects/{sid}", json=body)
    assert r.status_code == 200 and r.json()["name"] == "After Edit"
    admin = client_as(Role.ADMIN)
    audit = admin.get("/api/v1/audit", params={"action": "subject.edit"}).json()["entries"]
    assert audit[0]["object_id"] == str(sid)
    assert audit[0]["detail"] == {"fields": ["name", "photo_ref"]}
    assert r.json()["photo_ref"] == "CUSTODY/1"


def test_unknown_body_fields_are_refused(officer: TestClient) -> None:
    r = officer.post("/api/v1/subjects", json={"reference": "V-6", "name": "X", "nmae": "typo"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "nmae"
