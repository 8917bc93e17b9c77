"""The control room's sighting check (/check), driven with the keyboard and the mouse.

Each test makes its own subject, zone and order through the API (references made unique),
because the server and its data are shared by every browser test of the session.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CONTROL, INJECTIONS, OFFICER, Visit
from zones.gridref import grid_reference_of

pytestmark = pytest.mark.browser

ANSWER_WITHIN_S = 1.0


# -- set-up through the API ----------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def square_around(lon: float, lat: float, half_lon: float, half_lat: float) -> list[list[float]]:
    return [
        [lon - half_lon, lat - half_lat],
        [lon + half_lon, lat - half_lat],
        [lon + half_lon, lat + half_lat],
        [lon - half_lon, lat + half_lat],
        [lon - half_lon, lat - half_lat],
    ]


def make_zone(api: httpx.Client, name: str, ring: list[list[float]]) -> dict[str, Any]:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"name": name, "category": "park", "source": "sighting check test"},
    }
    r = api.post("/zones", json=feature)
    assert r.status_code == 201, r.text
    zone: dict[str, Any] = r.json()
    return zone


def make_subject(api: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    r = api.post("/subjects", json={"reference": unique("CHK"), "name": name, **extra})
    assert r.status_code == 201, r.text
    subject: dict[str, Any] = r.json()
    return subject


def make_order(
    api: httpx.Client, subject_id: int, zone_id: int, clause: str, buffer_m: float = 0.0
) -> dict[str, Any]:
    r = api.post(
        "/orders",
        json={
            "subject_id": subject_id,
            "reference": unique("SHPO/CHK"),
            "type": "SHPO",
            "court": "Cambridge Magistrates' Court",
            "starts": "2026-01-01",
            "conditions": [{"text": clause, "zone_ids": [zone_id], "buffer_m": buffer_m}],
        },
    )
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()
    return order


def barred_subject(
    api: httpx.Client,
    lon: float,
    lat: float,
    *,
    zone: str,
    clause: str,
    name: str = "Sam Tester",
    off_centre: tuple[float, float] = (0.0, 0.0),
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A subject whose order bars them from a zone (about 550 m across) around ``lon``,
    ``lat``, its centre moved by ``off_centre`` degrees."""
    ring = square_around(lon + off_centre[0], lat + off_centre[1], 0.004, 0.0025)
    z = make_zone(api, zone, ring)
    s = make_subject(api, name, photo_ref=unique("CUSTODY/CHK"))
    o = make_order(api, s["id"], z["id"], clause)
    return s, o, z


# -- driving the page ----------------------------------------------------------------------------


def open_check(visit: Visit, user: tuple[str, str] = CONTROL) -> Page:
    visit.open_as("/check", user)
    visit.wait_for_map()
    return visit.page


def pick_subject(page: Page, subject: dict[str, Any]) -> None:
    """Type part of the reference, then pick the subject from the list with the keyboard."""
    box = page.get_by_role("combobox", name="Subject", exact=True)
    box.click()
    box.press_sequentially(subject["reference"][-8:], delay=20)
    option = page.get_by_role("option", name=re.compile(re.escape(subject["reference"])))
    expect(option).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(box).to_have_value(f"{subject['reference']} {subject['name']}")
    expect(page.locator("#subject-card")).to_contain_text(subject["reference"])


def type_lat_lon(page: Page, lon: float, lat: float) -> None:
    page.get_by_label("Latitude").fill(f"{lat:.6f}")
    page.get_by_label("Longitude").fill(f"{lon:.6f}")
    page.keyboard.press("Enter")
    expect(page.locator("#place-status")).to_contain_text(f"{lat:.6f}, {lon:.6f}")


def choose_source(page: Page, label: str = "Member of the public") -> None:
    page.get_by_label("Who saw the subject").select_option(label=label)


# Watches, in the page, when the Check button is clicked and when the answer is next painted.
TIMER = """() => {
  const button = document.getElementById("check-button");
  const answer = document.getElementById("answer");
  const timing = window.__checkTiming = {};
  button.addEventListener("click", () => { timing.clicked = performance.now(); },
    { capture: true, once: true });
  new MutationObserver((_, observer) => {
    if (answer.hidden || timing.clicked === undefined) return;
    observer.disconnect();
    requestAnimationFrame(() => { timing.shown = performance.now(); });
  }).observe(answer, { attributes: true, childList: true });
}"""


