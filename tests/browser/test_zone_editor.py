"""The officer's zone editor, file import and zone history, driven with real mouse clicks on
the map. Every test makes its own subject, order and zones (at a place of its own, away
from the demo's Cambridge) and checks what the API then holds."""

from __future__ import annotations

import json
import math
import random
import re
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from pyproj import Geod

from tests.browser.conftest import CONTROL, INJECTIONS, OFFICER, Visit

pytestmark = pytest.mark.browser

GEOD = Geod(ellps="WGS84")
Point = tuple[float, float]
# Container points (pixels in the map) where the tests draw: right of the map's middle, where
# the condition's first zone sits, and clear of Geoman's toolbar and its action buttons.
OUTER = [(560.0, 120.0), (900.0, 120.0), (900.0, 400.0), (560.0, 400.0)]
HOLE = [(640.0, 190.0), (800.0, 190.0), (800.0, 330.0), (640.0, 330.0)]
BOWTIE = [(560.0, 520.0), (800.0, 760.0), (800.0, 520.0), (560.0, 760.0)]
CROSSING = (680.0, 640.0)
TOLERANCE_M = 1.5  # two pixels at zoom 17: where a click lands
LOCAL_TIME = re.compile(r"\d{2}:\d{2}:\d{2} (GMT|BST)")


@dataclass(frozen=True)
class Condition:
    """A subject's order with one condition naming one small zone, made through the API."""

    tag: str
    subject_id: int
    order_id: int
    clause_id: int
    zone_id: int
    zone_name: str
    lon: float
    lat: float

    @property
    def editor(self) -> str:
        return f"/orders/{self.order_id}/clauses/{self.clause_id}/zones"


def square(lon: float, lat: float, half: float) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def make_zone(api: httpx.Client, name: str, geometry: dict[str, Any]) -> int:
    r = api.post(
        "/zones",
        json={
            "type": "Feature",
            "geometry": geometry,
            "properties": {"name": name, "category": "park", "reason": "test set-up"},
        },
    )
    assert r.status_code == 201, r.text
    zone_id: int = r.json()["id"]
    return zone_id


def a_condition(api: httpx.Client, subject_name: str = "Editor Test") -> Condition:
    """A fresh subject and order whose one condition names a small zone, at a random place in
    the fields east of Cambridge that no other test draws in."""
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(tag)
    lon, lat = 0.30 + rng.uniform(0, 0.15), 52.06 + rng.uniform(0, 0.06)
    subject = api.post("/subjects", json={"reference": f"ED-{tag}", "name": subject_name})
    assert subject.status_code == 201, subject.text
    zone_name = f"Start zone {tag}"
    zone_id = make_zone(api, zone_name, square(lon, lat, 0.00015))
    order = api.post(
        "/orders",
        json={
            "subject_id": subject.json()["id"],
            "reference": f"SHPO/ED/{tag}",
            "starts": date.today().isoformat(),
            "conditions": [
                {"text": f"Must not enter the area on map {tag}.", "zone_ids": [zone_id]}
            ],
        },
    )
    assert order.status_code == 201, order.text
    body = order.json()
    return Condition(
        tag,
        subject.json()["id"],
        body["id"],
        body["conditions"][0]["clause_id"],
        zone_id,
        zone_name,
        lon,
        lat,
    )


# -- the page -------------------------------------------------------------------------------


def open_editor(visit: Visit, condition: Condition) -> None:
    visit.open_as(condition.editor, OFFICER)
    visit.wait_for_map()
    page = visit.page
    expect(page.locator("#zone-list")).to_contain_text(condition.zone_name)
    expect(page.get_by_role("button", name="Draw Polygons")).to_be_visible()
    page.wait_for_function("() => Zones.map().getZoom() === 17")


def map_origin(page: Page) -> Point:
    box = page.locator(".leaflet-container").bounding_box()
    assert box is not None
    return box["x"], box["y"]


def click_map(page: Page, point: Point) -> None:
    x0, y0 = map_origin(page)
    page.mouse.click(x0 + point[0], y0 + point[1])
    page.wait_for_timeout(120)  # Geoman places each vertex on its own event turn


def draw_ring(page: Page, points: list[Point]) -> None:
    """Click each vertex, then the first again to close the shape (Geoman's way)."""
    for point in [*points, points[0]]:
        click_map(page, point)


