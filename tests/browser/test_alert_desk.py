"""The alert desk as a supervisor uses it: the queue, the filters, a flagged alert, and an
alert chosen, acknowledged, noted, resolved and reopened, with real mouse and keyboard."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from service import device_alerts
from service.settings import Settings
from tests.browser.conftest import CONTROL, INJECTIONS, OFFICER, SUPERVISOR, Visit, when

pytestmark = pytest.mark.browser
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Case:
    """A subject barred from one zone by one order, for one test."""

    reference: str
    name: str
    subject_id: int
    zone: tuple[float, float]
    zone_name: str
    clause: str


HALF = 0.0015  # degrees of latitude: a square of about 330 m


def square(lon: float, lat: float) -> dict[str, Any]:
    """About 330 m square (a degree of longitude is shorter than one of latitude here)."""
    w = HALF / math.cos(math.radians(lat))
    ring = [
        [lon - w, lat - HALF],
        [lon + w, lat - HALF],
        [lon + w, lat + HALF],
        [lon - w, lat + HALF],
        [lon - w, lat - HALF],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def make_case(
    api: httpx.Client,
    prefix: str = "DESK",
    *,
    name: str = "Dana Desk",
    zone_name: str = "Desk Test Green",
    clause: str = "Not to enter Desk Test Green.",
    order_type: str = "SHPO",
) -> Case:
    """A fresh subject, zone and order (through the API, as the demo officer)."""
    tag = uuid.uuid4().hex[:8].upper()
    # Somewhere of its own south-west of the city, so other tests' zones are not on top.
    lon = 0.03 + int(tag[:3], 16) / 4096 * 0.05
    lat = 52.15 + int(tag[3:6], 16) / 4096 * 0.03
    zone = api.post(
        "/zones",
        json={
            "type": "Feature",
            "geometry": square(lon, lat),
            "properties": {"name": zone_name, "category": "park"},
        },
    )
    assert zone.status_code == 201, zone.text
    reference = f"{prefix}-{tag}"
    subject = api.post("/subjects", json={"reference": reference, "name": name})
    assert subject.status_code == 201, subject.text
    order = api.post(
        "/orders",
        json={
            "subject_id": subject.json()["id"],
            "reference": f"{order_type}/{tag}",
            "type": order_type,
            "starts": "2020-01-01",
            "conditions": [{"text": clause, "zone_ids": [zone.json()["id"]]}],
        },
    )
    assert order.status_code == 201, order.text
    return Case(reference, name, subject.json()["id"], (lon, lat), zone_name, clause)


def sighting_inside(control: httpx.Client, case: Case, minutes_ago: float = 0.0) -> int:
    """A member of the public saw the subject inside the zone: the alert's id."""
    got = control.post(
        "/sightings/check",
        json={
            "subject_id": case.subject_id,
            "lon": case.zone[0] + HALF / 2,  # inside, off the middle where its name is
            "lat": case.zone[1] - HALF / 3,
            "time": when(minutes_ago),
            "accuracy_m": 25,
            "source": "public",
            "source_detail": "Caller walking a dog",
        },
    )
    assert got.status_code == 200, got.text
    assert got.json()["breach"], got.json()
    alert_id = got.json()["alert_id"]
    assert isinstance(alert_id, int)
    return alert_id


def queue_item(page: Page, text: str) -> Locator:
    return page.locator("#queue button.queue-item", has_text=text)


def filter_subject(page: Page, text: str) -> None:
    """Type into the subject filter as a person does."""
    box = page.get_by_label("Subject (part of a reference or name)")
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type(text)


def history_entries(page: Page) -> Locator:
    return page.locator("#detail-history li.history-item")


