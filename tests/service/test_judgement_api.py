"""Judgement through the API: schedules across the clock changes, confirmation, warning
rings, authorised visits, window edges kept by the worker, transits and replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from service import worker
from service.settings import Settings
from tests.service.conftest import square, zone_feature

LONDON = ZoneInfo("Europe/London")
PARK = (0.12, 52.2)
FAR = (0.16, 52.2)  # about 2.7 km east
WEEKDAYS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "16:00"}


def local(text: str) -> str:
    """A local civil time in London, as an aware ISO instant."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).isoformat()


def setup(
    officer: TestClient, ref: str, *, travel_mode: str = "walking", **condition: Any
) -> dict[str, Any]:
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK)))
    assert zone.status_code == 201, zone.text
    subject = officer.post(
        "/api/v1/subjects",
        json={"reference": ref, "name": "Judge Ment", "travel_mode": travel_mode},
    )
    assert subject.status_code == 201, subject.text
    body = {"text": "Not to enter the park.", "zone_ids": [zone.json()["id"]], **condition}
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": subject.json()["id"],
            "reference": f"SHPO/{ref}",
            "starts": "2020-01-01",
            "conditions": [body],
        },
    )
    assert order.status_code == 201, order.text
    return {"zone": zone.json(), "subject": subject.json(), "order": order.json()}


