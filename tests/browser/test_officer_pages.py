"""The officer's subjects and orders, through the pages alone, with real keyboard and mouse:
a subject recorded and found again, an order with two conditions (one picking two library
zones by typing, one with a buffer and no zone yet), its page with the "no zones yet"
warning, a clause re-worded with a reason and both wordings in the version history; and the
zone library.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import INJECTIONS, OFFICER, Visit
from tests.service.conftest import square, zone_feature

pytestmark = pytest.mark.browser

WHERE = (0.2150, 52.1850)  # a corner of the demo's map that no demo zone covers
FIRST_WORDING = "Not to enter Quagga Park\nor Quagga Green,\nnor any part of either."
NEW_WORDING = "Not to enter Quagga Park or Quagga Green\n(as varied on appeal)."
SECOND_WORDING = "Not to go within 150 metres of the area shown on map B."
REASON = "Wording varied by the Crown Court on appeal"


def library_zone(api: httpx.Client, name: str, dx: float) -> dict[str, Any]:
    geometry = square(WHERE[0] + dx, WHERE[1], 0.0015)
    r = api.post("/zones", json=zone_feature(geometry, name, "park"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def type_into(page: Page, field: Locator, text: str) -> None:
    """Click into a field, clear it, and type ``text`` key by key (Enter for a line break)."""
    field.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    for i, line in enumerate(text.split("\n")):
        if i:
            page.keyboard.press("Enter")
        page.keyboard.type(line)


def condition(page: Page, number: int) -> Locator:
    return page.locator(".condition-card").nth(number - 1)


def pick_zone(page: Page, card: Locator, typed: str, name: str, *, with_mouse: bool) -> None:
    """Type part of a zone's name into a condition's picker and pick it from the list."""
    field = card.get_by_label("Add a zone from the library")
    field.click()
    page.keyboard.type(typed)
    option = card.get_by_role("option", name=re.compile(re.escape(name)))
    expect(option).to_be_visible()
    if with_mouse:
        box = option.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    else:
        expect(field).to_have_attribute("aria-activedescendant", re.compile(r".+"))
        page.keyboard.press("Enter")
    expect(card.locator(".chip", has_text=name)).to_be_visible()
    expect(field).to_have_value("")


def test_an_officer_records_a_subject_and_an_order_and_rewords_a_clause(
    visit: Visit, api: httpx.Client, tmp_path: Any
) -> None:
    tag = uuid.uuid4().hex[:8]
    park = library_zone(api, f"Quagga Park {tag}", 0.0)
    green = library_zone(api, f"Quagga Green {tag}", 0.004)
    page = visit.page

    # A subject, through the form.
    visit.open_as("/subjects/new", OFFICER)
    reference = f"OFF-{tag}"
    name = f"Quentin Quagga-{tag}"
    type_into(page, page.get_by_label(re.compile(r"^Reference")), reference)
    type_into(page, page.get_by_label("Name", exact=True), name)
    page.get_by_label("Risk level").select_option("high")
    type_into(page, page.get_by_label("Managing officer"), "PC 4321 Tester")
    expect(page.get_by_label("Unit")).to_have_value("cambs-ppu-city")  # the officer's one unit
    page.get_by_role("button", name="Record the subject").click()
    expect(page).to_have_url(re.compile(r"/subjects/\d+$"))
    subject_id = int(page.url.rsplit("/", 1)[1])
    expect(
        page.get_by_role("status").filter(has_text=f"Subject {reference} recorded")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_text("No orders recorded for this subject yet.")).to_be_visible()

    # Found again by typing part of the name, in any case.
    page.get_by_role("link", name="Subjects and orders").click()
    expect(page.locator("#subject-count")).to_contain_text("recorded")  # the list has loaded
    search = page.get_by_role("searchbox", name="Find a subject")
    search.click()
    page.keyboard.type(f"quagga-{tag}")
    rows = page.locator("#subject-rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(reference)
    expect(rows.first).to_contain_text("high")
    expect(rows.first).to_contain_text("none")  # no orders yet
    assert visit.axe_violations() == []
    rows.first.get_by_role("link", name=reference).click()
    expect(page).to_have_url(re.compile(rf"/subjects/{subject_id}$"))
    expect(page.get_by_text("No orders recorded for this subject yet.")).to_be_visible()

    # An order with two conditions.
    page.get_by_role("link", name="New order").click()
    expect(page).to_have_url(re.compile(rf"/subjects/{subject_id}/orders/new$"))
    expect(page.locator("#order-form-subject")).to_contain_text(reference)
    order_ref = f"SHPO/OFF/{tag}"
    type_into(page, page.get_by_label("Order reference"), order_ref)
    page.get_by_label("Type").select_option("SHPO")
    type_into(page, page.get_by_label("Court"), "Cambridge Crown Court")
    page.get_by_label("In force from").fill("2026-01-05")
    page.get_by_label("Until").fill("2031-01-04")
    first = condition(page, 1)
    type_into(page, first.get_by_label("Clause text, word for word"), FIRST_WORDING)
    pick_zone(page, first, f"park {tag}", park["properties"]["name"], with_mouse=False)
    pick_zone(page, first, f"GREEN {tag}", green["properties"]["name"], with_mouse=True)
    expect(first.locator(".warning")).to_be_hidden()
    page.get_by_role("button", name="Add a condition").click()
    second = condition(page, 2)
    expect(second.get_by_label("Clause text, word for word")).to_be_focused()
    page.keyboard.type(SECOND_WORDING)
    type_into(page, second.get_by_label("Buffer (metres)"), "150")
    expect(second.locator(".warning")).to_contain_text("No zones yet")
    assert visit.axe_violations() == []
    page.get_by_role("button", name="Record the order").click()

    # Its page: both conditions, the warning for the one without zones, the zones mapped.
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#order-title")).to_have_text(f"SHPO {order_ref}")
    clauses = page.locator(".clause-item")
    expect(clauses).to_have_count(2)
    expect(clauses.nth(0).locator(".clause-text")).to_have_text(FIRST_WORDING)
    expect(clauses.nth(0)).to_contain_text(park["properties"]["name"])
    expect(clauses.nth(0)).to_contain_text(green["properties"]["name"])
    expect(clauses.nth(0).locator(".warning")).to_have_count(0)
    expect(clauses.nth(1)).to_contain_text("150 m")
    expect(clauses.nth(1).locator(".warning")).to_have_text(
        "No zones yet: this clause is judged against nothing."
    )
    draw = clauses.nth(1).get_by_role("link", name=re.compile("Draw or pick zones"))
    clause_2 = api.get(f"/orders/{order_id}").json()["conditions"][1]["clause_id"]
    expect(draw).to_have_attribute("href", f"/orders/{order_id}/clauses/{clause_2}/zones")
    visit.wait_for_map()
    labels = page.locator(".leaflet-tooltip.zone-label")
    expect(labels.filter(has_text=park["properties"]["name"])).to_have_count(1)
    expect(labels.filter(has_text=green["properties"]["name"])).to_have_count(1)
    expect(page.locator("#order-versions > li")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    assert visit.problems() == {}
    assert visit.axe_violations() == []
    visit.screenshot("officer-order", tmp_path)

    # Re-word clause 1, with a reason.
    page.get_by_role("link", name="Edit the order").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_id}/edit$"))
    first = condition(page, 1)
    text = first.get_by_label("Clause text, word for word")
    expect(text).to_have_value(FIRST_WORDING)
    expect(first.locator(".chip")).to_have_count(2)
    type_into(page, text, NEW_WORDING)
    type_into(page, page.get_by_label("Why is the order changed?"), REASON)
    page.get_by_role("button", name="Save as a new version").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_id}$"))
    expect(page.get_by_text("Version 2 saved.")).to_be_visible()
    expect(page.locator(".clause-item").nth(0).locator(".clause-text")).to_have_text(NEW_WORDING)

    # The version history: who, when, why, and both wordings.
    versions = page.locator("#order-versions > li")
    expect(versions).to_have_count(2)
    latest = versions.nth(0)
    expect(latest.get_by_role("heading")).to_have_text("Version 2 (current)")
    expect(latest).to_contain_text("officer")
    expect(latest).to_contain_text(REASON)
    expect(latest).to_contain_text(re.compile(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d (GMT|BST)"))
    expect(latest).to_contain_text("Clause 1 re-worded")
    expect(latest.locator(".wording.before .clause-text")).to_have_text(FIRST_WORDING)
    expect(latest.locator(".wording.after .clause-text")).to_have_text(NEW_WORDING)
    expect(versions.nth(1)).to_contain_text("Recorded with 2 conditions")
    page.wait_for_load_state("networkidle")
    assert visit.problems() == {}
    assert visit.axe_violations() == []

    # The API holds exactly what was typed; version 1 keeps the first wording.
    now = api.get(f"/orders/{order_id}").json()
    assert now["version"] == 2 and now["created_by"] == "officer" and now["reason"] == REASON
    assert (now["subject_id"], now["reference"], now["type"]) == (subject_id, order_ref, "SHPO")
    assert (now["court"], now["starts"], now["ends"]) == (
        "Cambridge Crown Court",
        "2026-01-05",
        "2031-01-04",
    )
    assert now["status"] == "active"
    got = [(c["text"], sorted(c["zone_ids"]), c["buffer_m"]) for c in now["conditions"]]
    assert got == [
        (NEW_WORDING, sorted([park["id"], green["id"]]), 0.0),
        (SECOND_WORDING, [], 150.0),
    ]
    first_version = api.get(f"/orders/{order_id}", params={"version": 1}).json()
    assert [c["text"] for c in first_version["conditions"]] == [FIRST_WORDING, SECOND_WORDING]
    assert [c["clause_id"] for c in first_version["conditions"]] == [
        c["clause_id"] for c in now["conditions"]
    ]
    subject = api.get(f"/subjects/{subject_id}").json()
    assert (subject["reference"], subject["name"], subject["risk_level"]) == (
        reference,
        name,
        "high",
    )
    assert (subject["officer"], subject["unit"], subject["photo_ref"]) == (
        "PC 4321 Tester",
        "cambs-ppu-city",
        None,
    )

    # The subject's page lists the order.
    page.get_by_role("link", name=re.compile(re.escape(reference))).first.click()
    expect(page).to_have_url(re.compile(rf"/subjects/{subject_id}$"))
    card = page.locator(".order-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(f"SHPO {order_ref}")
    expect(card).to_contain_text("1 condition has no zones yet")
    expect(page.get_by_role("link", name=re.compile("Track and alerts"))).to_have_attribute(
        "href", f"/subjects/{subject_id}/track"
    )
    page.wait_for_load_state("networkidle")
    assert visit.problems() == {}
    assert visit.axe_violations() == []
    visit.screenshot("officer-subject", tmp_path)


def existing_subject(api: httpx.Client) -> dict[str, Any]:
    reference = f"DUP-{uuid.uuid4().hex[:8]}"
    r = api.post("/subjects", json={"reference": reference, "name": "Already Here"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def record_subject(page: Page, reference: str, name: str) -> None:
    type_into(page, page.get_by_label(re.compile(r"^Reference")), reference)
    type_into(page, page.get_by_label("Name", exact=True), name)
    page.get_by_role("button", name="Record the subject").click()


def refused_at_the_reference(page: Page) -> Locator:
    field = page.get_by_label(re.compile(r"^Reference"))
    expect(page.locator("#subject-reference-error")).to_contain_text("already exists")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(page).to_have_url(re.compile(r"/subjects/new$"))
    return field


def test_a_duplicate_reference_is_shown_at_the_field(visit: Visit, api: httpx.Client) -> None:
    other = existing_subject(api)
    page = visit.page
    visit.open_as("/subjects/new", OFFICER)
    record_subject(page, other["reference"], "Someone Else")
    field = refused_at_the_reference(page)
    link = page.locator("#subject-reference-error").get_by_role("link")
    expect(link).to_have_attribute("href", f"/subjects/{other['id']}")
    assert visit.problems() == {}
    assert visit.axe_violations() == []
    names = [s["name"] for s in api.get("/subjects", params={"q": other["reference"]}).json()]
    assert names == ["Already Here"]
    # Corrected, it is recorded.
    type_into(page, field, other["reference"] + "-B")
    page.get_by_role("button", name="Record the subject").click()
    expect(page).to_have_url(re.compile(r"/subjects/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Someone Else")


def test_the_apis_409_for_a_duplicate_reference_is_shown_at_the_field(
    visit: Visit, api: httpx.Client
) -> None:
    """When the reference is taken between the page's look-up and its save (the look-up is
    made to find nothing here), the API's 409 lands at the field too."""
    other = existing_subject(api)
    page = visit.page
    page.route(
        re.compile(r".*/api/v1/subjects\?q=.*"),
        lambda route: route.fulfill(status=200, json=[]),
    )
    visit.open_as("/subjects/new", OFFICER)
    record_subject(page, other["reference"], "Someone Else")
    refused_at_the_reference(page)
    # The browser logs the refused request itself; nothing else went wrong.
    problems = visit.problems()
    console = problems.pop("errors in the console", [])
    assert problems == {}
    assert len(console) == 1 and "409" in console[0], console


