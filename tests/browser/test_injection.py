"""Every text field a user can fill, set to a script-injection string, on every page: no
script runs, and nothing is even refused by the Content-Security-Policy (which would mean
the text reached the page as markup, not as text). Every popup and tooltip of every map is
opened and every layer control expanded, since Leaflet renders strings there as HTML; and
the attack as found (a subject named ``</title><script>...`` whose clause text is
``<img onerror=...>``) is replayed on its order map, the alert desk and the track page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CONTROL, INJECTIONS, OFFICER, SUPERVISOR, Visit
from tests.service.conftest import square

pytestmark = pytest.mark.browser

WHERE = (0.2300, 52.1600)  # a quiet corner of the demo's map, away from its zones


def nasty(i: int) -> str:
    """An injection string, different per field so that each is recognisable."""
    return f"{INJECTIONS[i % len(INJECTIONS)]} #{i}"


@pytest.fixture(scope="module")
def planted(base_url: str, api_as: Callable[[tuple[str, str]], httpx.Client]) -> dict[str, Any]:
    """A subject, order, zone, sighting, alert and notes whose every text is an injection."""
    officer, control = api_as(OFFICER), api_as(CONTROL)
    supervisor = api_as(SUPERVISOR)
    tag = uuid.uuid4().hex[:6]
    zone = officer.post(
        "/zones",
        json={
            "type": "Feature",
            "geometry": square(*WHERE, 0.002),
            "properties": {"name": nasty(0), "category": "park", "source": nasty(1)},
        },
    )
    assert zone.status_code == 201, zone.text
    subject = officer.post(
        "/subjects",
        json={
            "reference": f"XSS-{tag}{nasty(2)}"[:64],
            "name": nasty(3),
            "risk_level": "high",
            "officer": nasty(4)[:200],
            "photo_ref": nasty(6)[:200],
        },
    )
    assert subject.status_code == 201, subject.text
    sid = subject.json()["id"]
    order = officer.post(
        "/orders",
        json={
            "subject_id": sid,
            "reference": nasty(7),
            "court": nasty(8),
            "starts": "2020-01-01",
            "conditions": [
                {"text": nasty(9), "zone_ids": [zone.json()["id"]], "buffer_m": 50},
                {"text": nasty(10)},
            ],
        },
    )
    assert order.status_code == 201, order.text
    seen = control.post(
        "/sightings/check",
        json={
            "subject_id": sid,
            "lon": WHERE[0],
            "lat": WHERE[1],
            "time": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
            "accuracy_m": 20,
            "source": "public",
            "source_detail": nasty(11),
        },
    )
    assert seen.status_code == 200 and seen.json()["breach"], seen.text
    alert_id = seen.json()["alert_id"]
    r = supervisor.post(f"/alerts/{alert_id}/actions", json={"action": "note", "note": nasty(12)})
    assert r.status_code == 200, r.text
    edited = officer.put(
        f"/zones/{zone.json()['id']}",
        json={
            "type": "Feature",
            "geometry": square(*WHERE, 0.0021),
            "properties": {"name": nasty(13), "category": "park", "reason": nasty(14)},
        },
        params={"confirm_shared": "true"},
    )
    assert edited.status_code == 200, edited.text
    found = as_found(officer, control, zone.json()["id"], tag)
    return {
        "subject": subject.json(),
        "order": order.json(),
        "zone": zone.json(),
        "alert_id": alert_id,
    } | found


def as_found(
    officer: httpx.Client, control: httpx.Client, zone_id: int, tag: str
) -> dict[str, Any]:
    """The attack as it was found: the name closes ``<title>`` and opens a script; the
    clause text is an image whose error handler runs; the subject breaches, so the name is
    on the alert desk and the clause on the track page too."""
    subject = officer.post(
        "/subjects",
        json={"reference": f"XSS2-{tag}", "name": f"{INJECTIONS[0]} #15", "risk_level": "high"},
    )
    assert subject.status_code == 201, subject.text
    sid = subject.json()["id"]
    order = officer.post(
        "/orders",
        json={
            "subject_id": sid,
            "reference": f"SHPO/{tag}/{INJECTIONS[1]}",
            "starts": "2020-01-01",
            "conditions": [{"text": f"{INJECTIONS[1]} #16", "zone_ids": [zone_id]}],
        },
    )
    assert order.status_code == 201, order.text
    seen = control.post(
        "/sightings/check",
        json={
            "subject_id": sid,
            "lon": WHERE[0],
            "lat": WHERE[1],
            "time": (datetime.now(UTC) - timedelta(minutes=2)).isoformat(),
            "accuracy_m": 10,
            "source": "public",
        },
    )
    assert seen.status_code == 200 and seen.json()["breach"], seen.text
    return {
        "found_subject": sid,
        "found_order": order.json()["id"],
        "found_alert": seen.json()["alert_id"],
    }


# Open every popup and tooltip of every Leaflet map on the page (Leaflet renders a string
# there as HTML) and expand every layer control (layer names are HTML too): what they hold.
OPEN_EVERYTHING = """() => {
  const shown = [];
  const maps = Object.values(window).filter((v) => window.L && v instanceof L.Map);
  for (const m of maps) {
    m.eachLayer((layer) => {
      for (const [get, open] of [["getPopup", "openPopup"], ["getTooltip", "openTooltip"]]) {
        const bound = layer[get] && layer[get]();
        if (!bound) continue;
        try { layer[open](); } catch (e) { continue; }  // a layer with nowhere to open it
        const node = bound.getElement && bound.getElement();
        if (node) shown.push(node.textContent);
      }
    });
  }
  for (const control of document.querySelectorAll(".leaflet-control-layers")) {
    control.classList.add("leaflet-control-layers-expanded");
    shown.push(control.textContent);
  }
  return {maps: maps.length, shown};
}"""


def pages(planted: dict[str, Any]) -> list[tuple[str, tuple[str, str]]]:
    sid, oid = planted["subject"]["id"], planted["order"]["id"]
    clause = planted["order"]["conditions"][0]["clause_id"]
    zid, aid = planted["zone"]["id"], planted["alert_id"]
    return [
        ("/", SUPERVISOR),
        ("/subjects", OFFICER),
        (f"/subjects/{sid}", OFFICER),
        (f"/orders/{oid}", OFFICER),
        (f"/orders/{oid}/edit", OFFICER),
        (f"/orders/{oid}/clauses/{clause}/zones", OFFICER),
        ("/library", OFFICER),
        (f"/zones/{zid}", OFFICER),
        ("/check", CONTROL),
        (f"/desk?alert={aid}", SUPERVISOR),
        (f"/subjects/{sid}/track", OFFICER),
        (f"/orders/{planted['found_order']}", OFFICER),
        (f"/desk?alert={planted['found_alert']}", SUPERVISOR),
        (f"/subjects/{planted['found_subject']}/track", OFFICER),
    ]


def test_no_planted_text_runs_as_script_anywhere(
    planted: dict[str, Any], new_visit: Callable[[], Visit]
) -> None:
    ran: dict[str, Any] = {}
    for path, user in pages(planted):
        visit = new_visit()
        visit.open_as(path, user)
        page = visit.page
        page.wait_for_load_state("networkidle")
        if path == "/subjects":  # the planted subject shows once searched for
            page.get_by_role("searchbox").first.fill(planted["subject"]["reference"][:10])
            page.wait_for_load_state("networkidle")
        if path == "/check":  # ... and once picked
            page.get_by_label("Subject", exact=False).first.fill(
                planted["subject"]["reference"][:10]
            )
            page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        opened = page.evaluate(OPEN_EVERYTHING)
        page.wait_for_timeout(200)
        body = page.locator("body").inner_text() + " ".join(opened["shown"])
        shown = [i for i in range(17) if f"#{i}" in body]
        problems = visit.problems()
        xss = page.evaluate("() => window.__xss === undefined ? null : String(window.__xss)")
        if xss is not None or problems:
            ran[path] = {"ran": xss, "problems": problems}
        # Each page but the home page (counts only) shows some of the planted text, as text.
        assert shown or path == "/", f"{path} shows none of the planted text"
        if path.startswith(f"/orders/{planted['found_order']}"):
            assert 16 in shown and opened["maps"] == 1, opened  # the clause, as text
        # Text that closed <title> early would leave the title cut short.
        assert page.title().endswith(" · Exclusion zones"), (path, page.title())
    assert ran == {}


def test_every_page_passes_axe(planted: dict[str, Any], new_visit: Callable[[], Visit]) -> None:
    found: dict[str, list[str]] = {}
    for path, user in pages(planted):
        visit = new_visit()
        visit.open_as(path, user)
        visit.page.wait_for_load_state("networkidle")
        expect(visit.page.locator("main")).to_be_visible()
        violations = visit.axe_violations()
        if violations:
            found[path] = violations
    assert found == {}