def check(page: Page) -> tuple[dict[str, Any], float]:
    """Press Check; the answer as the API gave it, and the seconds from the click to the
    answer painted, as the page saw them."""
    page.evaluate(TIMER)
    with page.expect_response(re.compile(r"/api/v1/sightings/check$")) as got:
        started = time.perf_counter()
        page.get_by_role("button", name="Check the sighting").click()
        page.locator("#answer").wait_for(state="visible", timeout=5_000)
        outside = time.perf_counter() - started
    response = got.value
    assert response.status == 200, response.text()
    page.wait_for_function("() => window.__checkTiming.shown !== undefined")
    timing = page.evaluate("() => window.__checkTiming")
    took = (timing["shown"] - timing["clicked"]) / 1000
    server = response.request.timing
    print(
        f"\nsighting check: answer painted {took * 1000:.0f} ms after the click "
        f"(server {server['responseEnd'] - server['requestStart']:.0f} ms; "
        f"{outside * 1000:.0f} ms as Playwright saw it, its own overhead included)"
    )
    answer: dict[str, Any] = response.json()
    return answer, took


def settle(page: Page) -> None:
    """Let the map finish moving to the answer (Leaflet animates zooms and pans)."""
    page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim')")
    page.wait_for_timeout(400)


# -- the tests -----------------------------------------------------------------------------------