def lonlat(page: Page, point: Point) -> Point:
    """What the map says a container point is (lon, lat)."""
    found = page.evaluate(
        "([x, y]) => { const p = Zones.map().containerPointToLatLng([x, y]); "
        "return [p.lng, p.lat]; }",
        list(point),
    )
    return float(found[0]), float(found[1])


def metres(a: Point, b: Point) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def assert_ring(ring: list[list[float]], expected: list[Point]) -> None:
    """``ring`` (closed) has exactly the expected vertices, each within TOLERANCE_M."""
    assert ring[0] == ring[-1]
    assert len(ring) == len(expected) + 1, ring
    for point in expected:
        nearest = min(metres(point, (p[0], p[1])) for p in ring)
        assert nearest < TOLERANCE_M, (point, ring, nearest)


def zones_named(api: httpx.Client, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get("/zones", params={"q": name}).json()["features"]
    return [f for f in found if f["properties"]["name"] == name]


def zone_count(api: httpx.Client) -> int:
    return len(api.get("/zones", params={"limit": 50_000}).json()["features"])


def save(page: Page, reason: str) -> None:
    page.get_by_label("Why are the zones changed?").fill(reason)
    page.get_by_role("button", name="Save the zones").click()


def clean(visit: Visit) -> None:
    assert visit.problems() == {}
    assert visit.axe_violations() == []


# -- drawing ---------------------------------------------------------------------------------


def test_a_polygon_with_a_hole_drawn_by_clicking_is_stored_exactly(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    condition = a_condition(api)
    page = visit.page
    open_editor(visit, condition)

    page.get_by_role("button", name="Draw Polygons").click()
    draw_ring(page, OUTER)
    name = f"Drawn with a hole {condition.tag}"
    page.get_by_label("Name (required)").fill(name)
    page.get_by_role("button", name="Cut Layers").click()
    draw_ring(page, HOLE)
    expected_outer = [lonlat(page, p) for p in OUTER]
    expected_hole = [lonlat(page, p) for p in HOLE]

    page.get_by_label("Buffer around the zones (metres)").fill("25")
    expect(page.locator("#buffer-note")).to_contain_text("25 m buffer drawn")
    expect(page.locator(".leaflet-overlay-pane path[stroke-dasharray='6 4']")).to_have_count(2)
    clean(visit)
    shot = visit.screenshot("officer-zone-editor", tmp_path)

    save(page, "Area drawn from the court's map")
    expect(page.locator("#save-status")).to_contain_text("Saved", timeout=20_000)
    [stored] = zones_named(api, name)
    geometry = stored["geometry"]
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"]) == 2
    assert_ring(geometry["coordinates"][0], expected_outer)
    assert_ring(geometry["coordinates"][1], expected_hole)
    assert stored["properties"]["category"] == "drawn"
    assert stored["properties"]["drawing"] == {"shape": "polygon"}

    order = api.get(f"/orders/{condition.order_id}").json()
    assert order["version"] == 2
    assert order["reason"] == "Area drawn from the court's map"
    [clause] = order["conditions"]
    assert clause["clause_id"] == condition.clause_id
    assert sorted(clause["zone_ids"]) == sorted([condition.zone_id, stored["id"]])
    assert clause["buffer_m"] == 25
    # the saved shape is now one of the condition's zones, as the API holds it
    expect(page.locator("#zone-list")).to_contain_text(name)
    expect(page.locator("#zone-list input")).to_have_count(0)
    clean(visit)
    assert shot.exists()


def test_a_drawn_bow_tie_shows_its_error_at_the_crossing_and_nothing_is_stored(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    condition = a_condition(api)
    page = visit.page
    open_editor(visit, condition)
    before = zone_count(api)

    # a good rectangle first: the bad shape after it must not leave it stored
    page.get_by_role("button", name="Draw Rectangle").click()
    click_map(page, (560, 120))
    click_map(page, (760, 300))
    page.get_by_label("Name (required)").fill(f"Good rectangle {condition.tag}")
    page.get_by_role("button", name="Draw Polygons").click()
    draw_ring(page, BOWTIE)
    page.get_by_label("Name (required)").nth(1).fill(f"Bow tie {condition.tag}")
    crossing = lonlat(page, CROSSING)
    save(page, "Two areas from the court's map")

    expect(page.locator("#problems")).to_contain_text("Nothing was saved")
    expect(page.locator("#problems")).to_contain_text("Self-intersection at lon")
    pin = page.locator(".problem-pin")
    expect(pin).to_have_count(1)
    box = pin.bounding_box()
    assert box is not None
    x0, y0 = map_origin(page)
    centre = (box["x"] + box["width"] / 2 - x0, box["y"] + box["height"] / 2 - y0)
    assert math.dist(centre, CROSSING) < 4, centre  # the map stayed where it was drawn
    assert metres(lonlat(page, centre), crossing) < 3
    expect(page.locator(".problem-label")).to_contain_text("Self-intersection at lon")
    expect(page.locator(".zone-item.new .problem")).to_have_count(1)
    expect(page.locator("#save-status")).to_contain_text("Nothing was saved")
    visit.screenshot("officer-zone-editor-bow-tie", tmp_path)

    assert zone_count(api) == before
    assert zones_named(api, f"Good rectangle {condition.tag}") == []
    assert api.get(f"/orders/{condition.order_id}").json()["version"] == 1
    clean(visit)


def test_a_drawn_circle_is_kept_as_a_fine_polygon_with_its_centre_and_radius(
    visit: Visit, api: httpx.Client
) -> None:
    condition = a_condition(api)
    page = visit.page
    open_editor(visit, condition)

    centre_px, edge_px = (250.0, 650.0), (350.0, 650.0)
    page.get_by_role("button", name="Draw Circle").click()
    click_map(page, centre_px)
    click_map(page, edge_px)
    circle = f"Circle {condition.tag}"
    page.get_by_label("Name (required)").fill(circle)
    page.get_by_role("button", name="Draw Rectangle").click()
    click_map(page, (600, 150))
    click_map(page, (800, 300))
    rectangle = f"Rectangle {condition.tag}"
    page.get_by_label("Name (required)").nth(1).fill(rectangle)
    page.get_by_label("Category").nth(1).fill("school")
    centre = lonlat(page, centre_px)
    radius = metres(centre, lonlat(page, edge_px))
    corners = [lonlat(page, p) for p in ((600, 150), (800, 150), (800, 300), (600, 300))]
    save(page, "Within 75 m of the address, and the school")
    expect(page.locator("#save-status")).to_contain_text("Saved", timeout=20_000)

    [stored] = zones_named(api, circle)
    drawing = stored["properties"]["drawing"]
    assert drawing["shape"] == "circle"
    assert metres(centre, tuple(drawing["center"])) < TOLERANCE_M
    assert drawing["radius_m"] == pytest.approx(radius, rel=0.01)
    [ring] = stored["geometry"]["coordinates"]
    assert len(ring) >= 65
    centre_stored = (drawing["center"][0], drawing["center"][1])
    for lon, lat in ring:  # the radius holds in metres on the Earth, all round
        assert metres(centre_stored, (lon, lat)) == pytest.approx(drawing["radius_m"], abs=0.01)
    [box] = zones_named(api, rectangle)
    assert box["properties"]["drawing"] == {"shape": "rectangle"}
    assert box["properties"]["category"] == "school"
    assert_ring(box["geometry"]["coordinates"][0], corners)
    order = api.get(f"/orders/{condition.order_id}").json()
    assert sorted(order["conditions"][0]["zone_ids"]) == sorted(
        [condition.zone_id, stored["id"], box["id"]]
    )
    expect(page.locator("#zone-list")).to_contain_text(circle)
    clean(visit)


# -- picking from the library -------------------------------------------------------------


def test_a_library_zone_is_picked_by_clicking_it(visit: Visit, api: httpx.Client) -> None:
    condition = a_condition(api)
    name = f"Library pond {condition.tag}"
    pond = make_zone(api, name, square(condition.lon + 0.0025, condition.lat, 0.0002))
    page = visit.page
    open_editor(visit, condition)

    label = page.locator(".context-label", has_text=name)
    expect(label).to_be_visible()
    where = page.evaluate(
        "([lon, lat]) => { const p = Zones.map().latLngToContainerPoint([lat, lon]); "
        "return [p.x, p.y]; }",
        [condition.lon + 0.0025, condition.lat + 0.0001],
    )
    click_map(page, (where[0], where[1]))
    expect(page.locator("#zone-list")).to_contain_text(name)
    expect(page.locator(".context-label", has_text=name)).to_have_count(0)  # now a zone of it
    save(page, "The pond is in the order too")
    expect(page.locator("#save-status")).to_contain_text("Saved", timeout=20_000)
    order = api.get(f"/orders/{condition.order_id}").json()
    assert sorted(order["conditions"][0]["zone_ids"]) == sorted([condition.zone_id, pond])
    clean(visit)


def test_a_library_zone_is_found_by_name_and_another_taken_off(
    visit: Visit, api: httpx.Client
) -> None:
    condition = a_condition(api)
    name = f"Far meadow {condition.tag}"
    meadow = make_zone(api, name, square(condition.lon + 0.05, condition.lat, 0.0002))
    page = visit.page
    open_editor(visit, condition)

    page.get_by_label("Find a library zone by name").fill(f"meadow {condition.tag}")
    page.get_by_role("button", name=f"Add {name}").click()
    expect(page.locator("#zone-list")).to_contain_text(name)
    page.get_by_role("button", name=f"Take off {condition.zone_name}").click()
    expect(page.locator("#zone-list")).not_to_contain_text(condition.zone_name)
    save(page, "Replaced by the meadow")
    expect(page.locator("#save-status")).to_contain_text("Saved", timeout=20_000)
    order = api.get(f"/orders/{condition.order_id}").json()
    assert order["conditions"][0]["zone_ids"] == [meadow]
    clean(visit)


# -- editing a zone other orders use too --------------------------------------------------


def another_order(api: httpx.Client, condition: Condition, reference: str) -> dict[str, Any]:
    """A second order of the subject that names the condition's zone too."""
    r = api.post(
        "/orders",
        json={
            "subject_id": condition.subject_id,
            "reference": reference,
            "type": "SRO",
            "starts": date.today().isoformat(),
            "conditions": [{"text": "The same area.", "zone_ids": [condition.zone_id]}],
        },
    )
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()
    return order


def drag_vertex(page: Page, frm: Point, to: Point) -> None:
    x0, y0 = map_origin(page)
    page.mouse.move(x0 + frm[0], y0 + frm[1])
    page.mouse.down()
    for step in range(1, 6):
        t = step / 5
        page.mouse.move(x0 + frm[0] + (to[0] - frm[0]) * t, y0 + frm[1] + (to[1] - frm[1]) * t)
    page.mouse.up()


def test_a_shared_zone_edited_here_is_copied_for_this_order_alone(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    condition = a_condition(api)
    other = another_order(api, condition, f"SRO/ED/{condition.tag}")
    before = api.get(f"/zones/{condition.zone_id}").json()
    page = visit.page
    open_editor(visit, condition)

    corner = page.evaluate(
        "([lon, lat]) => { const p = Zones.map().latLngToContainerPoint([lat, lon]); "
        "return [p.x, p.y]; }",
        [condition.lon + 0.00015, condition.lat + 0.00015],
    )
    page.get_by_role("button", name="Edit Layers").click()
    drag_vertex(page, (corner[0], corner[1]), (corner[0] + 60, corner[1] - 50))
    page.get_by_role("button", name="Edit Layers").click()  # done editing
    expect(page.locator("#zone-list")).to_contain_text("Shape changed here")
    save(page, "The court's new map moves the corner")

    warning = page.locator("#shared-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(f"SRO/ED/{condition.tag}")
    clean(visit)
    visit.screenshot("officer-zone-editor-shared", tmp_path)
    page.get_by_role("button", name="Copy it for this order alone").click()
    expect(page.locator("#save-status")).to_contain_text("Saved", timeout=20_000)

    # the other order keeps the zone as it was; this order names a copy with the new corner
    assert api.get(f"/zones/{condition.zone_id}").json() == before
    [clause] = api.get(f"/orders/{condition.order_id}").json()["conditions"]
    [copy_id] = clause["zone_ids"]
    assert copy_id != condition.zone_id
    copy = api.get(f"/zones/{copy_id}").json()
    moved = lonlat(page, (corner[0] + 60, corner[1] - 50))
    assert min(metres(moved, (p[0], p[1])) for p in copy["geometry"]["coordinates"][0]) < 3
    other_clause = api.get(f"/orders/{other['id']}").json()["conditions"][0]
    assert other_clause["zone_ids"] == [condition.zone_id]
    clean(visit)


def test_a_shared_zone_can_be_changed_for_every_order(visit: Visit, api: httpx.Client) -> None:
    condition = a_condition(api)
    other = another_order(api, condition, f"SRO/ED2/{condition.tag}")
    page = visit.page
    open_editor(visit, condition)
    corner = page.evaluate(
        "([lon, lat]) => { const p = Zones.map().latLngToContainerPoint([lat, lon]); "
        "return [p.x, p.y]; }",
        [condition.lon - 0.00015, condition.lat - 0.00015],
    )
    page.get_by_role("button", name="Edit Layers").click()
    drag_vertex(page, (corner[0], corner[1]), (corner[0] - 50, corner[1] + 40))
    page.get_by_role("button", name="Edit Layers").click()
    save(page, "Corner surveyed again")
    page.get_by_role("button", name="Change it for every order").click()
    expect(page.locator("#save-status")).to_contain_text("Saved", timeout=20_000)

    versions = api.get(f"/zones/{condition.zone_id}/versions").json()["features"]
    assert [v["properties"]["version"] for v in versions] == [1, 2]
    assert versions[1]["properties"]["reason"] == "Corner surveyed again"
    for order_id in (condition.order_id, other["id"]):
        [clause] = api.get(f"/orders/{order_id}").json()["conditions"]
        assert clause["zone_ids"] == [condition.zone_id]
    clean(visit)


# -- importing a file ------------------------------------------------------------------------


def feature(name: str, geometry: dict[str, Any], category: str = "park") -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": name, "leisure": category},
            "geometry": geometry}  # fmt: skip


def test_an_uploaded_geojson_is_reviewed_and_one_of_its_shapes_saved(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    condition = a_condition(api)
    first, second = f"Upload park {condition.tag}", f"Upload pitch {condition.tag}"
    path = tmp_path / "areas.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    feature(first, square(condition.lon, condition.lat + 0.002, 0.0004)),
                    feature(second, square(condition.lon + 0.002, condition.lat, 0.0003), "pitch"),
                ],
            }
        )
    )
    page = visit.page
    query = f"?order_id={condition.order_id}&clause_id={condition.clause_id}"
    visit.open_as(f"/library/import{query}", OFFICER)
    visit.wait_for_map()
    expect(page.locator("#target")).to_contain_text(f"SHPO/ED/{condition.tag}")
    page.get_by_label("File to import").set_input_files(path)
    page.get_by_role("button", name="Read the file").click()
    expect(page.locator("#shape-list > li")).to_have_count(2)
    expect(page.get_by_label("Name").nth(0)).to_have_value(first)
    expect(page.get_by_label("Why are they added?")).to_have_value("imported from areas.geojson")
    page.get_by_label("Keep shape 2").uncheck()
    page.get_by_label("Name").nth(0).fill(f"{first} (renamed)")
    page.get_by_label("Category").nth(0).fill("playground")
    clean(visit)
    visit.screenshot("officer-zone-import", tmp_path)
    page.get_by_role("button", name="Save 1 kept shape").click()
    expect(page.locator("#save-status")).to_contain_text("Saved 1 zone", timeout=20_000)

    [saved] = zones_named(api, f"{first} (renamed)")
    assert saved["properties"]["category"] == "playground"
    assert saved["properties"]["reason"] == "imported from areas.geojson"
    assert zones_named(api, second) == []
    order = api.get(f"/orders/{condition.order_id}").json()
    assert sorted(order["conditions"][0]["zone_ids"]) == sorted([condition.zone_id, saved["id"]])
    expect(page.get_by_role("link", name=f"{first} (renamed)")).to_have_attribute(
        "href", f"/zones/{saved['id']}"
    )
    clean(visit)


def test_an_upload_in_the_editor_joins_the_new_zones_for_review(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    condition = a_condition(api)
    name = f"From the file {condition.tag}"
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(name, square(condition.lon, condition.lat + 0.001, 0.0002))]}))  # fmt: skip
    page = visit.page
    open_editor(visit, condition)
    page.get_by_label("Shapes from a file").set_input_files(path)
    page.get_by_role("button", name="Read the file").click()
    expect(page.get_by_label("Name (required)")).to_have_value(name)
    save(page, "The court's map as a file")
    expect(page.locator("#save-status")).to_contain_text("Saved", timeout=20_000)
    [saved] = zones_named(api, name)
    order = api.get(f"/orders/{condition.order_id}").json()
    assert saved["id"] in order["conditions"][0]["zone_ids"]
    clean(visit)