def test_a_supervisor_acknowledges_notes_resolves_and_reopens_an_alert(
    visit: Visit,
    api: httpx.Client,
    api_as: Callable[[tuple[str, str]], httpx.Client],
    tmp_path: Path,
) -> None:
    case = make_case(api)
    control = api_as(CONTROL)
    alert_id = sighting_inside(control, case)
    page = visit.page

    visit.open_as("/desk", SUPERVISOR)
    visit.wait_for_map()
    expect(page.locator("#live-state")).to_contain_text("Live")
    filter_subject(page, case.reference)
    item = queue_item(page, case.reference)
    expect(item).to_have_count(1)
    expect(page.locator("#queue button.queue-item")).to_have_count(1)
    expect(item).to_contain_text("Unhandled")
    expect(item).to_contain_text(case.zone_name)
    expect(item).to_contain_text(case.clause)
    expect(item.locator(".age")).to_have_text(re.compile(r"\d+ s ago|\d+ min ago"))

    # Choosing it opens its explanation, evidence, stay and (empty) history.
    item.click()
    expect(page.locator("#detail-heading")).to_have_text(
        f"Alert {alert_id}: {case.reference} ({case.name})"
    )
    expect(item).to_have_attribute("aria-current", "true")
    expect(page).to_have_url(re.compile(rf"/desk\?alert={alert_id}$"))
    expect(page.locator("#detail-explanation")).to_contain_text(case.zone_name)
    evidence = page.locator("#detail-evidence li")
    expect(evidence).to_have_count(1)
    expect(evidence).to_contain_text("Sighting by member of the public: Caller walking a dog")
    expect(evidence).to_contain_text("accuracy ±25 m")
    expect(evidence).to_contain_text(re.compile(r"(GMT|BST)"))
    expect(page.locator("#detail-stay")).to_contain_text("Still inside")
    expect(page.locator("#detail-history")).to_contain_text("Nobody has acted")
    # The sighting is on the map with its accuracy disc.
    expect(page.locator("path.leaflet-interactive")).not_to_have_count(0)

    # Acknowledge.
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(history_entries(page)).to_have_count(1)
    expect(history_entries(page).nth(0)).to_contain_text("Acknowledged by supervisor")
    expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_be_disabled()
    expect(page.locator("#detail-badges")).to_contain_text("Acknowledged")

    # Assigned to a user of the control room.
    page.get_by_label("Assign to").select_option("control")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(history_entries(page)).to_have_count(2)
    expect(history_entries(page).nth(1)).to_contain_text("Assigned to control by supervisor")
    expect(page.locator("#detail-facts")).to_contain_text("control")

    # A note, typed.
    page.get_by_label("Note (kept with the next action)").click()
    page.keyboard.type("Rang the caller back: description matches.")
    page.get_by_role("button", name="Add note", exact=True).click()
    expect(history_entries(page)).to_have_count(3)
    expect(history_entries(page).nth(2)).to_contain_text("Note added by supervisor")
    expect(history_entries(page).nth(2)).to_contain_text("description matches")
    expect(page.get_by_label("Note (kept with the next action)")).to_be_empty()

    # Resolving needs a disposition: said, not sent.
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#act-status")).to_contain_text("Choose a disposition")
    expect(page.get_by_label("How it ended (disposition)")).to_be_focused()
    page.get_by_label("How it ended (disposition)").select_option("breach_confirmed")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(history_entries(page)).to_have_count(4)
    expect(history_entries(page).nth(3)).to_contain_text("Resolved: Breach confirmed by supervisor")
    expect(page.locator("#detail-badges")).to_contain_text("Resolved")
    expect(page.locator("#detail-facts")).to_contain_text("Breach confirmed")
    # "Not yet resolved" is the queue's default: a resolved alert leaves it, still chosen.
    expect(item).to_have_count(0)

    # The API holds the same history.
    history = api.get(f"/alerts/{alert_id}/history").json()
    assert [(h["action"], h["by"]) for h in history] == [
        ("acknowledge", "supervisor"),
        ("assign", "supervisor"),
        ("note", "supervisor"),
        ("resolve", "supervisor"),
    ]
    assert history[1]["assignee"] == "control"
    assert history[2]["note"] == "Rang the caller back: description matches."
    assert history[3]["disposition"] == "breach_confirmed"

    # A supervisor reopens it, with a note saying why.
    page.get_by_role("button", name="Reopen (needs a note)", exact=True).click()
    expect(page.locator("#act-status")).to_contain_text("why it is reopened")
    page.get_by_label("Note (kept with the next action)").fill(
        "Wrong subject: CCTV shows his brother."
    )
    page.get_by_role("button", name="Reopen (needs a note)", exact=True).click()
    expect(history_entries(page)).to_have_count(5)
    expect(history_entries(page).nth(4)).to_contain_text("Reopened by supervisor")
    expect(history_entries(page).nth(4)).to_contain_text("CCTV shows his brother")
    expect(page.locator("#detail-badges")).to_contain_text("Acknowledged")
    expect(item).to_have_count(1)  # back in the queue
    alert = api.get(f"/alerts/{alert_id}").json()
    assert (alert["handling"], alert["disposition"]) == ("acknowledged", None)
    assert api.get(f"/alerts/{alert_id}/history").json()[-1]["action"] == "reopen"

    visit.screenshot("supervisor-alert-desk", tmp_path)
    assert visit.axe_violations() == []
    assert visit.problems() == {}


