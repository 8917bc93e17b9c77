"""Sightings and fixes over HTTP: judged at once, stored once, alerts per stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pyproj import Transformer

from service.db import tables
from tests.service.conftest import square, zone_feature

TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
FROM_BNG = Transformer.from_crs(27700, 4326, always_xy=True)
NOW = datetime.now(UTC).replace(microsecond=0)
PARK = (0.1200, 52.2000)  # centre of a 0.002 deg square park


def east_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` due east on the British National Grid."""
    x, y = TO_BNG.transform(lon, lat)
    return FROM_BNG.transform(x + metres, y)


def when(minutes: float) -> str:
    return (NOW - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def park_order(officer: TestClient) -> dict[str, Any]:
    """A subject with an SHPO: not to enter the park; not within 200 m of it; not within 100 m."""
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK))).json()
    subject = officer.post(
        "/api/v1/subjects", json={"reference": "T-1", "name": "Test Subject"}
    ).json()
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": subject["id"],
            "reference": "SHPO/TEST/1",
            "type": "SHPO",
            "starts": "2020-01-01",
            "ends": None,
            "conditions": [
                {"text": "Not to enter the park.", "zone_ids": [zone["id"]], "buffer_m": 0},
                {
                    "text": "Not within 200 m of the park.",
                    "zone_ids": [zone["id"]],
                    "buffer_m": 200,
                },
                {
                    "text": "Not within 100 m of the park.",
                    "zone_ids": [zone["id"]],
                    "buffer_m": 100,
                },
            ],
        },
    )
    assert order.status_code == 201, order.text
    return {"zone": zone, "subject": subject, "order": order.json()}


