"""A subject's track over a period, the zones as they stood then, and the period's alerts:
what the track playback page reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.service.conftest import square, zone_feature
from zones.model import Role

NOW = datetime.now(UTC).replace(microsecond=0)
PARK = (0.1200, 52.2000)  # centre of a 0.002 degree square park
OUTSIDE = (0.1300, 52.2000)  # about 680 m east of it
NEW_PARK = (0.1230, 52.2000)  # where the park is moved to by the edit


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def period(since: datetime, until: datetime) -> dict[str, str]:
    return {"from": since.isoformat(), "to": until.isoformat()}


def fix(subject_id: int, at: tuple[float, float], minutes_ago: float) -> dict[str, Any]:
    lon, lat = at
    when = ago(minutes_ago).isoformat()
    return {"subject_id": subject_id, "lon": lon, "lat": lat, "time": when, "accuracy_m": 8}


@pytest.fixture
def walk(officer: TestClient, control: TestClient) -> dict[str, Any]:
    """A subject barred from a park who walks in (three fixes inside) and out again."""
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK), name="Track Park"))
    subject = officer.post("/api/v1/subjects", json={"reference": "TR-1", "name": "Tracked One"})
    sid = subject.json()["id"]
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": sid,
            "reference": "SHPO/TRACK/1",
            "starts": "2020-01-01",
            "conditions": [
                {"text": "Not to enter Track Park.", "zone_ids": [zone.json()["id"]]},
                {
                    "text": "Not within 50 m of Track Park.",
                    "zone_ids": [zone.json()["id"]],
                    "buffer_m": 50,
                },
            ],
        },
    )
    assert order.status_code == 201, order.text
    steps = [OUTSIDE, PARK, PARK, PARK, OUTSIDE]
    minutes = [50, 40, 39, 38, 30]
    r = control.post(
        "/api/v1/observations", json=[fix(sid, p, m) for p, m in zip(steps, minutes, strict=True)]
    )
    assert r.status_code == 200, r.text
    return {
        "zone": zone.json(),
        "subject": subject.json(),
        "order": order.json(),
        "fixes": r.json(),
    }


def track(client: TestClient, subject_id: int, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/subjects/{subject_id}/track", params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


def zones(client: TestClient, subject_id: int, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/subjects/{subject_id}/zones", params=params)
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "FeatureCollection"
    return list(r.json()["features"])


def test_the_track_is_the_period_s_observations_in_time_order(
    control: TestClient, walk: dict[str, Any]
) -> None:
    sid = walk["subject"]["id"]
    points = track(control, sid, **period(ago(60), NOW))
    assert [p["observation_id"] for p in points] == [
        r["observation_id"] for r in walk["fixes"]["results"]
    ]
    times = [datetime.fromisoformat(p["time"]) for p in points]
    assert times == sorted(times) and times[0] == ago(50)
    first = points[0]
    assert (first["lon"], first["lat"]) == pytest.approx(OUTSIDE)
    assert first["accuracy_m"] == 8 and first["kind"] == "fix"
    assert first["local"].endswith(("BST", "GMT"))


def test_the_period_limits_the_track_at_both_ends_inclusive(
    control: TestClient, walk: dict[str, Any]
) -> None:
    sid = walk["subject"]["id"]
    inner = track(control, sid, **period(ago(40), ago(38)))
    assert [datetime.fromisoformat(p["time"]) for p in inner] == [ago(40), ago(39), ago(38)]
    assert track(control, sid, **period(ago(29), NOW)) == []
    # a limit keeps the earliest (playback starts at the beginning)
    first_two = track(control, sid, limit=2, **period(ago(60), NOW))
    assert [datetime.fromisoformat(p["time"]) for p in first_two] == [ago(50), ago(40)]


def test_breaches_are_flagged_with_the_alerts_they_counted_towards(
    control: TestClient, walk: dict[str, Any]
) -> None:
    sid = walk["subject"]["id"]
    points = track(control, sid, **period(ago(60), NOW))
    assert [p["breach"] for p in points] == [False, True, True, True, False]
    alerts = control.get("/api/v1/alerts", params={"subject_id": sid} | period(ago(60), NOW))
    assert alerts.status_code == 200, alerts.text
    stays = alerts.json()
    # one stay per condition: the park itself, and the park with its 50 m buffer
    assert len(stays) == 2 and {a["status"] for a in stays} == {"closed"}
    ids = sorted(a["id"] for a in stays)
    assert [p["alert_ids"] for p in points] == [[], ids, ids, ids, []]
    assert walk["fixes"]["results"][1]["alert_ids"] == ids


def test_a_zone_edited_during_the_period_gives_both_versions_with_when_each_was_in_force(
    officer: TestClient, control: TestClient, walk: dict[str, Any], session: Session
) -> None:
    sid, zid = walk["subject"]["id"], walk["zone"]["id"]
    edit = zone_feature(square(*NEW_PARK), name="Track Park (moved)", reason="fence moved east")
    assert officer.put(f"/api/v1/zones/{zid}", json=edit).status_code == 200
    # The test runs in one transaction, where now() never moves: set the times the two
    # versions would have had, made three hours and one hour ago.
    made, edited = NOW - timedelta(hours=3), NOW - timedelta(hours=1)
    session.execute(
        text(
            "UPDATE zone_versions SET created_at = CASE version WHEN 1 THEN :made ELSE :edited "
            "END, superseded_at = CASE version WHEN 1 THEN :edited ELSE NULL END "
            "WHERE zone_id = :zid"
        ),
        {"made": made, "edited": edited, "zid": zid},
    )
    session.commit()

    def in_force(since: datetime, until: datetime) -> list[tuple[int, str, str | None]]:
        found = zones(control, sid, **period(since, until))
        assert {f["id"] for f in found} <= {zid}
        return [
            (
                f["properties"]["version"],
                f["properties"]["created_at"],
                f["properties"]["superseded_at"],
            )
            for f in found
        ]

    v1 = (1, made.isoformat(), edited.isoformat())
    v2 = (2, edited.isoformat(), None)
    assert in_force(edited - timedelta(minutes=90), edited + timedelta(minutes=30)) == [v1, v2]
    assert in_force(made - timedelta(hours=2), made - timedelta(hours=1)) == []
    assert in_force(made - timedelta(hours=1), made) == [v1]  # made at the period's end
    assert in_force(made, edited - timedelta(seconds=1)) == [v1]
    assert in_force(edited - timedelta(minutes=5), edited) == [v1, v2]  # edited at its end
    assert in_force(edited, NOW) == [v2]  # v1 was superseded as the period began
    # each version its own shape and name, and the clauses that name the zone
    both = zones(control, sid, **period(made, NOW))
    assert [f["properties"]["name"] for f in both] == ["Track Park", "Track Park (moved)"]
    assert both[0]["geometry"] != both[1]["geometry"]
    clauses = both[1]["properties"]["clauses"]
    assert [(c["clause_number"], c["buffer_m"]) for c in clauses] == [(1, 0.0), (2, 50.0)]
    assert clauses[0]["clause_text"] == "Not to enter Track Park."
    assert clauses[0]["order_reference"] == "SHPO/TRACK/1"


def test_zones_of_orders_not_in_force_in_the_period_are_left_out(
    officer: TestClient, control: TestClient
) -> None:
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK), name="Later Park"))
    sid = officer.post("/api/v1/subjects", json={"reference": "TR-2", "name": "Two"}).json()["id"]
    starts = (NOW + timedelta(days=10)).date().isoformat()
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": sid,
            "reference": "SHPO/TRACK/2",
            "starts": starts,
            "conditions": [{"text": "Not to enter.", "zone_ids": [zone.json()["id"]]}],
        },
    )
    assert order.status_code == 201, order.text
    soon = datetime.now(UTC) + timedelta(days=1)  # after the zone was made
    assert zones(control, sid, **period(ago(60), soon)) == []
    later = zones(control, sid, **period(ago(60), NOW + timedelta(days=11)))
    assert [f["properties"]["name"] for f in later] == ["Later Park"]


@pytest.mark.parametrize("path", ["track", "zones"])
def test_an_unknown_subject_is_a_404(control: TestClient, path: str) -> None:
    r = control.get(f"/api/v1/subjects/999999/{path}", params=period(ago(60), NOW))
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "unknown_subject"


@pytest.mark.parametrize("path", ["track", "zones"])
def test_a_reversed_or_empty_period_is_a_422(
    control: TestClient, walk: dict[str, Any], path: str
) -> None:
    sid = walk["subject"]["id"]
    for since, until in ((NOW, ago(60)), (NOW, NOW)):
        r = control.get(f"/api/v1/subjects/{sid}/{path}", params=period(since, until))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == "to"


@pytest.mark.parametrize("path", ["track", "zones"])
def test_a_period_is_at_most_31_days(control: TestClient, walk: dict[str, Any], path: str) -> None:
    sid = walk["subject"]["id"]
    url = f"/api/v1/subjects/{sid}/{path}"
    assert control.get(url, params=period(NOW - timedelta(days=31), NOW)).status_code == 200
    longer = control.get(url, params=period(NOW - timedelta(days=31, seconds=1), NOW))
    assert longer.status_code == 422
    assert "31 days" in longer.json()["error"]["message"]


@pytest.mark.parametrize("path", ["track", "zones"])
def test_times_need_a_utc_offset_and_both_ends(
    control: TestClient, walk: dict[str, Any], path: str
) -> None:
    url = f"/api/v1/subjects/{walk['subject']['id']}/{path}"
    naive = {"from": "2026-01-01T10:00:00", "to": "2026-01-01T11:00:00"}
    assert control.get(url, params=naive).status_code == 422
    assert control.get(url, params={"from": ago(60).isoformat()}).status_code == 422
    assert control.get(url, params=period(ago(60), NOW) | {"since": "x"}).status_code == 400


def test_reading_a_track_is_audited(
    control: TestClient, walk: dict[str, Any], session: Session
) -> None:
    sid = walk["subject"]["id"]
    track(control, sid, **period(ago(60), NOW))
    row = session.execute(
        text(
            "SELECT username, detail FROM audit_log WHERE action = 'subject.track' "
            "AND object_id = :sid"
        ),
        {"sid": str(sid)},
    ).one()
    assert row.username == "test-control_room" and row.detail["points"] == 5


def test_every_viewing_role_may_read_a_track(
    client_as: Callable[[Role], TestClient], walk: dict[str, Any]
) -> None:
    sid = walk["subject"]["id"]
    for role in (Role.OFFICER, Role.CONTROL_ROOM, Role.SUPERVISOR):
        assert len(track(client_as(role), sid, **period(ago(60), NOW))) == 5


def test_a_version_superseded_in_the_transaction_that_made_it_was_never_in_force(
    officer: TestClient, control: TestClient, walk: dict[str, Any], session: Session
) -> None:
    sid, zid = walk["subject"]["id"], walk["zone"]["id"]
    for name in ("Track Park (draft)", "Track Park (final)"):
        edit = zone_feature(square(*NEW_PARK), name=name, reason="redrawn")
        assert officer.put(f"/api/v1/zones/{zid}", json=edit).status_code == 200
    made, edited = NOW - timedelta(hours=3), NOW - timedelta(hours=1)
    session.execute(
        text(
            "UPDATE zone_versions SET created_at = CASE version WHEN 1 THEN :made ELSE :edited "
            "END, superseded_at = CASE version WHEN 3 THEN NULL ELSE :edited END "
            "WHERE zone_id = :zid"
        ),
        {"made": made, "edited": edited, "zid": zid},
    )
    session.commit()
    found = zones(control, sid, **period(made, NOW))
    assert [f["properties"]["version"] for f in found] == [1, 3]


def test_sightings_are_on_the_track_and_a_buffer_breach_is_a_breach(
    control: TestClient, walk: dict[str, Any]
) -> None:
    sid = walk["subject"]["id"]
    near = (PARK[0] + 0.0017, PARK[1])  # about 48 m east of the park's edge: in the 50 m buffer
    r = control.post(
        "/api/v1/sightings/check",
        json={
            "subject_id": sid, "lon": near[0], "lat": near[1], "time": ago(20).isoformat(),
            "accuracy_m": 2, "source": "public",
        },
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["breach"] is True
    [seen] = track(control, sid, **period(ago(25), ago(15)))
    assert seen["kind"] == "sighting" and seen["breach"] is True
    assert seen["alert_ids"] == r.json()["alert_ids"] and len(seen["alert_ids"]) == 1
