"""A tour of the workspaces on a pristine demo, as each kind of user meets them; it makes the
README's screenshots (``ZONES_SCREENSHOT_DIR=docs/screenshots``).

It has a server and database of its own, loaded with the demo and touched by nothing else,
so the pictures show the demo as a newcomer's ``./dev.sh run`` shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import (
    CONTROL,
    OFFICER,
    SUPERVISOR,
    Visit,
    api_client,
    demo_database,
    open_visit,
    serve_demo,
)
from zones.gridref import grid_reference_of

pytestmark = pytest.mark.browser

PARKERS_PIECE = (0.1280, 52.2024)


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with demo_database("tour") as url, serve_demo(url) as base:
        yield base


@pytest.fixture
def tour(browser: Browser, demo_url: str) -> Iterator[Visit]:
    context: BrowserContext
    context, seen = open_visit(browser, demo_url)
    yield seen
    context.close()


def settle(visit: Visit) -> None:
    page = visit.page
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim')")
    page.wait_for_timeout(500)


def test_the_officer_sees_an_order_and_its_zone_editor(tour: Visit, tmp_path: Path) -> None:
    page = tour.page
    tour.open_as("/orders/1", OFFICER)
    tour.wait_for_map()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SHPO/CAM/2026/0141")
    expect(page.locator("main")).to_contain_text("Not to enter any public park")
    expect(page.locator(".leaflet-tooltip", has_text="Parker's Piece")).to_be_visible()
    settle(tour)
    tour.screenshot("officer-order", tmp_path, docs=True)

    clause = httpx.get(f"{tour.base_url}/api/v1/orders/1", headers=auth(tour.base_url, OFFICER))
    school = clause.json()["conditions"][1]
    tour.open_as(f"/orders/1/clauses/{school['clause_id']}/zones", OFFICER)
    tour.wait_for_map()
    expect(page.locator("main")).to_contain_text("St Luke's Primary School")
    settle(tour)
    tour.screenshot("officer-zone-editor", tmp_path, docs=True)
    assert tour.problems() == {}


def test_an_officer_plays_back_a_track(tour: Visit, tmp_path: Path) -> None:
    page = tour.page
    tour.open_as("/subjects/1/track", OFFICER)
    tour.wait_for_map()
    expect(page.locator("main")).to_contain_text("CAM-DEMO-1")
    settle(tour)
    slider = page.get_by_role("slider").first
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(27):  # fix by fix, to the walk across Parker's Piece
        page.keyboard.press("PageUp")
    expect(page.locator("main")).to_contain_text("In a zone: Parker's Piece")
    settle(tour)
    tour.screenshot("subject-track", tmp_path, docs=True)
    assert tour.problems() == {}


def test_the_control_room_checks_a_sighting_by_grid_reference(tour: Visit, tmp_path: Path) -> None:
    page = tour.page
    tour.open_as("/check", CONTROL)
    tour.wait_for_map()
    box = page.get_by_role("combobox", name="Subject", exact=True)
    box.click()
    box.press_sequentially("DEMO-1", delay=20)
    option = page.get_by_role("option", name=re.compile("CAM-DEMO-1"))
    expect(option).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    grid = page.get_by_label("OS grid reference")
    grid.fill(grid_reference_of(*PARKERS_PIECE, 6))
    grid.press("Enter")
    page.get_by_label("Who saw the subject").select_option(label="Member of the public")
    page.get_by_label("Source details").fill("caller by the cricket pavilion")
    page.get_by_role("button", name="Check the sighting").click()
    answer = page.locator("#answer")
    expect(answer.locator(".headline")).to_have_text("Breach")
    expect(answer).to_contain_text("Parker's Piece")
    expect(answer).to_contain_text("Not to enter any public park in the City of Cambridge.")
    settle(tour)
    tour.screenshot("control-room-check", tmp_path, docs=True)
    assert tour.problems() == {}


def test_the_supervisor_works_the_alert_desk(tour: Visit, tmp_path: Path) -> None:
    page = tour.page
    alerts = httpx.get(
        f"{tour.base_url}/api/v1/alerts",
        params={"handling": "unhandled"},
        headers=auth(tour.base_url, SUPERVISOR),
    ).json()
    chosen = alerts[-1]  # the oldest unhandled alert of the demo
    tour.open_as(f"/desk?alert={chosen['id']}", SUPERVISOR)
    tour.wait_for_map()
    expect(page.locator("main")).to_contain_text(chosen["zone_name"])
    expect(page.locator("main")).to_contain_text("CAM-DEMO")
    settle(tour)
    tour.screenshot("supervisor-alert-desk", tmp_path, docs=True)
    assert tour.problems() == {}


def auth(base_url: str, user: tuple[str, str]) -> dict[str, str]:
    client = api_client(base_url, user)
    try:
        return {"Authorization": str(client.headers["Authorization"])}
    finally:
        client.close()
