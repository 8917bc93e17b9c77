"""A subject's track played back, as an officer reviews it: the slider moved with the keyboard,
the breaches and the stay on the map and the timeline, and the zone as it stood at each
moment, across an edit."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CONTROL, INJECTIONS, OFFICER, Visit

pytestmark = pytest.mark.browser
HALF = 0.0012  # degrees of latitude: a square of about 270 m
BREACH_FILL = "#b3261e"
LONDON = ZoneInfo("Europe/London")


def square(lon: float, lat: float) -> dict[str, Any]:
    w = HALF / math.cos(math.radians(lat))
    ring = [[lon - w, lat - HALF], [lon + w, lat - HALF], [lon + w, lat + HALF],
            [lon - w, lat + HALF], [lon - w, lat - HALF]]  # fmt: skip
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass(frozen=True)
class Walk:
    """A subject barred from a park, a walk through it, and the park edited afterwards."""

    subject_id: int
    reference: str
    name: str
    zone_id: int
    zone_name: str
    fixes: list[dict[str, Any]]  # as sent, in time order, each with "breach" as judged
    edited_at: datetime  # when version 2 came into force


def at(fix: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(fix["time"])


def make_walk(
    api: httpx.Client,
    *,
    name: str = "Tara Track",
    zone_name: str = "Track Test Rec",
    clause: str = "Not to enter Track Test Rec.",
    reference_prefix: str = "TRK",
) -> Walk:
    """Set up through the API, as the demo officer: a subject, a zone and an order; a walk of
    fixes (a minute apart, half an hour ago) west to east through the zone; then the zone
    edited (a new version) and a few more fixes after the edit."""
    tag = uuid.uuid4().hex[:8].upper()
    # A place of its own east of the city, so other tests' zones are not on top of it.
    lon = 0.19 + int(tag[:3], 16) / 4096 * 0.05
    lat = 52.16 + int(tag[3:6], 16) / 4096 * 0.04
    zone = api.post(
        "/zones",
        json={
            "type": "Feature",
            "geometry": square(lon, lat),
            "properties": {"name": zone_name, "category": "park"},
        },
    )
    assert zone.status_code == 201, zone.text
    zone_id = zone.json()["id"]
    reference = f"{reference_prefix}-{tag}"
    subject = api.post("/subjects", json={"reference": reference, "name": name})
    assert subject.status_code == 201, subject.text
    sid = subject.json()["id"]
    order = api.post(
        "/orders",
        json={
            "subject_id": sid,
            "reference": f"SHPO/TRK/{tag}",
            "starts": "2020-01-01",
            "conditions": [{"text": clause, "zone_ids": [zone_id]}],
        },
    )
    assert order.status_code == 201, order.text

    now = datetime.now(UTC).replace(microsecond=0)
    step = HALF / math.cos(math.radians(lat)) / 2  # half the zone's half-width
    # 3 fixes west of the zone, 3 inside, 3 east of it: 30 to 22 minutes ago.
    offsets = [-8, -6, -4, -1, 0, 1, 4, 6, 8]
    walk = [
        {"subject_id": sid, "lon": lon + k * step, "lat": lat, "accuracy_m": 10 + i,
         "time": (now - timedelta(minutes=30 - i)).isoformat()}
        for i, k in enumerate(offsets)
    ]  # fmt: skip
    sent = api.post("/observations", json=walk)
    assert sent.status_code == 200, sent.text
    breaches = [r["breach"] for r in sent.json()["results"]]
    assert breaches == [False] * 3 + [True] * 3 + [False] * 3, breaches

    edited = api.put(
        f"/zones/{zone_id}",
        json={
            "type": "Feature",
            "geometry": square(lon + 4 * step, lat),
            "properties": {"name": zone_name, "category": "park", "reason": "fence moved east"},
        },
    )
    assert edited.status_code == 200, edited.text
    edited_at = datetime.fromisoformat(edited.json()["properties"]["created_at"])
    time.sleep(2.5)  # the fixes after the edit are timed after it, and not in the future
    after = [
        {"subject_id": sid, "lon": lon + (8 - i) * step, "lat": lat + HALF * 2, "accuracy_m": 20,
         "time": (edited_at + timedelta(seconds=1 + i / 2)).isoformat()}
        for i in range(3)
    ]  # fmt: skip
    assert api.post("/observations", json=after).status_code == 200
    fixes = [f | {"breach": b} for f, b in zip(walk, breaches, strict=True)]
    fixes += [f | {"breach": False} for f in after]
    return Walk(sid, reference, name, zone_id, zone_name, fixes, edited_at)


def open_track(visit: Visit, subject_id: int) -> Page:
    visit.open_as(f"/subjects/{subject_id}/track", OFFICER)
    visit.wait_for_map()
    page = visit.page
    expect(page.locator("#track-status")).to_contain_text("fixes")
    return page


def slider_time(page: Page) -> datetime:
    return datetime.fromtimestamp(int(page.locator("#slider").input_value()), UTC)


def press_until(page: Page, key: str, done: Any, most: int = 400) -> None:
    """Press ``key`` on the focused slider until ``done(slider time)``."""
    for _ in range(most):
        if done(slider_time(page)):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} pressed {most} times and the slider is at {slider_time(page)}")


def marker_offset(page: Page, fix: dict[str, Any]) -> float:
    """Pixels between the drawn position marker's centre and where ``fix`` lies on the map."""
    box = page.locator("path.track-position").bounding_box()
    assert box is not None
    expected = page.evaluate(
        """([lat, lon]) => {
            const m = window[Zones.config.map];
            const p = m.latLngToContainerPoint([lat, lon]);
            const r = m.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        [fix["lat"], fix["lon"]],
    )
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    return math.dist(centre, expected)


def zone_label(page: Page, walk: Walk) -> str:
    label = page.locator(".leaflet-tooltip.track-zone-label", has_text=walk.zone_name)
    expect(label).to_have_count(1)
    return label.inner_text()


def test_an_officer_plays_back_a_walk_through_a_zone_and_its_edit(
    visit: Visit, api: httpx.Client
) -> None:
    walk = make_walk(api)
    page = open_track(visit, walk.subject_id)
    expect(page.get_by_role("heading", name=f"Track of {walk.reference}")).to_be_visible()
    expect(page.locator("#track-subject")).to_contain_text(walk.name)
    expect(page.locator("#track-status")).to_contain_text("12 fixes, 3 in a zone, 1 stay")

    # At the end of the period the whole trail is drawn: the breaches in their own colour.
    breach_dots = page.locator("path.track-fix.breach")
    expect(breach_dots).to_have_count(3)
    expect(page.locator("path.track-fix:not(.breach)")).to_have_count(9)
    for i in range(3):
        assert breach_dots.nth(i).get_attribute("fill") == BREACH_FILL
    expect(page.locator("#timeline .tl-breach")).to_have_count(3)

    # The slider, moved with the keyboard, shows the position at its time.
    slider = page.get_by_label("Time of the track")
    slider.focus()
    page.keyboard.press("End")
    target = walk.fixes[4]  # the middle of the three fixes inside
    press_until(page, "ArrowLeft", lambda t: t <= at(target))
    shown = slider_time(page)
    expected = [f for f in walk.fixes if at(f) <= shown][-1]
    assert expected["breach"], (shown, expected)
    facts = page.locator("#now-facts")
    expect(facts).to_contain_text(f"{expected['lat']:.5f}, {expected['lon']:.5f}")
    expect(facts).to_contain_text(f"{expected['accuracy_m']} m")
    expect(facts).to_contain_text(f"In a zone: {walk.zone_name} v1")
    assert marker_offset(page, expected) < 2
    expect(page.locator("#clock")).to_contain_text(shown.astimezone(LONDON).tzname() or "?")
    # Page Up goes to the next fix, whatever the slider's step.
    page.keyboard.press("PageUp")
    following = walk.fixes[walk.fixes.index(expected) + 1]
    expect(facts).to_contain_text(f"{following['lat']:.5f}, {following['lon']:.5f}")
    assert marker_offset(page, following) < 2
    # The trail so far: only the fixes up to the slider's time are drawn.
    expect(page.locator("path.track-fix")).to_have_count(walk.fixes.index(following) + 1)

    # The stay is listed; jumping to it moves the slider to when it began.
    stays = page.locator("#stays li.track-stay")
    expect(stays).to_have_count(1)
    expect(stays).to_contain_text(walk.zone_name)
    expect(stays).to_contain_text("3 fixes")
    page.keyboard.press("End")
    expect(stays).not_to_have_attribute("aria-current", "true")
    stays.get_by_role("button").click()
    first_inside = walk.fixes[3]
    step = int(page.locator("#slider").get_attribute("step") or "0")
    assert abs((slider_time(page) - at(first_inside)).total_seconds()) <= step / 2 + 1
    expect(stays).to_have_attribute("aria-current", "true")
    expect(page.locator("#timeline .tl-stay.current")).to_have_count(1)
    assert marker_offset(page, first_inside) < 2
    expect(facts).to_contain_text(f"{first_inside['lat']:.5f}, {first_inside['lon']:.5f}")

    # The zone drawn is the version in force at the slider's time: crossing the edit
    # changes it (the walk predates the zone's first version: drawn as first recorded).
    assert "· v1" in zone_label(page, walk)
    first_shape = page.locator("path.track-zone").first.get_attribute("d")
    slider.focus()
    press_until(page, "ArrowRight", lambda t: t >= walk.edited_at)
    assert "· v2" in zone_label(page, walk)
    expect(page.locator(f"path.zone-{walk.zone_id}-v2")).to_have_count(1)
    expect(page.locator(f"path.zone-{walk.zone_id}-v1")).to_have_count(0)
    assert page.locator(f"path.zone-{walk.zone_id}-v2").get_attribute("d") != first_shape
    page.keyboard.press("ArrowLeft")
    assert slider_time(page) < walk.edited_at
    assert "· v1" in zone_label(page, walk)
    expect(page.locator(f"path.zone-{walk.zone_id}-v1")).to_have_count(1)
    versions = page.locator(f'.track-zone-item[data-zone="{walk.zone_id}"] .track-version')
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_have_class("track-version current")
    # The edit is on the timeline, and the zone list goes to it.
    expect(page.locator("#timeline .tl-edit")).to_have_count(1)
    page.get_by_role("button", name="Go to the edit to v2").click()
    assert "· v2" in zone_label(page, walk)
    expect(versions.nth(1)).to_have_class("track-version current")

    assert visit.problems() == {}
    assert visit.axe_violations() == []


def test_playing_moves_the_slider_on_and_pause_stops_it(visit: Visit, api: httpx.Client) -> None:
    walk = make_walk(api)
    page = open_track(visit, walk.subject_id)
    page.get_by_label("Speed").select_option(label="15 min per second")
    page.get_by_role("button", name="Start").click()
    start = slider_time(page)
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Pause").click()
    paused = slider_time(page)
    assert paused - start >= timedelta(minutes=10), (start, paused)
    page.wait_for_timeout(400)
    assert slider_time(page) == paused
    # Keyboard only: tab to the play button and press it.
    page.get_by_role("button", name="Play").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Pause")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    assert visit.problems() == {}


def test_a_period_is_chosen_in_uk_time_and_a_reversed_one_is_refused(
    visit: Visit, api: httpx.Client
) -> None:
    walk = make_walk(api)
    page = open_track(visit, walk.subject_id)
    page.get_by_label("Period", exact=True).select_option(label="Last hour")
    expect(page.locator("#track-status")).to_contain_text("12 fixes")
    # A period that ends before the walk: nothing to play back.
    page.get_by_label("From (UK time)").fill("2025-06-01T10:00")
    page.get_by_label("To (UK time)").fill("2025-06-01T12:00")
    expect(page.get_by_label("Period", exact=True)).to_have_value("custom")
    page.get_by_role("button", name="Show this period").click()
    status = page.locator("#track-status")
    expect(status).to_contain_text("0 fixes, 0 stays from Sun, 1 Jun 2025, 10:00:00 BST")
    expect(page.locator("#stays")).to_contain_text("No stays in this period.")
    assert "from=2025-06-01T09%3A00%3A00" in page.url or "from=2025-06-01T09:00:00" in page.url
    page.get_by_label("To (UK time)").fill("2025-06-01T09:00")
    page.get_by_role("button", name="Show this period").click()
    expect(status).to_have_text("The period must end after it starts.")
    # A link can name the period and the moment to open at (the alert desk's, say).
    inside = walk.fixes[4]
    link = httpx.URL(
        f"/subjects/{walk.subject_id}/track",
        params={
            "from": (at(inside) - timedelta(hours=2)).isoformat(),
            "to": (at(inside) + timedelta(hours=1)).isoformat(),
            "at": inside["time"],
        },
    )
    page.goto(str(link))
    expect(status).to_contain_text("12 fixes")
    expect(page.get_by_label("Period", exact=True)).to_have_value("custom")
    expect(page.locator("#now-facts")).to_contain_text(f"{inside['lat']:.5f}, {inside['lon']:.5f}")
    assert marker_offset(page, inside) < 2
    assert visit.problems() == {}


def test_user_text_on_the_track_page_stays_text(visit: Visit, api: httpx.Client) -> None:
    walk = make_walk(
        api,
        name=INJECTIONS[0],
        zone_name=INJECTIONS[1][:60],
        clause=INJECTIONS[2],
        reference_prefix="X<b>",
    )
    page = open_track(visit, walk.subject_id)
    expect(page.locator("#track-subject")).to_contain_text(INJECTIONS[0])
    expect(page.locator("#stays")).to_contain_text(INJECTIONS[2])
    page.locator("#stays button").first.click()
    page.locator("path.track-fix.breach").first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text("In a zone")
    visit.no_script_ran()
    assert visit.problems() == {}


def test_an_unknown_subject_is_a_404_page_and_the_control_room_may_look(
    new_visit: Callable[[], Visit], api: httpx.Client
) -> None:
    unknown = new_visit()
    unknown.open_as("/", CONTROL)
    answer = unknown.page.goto("/subjects/987654321/track")
    assert answer is not None and answer.status == 404
    expect(unknown.page.get_by_role("heading", name="That is not possible")).to_be_visible()
    expect(unknown.page.get_by_role("alert")).to_have_text("no subject with id 987654321")
    # (the browser logs the 404 in its console: that visit's problems are not checked)

    control = new_visit()
    subject = api.get("/subjects", params={"q": "CAM-DEMO-2"}).json()[0]
    control.open_as(f"/subjects/{subject['id']}/track", CONTROL)
    expect(control.page.locator("#track-status")).to_contain_text("fixes")
    expect(control.page.locator("#track-subject")).to_contain_text(subject["name"])
    assert control.problems() == {}


def test_the_demo_subject_s_track(visit: Visit, api: httpx.Client, tmp_path: Path) -> None:
    [demo] = [s for s in api.get("/subjects", params={"q": "CAM-DEMO-1"}).json()
              if s["reference"] == "CAM-DEMO-1"]  # fmt: skip
    page = open_track(visit, demo["id"])
    expect(page.get_by_role("heading", name="Track of CAM-DEMO-1")).to_be_visible()
    page.get_by_label("Period", exact=True).select_option(label="Last 3 hours")
    expect(page.locator("#track-status")).to_contain_text("in a zone")
    stays = page.locator("#stays li.track-stay")
    expect(stays.first).to_be_visible()
    stays.first.get_by_role("button").click()
    expect(stays.first).to_have_attribute("aria-current", "true")
    expect(page.locator("path.track-position")).to_have_count(1)
    page.locator("#track-title").scroll_into_view_if_needed()
    assert visit.problems() == {}
    assert visit.axe_violations() == []
    visit.screenshot("subject-track", tmp_path)