# -- history -------------------------------------------------------------------------------


def test_the_history_shows_every_version_and_draws_an_earlier_one(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    condition = a_condition(api)
    r = api.put(
        f"/zones/{condition.zone_id}",
        params={"order_id": condition.order_id},
        json={
            "type": "Feature",
            "geometry": square(condition.lon, condition.lat, 0.0003),
            "properties": {"name": condition.zone_name, "category": "park",
                           "reason": "Court varied the order: a larger area"},
        },
    )  # fmt: skip
    assert r.status_code == 200, r.text
    page = visit.page
    visit.open_as(f"/zones/{condition.zone_id}", OFFICER)
    visit.wait_for_map()
    expect(page.locator("#zone-title")).to_have_text(condition.zone_name)
    versions = page.locator("#version-list > li")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_contain_text("Court varied the order: a larger area")
    expect(versions.nth(0)).to_contain_text("officer")
    expect(versions.nth(1)).to_contain_text("test set-up")
    expect(versions.nth(0)).to_contain_text(LOCAL_TIME)
    expect(page.get_by_label("Version 1")).to_be_checked()
    expect(page.locator("#legend")).to_contain_text("Earlier: version 1")
    expect(page.locator("#compare-summary")).to_contain_text("Version 1:")
    expect(page.locator(".leaflet-overlay-pane path[stroke-dasharray='8 6']")).to_have_count(1)
    expect(page.locator("#order-list")).to_contain_text(f"SHPO/ED/{condition.tag}")
    expect(page.get_by_role("link", name="Clause 1")).to_have_attribute("href", condition.editor)
    clean(visit)
    visit.screenshot("officer-zone-history", tmp_path)


# -- safety and access -----------------------------------------------------------------------


def test_user_text_is_shown_as_text_on_the_zone_pages(visit: Visit, api: httpx.Client) -> None:
    condition = a_condition(api, subject_name=INJECTIONS[0])
    names = [f"{text} {condition.tag}-{i}" for i, text in enumerate(INJECTIONS)]
    for i, name in enumerate(names):
        make_zone(api, name, square(condition.lon + 0.0008 * (i + 1), condition.lat, 0.0001))
    page = visit.page
    open_editor(visit, condition)
    expect(page.locator("#clause-facts")).to_contain_text(INJECTIONS[0])
    expect(page.locator(".context-label", has_text=names[1])).to_be_visible()
    page.get_by_label("Find a library zone by name").fill(f"{condition.tag}-")
    expect(page.locator("#search-results li")).to_have_count(len(names))
    page.get_by_role("button", name=f"Add {names[1]}").click()
    expect(page.locator("#zone-list")).to_contain_text(names[1])
    visit.no_script_ran()
    page.wait_for_load_state("networkidle")  # leaving mid-request would abort it
    [zone] = zones_named(api, names[2])
    visit.page.goto(f"/zones/{zone['id']}")
    expect(page.locator("#zone-title")).to_have_text(names[2])
    visit.no_script_ran()
    assert visit.problems() == {}


def test_the_zone_pages_are_for_officers(visit: Visit, api: httpx.Client) -> None:
    condition = a_condition(api)
    visit.open_as("/", CONTROL)
    for path in (condition.editor, "/library/import", f"/zones/{condition.zone_id}"):
        response = visit.page.goto(path)
        assert response is not None and response.status == 403, path
    visit.page.goto("/")


def test_unknown_orders_clauses_and_zones_are_not_found(visit: Visit, api: httpx.Client) -> None:
    condition = a_condition(api)
    visit.open_as("/", OFFICER)
    for path in (
        f"/orders/{condition.order_id}/clauses/{condition.clause_id + 100000}/zones",
        f"/orders/99999999/clauses/{condition.clause_id}/zones",
        "/orders/99999999999/clauses/1/zones",
        "/zones/99999999",
        f"/library/import?order_id={condition.order_id}&clause_id=99999999",
    ):
        response = visit.page.goto(path)
        assert response is not None and response.status == 404, path