def sight(client: TestClient, sid: int, where: tuple[float, float], time: str) -> Any:
    r = client.post(
        "/api/v1/sightings/check",
        json={"subject_id": sid, "lon": where[0], "lat": where[1], "time": time,
              "source": "officer"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


def fixes(client: TestClient, sid: int, points: list[tuple[tuple[float, float], datetime]]) -> Any:
    r = client.post(
        "/api/v1/observations",
        json=[
            {"subject_id": sid, "lon": p[0], "lat": p[1], "time": t.isoformat()} for p, t in points
        ],
    )
    assert r.status_code == 200, r.text
    return r.json()


def stays(client: TestClient, sid: int, *stages: str) -> list[dict[str, Any]]:
    params: list[tuple[str, str | int]] = [("subject_id", sid)]
    params += [("stage", s) for s in stages or ("alert",)]
    r = client.get("/api/v1/alerts", params=params)
    assert r.status_code == 200, r.text
    return sorted(r.json(), key=lambda a: a["first_at"])


@pytest.mark.parametrize(
    ("day", "utc_offset"),
    [("2026-03-02", 0), ("2026-06-01", 1)],  # a Monday in GMT, a Monday in BST
)
def test_a_weekday_window_stays_08_to_16_local_in_winter_and_summer(
    officer: TestClient, control: TestClient, day: str, utc_offset: int
) -> None:
    s = setup(officer, f"S-{day}", schedule={"windows": [WEEKDAYS]})
    sid = s["subject"]["id"]
    assert s["order"]["conditions"][0]["schedule_text"].startswith("08:00\u201316:00")
    early = sight(control, sid, PARK, local(f"{day}T07:59"))
    assert early["outcome"] == "no_breach" and early["verdicts"][0]["applies"] is False
    assert "did not apply" in early["verdicts"][0]["explanation"]
    inside = sight(control, sid, PARK, local(f"{day}T08:00"))
    assert inside["outcome"] == "breach" and inside["verdicts"][0]["applies"] is True
    assert inside["when"]["time"].startswith(f"{day}T0{8 - utc_offset}:00")
    assert "08:00\u201316:00" in inside["verdicts"][0]["schedule_window"]
    late = sight(control, sid, PARK, local(f"{day}T16:00"))
    assert late["outcome"] == "no_breach"


def test_both_instances_of_the_repeated_hour_are_inside_a_window_covering_it(
    officer: TestClient, control: TestClient
) -> None:
    # Sunday 25 October 2026: the clocks go back at 02:00 BST; 01:30 happens twice.
    night = {"days": ["sun"], "start": "00:30", "end": "02:30"}
    sid = setup(officer, "S-DST", schedule={"windows": [night]})["subject"]["id"]
    first = sight(control, sid, PARK, "2026-10-25T00:30:00+00:00")  # 01:30 BST
    second = sight(control, sid, PARK, "2026-10-25T01:30:00+00:00")  # 01:30 GMT
    assert first["outcome"] == second["outcome"] == "breach"
    after = sight(control, sid, PARK, "2026-10-25T02:30:00+00:00")  # 02:30 GMT
    assert after["outcome"] == "no_breach"


def test_a_bad_schedule_is_refused_at_the_field(officer: TestClient) -> None:
    bad = {"windows": [{"days": ["mon", "funday"], "start": "08:00", "end": "16:00"}]}
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK))).json()
    subject = officer.post("/api/v1/subjects", json={"reference": "S-BAD", "name": "B"}).json()
    r = officer.post(
        "/api/v1/orders",
        json={"subject_id": subject["id"], "reference": "R", "starts": "2020-01-01",
              "conditions": [{"text": "t", "zone_ids": [zone["id"]], "schedule": bad}]},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"].startswith("conditions[0].schedule.windows[0].days")


def test_exceptions_from_the_bank_holidays_calendar(officer: TestClient) -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//uk.gov/GOVUK calendars//EN\r\n"
        "BEGIN:VEVENT\r\nDTEND;VALUE=DATE:20260526\r\nDTSTART;VALUE=DATE:20260525\r\n"
        "SUMMARY:Spring bank holiday\r\nUID:x-1@gov.uk\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    r = officer.post(
        "/api/v1/schedules/exceptions", content=ics, headers={"Content-Type": "text/calendar"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"first_day": "2026-05-25", "last_day": "2026-05-25", "label": "Spring bank holiday"}
    ]
    bad = officer.post(
        "/api/v1/schedules/exceptions", content=b"hello", headers={"Content-Type": "text/calendar"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_schedule"


def test_one_stray_fix_is_a_pending_stay_until_the_rule_confirms_it(
    officer: TestClient, control: TestClient
) -> None:
    sid = setup(officer, "S-CONF", confirm_fixes=3, confirm_seconds=60)["subject"]["id"]
    t0 = datetime.now(UTC) - timedelta(minutes=20)
    fixes(control, sid, [(PARK, t0), (FAR, t0 + timedelta(minutes=1))])
    assert stays(control, sid) == []
    [pending] = stays(control, sid, "pending")
    assert pending["stage"] == "pending" and "pending stay" in pending["explanation"]
    answer = fixes(control, sid, [(PARK, t0 + timedelta(minutes=m)) for m in (5, 5.5, 6)])
    [alert] = stays(control, sid)
    assert alert["observation_count"] == 3
    assert alert["confirmed_at"].startswith((t0 + timedelta(minutes=6)).isoformat()[:16])
    assert answer["results"][2]["alert_ids"] == [alert["id"]]
    # A sighting reported by a person is confirmation on its own.
    sid2 = setup(officer, "S-CONF2", confirm_fixes=3)["subject"]["id"]
    assert sight(control, sid2, PARK, datetime.now(UTC).isoformat())["verdicts"]
    assert len(stays(control, sid2)) == 1


def test_a_warning_ring_makes_its_own_lower_severity_stays(
    officer: TestClient, control: TestClient
) -> None:
    sid = setup(officer, "S-WARN", buffer_m=50, warning_m=300)["subject"]["id"]
    near = (PARK[0] + 0.001 + 0.0029, PARK[1])  # about 200 m east of the park's edge
    answer = sight(control, sid, near, datetime.now(UTC).isoformat())
    assert answer["outcome"] == "no_breach" and answer["verdicts"][0]["status"] == "warning"
    assert "warning" in answer["summary"]
    [warning] = stays(control, sid)
    assert warning["severity"] == "warning" and "not a breach" in warning["explanation"]
    assert stays(control, sid)[0]["id"] == warning["id"]
    r = control.get("/api/v1/alerts", params={"subject_id": sid, "severity": "breach"})
    assert r.json() == []


def test_a_stay_covered_by_an_authorised_visit_raises_no_alert_until_it_ends(
    officer: TestClient, control: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    s = setup(officer, "S-VISIT")
    sid, zid = s["subject"]["id"], s["zone"]["id"]
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now - timedelta(minutes=30), now - timedelta(minutes=5)
    r = officer.post(
        f"/api/v1/subjects/{sid}/visits",
        json={"zone_id": zid, "starts": start.isoformat(), "ends": end.isoformat(),
              "authorised_by": "DS 123 Smith", "reason": "supervised contact visit"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    visit = r.json()
    fixes(control, sid, [(PARK, start + timedelta(minutes=m)) for m in range(2, 30, 3)])
    [covered] = stays(control, sid, "authorised")
    assert covered["visit_id"] == visit["id"] and "authorised visit" in covered["explanation"]
    # Still inside when the visit ended: an alert opens at that moment.
    [alert] = stays(control, sid)
    assert (
        alert["first_at"].startswith(end.isoformat()[:19]) and alert["opened_by"] == "visit_ended"
    )
    # The visit is kept, withdrawn with a reason, never deleted.
    w = officer.post(
        f"/api/v1/visits/{visit['id']}/withdraw", json={"reason": "entered by mistake"}
    )
    assert w.status_code == 200 and w.json()["withdrawn_by"] == "test-officer"
    assert officer.get(f"/api/v1/subjects/{sid}/visits").json()[0]["withdrawn_at"] is not None
    bad = officer.post(
        f"/api/v1/subjects/{sid}/visits",
        json={"zone_id": zid, "starts": end.isoformat(), "ends": start.isoformat(),
              "authorised_by": "DS 123 Smith", "reason": "backwards"},
    )  # fmt: skip
    assert bad.status_code == 422


def test_the_worker_opens_and_closes_a_stay_at_the_window_edges_on_time(
    officer: TestClient, control: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    now = datetime.now(UTC)
    opens = (now + timedelta(minutes=2)).astimezone(LONDON).replace(second=0, microsecond=0)
    closes = opens + timedelta(minutes=3)
    day = opens.strftime("%a").lower()
    window = {"days": [day], "start": opens.strftime("%H:%M"), "end": closes.strftime("%H:%M")}
    sid = setup(officer, "S-EDGE", schedule={"windows": [window]})["subject"]["id"]
    fixes(control, sid, [(PARK, now - timedelta(seconds=30))])  # inside, before the window
    assert stays(control, sid) == []
    worker.run_jobs(sessions, settings.api, opens.astimezone(UTC) + timedelta(seconds=5))
    [stay] = stays(control, sid)
    assert datetime.fromisoformat(stay["first_at"]) == opens
    assert stay["opened_by"] == "window_opened" and stay["status"] == "open"
    assert "already inside" in stay["explanation"]
    worker.run_jobs(sessions, settings.api, closes.astimezone(UTC) + timedelta(seconds=5))
    [closed] = stays(control, sid)
    assert closed["id"] == stay["id"] and closed["closed_by"] == "window_closed"
    assert datetime.fromisoformat(closed["closed_at"]) == closes


def test_sparse_fixes_either_side_of_a_zone_are_a_possible_transit_not_a_breach(
    officer: TestClient, control: TestClient
) -> None:
    sid = setup(officer, "S-TRANSIT")["subject"]["id"]
    t0 = datetime.now(UTC) - timedelta(minutes=40)
    west, east = (PARK[0] - 0.003, PARK[1]), (PARK[0] + 0.003, PARK[1])
    fixes(control, sid, [(west, t0), (east, t0 + timedelta(minutes=10))])
    assert stays(control, sid, "alert", "pending") == []
    r = control.get(
        f"/api/v1/subjects/{sid}/transits",
        params={"from": (t0 - timedelta(hours=1)).isoformat(), "to": datetime.now(UTC).isoformat()},
    )
    [transit] = r.json()
    assert transit["kind"] == "path_crosses" and transit["max_speed_mps"] == 2.0
    assert t0 < datetime.fromisoformat(transit["starts"]) < datetime.fromisoformat(transit["ends"])
    assert "not a confirmed breach" in transit["explanation"]
    # A late fix between them makes the pairs different: the old transit goes.
    fixes(control, sid, [((PARK[0], PARK[1] + 0.01), t0 + timedelta(minutes=5))])
    again = control.get(
        f"/api/v1/subjects/{sid}/transits",
        params={"from": (t0 - timedelta(hours=1)).isoformat(), "to": datetime.now(UTC).isoformat()},
    ).json()
    assert transit["id"] not in [t["id"] for t in again]


def test_replay_reports_exactly_what_a_retroactive_correction_changes(
    officer: TestClient, control: TestClient
) -> None:
    s = setup(officer, "S-REPLAY")
    sid, zid = s["subject"]["id"], s["zone"]["id"]
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    beside = (PARK[0] + 0.0015, PARK[1])  # just east of the park as drawn
    fixes(
        control,
        sid,
        [(PARK, t0), (PARK, t0 + timedelta(minutes=1)), (FAR, t0 + timedelta(minutes=2))],
    )
    fixes(control, sid, [(beside, t0 + timedelta(minutes=30)), (FAR, t0 + timedelta(minutes=31))])
    [raised] = stays(control, sid)
    span = {"from": (t0 - timedelta(minutes=5)).isoformat(), "to": datetime.now(UTC).isoformat()}
    clean = control.get(f"/api/v1/subjects/{sid}/replay", params=span).json()
    assert clean["differs"] is False and len(clean["stays_unchanged"]) == 1
    before = datetime.now(UTC)
    # The park was drawn 200 m too narrow: the correction takes effect from the beginning.
    wider = square(PARK[0] + 0.001, PARK[1], half=0.002)
    feature = zone_feature(wider, "Test park", reason="mis-drawn: the east lawn was left out")
    feature["properties"]["effective_from"] = "2000-01-01T00:00:00+00:00"
    assert officer.put(f"/api/v1/zones/{zid}", json=feature).status_code == 200
    # The alert already raised keeps what it was judged against...
    assert stays(control, sid)[0]["zone_version"] == 1
    report = control.get(f"/api/v1/subjects/{sid}/replay", params=span).json()
    # ...and replay shows exactly the difference: the fix beside the park is now inside, and
    # would have been a second stay, while the first stay is judged against version 2.
    assert report["differs"] is True
    changed = {(c["observation_id"], c["stored"], c["replayed"]) for c in report["verdict_changes"]}
    assert any(stored == "outside" and replayed == "inside" for _, stored, replayed in changed)
    [new] = report["stays_only_replayed"]
    assert new["first_at"].startswith((t0 + timedelta(minutes=30)).isoformat()[:19])
    [moved] = report["stays_changed"]
    assert moved["stored"]["alert_id"] == raised["id"] and moved["fields"] == ["zone_version"]
    assert report["stays_only_stored"] == []
    # As known before the correction, nothing differs.
    old = control.get(
        f"/api/v1/subjects/{sid}/replay", params={**span, "as_of": before.isoformat()}
    ).json()
    assert old["differs"] is False
    # Replay changed nothing.
    assert [a["id"] for a in stays(control, sid)] == [raised["id"]]


def test_heights_and_measures_are_dropped_by_every_zone_route_and_the_answer_says_so(
    officer: TestClient,
) -> None:
    ring = square(*PARK)["coordinates"][0]
    with_z = {"type": "Polygon", "coordinates": [[[x, y, 12.5] for x, y in ring]]}
    with_zm = {"type": "Polygon", "coordinates": [[[x, y, 12.5, 3.0] for x, y in ring]]}
    mixed = {"type": "Polygon", "coordinates": [[[x, y, 7.0] if i % 2 else [x, y]
                                                 for i, (x, y) in enumerate(ring)]]}  # fmt: skip
    for geometry in (with_z, with_zm, mixed):
        created = officer.post("/api/v1/zones", json=zone_feature(geometry))
        assert created.status_code == 201, created.text
        assert "dropped" in " ".join(created.json()["properties"]["notes"])
        assert all(len(p) == 2 for p in created.json()["geometry"]["coordinates"][0])
        checked = officer.post("/api/v1/zones/validate", json=zone_feature(geometry))
        assert checked.status_code == 200 and checked.json()["valid"] is True, checked.text
        grown = officer.post(
            "/api/v1/zones/buffer", json={"geometries": [geometry], "buffer_m": 50}
        )
        assert grown.status_code == 200 and len(grown.json()["features"]) == 1, grown.text
        zid = created.json()["id"]
        feature = zone_feature(geometry, reason="re-surveyed with heights")
        edited = officer.put(f"/api/v1/zones/{zid}", json=feature)
        assert edited.status_code == 200, edited.text
    # Empty, degenerate and non-finite shapes are refused, naming the place.
    flat = {
        "type": "Polygon",
        "coordinates": [[[0.1, 52.2], [0.2, 52.2], [0.3, 52.2], [0.1, 52.2]]],
    }
    for bad in ({"type": "Polygon", "coordinates": []}, flat):
        r = officer.post("/api/v1/zones", json=zone_feature(bad))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"].startswith("geometry"), r.json()


def test_instants_outside_1900_to_2199_are_refused_where_they_were_given(
    officer: TestClient, control: TestClient
) -> None:
    s = setup(officer, "S-YEAR")
    sid, zid = s["subject"]["id"], s["zone"]["id"]
    r = control.post(
        "/api/v1/sightings/check",
        json={"subject_id": sid, "lon": PARK[0], "lat": PARK[1], "source": "public",
              "time": "0001-01-01T00:00:00Z"},
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["field"] == "time"
    batch = control.post(
        "/api/v1/observations",
        json=[
            {"subject_id": sid, "lon": PARK[0], "lat": PARK[1], "time": "9999-12-31T00:00:00Z"},
            {
                "subject_id": sid,
                "lon": PARK[0],
                "lat": PARK[1],
                "time": datetime.now(UTC).isoformat(),
            },
        ],
    )
    assert [x["status"] for x in batch.json()["results"]] == ["rejected", "stored"]
    visit = officer.post(
        f"/api/v1/subjects/{sid}/visits",
        json={"zone_id": zid, "starts": "0001-01-01T00:00:00Z", "ends": "0001-01-02T00:00:00Z",
              "authorised_by": "DS 1", "reason": "from long ago"},
    )  # fmt: skip
    assert visit.status_code == 422 and visit.json()["error"]["field"] == "starts"
    replay = control.get(
        f"/api/v1/subjects/{sid}/replay",
        params={"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z",
                "as_of": "0001-01-01T00:00:00Z"},
    )  # fmt: skip
    assert replay.status_code == 422 and replay.json()["error"]["field"] == "query.as_of"