def test_a_six_figure_grid_reference_in_a_zone_is_a_breach_named_by_clause_and_zone(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    lon, lat = 0.1650, 52.1900
    clause = "Not to enter the Ditton Meadows play area or its car park."
    subject, order, zone = barred_subject(
        api,
        lon,
        lat,
        zone=unique("Ditton Meadows play area"),
        clause=clause,
        name="Chris Check",
        off_centre=(0.0015, 0.001),  # the zone's label clear of the reported place
    )
    grid_ref = grid_reference_of(lon, lat, 6)  # e.g. "TL 480 568": a 100 m square
    page = open_check(visit)

    pick_subject(page, subject)
    label = page.locator(".leaflet-tooltip.zone-label", has_text=zone["properties"]["name"])
    expect(label).to_be_visible()
    grid = page.get_by_label("OS grid reference")
    grid.fill(grid_ref.replace(" ", ""))  # spaces are optional
    grid.press("Enter")
    expect(page.locator("#place-status")).to_contain_text(f"grid reference {grid_ref}")
    expect(page.locator("#place-status")).to_contain_text("a 100 m square")
    # The accuracy is half the square's diagonal, filled in because none was typed.
    expect(page.get_by_label("Accuracy (m)")).to_have_value("70.71")
    choose_source(page, "CCTV")
    page.get_by_label("Source details").fill("council camera 17")

    answer, took = check(page)
    assert took < ANSWER_WITHIN_S, f"the answer took {took:.2f} s"

    shown = page.locator("#answer")
    expect(shown.locator(".headline")).to_have_text("Breach")
    expect(shown).to_contain_text(clause)
    expect(shown).to_contain_text(zone["properties"]["name"])
    expect(shown).to_contain_text(f"SHPO {order['reference']}, clause 1")
    expect(shown).to_contain_text("inside its edge")
    expect(shown).to_contain_text("Definite: the whole 71 m accuracy disc lies in the area")
    assert answer["outcome"] == "breach"
    assert answer["position"]["given_as"] == "grid_ref"
    assert answer["reporter"] == CONTROL[0]
    assert answer["source"] == "cctv" and answer["source_detail"] == "council camera 17"
    # The alert it opened, with a link to the alert desk; the check is stored.
    assert answer["alert_id"] is not None
    link = shown.get_by_role("link", name=f"Alert {answer['alert_id']} on the alert desk")
    expect(link).to_have_attribute("href", f"/desk?alert={answer['alert_id']}")
    expect(shown).to_contain_text(f"observation {answer['observation_id']}")
    expect(shown.locator(".alert-links")).to_contain_text("opened by this sighting")
    # The zone is highlighted on the map (drawn in the highlight colour).
    expect(page.locator('path[stroke="#5c0011"]')).to_have_count(1)

    settle(page)
    visit.screenshot("control-room-check", tmp_path)
    assert visit.axe_violations() == []
    assert visit.problems() == {}


def test_a_subject_with_no_order_in_force_has_nothing_to_judge_against(
    visit: Visit, api: httpx.Client
) -> None:
    subject = make_subject(api, "Nora Noorder")
    page = open_check(visit)
    pick_subject(page, subject)
    expect(page.locator("#subject-card")).to_contain_text("No orders recorded")
    type_lat_lon(page, 0.1218, 52.2053)
    choose_source(page)

    answer, took = check(page)

    assert answer["outcome"] == "nothing_in_force"
    headline = page.locator("#answer .headline")
    expect(headline).to_have_text("Nothing to judge against")
    expect(page.locator("#answer")).to_contain_text("This is not a finding of no breach")
    expect(page.locator("#answer")).not_to_contain_text("No breach")
    assert took < ANSWER_WITHIN_S
    assert visit.axe_violations() == []
    assert visit.problems() == {}


def test_a_click_on_the_map_sets_the_place(visit: Visit, api: httpx.Client) -> None:
    page = open_check(visit)
    # Where the map opens (read, not driven): the zone is made around it.
    centre = page.evaluate("() => { const c = Zones.map().getCenter(); return [c.lng, c.lat]; }")
    subject, _, zone = barred_subject(
        api, centre[0], centre[1], zone=unique("Clicked Green"), clause="Not to enter it."
    )
    box = page.locator(".leaflet-container").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    expect(page.locator("#place-status")).to_contain_text("clicked on the map at")
    lat = float(page.get_by_label("Latitude").input_value())
    lon = float(page.get_by_label("Longitude").input_value())
    assert abs(lat - centre[1]) < 0.0003 and abs(lon - centre[0]) < 0.0003
    # The reported position is drawn on the map.
    expect(page.locator('.leaflet-overlay-pane path[fill="#0b5cad"]')).to_have_count(1)

    pick_subject(page, subject)
    page.get_by_label("Accuracy (m)").fill("15")
    choose_source(page, "Police officer or patrol")
    answer, _ = check(page)

    assert answer["outcome"] == "breach"
    assert answer["position"]["given_as"] == "lonlat"
    assert (
        abs(answer["position"]["lat"] - lat) < 1e-6 and abs(answer["position"]["lon"] - lon) < 1e-6
    )
    assert answer["position"]["accuracy_m"] == 15
    expect(page.locator("#answer")).to_contain_text(zone["properties"]["name"])
    assert visit.problems() == {}


def test_a_named_place_from_the_zone_library_is_its_label_point(
    visit: Visit, api: httpx.Client
) -> None:
    lon, lat = 0.1000, 52.1850
    name = unique("Trumpington Rec")
    subject, _, zone = barred_subject(api, lon, lat, zone=name, clause="Not to enter it.")
    label_lon, label_lat = zone["properties"]["label_point"]
    page = open_check(visit)
    pick_subject(page, subject)

    named = page.get_by_role("combobox", name="Named place")
    named.click()
    named.press_sequentially(name[-8:], delay=20)
    option = page.get_by_role("option", name=re.compile(re.escape(name)))
    expect(option).to_be_visible()
    option.click()

    expect(named).to_have_value(name)
    expect(page.locator("#place-status")).to_contain_text(name)
    assert float(page.get_by_label("Latitude").input_value()) == pytest.approx(label_lat, abs=1e-6)
    assert float(page.get_by_label("Longitude").input_value()) == pytest.approx(label_lon, abs=1e-6)
    choose_source(page)
    answer, _ = check(page)

    assert answer["outcome"] == "breach"
    assert answer["position"]["lon"] == pytest.approx(label_lon, abs=1e-6)
    assert answer["position"]["lat"] == pytest.approx(label_lat, abs=1e-6)
    expect(page.locator("#answer")).to_contain_text(f"{name} ({label_lat:.6f}, {label_lon:.6f})")
    assert visit.problems() == {}


def test_a_time_in_the_repeated_hour_is_asked_about_and_the_chosen_one_is_stored(
    visit: Visit, api: httpx.Client
) -> None:
    lon, lat = 0.1550, 52.1880
    subject, _, _ = barred_subject(
        api, lon, lat, zone=unique("Cherry Hinton Hall"), clause="Not to enter it."
    )
    page = open_check(visit)
    pick_subject(page, subject)
    type_lat_lon(page, lon, lat)
    choose_source(page)
    # 01:30 on 25 October 2026 happened twice: at 00:30 UTC (BST) and at 01:30 UTC (GMT).
    page.get_by_label("Seen at").fill("2026-10-25T01:30")
    checks: list[str] = []
    page.on("request", lambda r: checks.append(r.url) if "/sightings/check" in r.url else None)
    page.get_by_role("button", name="Check the sighting").click()

    question = page.get_by_role("group", name="Which 25 Oct 2026 01:30 was meant?")
    expect(question).to_be_visible()
    bst = question.get_by_role("radio", name="01:30 BST (00:30 UTC)")
    gmt = question.get_by_role("radio", name="01:30 GMT (01:30 UTC)")
    expect(bst).to_be_visible()
    expect(gmt).to_be_visible()
    expect(page.locator("#check-status")).to_contain_text("choose which one was meant")
    expect(page.locator("#answer")).to_be_hidden()
    assert checks == [], "nothing may be checked before the operator says which 01:30"

    gmt.check()
    answer, _ = check(page)

    chosen = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert datetime.fromisoformat(answer["when"]["time"]) == chosen
    expect(page.locator("#answer")).to_contain_text("Sun 25 Oct 2026 01:30:00 GMT")
    # What is stored is the instant chosen: read it back through the API.
    track = api.get(
        f"/subjects/{subject['id']}/track",
        params={"from": "2026-10-24T23:00:00Z", "to": "2026-10-25T03:00:00Z"},
    )
    assert track.status_code == 200, track.text
    [stored] = [p for p in track.json() if p["observation_id"] == answer["observation_id"]]
    assert datetime.fromisoformat(stored["time"]) == chosen
    assert visit.axe_violations() == []
    assert visit.problems() == {}


def test_a_time_in_the_skipped_hour_is_refused_as_never_having_happened(
    visit: Visit, api: httpx.Client
) -> None:
    subject = make_subject(api, "Sky Skipped")
    page = open_check(visit)
    pick_subject(page, subject)
    type_lat_lon(page, 0.1218, 52.2053)
    choose_source(page)
    page.get_by_label("Seen at").fill("2026-03-29T01:30")
    page.get_by_role("button", name="Check the sighting").click()

    expect(page.locator("#time-at-question")).to_contain_text("never happened")
    expect(page.locator("#check-status")).to_contain_text("never happened")
    expect(page.locator("#answer")).to_be_hidden()
    assert visit.problems() == {}


def test_start_from_the_place_needs_a_reason_then_lists_the_barred_subject(
    visit: Visit, api: httpx.Client, api_as: Callable[[tuple[str, str]], httpx.Client]
) -> None:
    lon, lat = 0.1720, 52.2000
    clause = "Not to enter Barnwell Lake Park."
    subject, order, zone = barred_subject(
        api, lon, lat, zone=unique("Barnwell Lake Park"), clause=clause, name="Bea Barred"
    )
    # The API itself refuses without a reason.
    refused = api_as(CONTROL).get("/places/barred", params={"lon": lon, "lat": lat})
    assert refused.status_code == 422

    page = open_check(visit)
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/places/barred" in r.url else None)
    type_lat_lon(page, lon, lat)
    page.get_by_role("button", name="Who is barred here?").click()
    expect(page.locator("#barred-status")).to_contain_text("Give the reason first")
    expect(page.get_by_label("Reason or incident reference")).to_be_focused()
    assert searches == []

    page.get_by_label("Reason or incident reference").fill("INC-2026-1129-0042")
    page.get_by_role("button", name="Who is barred here?").click()
    found = page.locator("#barred-results li", has_text=subject["reference"])
    expect(found).to_have_count(1)
    expect(found).to_contain_text(subject["name"])
    expect(found).to_contain_text(subject["photo_ref"])
    expect(found).to_contain_text(clause)
    expect(found).to_contain_text(zone["properties"]["name"])
    expect(found).to_contain_text(f"SHPO {order['reference']}, clause 1")
    assert len(searches) == 1 and "reason=INC-2026-1129-0042" in searches[0]
    assert visit.axe_violations() == []

    # One click: that subject, at that place, ready to check.
    found.get_by_role("button", name=f"Check a sighting of {subject['reference']} here").click()
    expect(page.get_by_role("combobox", name="Subject", exact=True)).to_have_value(
        f"{subject['reference']} {subject['name']}"
    )
    expect(page.get_by_label("Who saw the subject")).to_be_focused()
    choose_source(page)
    answer, _ = check(page)
    assert answer["outcome"] == "breach"
    assert answer["subject"]["id"] == subject["id"]
    assert answer["position"]["lon"] == pytest.approx(lon) and answer["position"][
        "lat"
    ] == pytest.approx(lat)
    assert visit.problems() == {}


def test_officers_check_sightings_but_do_not_search_by_place(visit: Visit) -> None:
    page = open_check(visit, OFFICER)
    expect(page.get_by_role("button", name="Check the sighting")).to_be_visible()
    expect(page.get_by_role("button", name="Who is barred here?")).to_have_count(0)
    assert visit.axe_violations() == []
    assert visit.problems() == {}


def test_names_and_clauses_reach_the_page_as_text(visit: Visit, api: httpx.Client) -> None:
    lon, lat = 0.1300, 52.1800
    subject, order, zone = barred_subject(
        api, lon, lat, zone=unique(INJECTIONS[1]), clause=INJECTIONS[2], name=INJECTIONS[0]
    )
    page = open_check(visit)
    pick_subject(page, subject)
    type_lat_lon(page, lon, lat)
    page.get_by_label("Source details").fill(INJECTIONS[3])
    choose_source(page, "Other")
    check(page)

    shown = page.locator("#answer")
    expect(shown.locator(".headline")).to_have_text("Breach")
    expect(shown).to_contain_text(INJECTIONS[0])
    expect(shown).to_contain_text(INJECTIONS[2])
    expect(shown).to_contain_text(zone["properties"]["name"])
    expect(shown).to_contain_text(INJECTIONS[3])
    expect(shown).to_contain_text(order["reference"])
    visit.no_script_ran()
    assert visit.problems() == {}
