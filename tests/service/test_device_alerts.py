"""Device alerts: a silent tag under a clause requiring one opens a communication loss on
time (kept by the worker), and the trackers' alarms open alerts of their own; both are
handled, listed and streamed like stays in zones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service import device_alerts, worker
from service.api import stream_routes
from service.db import alerts_store, devices_store, tables, units_store
from service.feeds import intake
from service.settings import Settings
from zones import model
from zones.feeds.fix import FeedFix

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, in GMT
HOME = (0.1218, 52.2053)


def subject_with_order(officer: TestClient, ref: str, **condition: Any) -> int:
    subject = officer.post("/api/v1/subjects", json={"reference": ref, "name": "Tag Wearer"})
    assert subject.status_code == 201, subject.text
    sid = int(subject.json()["id"])
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": sid,
            "reference": f"SHPO/{ref}",
            "starts": condition.pop("starts", "2020-01-01"),
            "ends": condition.pop("ends", None),
            "conditions": [{"text": "To wear an electronic tag at all times.", **condition}],
        },
    )
    assert order.status_code == 201, order.text
    [clause] = order.json()["conditions"]
    assert clause["tag_required"] is condition.get("tag_required", False)
    return sid


def wear(session: Session, device: str, sid: int) -> None:
    devices_store.assign_device(session, device, sid, T0 - timedelta(days=30), "test")
    session.commit()


def send(session: Session, settings: Settings, received: datetime, *fixes: FeedFix) -> list[Any]:
    done = intake.accept(session, list(fixes), settings.api, reporter="tracker", now=received)
    session.commit()
    assert all(r.error is None for r in done), [r.error for r in done]
    return done


def fix(device: str, at: datetime, *alarms: str, lon: float = HOME[0]) -> FeedFix:
    return FeedFix(device=device, time=at, lon=lon, lat=HOME[1], accuracy_m=10,
                   alarms=frozenset(alarms), protocol="traccar")  # fmt: skip


def tick(session: Session, settings: Settings, since: datetime, now: datetime) -> None:
    device_alerts.keep_silences(session, since, now, settings.api)


def alerts(client: TestClient, sid: int, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/api/v1/alerts", params={"subject_id": sid, **params})
    assert r.status_code == 200, r.text
    return sorted(r.json(), key=lambda a: (a["first_at"], a["id"]))


def test_a_silent_tag_opens_a_loss_on_time_which_closes_when_fixes_return_with_back_fill(
    officer: TestClient, control: TestClient, session: Session, settings: Settings
) -> None:
    sid = subject_with_order(officer, "S-SILENT", tag_required=True)
    wear(session, "TAG-1", sid)
    send(session, settings, T0, fix("TAG-1", T0 - timedelta(seconds=20)))
    minute = timedelta(minutes=1)
    tick(session, settings, T0, T0 + 15 * minute - timedelta(seconds=1))
    assert alerts(control, sid) == []  # not before the 15 minutes are up
    tick(session, settings, T0, T0 + 15 * minute)
    [loss] = alerts(control, sid)
    assert loss["kind"] == "communication_loss" and loss["title"] == "Communication lost"
    assert datetime.fromisoformat(loss["first_at"]) == T0  # the silence began at the last fix
    assert loss["status"] == "open" and loss["handling"] == "unhandled"
    assert loss["zone_id"] is None and loss["clause_text"].startswith("To wear")
    assert (loss["lon"], loss["lat"]) == HOME and loss["device_id"] == "TAG-1"
    assert loss["detail"]["silence_minutes"] == 15 and loss["detail"]["no_device"] is False
    assert "None" not in loss["explanation"] and "S-SILENT" in loss["explanation"]
    tick(session, settings, T0 + 15 * minute, T0 + 16 * minute)
    assert [a["id"] for a in alerts(control, sid)] == [loss["id"]]  # one alert, not one a tick

    # The tag comes back at +40 min with what it stored meanwhile: fixes every 5 minutes.
    back = T0 + 40 * minute
    send(session, settings, back, *(fix("TAG-1", T0 + k * 5 * minute) for k in range(1, 9)))
    tick(session, settings, T0 + 16 * minute, back + minute)
    [closed] = alerts(control, sid)
    assert closed["id"] == loss["id"] and closed["status"] == "closed"
    assert closed["closed_by"] == "fixes_returned"
    assert datetime.fromisoformat(closed["closed_at"]) == back
    assert closed["handling"] == "unhandled"  # it stays for a person to handle
    fill = closed["detail"]["backfill"]
    assert fill["count"] == 8
    assert datetime.fromisoformat(fill["first_observed_at"]) == T0 + 5 * minute
    assert datetime.fromisoformat(fill["last_observed_at"]) == T0 + 40 * minute
    # A straggler from the gap arriving later is added to the back-fill.
    send(session, settings, back + 10 * minute, fix("TAG-1", T0 + 2 * minute))
    tick(session, settings, back + minute, back + 11 * minute)
    [later] = alerts(control, sid)
    assert later["detail"]["backfill"]["count"] == 9
    assert "9 fixes from the gap arrived later" in later["explanation"]
    # Fixes keep coming: no new loss.
    send(session, settings, back + 20 * minute, fix("TAG-1", back + 20 * minute))
    tick(session, settings, back + 11 * minute, back + 30 * minute)
    assert len(alerts(control, sid)) == 1
    kinds = session.scalars(
        select(tables.AlertEvent.kind)
        .where(tables.AlertEvent.alert_id == loss["id"])
        .order_by(tables.AlertEvent.id)
    ).all()
    assert kinds == ["opened", "closed", "extended", "extended"]


def test_no_loss_without_the_clause_or_outside_the_order_and_none_for_no_device(
    officer: TestClient, control: TestClient, session: Session, settings: Settings
) -> None:
    plain = subject_with_order(officer, "S-PLAIN")
    wear(session, "TAG-P", plain)
    ended = subject_with_order(officer, "S-ENDED", tag_required=True, ends="2026-10-31")
    wear(session, "TAG-E", ended)
    coming = subject_with_order(officer, "S-COMING", tag_required=True, starts="2026-12-01")
    untagged = subject_with_order(
        officer, "S-NODEV", tag_required=True, silence_minutes=30, starts="2026-11-02"
    )
    send(session, settings, T0 - timedelta(hours=5), fix("TAG-P", T0 - timedelta(hours=5)))
    send(session, settings, T0 - timedelta(hours=5), fix("TAG-E", T0 - timedelta(hours=5)))
    midnight = datetime(2026, 11, 2, tzinfo=UTC)  # the order's first day begins
    tick(session, settings, midnight, midnight + timedelta(minutes=29))
    assert alerts(control, untagged) == []
    # Old fixes received late are contact too: the silence runs from their receipt.
    late = subject_with_order(officer, "S-LATEFIX", tag_required=True)
    wear(session, "TAG-L", late)
    send(session, settings, T0 - timedelta(minutes=14), fix("TAG-L", T0 - timedelta(hours=3)))
    tick(session, settings, midnight, T0)
    for sid in (plain, ended, coming, late):
        assert alerts(control, sid) == []
    tick(session, settings, T0, T0 + timedelta(minutes=1))
    [heard_late] = alerts(control, late)
    assert datetime.fromisoformat(heard_late["first_at"]) == T0 - timedelta(minutes=14)
    # A subject no device was ever assigned to is silent from when the clause applied.
    [loss] = alerts(control, untagged)
    assert datetime.fromisoformat(loss["first_at"]) == midnight
    assert loss["detail"]["no_device"] is True and loss["lon"] is None
    assert "No device was assigned" in loss["explanation"]
    assert loss["title"] == "Communication lost" and "None" not in loss["explanation"]
    r = control.get(f"/api/v1/alerts/{loss['id']}/evidence")
    assert r.status_code == 200 and r.json() == []


def test_an_alarm_opens_one_alert_that_repeats_extend_with_their_fixes_as_evidence(
    officer: TestClient, control: TestClient, session: Session, settings: Settings
) -> None:
    sid = subject_with_order(officer, "S-TAMPER")
    wear(session, "TAG-T", sid)
    first = send(session, settings, T0, fix("TAG-T", T0, "tamper"))
    send(session, settings, T0 + timedelta(minutes=2), fix("TAG-T", T0 + timedelta(minutes=1),
         "tamper", "low_battery", lon=0.1219))  # fmt: skip
    again = send(session, settings, T0 + timedelta(minutes=3), fix("TAG-T", T0, "tamper"))
    send(session, settings, T0 + timedelta(minutes=3), fix("TAG-T", T0 + timedelta(minutes=3)))
    battery, tamper = sorted(alerts(control, sid), key=lambda a: a["kind"])
    # Each fix's answer names the alert it raised; a resent one names it too, extending nothing.
    assert first[0].alert_ids == again[0].alert_ids == [tamper["id"]]
    assert again[0].duplicate
    assert tamper["kind"] == "tamper" and tamper["title"] == "Tamper alarm"
    assert tamper["observation_count"] == 2 and tamper["status"] == "open"
    assert tamper["order_id"] is None and tamper["zone_id"] is None
    assert datetime.fromisoformat(tamper["first_at"]) == T0
    assert datetime.fromisoformat(tamper["last_at"]) == T0 + timedelta(minutes=1)
    assert battery["kind"] == "low_battery" and battery["observation_count"] == 1
    assert "None" not in tamper["explanation"] and "TAG-T" in tamper["explanation"]
    r = control.get(f"/api/v1/alerts/{tamper['id']}/evidence")
    assert r.status_code == 200, r.text
    evidence = r.json()
    assert evidence[0]["observation_id"] == first[0].observation_id
    assert len(evidence) == 2 and evidence[0]["zone_id"] is None
    assert evidence[0]["device_id"] == "TAG-T"
    # The alarm not repeated for half an hour has ended; a new one opens a new alert. With
    # a longer quiet period set, 45 minutes are not enough.
    longer = settings.model_copy(
        update={"api": settings.api.model_copy(update={"alarm_quiet_minutes": 60})}
    )
    tick(session, longer, T0, T0 + timedelta(minutes=45))
    assert next(a for a in alerts(control, sid) if a["id"] == tamper["id"])["status"] == "open"
    tick(session, settings, T0, T0 + timedelta(minutes=45))
    ended = next(a for a in alerts(control, sid) if a["id"] == tamper["id"])
    assert ended["status"] == "closed" and ended["closed_by"] == "alarm_quiet"
    send(session, settings, T0 + timedelta(hours=1), fix("TAG-T", T0 + timedelta(hours=1),
         "tamper"))  # fmt: skip
    assert len([a for a in alerts(control, sid) if a["kind"] == "tamper"]) == 2
    assert len(alerts(control, sid, kind="tamper")) == 2


def test_a_resend_that_adds_an_alarm_raises_it_once_from_the_stored_fix(
    officer: TestClient, control: TestClient, session: Session, settings: Settings
) -> None:
    """A gateway resends a fix it has since decoded an alarm for: the fix is stored once,
    and the alarm it lacked the first time is raised, with the stored fix as its evidence."""
    sid = subject_with_order(officer, "S-RESENT")
    wear(session, "TAG-R", sid)
    [plain] = send(session, settings, T0, fix("TAG-R", T0))
    assert plain.alert_ids == [] and alerts(control, sid) == []
    [with_alarm] = send(session, settings, T0 + timedelta(minutes=1), fix("TAG-R", T0, "strap_cut"))
    [strap] = alerts(control, sid)
    assert with_alarm.duplicate and with_alarm.observation_id == plain.observation_id
    assert strap["kind"] == "strap_cut" and with_alarm.alert_ids == [strap["id"]]
    assert strap["observation_count"] == 1 and datetime.fromisoformat(strap["first_at"]) == T0
    evidence = control.get(f"/api/v1/alerts/{strap['id']}/evidence").json()
    assert [e["observation_id"] for e in evidence] == [plain.observation_id]
    # Sent a third time, with the alarm and another the stored fix now has one of: only
    # the new one is raised; the strap cut is named, not raised or extended again.
    [third] = send(session, settings, T0 + timedelta(minutes=2),
                   fix("TAG-R", T0, "strap_cut", "tamper"))  # fmt: skip
    strap_again, tamper = sorted(alerts(control, sid), key=lambda a: a["kind"])
    assert strap_again["id"] == strap["id"] and strap_again["observation_count"] == 1
    assert tamper["kind"] == "tamper" and third.alert_ids == sorted([strap["id"], tamper["id"]])
    [fourth] = send(session, settings, T0 + timedelta(minutes=3),
                    fix("TAG-R", T0, "strap_cut", "tamper"))  # fmt: skip
    assert fourth.alert_ids == third.alert_ids and len(alerts(control, sid)) == 2


def test_device_alerts_are_handled_listed_counted_and_streamed_like_stays(
    officer: TestClient,
    control: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    sid = subject_with_order(officer, "S-HANDLE", tag_required=True, silence_minutes=5)
    wear(session, "TAG-H", sid)
    send(session, settings, T0, fix("TAG-H", T0, "strap_cut"))
    worker.run_jobs(sessions, settings.api, T0 + timedelta(minutes=6))
    found = alerts(control, sid)
    assert {a["kind"] for a in found} == {"strap_cut", "communication_loss"}
    loss = next(a for a in found if a["kind"] == "communication_loss")
    for action in (
        {"action": "acknowledge"},
        {"action": "assign", "assignee": "test-officer"},
        {"action": "resolve", "disposition": "data_fault", "note": "Battery replaced."},
    ):
        r = control.post(f"/api/v1/alerts/{loss['id']}/actions", json=action)
        assert r.status_code == 200, r.text
    done = control.get(f"/api/v1/alerts/{loss['id']}").json()
    assert done["handling"] == "resolved" and done["disposition"] == "data_fault"
    assert done["assigned_to"] == "test-officer"
    assert [a["kind"] for a in alerts(control, sid, handling="unhandled")] == ["strap_cut"]
    counts = alerts_store.count_by_handling(session, frozenset({"test-unit"}))
    assert counts[model.Handling.RESOLVED] == 1 and counts[model.Handling.UNHANDLED] == 1
    # The stream renders their events as it does a stay's.
    events = [e for e in alerts_store.events_after(session, 0) if e.alert_id == loss["id"]]
    rendered = stream_routes.render(session, events)
    assert rendered and all(unit == "test-unit" for _, _, unit in rendered)
    body = json.loads(rendered[0][1])
    assert body["alert"]["kind"] == "communication_loss"
    # They follow the subject's unit: moved to another, the officer no longer sees them.
    units_store.move_subject(session, sid, "other-unit")
    session.commit()
    assert officer.get(f"/api/v1/alerts/{loss['id']}").status_code == 404
    listed = officer.get("/api/v1/alerts", params={"handling": "resolved"}).json()
    assert loss["id"] not in [a["id"] for a in listed]
    assert control.get(f"/api/v1/alerts/{loss['id']}").status_code == 200  # the whole force


def test_the_clause_shape_is_checked_and_dropping_the_tag_ends_the_loss(
    officer: TestClient, control: TestClient, session: Session, settings: Settings
) -> None:
    subject = officer.post("/api/v1/subjects", json={"reference": "S-DROP", "name": "Tag Drop"})
    sid = subject.json()["id"]
    base = {"subject_id": sid, "reference": "SHPO/S-DROP", "starts": "2020-01-01"}
    for bad, field in (
        ({"tag_required": "yes"}, "conditions[0].tag_required"),
        ({"tag_required": True, "silence_minutes": 0}, "conditions[0].silence_minutes"),
    ):
        r = officer.post("/api/v1/orders", json={**base, "conditions": [{"text": "T", **bad}]})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == field
    clause = {"text": "To wear a tag.", "tag_required": True, "silence_minutes": 60}
    order = officer.post("/api/v1/orders", json={**base, "conditions": [clause]})
    assert order.status_code == 201, order.text
    tick(session, settings, T0, T0)
    [loss] = alerts(control, sid)
    assert loss["detail"]["silence_minutes"] == 60
    clause_id = order.json()["conditions"][0]["clause_id"]
    edit = {**base, "reason": "The court lifted the tag requirement.",
            "conditions": [{"text": "To wear a tag.", "clause_id": clause_id}]}  # fmt: skip
    r = officer.put(f"/api/v1/orders/{order.json()['id']}", json=edit)
    assert r.status_code == 200, r.text
    later = datetime.now(UTC) + timedelta(minutes=1)  # the new version holds from its edit
    tick(session, settings, T0, later)
    [ended] = alerts(control, sid)
    assert ended["status"] == "closed" and ended["closed_by"] == "requirement_ended"
    assert "no clause in force required a tag" in ended["explanation"]
    tick(session, settings, later, later + timedelta(days=1))
    assert len(alerts(control, sid)) == 1