def silent_subject(api: httpx.Client, database_url: str) -> str:
    """A subject an order requires to wear a tag, with no device ever assigned: the worker's
    job, run here once, opens a communication loss for them. Their reference."""
    reference = f"DSKL-{uuid.uuid4().hex[:8].upper()}"
    subject = api.post("/subjects", json={"reference": reference, "name": "Sid Silent"})
    assert subject.status_code == 201, subject.text
    order = api.post(
        "/orders",
        json={
            "subject_id": subject.json()["id"],
            "reference": f"SHPO/{reference}",
            "starts": "2020-01-01",
            "conditions": [{"text": "To wear an electronic tag.", "tag_required": True}],
        },
    )
    assert order.status_code == 201, order.text
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            now = datetime.now(UTC)
            device_alerts.keep_silences(session, now - timedelta(minutes=1), now, Settings().api)
    finally:
        engine.dispose()
    return reference


def test_the_filters_change_what_the_queue_shows(
    visit: Visit,
    api: httpx.Client,
    api_as: Callable[[tuple[str, str]], httpx.Client],
    database_url: str,
) -> None:
    control = api_as(CONTROL)
    family = f"DSKF{uuid.uuid4().hex[:6].upper()}"
    shpo = make_case(api, family, order_type="SHPO")
    restraining = make_case(api, family, order_type="restraining", name="Rita Restrained")
    old = make_case(api, family, name="Olly Older")
    sighting_inside(control, shpo)
    resolved_id = sighting_inside(control, restraining)
    sighting_inside(control, old, minutes_ago=180)  # late data, still an alert
    done = control.post(
        f"/alerts/{resolved_id}/actions", json={"action": "resolve", "disposition": "false_alarm"}
    )
    assert done.status_code == 200, done.text
    page = visit.page
    visit.open_as("/desk", SUPERVISOR)
    visit.wait_for_map()

    def shown() -> Locator:
        return page.locator("#queue button.queue-item")

    filter_subject(page, family)
    expect(shown()).to_have_count(2)  # not yet resolved: the SHPO and the older one
    page.get_by_label("Handling").select_option("any")
    expect(shown()).to_have_count(3)
    page.get_by_label("Order type").select_option("restraining")
    expect(shown()).to_have_count(1)
    expect(shown()).to_contain_text(restraining.reference)
    expect(shown()).to_contain_text("Resolved")
    page.get_by_label("Order type").select_option("")
    page.get_by_label("Disposition", exact=True).select_option("false_alarm")
    expect(shown()).to_have_count(1)
    page.get_by_label("Disposition", exact=True).select_option("duplicate")
    expect(shown()).to_have_count(0)
    expect(page.locator("#queue")).to_contain_text("No alert matches the filters.")
    page.get_by_label("Disposition", exact=True).select_option("")
    page.get_by_label("Period").select_option("1")  # the last hour: not the 3-hour-old stay
    expect(shown()).to_have_count(2)
    expect(queue_item(page, old.reference)).to_have_count(0)
    page.get_by_label("Handling").select_option("unhandled")
    expect(shown()).to_have_count(1)
    expect(shown()).to_contain_text(shpo.reference)
    # A period of its own, in UK time: from two hours ago.
    page.get_by_label("Handling").select_option("any")
    page.get_by_label("Period").select_option("custom")
    two_hours_ago = datetime.now(LONDON) - timedelta(hours=2)
    page.get_by_label("From (UK time)").fill(two_hours_ago.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Apply filters", exact=True).click()
    expect(shown()).to_have_count(2)
    expect(queue_item(page, old.reference)).to_have_count(0)
    # A name, not only a reference, finds a subject.
    page.get_by_label("Period").select_option("any")
    filter_subject(page, "rita restrained")
    expect(shown()).to_have_count(1)
    expect(queue_item(page, restraining.reference)).to_have_count(1)

    # The map shows what the filters found: its one marker chooses the alert.
    marker = page.locator(f'.leaflet-marker-icon.desk-pin[title*="{restraining.reference}"]')
    expect(marker).to_have_count(1)
    marker.click()
    expect(page.locator("#detail-heading")).to_contain_text(restraining.reference)
    expect(page.locator("#detail-badges")).to_contain_text("Resolved")
    expect(page.locator("#detail-facts")).to_contain_text("False alarm")
    # The heat map can be switched on.
    page.get_by_label("Heat map of the alerts shown").check()
    expect(page.locator("canvas.leaflet-heatmap-layer")).to_have_count(1)

    # A device alert (a tag gone silent) is listed, filtered by kind and shown without a zone.
    silent = silent_subject(api, database_url)
    filter_subject(page, silent)
    page.get_by_label("Kind").select_option("zone")
    expect(page.locator("#queue")).to_contain_text("No alert matches the filters.")
    page.get_by_label("Kind").select_option("device")
    expect(shown()).to_have_count(1)
    expect(shown()).to_contain_text("Communication lost")
    expect(shown()).not_to_contain_text("None")
    shown().first.click()
    expect(page.locator("#detail-heading")).to_contain_text(silent)
    expect(page.locator("#detail-badges")).to_contain_text("Still silent")
    expect(page.locator("#detail-stay")).to_contain_text("none: no device is assigned")
    expect(page.locator("#detail-facts")).to_contain_text("To wear an electronic tag.")
    expect(page.locator("#detail-facts")).not_to_contain_text("Zone")
    expect(page.locator("#detail-explanation")).to_contain_text("No device was assigned")
    assert visit.problems() == {}


def test_an_alert_unhandled_past_the_flag_time_is_flagged_and_text_stays_text(
    visit: Visit, api: httpx.Client, api_as: Callable[[tuple[str, str]], httpx.Client]
) -> None:
    control = api_as(CONTROL)
    hostile = make_case(api, name=INJECTIONS[0], zone_name=INJECTIONS[2], clause=INJECTIONS[1])
    fresh = make_case(api, "DESKNEW")
    late_id = sighting_inside(control, hostile, minutes_ago=10)
    sighting_inside(control, fresh)
    noted = control.post(
        f"/alerts/{late_id}/actions", json={"action": "note", "note": INJECTIONS[3]}
    )
    assert noted.status_code == 200, noted.text
    page = visit.page

    # ?alert= opens the desk with the alert chosen (the sighting check links there).
    visit.open_as(f"/desk?alert={late_id}", SUPERVISOR)
    visit.wait_for_map()
    expect(page.locator("#detail-heading")).to_contain_text(f"Alert {late_id}: {hostile.reference}")
    expect(page.locator("#detail-heading")).to_contain_text(INJECTIONS[0])
    expect(page.locator("#detail-badges")).to_contain_text("Flagged")
    expect(page.locator("#detail-history")).to_contain_text(INJECTIONS[3])

    flagged = queue_item(page, hostile.reference)
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("Flagged")
    expect(flagged).to_have_class(re.compile(r"\bflagged\b"))
    expect(flagged).to_contain_text(INJECTIONS[1])
    expect(flagged.locator(".age")).to_have_text(re.compile(r"^1\d min ago$"))
    not_yet = queue_item(page, fresh.reference)
    expect(not_yet).to_have_count(1)
    expect(not_yet).not_to_contain_text("Flagged")
    # The map flags it too, and its legend says what the ring means.
    expect(page.locator(".desk-legend")).to_contain_text("Flagged: unhandled over 4 min")
    expect(page.locator(".leaflet-marker-icon.desk-pin.flagged").first).to_be_attached()
    visit.no_script_ran()
    assert visit.problems() == {}


def test_an_officer_follows_alerts_but_cannot_act(
    visit: Visit, api: httpx.Client, api_as: Callable[[tuple[str, str]], httpx.Client]
) -> None:
    case = make_case(api)
    alert_id = sighting_inside(api_as(CONTROL), case)
    visit.open_as(f"/desk?alert={alert_id}", OFFICER)
    page = visit.page
    expect(page.locator("#detail-heading")).to_contain_text(case.reference)
    expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
    expect(page.locator(".desk-detail")).to_contain_text("The control room and supervisors act")
    assert visit.axe_violations() == []
    assert visit.problems() == {}