def check(client: TestClient, subject_id: int, lon: float, lat: float, **extra: Any) -> Any:
    body = {
        "subject_id": subject_id,
        "lon": lon,
        "lat": lat,
        "time": when(1),
        "source": "officer",
    } | extra
    r = client.post("/api/v1/sightings/check", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def by_condition(result: Any, order: dict[str, Any]) -> list[Any]:
    ids = [c["id"] for c in order["conditions"]]
    return sorted(result["verdicts"], key=lambda v: ids.index(v["condition_id"]))


def test_the_order_answers_with_its_conditions(park_order: dict[str, Any]) -> None:
    order = park_order["order"]
    assert [c["buffer_m"] for c in order["conditions"]] == [0, 200, 100]
    assert all(c["zone_ids"] == [park_order["zone"]["id"]] for c in order["conditions"])


def test_a_sighting_on_the_boundary_is_inside(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    west_edge = (PARK[0] - 0.001, PARK[1])
    result = check(control, park_order["subject"]["id"], *west_edge)
    plain = by_condition(result, park_order["order"])[0]
    assert plain["status"] == "inside"
    assert abs(plain["distance_m"]) < 0.05
    assert result["breach"] is True and result["alert_id"] is not None


def test_150_m_away_breaches_a_200_m_buffer_not_a_100_m_one(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    east_edge = (PARK[0] + 0.001, PARK[1])
    plain, b200, b100 = by_condition(
        check(control, park_order["subject"]["id"], *east_of(*east_edge, 150)), park_order["order"]
    )
    assert plain["status"] == "outside" and plain["distance_m"] == pytest.approx(150, abs=1.0)
    assert b200["status"] == "buffer"
    assert b100["status"] == "outside"


def test_inside_distances_are_negative_and_in_metres(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    plain = by_condition(check(control, park_order["subject"]["id"], *PARK), park_order["order"])[0]
    # The centre of a 0.002 x 0.002 degree square at 52.2 N: 0.001 deg of longitude is ~68 m.
    assert plain["status"] == "inside"
    assert plain["distance_m"] == pytest.approx(-68.3, abs=1.0)


def test_an_accuracy_disc_across_the_edge_is_a_possible_breach(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    just_outside = east_of(PARK[0] + 0.001, PARK[1], 10)
    result = check(control, park_order["subject"]["id"], *just_outside, accuracy_m=40)
    plain = by_condition(result, park_order["order"])[0]
    assert plain["status"] == "outside"
    assert plain["evidence"] == "possible"
    assert 0.2 < plain["disc_fraction_inside"] < 0.5  # a 40 m disc 10 m out: about 34 % inside
    assert result["possible_breach"] is True


def test_a_disc_wholly_inside_is_definite(control: TestClient, park_order: dict[str, Any]) -> None:
    plain = by_condition(
        check(control, park_order["subject"]["id"], *PARK, accuracy_m=40), park_order["order"]
    )[0]
    assert plain["evidence"] == "definite" and plain["disc_fraction_inside"] == 1.0


def test_an_unknown_subject_is_a_404_and_stores_nothing(
    control: TestClient, session: Session
) -> None:
    r = control.post(
        "/api/v1/sightings/check",
        json={"subject_id": 987654, "lon": 0.12, "lat": 52.2, "time": when(1), "source": "public"},
    )
    assert r.status_code == 404
    assert r.json()["error"] == {
        "code": "unknown_subject",
        "message": "no subject with id 987654",
        "field": "subject_id",
    }
    assert session.scalar(select(func.count()).select_from(tables.Observation)) == 0


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"time": "2026-11-28T14:00:00"}, "validation_error", "time"),
        ({"lon": 52.2, "lat": 0.12}, "coordinates_swapped", None),
        ({"lat": 95.0}, "validation_error", "lat"),
        ({"accuracy_m": -3}, "validation_error", "accuracy_m"),
        ({"time": "2099-01-01T00:00:00+00:00"}, "invalid_observation", "time"),
    ],
)
def test_bad_sightings_are_refused_naming_the_field(
    control: TestClient,
    park_order: dict[str, Any],
    body: dict[str, Any],
    code: str,
    field: str | None,
) -> None:
    full = {
        "subject_id": park_order["subject"]["id"],
        "lon": 0.12,
        "lat": 52.2,
        "time": when(1),
        "source": "public",
    } | body
    r = control.post("/api/v1/sightings/check", json=full)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["field"] == field


def test_nan_is_refused(control: TestClient, park_order: dict[str, Any]) -> None:
    sid = park_order["subject"]["id"]
    raw = (
        f'{{"subject_id": {sid}, "lon": NaN, "lat": 52.2, "time": "{when(1)}", "source": "public"}}'
    )
    r = control.post(
        "/api/v1/sightings/check", content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "lon"


def test_a_resent_sighting_is_stored_once(
    control: TestClient, park_order: dict[str, Any], session: Session
) -> None:
    first = check(control, park_order["subject"]["id"], *PARK, time=when(3))
    again = check(control, park_order["subject"]["id"], *PARK, time=when(3))
    assert again["duplicate"] is True and again["observation_id"] == first["observation_id"]
    assert again["alert_ids"] == first["alert_ids"]
    # Answered as it was judged the first time (a retry or a double click must not read
    # "nothing to judge against"), from what was stored: nothing is judged or stored again.
    for key in ("outcome", "breach", "possible_breach", "judged_against", "verdicts", "nearest"):
        assert again[key] == first[key], key
    assert first["outcome"] == "breach" and again["summary"] == first["summary"]
    assert session.scalar(select(func.count()).select_from(tables.Observation)) == 1
    assert session.scalar(select(tables.Alert.observation_count).limit(1)) == 1


def fix(
    subject_id: int, lon: float, lat: float, minutes_ago: float, **extra: Any
) -> dict[str, Any]:
    return {
        "subject_id": subject_id,
        "lon": lon,
        "lat": lat,
        "time": when(minutes_ago),
        "accuracy_m": 5,
    } | extra


def test_a_batch_keeps_good_fixes_and_names_the_bad(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    sid = park_order["subject"]["id"]
    batch = [
        fix(sid, *PARK, 10),
        {"subject_id": sid, "lon": 0.12, "time": when(9)},  # no lat
        fix(sid, 52.2, 0.12, 8),  # lat, lon
        fix(424242, *PARK, 7),  # nobody
        fix(sid, *PARK, 6),
    ]
    r = control.post("/api/v1/observations", json=batch)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["accepted"], out["rejected"]) == (2, 3)
    statuses = [x["status"] for x in out["results"]]
    assert statuses == ["stored", "rejected", "rejected", "rejected", "stored"]
    errors = [x["error"] for x in out["results"]]
    assert errors[1]["field"] == "[1].lat" and errors[1]["code"] == "validation_error"
    assert errors[2]["code"] == "coordinates_swapped"
    assert errors[3]["code"] == "unknown_subject" and errors[3]["field"] == "[3].subject_id"
    # Two fixes four minutes apart in the park are one stay: one alert per condition.
    assert out["results"][0]["alert_ids"] == out["results"][4]["alert_ids"]
    assert len(out["results"][0]["alert_ids"]) == 3


def test_an_empty_batch_is_refused(control: TestClient) -> None:
    r = control.post("/api/v1/observations", json=[])
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "empty_batch"


def test_a_batch_of_only_bad_fixes_is_a_422_with_reasons(control: TestClient) -> None:
    r = control.post("/api/v1/observations", json=[{"lon": 0.1}])
    assert r.status_code == 422
    assert r.json()["results"][0]["status"] == "rejected"


def test_device_fixes_count_for_the_assigned_subject(
    officer: TestClient, control: TestClient, park_order: dict[str, Any]
) -> None:
    sid = park_order["subject"]["id"]
    fitted = {"identifier": "TAG-9", "subject_id": sid, "assigned_from": when(60)}
    assert officer.post("/api/v1/devices", json=fitted).status_code == 201
    r = control.post(
        "/api/v1/observations",
        json=[
            {"device_id": "TAG-9", "lon": PARK[0], "lat": PARK[1], "time": when(2)},
            {"device_id": "TAG-404", "lon": PARK[0], "lat": PARK[1], "time": when(2)},
        ],
    )
    results = r.json()["results"]
    assert results[0]["breach"] is True
    assert results[1]["error"]["code"] == "unknown_device"


def alerts(client: TestClient, **params: Any) -> list[Any]:
    r = client.get("/api/v1/alerts", params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


def test_a_stay_is_one_alert_closed_on_exit_and_late_data_lands_where_it_happened(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    sid = park_order["subject"]["id"]
    far = east_of(*PARK, 2000)
    post = lambda fixes: control.post("/api/v1/observations", json=fixes)  # noqa: E731
    post([fix(sid, *PARK, 30), fix(sid, *PARK, 29), fix(sid, *PARK, 28)])
    post([fix(sid, *far, 20)])  # exit
    clause = park_order["order"]["conditions"][0]["id"]
    [plain] = [a for a in alerts(control, subject_id=sid) if a["condition_id"] == clause]
    assert plain["status"] == "closed" and plain["observation_count"] == 3
    # A late "inside" fix timed inside the stay extends it rather than opening another.
    post([fix(sid, *PARK, 28.2)])
    [again] = [a for a in alerts(control, subject_id=sid) if a["condition_id"] == clause]
    assert again["id"] == plain["id"] and again["observation_count"] == 4
    # A late "outside" fix timed between them splits the stay exactly as it would have, had
    # it come in time: the alert keeps its first part, the rest is a second stay.
    post([fix(sid, *far, 28.5)])
    first, second = sorted(
        (a for a in alerts(control, subject_id=sid) if a["condition_id"] == clause),
        key=lambda a: a["first_at"],
    )
    assert first["id"] == plain["id"] and first["observation_count"] == 2
    assert second["observation_count"] == 2 and second["status"] == "closed"
    # A new entry after the exit is a new stay.
    post([fix(sid, *PARK, 5)])
    stays = [a for a in alerts(control, subject_id=sid) if a["condition_id"] == clause]
    assert len(stays) == 3 and stays[0]["status"] == "open"


def test_late_data_still_raises_an_alert_marked_late(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    sid = park_order["subject"]["id"]
    r = control.post("/api/v1/observations", json=[fix(sid, *PARK, 6 * 60)])  # six hours after
    assert r.json()["results"][0]["alert_ids"]
    assert all(a["late"] for a in alerts(control, subject_id=sid))


def test_alerts_filter_by_subject_status_time_and_bbox(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    sid = park_order["subject"]["id"]
    control.post("/api/v1/observations", json=[fix(sid, *PARK, 5)])  # still open: 5 min ago
    assert len(alerts(control, subject_id=sid)) == 3
    assert alerts(control, subject_id=sid + 1000) == []
    assert len(alerts(control, status="open")) == 3
    assert alerts(control, status="closed") == []
    assert len(alerts(control, bbox="0.11,52.19,0.13,52.21")) == 3
    assert alerts(control, bbox="1.2,52.6,1.4,52.7") == []
    assert len(alerts(control, **{"from": when(60), "to": when(0)})) == 3
    assert alerts(control, **{"from": when(-60)}) == []
    r = control.get("/api/v1/alerts", params={"status": "bogus"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "query.status"


def test_an_edited_zone_keeps_its_version_and_the_old_alert_names_it(
    officer: TestClient, control: TestClient, park_order: dict[str, Any]
) -> None:
    sid, zid = park_order["subject"]["id"], park_order["zone"]["id"]
    first = check(control, sid, *PARK, time=when(40))
    old_alert = first["alert_id"]
    edited = officer.put(
        f"/api/v1/zones/{zid}",
        json=zone_feature(square(PARK[0] + 0.01, PARK[1]), "Moved park", reason="redrawn"),
    )
    assert edited.json()["properties"]["version"] == 2
    r = control.get(f"/api/v1/alerts/{old_alert}")
    assert r.json()["zone_id"] == zid and r.json()["zone_version"] == 1
    assert (
        officer.get(f"/api/v1/zones/{zid}", params={"version": 1}).json()["properties"]["name"]
        == "Test park"
    )
    # Seen now, the same place is outside the edited zone, judged against version 2...
    now = datetime.now(UTC).isoformat()
    later = by_condition(check(control, sid, *PARK, time=now), park_order["order"])[0]
    assert later["zone_version"] == 2 and later["status"] == "outside"
    # ...but a sighting reported late, from before the edit, is judged against version 1,
    # the zone as it stood when the subject was seen.
    late = by_condition(check(control, sid, *PARK, time=when(0)), park_order["order"])[0]
    assert late["zone_version"] == 1 and late["status"] == "inside"


def test_an_order_naming_an_unknown_zone_is_refused(
    officer: TestClient, park_order: dict[str, Any]
) -> None:
    r = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": park_order["subject"]["id"],
            "reference": "X",
            "starts": "2026-01-01",
            "conditions": [{"text": "t", "zone_ids": [park_order["zone"]["id"], 999999]}],
        },
    )
    assert r.status_code == 404
    assert r.json()["error"] == {
        "code": "unknown_zone",
        "message": "no zone with id 999999",
        "field": "conditions[0].zone_ids[1]",
    }


def test_an_order_for_an_unknown_subject_is_refused(officer: TestClient) -> None:
    r = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": 999999,
            "reference": "X",
            "starts": "2026-01-01",
            "conditions": [{"text": "t", "zone_ids": [1]}],
        },
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_subject"


def test_orders_out_of_force_are_not_judged(officer: TestClient, control: TestClient) -> None:
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK))).json()
    sid = officer.post("/api/v1/subjects", json={"reference": "T-2", "name": "Expired"}).json()[
        "id"
    ]
    officer.post(
        "/api/v1/orders",
        json={
            "subject_id": sid,
            "reference": "OLD",
            "starts": "2019-01-01",
            "ends": "2020-01-01",
            "conditions": [{"text": "t", "zone_ids": [zone["id"]]}],
        },
    )
    result = check(control, sid, *PARK)
    assert result["verdicts"] == [] and result["breach"] is False
    # Nothing to judge against is said as such, not as "no breach".
    assert result["outcome"] == "nothing_in_force"
    assert result["judged_against"] == {"in_force": False, "orders": 0, "conditions": 0, "zones": 0}
    assert result["summary"].startswith("Nothing to judge against")


def test_a_duplicate_subject_reference_is_a_conflict(officer: TestClient) -> None:
    assert (
        officer.post("/api/v1/subjects", json={"reference": "DUP", "name": "A"}).status_code == 201
    )
    r = officer.post("/api/v1/subjects", json={"reference": "DUP", "name": "B"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_a_fix_sent_twice_in_one_batch_counts_once(
    control: TestClient, park_order: dict[str, Any], session: Session
) -> None:
    sid = park_order["subject"]["id"]
    out = control.post("/api/v1/observations", json=[fix(sid, *PARK, 4), fix(sid, *PARK, 4)]).json()
    assert [r["status"] for r in out["results"]] == ["stored", "duplicate"]
    assert out["results"][0]["observation_id"] == out["results"][1]["observation_id"]
    assert out["results"][0]["alert_ids"] == out["results"][1]["alert_ids"] != []
    assert out["results"][0]["breach"] is out["results"][1]["breach"] is True
    resent = control.post("/api/v1/observations", json=[fix(sid, *PARK, 4)]).json()["results"]
    assert (resent[0]["status"], resent[0]["breach"]) == ("duplicate", True)
    counts = session.scalars(select(tables.Alert.observation_count)).all()
    assert counts == [1, 1, 1]


def test_a_full_batch_is_stored_whole_and_a_bigger_one_refused(
    control: TestClient, park_order: dict[str, Any], session: Session, settings: Any
) -> None:
    sid, n = park_order["subject"]["id"], settings.api.max_batch
    # One fix a second, alternating in and out of the park: every entry is a new stay.
    fixes = [
        fix(sid, *(PARK if (i // 60) % 2 else east_of(*PARK, 500)), (n - i) / 60) for i in range(n)
    ]
    r = control.post("/api/v1/observations", json=fixes)
    assert r.status_code == 200, r.text[:500]
    assert r.json()["accepted"] == n
    assert session.scalar(select(func.count()).select_from(tables.Observation)) == n
    stays = n // 120  # 60 s in, 60 s out
    plain = park_order["order"]["conditions"][0]["id"]
    count = select(func.count()).select_from(tables.Alert).where(tables.Alert.condition_id == plain)
    assert session.scalar(count) == stays
    r = control.post("/api/v1/observations", json=[*fixes, fixes[0]])
    assert r.status_code == 413 and r.json()["error"]["code"] == "batch_too_large"


def test_an_alert_lists_its_evidence_in_time_order(
    control: TestClient, park_order: dict[str, Any]
) -> None:
    sid = park_order["subject"]["id"]
    control.post("/api/v1/observations", json=[fix(sid, *PARK, 12), fix(sid, *PARK, 14)])
    control.post("/api/v1/observations", json=[fix(sid, *east_of(*PARK, 3000), 10)])  # exit
    sighting = check(control, sid, *PARK, time=when(13), accuracy_m=25, source_detail="PC 99")
    [stay] = [
        a
        for a in alerts(control, subject_id=sid)
        if a["condition_id"] == park_order["order"]["conditions"][0]["id"]
    ]
    assert sighting["alert_id"] in {a["id"] for a in alerts(control, subject_id=sid)}
    r = control.get(f"/api/v1/alerts/{stay['id']}/evidence")
    assert r.status_code == 200
    evidence = r.json()
    assert [e["observed_at"][:16] for e in evidence] == sorted(
        e["observed_at"][:16] for e in evidence
    )
    assert [e["kind"] for e in evidence] == ["fix", "sighting", "fix"]
    assert {e["status"] for e in evidence} == {"inside"} and {
        e["zone_version"] for e in evidence
    } == {1}
    # The reporter is always the signed-in user; who saw it is the source and its detail.
    assert evidence[1]["reporter"] == "test-control_room" and evidence[1]["accuracy_m"] == 25
    assert (evidence[1]["source"], evidence[1]["source_detail"]) == ("officer", "PC 99")
    assert evidence[1]["clause_text"] == stay["clause_text"]
    assert evidence[1]["zone_name"] == "Test park" and evidence[1]["subject_reference"]
    assert control.get("/api/v1/alerts/999999/evidence").json()["error"]["code"] == "unknown_alert"


def test_orders_are_in_force_by_the_civil_date_in_britain(
    officer: TestClient, control: TestClient
) -> None:
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK))).json()
    sid = officer.post("/api/v1/subjects", json={"reference": "T-3", "name": "July only"}).json()[
        "id"
    ]
    officer.post(
        "/api/v1/orders",
        json={"subject_id": sid, "reference": "JULY", "starts": "2026-07-01", "ends": "2026-07-31",
              "conditions": [{"text": "t", "zone_ids": [zone["id"]]}]},
    )  # fmt: skip
    # 23:30 UTC on 30 June is 00:30 on 1 July in British Summer Time: the order is in force.
    assert check(control, sid, *PARK, time="2026-06-30T23:30:00Z")["breach"] is True
    assert check(control, sid, *PARK, time="2026-06-30T22:30:00Z")["verdicts"] == []
    # And 23:30 UTC on 31 July is already 1 August.
    assert check(control, sid, *PARK, time="2026-07-31T23:30:00Z")["verdicts"] == []