def new_subject(api: httpx.Client, name: str) -> dict[str, Any]:
    r = api.post("/subjects", json={"reference": f"OFF-{uuid.uuid4().hex[:8]}", "name": name})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_conditions_are_added_reordered_and_removed_and_a_refusal_lands_at_its_field(
    visit: Visit, api: httpx.Client
) -> None:
    subject = new_subject(api, "Rita Reorder")
    page = visit.page
    visit.open_as(f"/subjects/{subject['id']}/orders/new", OFFICER)
    order_ref = f"SRO/OFF/{uuid.uuid4().hex[:8]}"
    type_into(page, page.get_by_label("Order reference"), order_ref)
    page.get_by_label("Type").select_option("SRO")
    page.get_by_label("In force from").fill("2026-02-01")
    page.get_by_label("Until").fill("2026-01-01")  # before it starts: named at the field
    type_into(page, condition(page, 1).get_by_label("Clause text, word for word"), "Clause A.")
    for text in ("Clause B.", "Clause C."):
        page.get_by_role("button", name="Add a condition").click()
        page.keyboard.type(text)
    third = condition(page, 3)
    third.get_by_role("button", name=re.compile("^Move up")).click()
    expect(condition(page, 2).get_by_role("heading")).to_have_text("Condition 2")
    expect(condition(page, 2).get_by_label("Clause text, word for word")).to_have_value("Clause C.")
    expect(condition(page, 2).get_by_role("button", name=re.compile("^Move up"))).to_be_focused()
    condition(page, 1).get_by_role("button", name=re.compile("^Remove")).click()
    texts = page.locator(".condition-card textarea")
    expect(texts).to_have_count(2)
    expect(texts.nth(0)).to_have_value("Clause C.")
    expect(texts.nth(1)).to_have_value("Clause B.")
    type_into(page, condition(page, 2).get_by_label("Buffer (metres)"), "60000")
    page.get_by_role("button", name="Record the order").click()
    expect(page.locator("#order-ends-error")).to_contain_text("cannot end before")
    expect(page.get_by_label("Until")).to_be_focused()
    page.get_by_label("Until").fill("")

    # The API refuses the buffer (over 50 km): named at condition 2's buffer.
    page.get_by_role("button", name="Record the order").click()
    buffer = condition(page, 2).get_by_label("Buffer (metres)")
    expect(condition(page, 2).locator(".buffer-field .field-error")).to_contain_text("50000")
    expect(buffer).to_have_attribute("aria-invalid", "true")
    expect(buffer).to_be_focused()
    expect(page.locator("#order-ends-error")).to_be_hidden()
    problems = visit.problems()
    console = problems.pop("errors in the console", [])
    assert problems == {} and len(console) == 1 and "422" in console[0], console
    assert visit.axe_violations() == []

    type_into(page, buffer, "25")
    page.get_by_role("button", name="Record the order").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order = api.get(f"/orders/{page.url.rsplit('/', 1)[1]}").json()
    assert (order["reference"], order["type"], order["starts"], order["ends"]) == (
        order_ref,
        "SRO",
        "2026-02-01",
        None,
    )
    got = [(c["number"], c["text"], c["buffer_m"], c["zone_ids"]) for c in order["conditions"]]
    assert got == [(1, "Clause C.", 0.0, []), (2, "Clause B.", 25.0, [])]
    expect(page.locator(".clause-item .warning")).to_have_count(2)


def test_an_order_is_marked_revoked_with_a_reason(visit: Visit, api: httpx.Client) -> None:
    subject = new_subject(api, "Rory Revoked")
    r = api.post(
        "/orders",
        json={
            "subject_id": subject["id"],
            "reference": f"LIC/{uuid.uuid4().hex[:8]}",
            "type": "licence",
            "starts": "2025-06-01",
            "conditions": [{"text": "Not to enter the area on map C.", "buffer_m": 40}],
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    page = visit.page
    visit.open_as(f"/orders/{order['id']}", OFFICER)
    expect(page.locator("#order-facts")).to_contain_text("in force")
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Mark it revoked").click()
    expect(page.get_by_label(re.compile("^Revoked"))).to_be_checked()
    reason = page.get_by_label("Why is the order changed?")
    expect(reason).to_be_focused()
    page.keyboard.type("Quashed on appeal")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order['id']}$"))
    expect(page.locator("#order-facts .badge")).to_have_text("revoked")
    latest = page.locator("#order-versions > li").first
    expect(latest).to_contain_text("Status: active → revoked")
    expect(latest).to_contain_text("Quashed on appeal")
    now = api.get(f"/orders/{order['id']}").json()
    assert (now["status"], now["version"], now["reason"]) == ("revoked", 2, "Quashed on appeal")
    assert now["conditions"][0]["clause_id"] == order["conditions"][0]["clause_id"]
    assert now["conditions"][0]["text"] == "Not to enter the area on map C."
    page.wait_for_load_state("networkidle")
    assert visit.problems() == {}


def test_the_zone_library_finds_zones_and_names_the_orders_using_them(
    visit: Visit, api: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    used = library_zone(api, f"Ibex Meadow {tag}", 0.010)
    r = api.post(
        "/zones",
        json=zone_feature(square(WHERE[0] + 0.014, WHERE[1]), f"Ibex School {tag}", "school"),
    )
    assert r.status_code == 201, r.text
    school = r.json()
    subject = new_subject(api, "Libby Library")
    r = api.post(
        "/orders",
        json={
            "subject_id": subject["id"],
            "reference": f"SHPO/LIB/{tag}",
            "starts": "2025-01-01",
            "conditions": [
                {"text": "Not to enter the school.", "zone_ids": [school["id"]]},
                {"text": "Not to enter Ibex Meadow.", "zone_ids": [used["id"]]},
            ],
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    unused = library_zone(api, f"Ibex Common {tag}", 0.018)
    page = visit.page
    visit.open_as("/library", OFFICER)
    visit.wait_for_map()
    expect(page.get_by_role("link", name="Import zones from a file")).to_have_attribute(
        "href", "/library/import"
    )
    page.get_by_role("searchbox", name="Find zones by name").click()
    page.keyboard.type(tag)
    items = page.locator(".library-item")
    expect(items).to_have_count(3)
    meadow = items.filter(has_text=used["properties"]["name"])
    expect(meadow.get_by_role("link", name=used["properties"]["name"])).to_have_attribute(
        "href", f"/zones/{used['id']}"
    )
    expect(meadow.get_by_role("link", name=f"SHPO SHPO/LIB/{tag}")).to_have_attribute(
        "href", f"/orders/{order['id']}"
    )
    expect(meadow).to_contain_text("(clause 2)")
    expect(items.filter(has_text=unused["properties"]["name"])).to_contain_text("No order uses it.")
    labels = page.locator(".leaflet-tooltip.zone-label")
    expect(labels.filter(has_text=tag)).to_have_count(3)
    expect(page).to_have_url(re.compile(rf"/library\?q={tag}$"))

    page.get_by_label("Category").select_option("school")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(school["properties"]["name"])
    expect(items.first).to_contain_text("(clause 1)")
    page.wait_for_load_state("networkidle")
    assert visit.problems() == {}
    assert visit.axe_violations() == []


def test_planted_text_shows_as_text_on_every_officer_page(
    new_visit: Callable[[], Visit], api: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]

    def nasty(i: int) -> str:
        return f"{INJECTIONS[i % len(INJECTIONS)]} {tag}#{i}"

    r = api.post("/zones", json=zone_feature(square(WHERE[0], WHERE[1] + 0.01), nasty(0), "park"))
    assert r.status_code == 201, r.text
    zone = r.json()
    r = api.post(
        "/subjects",
        json={
            "reference": f"X{tag}{nasty(1)}"[:64],
            "name": nasty(2),
            "risk_level": nasty(3)[:20],
            "officer": nasty(4),
            "photo_ref": nasty(6),
        },
    )
    assert r.status_code == 201, r.text
    subject = r.json()
    body = {
        "subject_id": subject["id"],
        "reference": nasty(7),
        "court": nasty(8),
        "starts": "2025-01-01",
        "conditions": [
            {"text": nasty(9), "zone_ids": [zone["id"]], "buffer_m": 30},
            {"text": nasty(10)},
        ],
    }
    r = api.post("/orders", json=body)
    assert r.status_code == 201, r.text
    order = r.json()
    body["conditions"][0] |= {"text": nasty(11), "clause_id": order["conditions"][0]["clause_id"]}
    r = api.put(f"/orders/{order['id']}", json=body | {"reason": nasty(12)})
    assert r.status_code == 200, r.text
    pages = [
        f"/subjects?q={tag}",
        f"/subjects/{subject['id']}",
        f"/subjects/{subject['id']}/orders/new",
        f"/orders/{order['id']}",
        f"/orders/{order['id']}/edit",
        f"/library?q={tag}",
    ]
    for path in pages:
        visit = new_visit()
        visit.open_as(path, OFFICER)
        page = visit.page
        page.wait_for_load_state("networkidle")
        if "/orders/new" in path:  # the planted zone, offered by the picker
            page.get_by_label("Add a zone from the library").click()
            page.keyboard.type(tag)
            expect(page.get_by_role("listbox").get_by_role("option")).to_have_count(1)
        shown = page.locator("body").inner_text()
        assert f"{tag}#" in shown, f"{path} shows none of the planted text"
        visit.no_script_ran()
        assert visit.problems() == {}, path
        assert visit.axe_violations() == [], path
    # The wordings of both versions, and the reason, are shown as typed.
    history = page_text(new_visit, f"/orders/{order['id']}")
    for i in (9, 11, 12):
        assert nasty(i) in history


def page_text(new_visit: Callable[[], Visit], path: str) -> str:
    visit = new_visit()
    visit.open_as(path, OFFICER)
    expect(visit.page.locator("#order-versions > li")).to_have_count(2)
    return visit.page.locator("body").inner_text()


def test_a_subjects_details_are_changed_in_place(visit: Visit, api: httpx.Client) -> None:
    r = api.post(
        "/subjects",
        json={
            "reference": f"OFF-{uuid.uuid4().hex[:8]}",
            "name": "Ed Edit",
            "risk_level": "MAPPA 2",
        },
    )
    assert r.status_code == 201, r.text
    subject = r.json()
    page = visit.page
    visit.open_as(f"/subjects/{subject['id']}", OFFICER)
    risk = page.get_by_label("Risk level")
    expect(risk).to_have_value("MAPPA 2")  # a level recorded elsewhere is kept, not blanked
    expect(page.get_by_label("Unit")).to_have_value("cambs-ppu-city")
    type_into(page, page.get_by_label(re.compile("^Custody photo reference")), "CUSTODY/9")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#subject-status")).to_contain_text("Saved at")
    expect(page).to_have_url(re.compile(rf"/subjects/{subject['id']}$"))
    got = api.get(f"/subjects/{subject['id']}").json()
    assert (got["unit"], got["photo_ref"], got["risk_level"], got["name"]) == (
        "cambs-ppu-city",
        "CUSTODY/9",
        "MAPPA 2",
        "Ed Edit",
    )
    assert visit.problems() == {}
