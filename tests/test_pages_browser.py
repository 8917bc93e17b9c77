"""The pages as a user sees them: Debian's chromium, driven through Playwright, against a live
server on the demo data, with no base-map tiles and so no outside network at all.

The database is a fresh one loaded with the demo and dropped afterwards (see
``tests.conftest.scratch_database``).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import create_engine

from service import demo
from service.db.migrate import upgrade
from service.settings import AssetSource, AuthSettings, DatabaseSettings, MapSettings, Settings
from tests.conftest import scratch_database
from tests.live import serve
from zones.maps import ALERT_COLOUR, BREACH_COLOUR, CLEAR_COLOUR, ZONE_STYLE

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
SUPERVISOR = ("supervisor", "supervisor-demo-pw")
OFFICER = ("officer", "officer-demo-pw")
ZONE_STROKE = ZONE_STYLE["color"]

# What a user sees drawn. Zones are paths in the zone colour without a dash (buffers are dashed);
# positions are circle markers (fill-opacity 0.9; accuracy discs are 0.08); a marker cluster is
# a div whose text is how many markers it holds.
ZONE_PATHS = f'path[stroke="{ZONE_STROKE}"]:not([stroke-dasharray])'
ALERTS_DRAWN = f"""() =>
    document.querySelectorAll('path[stroke="{ALERT_COLOUR}"][fill-opacity="0.9"]').length
    + [...document.querySelectorAll(".marker-cluster")]
        .reduce((n, el) => n + (parseInt(el.textContent, 10) || 0), 0)"""
OBSERVATIONS_DRAWN = f"""() => document.querySelectorAll(
    'path[stroke="{BREACH_COLOUR}"][fill-opacity="0.9"], '
    + 'path[stroke="{CLEAR_COLOUR}"][fill-opacity="0.9"]').length"""

# Resolves once ``el`` has kept still for a few frames: Leaflet pans the map, animated, to
# make room for a popup it opens, and a click aimed before the pan ends lands elsewhere.
AT_REST = """async (el) => {
    const frame = () => new Promise((done) => requestAnimationFrame(done));
    let box = el.getBoundingClientRect();
    for (let still = 0, i = 0; still < 3 && i < 120; i++) {
        await frame();
        const now = el.getBoundingClientRect();
        still = now.x === box.x && now.y === box.y ? still + 1 : 0;
        box = now;
    }
    return box;
}"""

# A point of the screen where ``el`` itself is what the mouse would hit (not a hole, a marker
# or a control above it), nearest the middle of its box, once the map is at rest.
POINT_ON = f"""async (el) => {{
    const box = await ({AT_REST})(el);
    const steps = 24, points = [];
    for (let i = 1; i < steps; i++) {{
        for (let j = 1; j < steps; j++) {{
            points.push([box.left + (box.width * i) / steps, box.top + (box.height * j) / steps]);
        }}
    }}
    const [cx, cy] = [box.left + box.width / 2, box.top + box.height / 2];
    points.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
    return points.find(([x, y]) => document.elementFromPoint(x, y) === el) ?? null;
}}"""

# Colours of a PNG, counted by the browser itself (no imaging library needed).
PNG_COLOURS = """async ([png, target, tolerance]) => {
    const img = new Image();
    img.src = "data:image/png;base64," + png;
    await img.decode();
    const canvas = new OffscreenCanvas(img.width, img.height);
    const g = canvas.getContext("2d");
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data;
    const seen = new Set();
    let near = 0;
    for (let i = 0; i < d.length; i += 4) {
        seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        if (target && Math.abs(d[i] - target[0]) <= tolerance
            && Math.abs(d[i + 1] - target[1]) <= tolerance
            && Math.abs(d[i + 2] - target[2]) <= tolerance) near++;
    }
    return [seen.size, near];
}"""


# -- the server ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The app on the demo data, served by uvicorn on a free localhost port."""
    with scratch_database("browser_test") as url:
        yield from _serve_demo(url)


def _serve_demo(url: str) -> Iterator[str]:
    engine = create_engine(url)
    try:
        upgrade(engine)
        demo.run(engine)
    finally:
        engine.dispose()

    settings = Settings(
        database=DatabaseSettings(url=url),
        map=MapSettings(tiles="none", assets=AssetSource.LOCAL),
    )
    with serve(settings) as base:
        yield base


@pytest.fixture(scope="module")
def api(base_url: str) -> Iterator[httpx.Client]:
    """The HTTP API, logged in as the demo supervisor: what the pages should agree with."""
    with httpx.Client(base_url=f"{base_url}/api/v1", timeout=30) as client:
        username, password = SUPERVISOR
        got = client.post("/auth/token", data={"username": username, "password": password})
        assert got.status_code == 200, got.text
        client.headers["Authorization"] = f"Bearer {got.json()['access_token']}"
        yield client


# -- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install chromium"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + "; CI must not skip the browser tests")
        pytest.skip(message)
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Visit:
    """A browser tab of a fresh session, and everything it asked for and complained about."""

    page: Page
    base_url: str
    outside: list[str] = field(default_factory=list)
    static: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname not in LOCAL_HOSTS:
            self.outside.append(request.url)

    def on_response(self, response: Response) -> None:
        parts = urlsplit(response.url)
        if parts.hostname in LOCAL_HOSTS and parts.path.startswith("/static/"):
            self.static[parts.path] = response.status

    def on_failed(self, request: Request) -> None:
        self.failed.append(f"{request.url}: {request.failure}")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url") or "?"
            self.console_errors.append(f"{message.text} ({where})")

    def on_page_error(self, error: PlaywrightError) -> None:
        self.page_errors.append(error.message)

    def log_in(self, username: str, password: str) -> None:
        """Fill in and send the login form the browser is showing."""
        expect(self.page.get_by_role("heading", name="Log in")).to_be_visible()
        self.page.get_by_label("User name").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()

    def open_logged_in(self, path: str, user: tuple[str, str]) -> None:
        """Go to ``path``, log in where the site asks to, and wait for ``path`` to load."""
        self.page.goto(path)
        self.log_in(*user)
        expect(self.page).to_have_url(self.base_url + path)
        self.page.wait_for_load_state("load")

    def wait_for_map(self) -> None:
        """Leaflet loaded and a map on the page with room to show it."""
        try:
            self.page.wait_for_function("() => window.L !== undefined")
        except PlaywrightTimeout:
            loaded = False
        else:
            loaded = True
        assert loaded, f"Leaflet never loaded; page errors: {self.page_errors}"
        container = self.page.locator(".leaflet-container")
        expect(container).to_have_count(1)
        expect(container).to_be_visible()
        box = container.bounding_box()
        assert box is not None and box["height"] > 300 and box["width"] > 600, box

    def legend(self) -> str:
        legend = self.page.locator(".legend")
        expect(legend).to_be_visible()
        return legend.inner_text()

    def wait_for_count(self, script: str, expected: int, what: str) -> None:
        """Wait for ``script`` (a JS function) to count ``expected``; fail saying what it saw."""
        try:
            self.page.wait_for_function(f"(n) => ({script})() === n", arg=expected, timeout=5000)
            return
        except PlaywrightTimeout:
            pass
        shown = self.page.evaluate(script)
        pytest.fail(
            f"{what}: the page shows {shown}, expected {expected}; "
            f"page errors: {self.page_errors}; console errors: {self.console_errors}"
        )

    def overlay_names(self) -> list[str]:
        """The overlays the layer control offers (it opens on hover, as for a user)."""
        control = self.page.locator(".leaflet-control-layers")
        expect(control).to_be_visible()
        control.hover()
        labels = self.page.locator(".leaflet-control-layers-overlays label")
        expect(labels.first).to_be_visible()
        names = [name.strip() for name in labels.all_inner_texts()]
        self.page.mouse.move(VIEWPORT["width"] / 2, VIEWPORT["height"] - 20)  # let it close
        expect(self.page.locator(".leaflet-control-layers-expanded")).to_have_count(0)
        return names


@pytest.fixture
def visit(browser: Browser, base_url: str) -> Iterator[Visit]:
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    seen = Visit(page, base_url)
    page.on("request", seen.on_request)
    page.on("response", seen.on_response)
    page.on("requestfailed", seen.on_failed)
    page.on("console", seen.on_console)
    page.on("pageerror", seen.on_page_error)
    yield seen
    context.close()


def check_screenshot(visit: Visit, path: Path, colour: str | None = None) -> int:
    """Save a screenshot of the map; check it is a real picture; count pixels near ``colour``."""
    png = visit.page.locator(".leaflet-container").screenshot(path=path)
    assert path.stat().st_size > 8_000, f"{path} is only {path.stat().st_size} bytes"
    target = [int(colour[i : i + 2], 16) for i in (1, 3, 5)] if colour else None
    counter = visit.page.context.browser
    assert counter is not None
    scratch = counter.new_page()  # a page of its own, so as not to add to the visit's traffic
    try:
        colours, near = scratch.evaluate(PNG_COLOURS, [base64.b64encode(png).decode(), target, 40])
    finally:
        scratch.close()
    assert colours > 2, f"{path}: the map is all one colour ({colours} colours)"
    return int(near)


def _legend_numbers(pattern: str, legend: str) -> tuple[int, ...]:
    found = re.search(pattern, legend)
    assert found, f"legend {legend!r} does not match {pattern!r}"
    return tuple(int(g) for g in found.groups())


# -- the tests ----------------------------------------------------------------------------------


def test_alert_map_asks_for_login_then_shows_the_open_alerts(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    page = visit.page
    page.goto("/alerts/map")
    expect(page).to_have_url(re.compile(r"/login\?next=/alerts/map$"))

    visit.log_in(*SUPERVISOR)
    expect(page).to_have_url(f"{visit.base_url}/alerts/map")
    page.wait_for_load_state("load")
    visit.wait_for_map()

    got = api.get("/alerts", params={"status": "open"})
    assert got.status_code == 200, got.text
    open_alerts = got.json()
    assert open_alerts, "the demo should have open alerts"
    shown, zones = _legend_numbers(
        r"(\d+) open alert\(s\) \(purple\) over (\d+) zone\(s\)", visit.legend()
    )
    assert shown == len(open_alerts)
    assert zones > 0
    expect(page.locator(ZONE_PATHS)).to_have_count(zones)
    visit.wait_for_count(ALERTS_DRAWN, len(open_alerts), "open alerts drawn")
    assert visit.overlay_names() == ["Zones of orders", "Buffers of conditions", "Open alerts"]

    purple = check_screenshot(visit, tmp_path / "alerts-map.png", ALERT_COLOUR)
    assert purple > 20, "no purple alert markers to be seen in the screenshot"


def test_map_pages_use_nothing_but_this_server(visit: Visit) -> None:
    page = visit.page
    visit.open_logged_in("/alerts/map", SUPERVISOR)
    visit.wait_for_map()
    page.wait_for_load_state("networkidle")
    page.goto("/orders/1/map")
    visit.wait_for_map()
    page.wait_for_load_state("networkidle")

    assert "/static/npm/leaflet/dist/leaflet.js" in visit.static  # the recording works
    problems = {
        "requests to other hosts": visit.outside,
        # 304: the browser revalidated a copy it fetched (with a 200) for the page before.
        "static files not served": {p: s for p, s in visit.static.items() if s not in (200, 304)},
        "requests that failed": visit.failed,
        "uncaught errors in the page": visit.page_errors,
        # A missing favicon is logged once per browser, so whichever test comes first would
        # see it: test_pages_have_an_icon checks for it in every order.
        "errors in the console": [e for e in visit.console_errors if "/favicon.ico)" not in e],
    }
    assert {what: found for what, found in problems.items() if found} == {}


def test_pages_have_an_icon(visit: Visit) -> None:
    """Without one the browser asks for /favicon.ico, and a 404 there is a console error."""
    visit.page.goto("/login")
    declared = visit.page.locator('link[rel~="icon"]').count() > 0
    served = visit.page.request.get("/favicon.ico").status == 200
    assert declared or served, "no <link rel=icon> and no /favicon.ico"


def test_order_map_shows_conditions_observations_and_zone_popups(
    visit: Visit, api: httpx.Client, tmp_path: Path
) -> None:
    page = visit.page
    got = api.get("/orders/1")
    assert got.status_code == 200, got.text
    order = got.json()
    zones = {}
    for zone_id in {z for c in order["conditions"] for z in c["zone_ids"]}:
        feature = api.get(f"/zones/{zone_id}").json()
        zones[feature["properties"]["name"]] = feature["properties"]["version"]
    assert set(zones.values()) == {1}, "the demo's zones are all at their first version"

    visit.open_logged_in("/orders/1/map", OFFICER)
    visit.wait_for_map()
    conditions, observations = _legend_numbers(
        r"(\d+) condition\(s\);.* (\d+) recent observation\(s\)", visit.legend()
    )
    assert conditions == len(order["conditions"])
    assert observations > 0
    assert visit.overlay_names() == [
        *(f"Condition {i}: {c['text'][:40]}" for i, c in enumerate(order["conditions"], 1)),
        "Recent observations",
    ]
    expect(page.locator(ZONE_PATHS)).to_have_count(len(zones))
    buffered = sum(1 for c in order["conditions"] if c["buffer_m"] > 0 for _ in c["zone_ids"])
    expect(page.locator(f'path[stroke="{ZONE_STROKE}"][stroke-dasharray]')).to_have_count(buffered)
    visit.wait_for_count(OBSERVATIONS_DRAWN, observations, "recent observations drawn")

    popups: dict[str, str] = {}
    for i in range(len(zones)):
        point: Any = page.locator(ZONE_PATHS).nth(i).evaluate(POINT_ON)
        assert point is not None, f"zone {i + 1} of the map cannot be clicked anywhere"
        page.mouse.move(VIEWPORT["width"] / 2, VIEWPORT["height"] - 20)  # off every zone
        tooltip = page.locator(".leaflet-tooltip")
        expect(tooltip).to_have_count(0)
        page.mouse.move(*point)
        expect(tooltip).to_be_visible()
        name = tooltip.inner_text().strip()
        page.mouse.click(*point)
        popup = page.locator(".leaflet-popup-content")
        expect(popup).to_be_visible()
        popup.evaluate(AT_REST)
        popups[name] = popup.inner_text()
        page.locator(".leaflet-popup-close-button").click()
        expect(popup).to_have_count(0)
    assert set(popups) == set(zones), "zones named by their tooltips"
    for name, content in popups.items():
        assert name in content
        assert re.search(rf"zone \d+ version {zones[name]}\b", content), content

    check_screenshot(visit, tmp_path / "order-1-map.png")


def test_wrong_password_shows_the_login_form_again_with_an_error(visit: Visit) -> None:
    page = visit.page
    page.goto("/alerts/map")
    visit.log_in(SUPERVISOR[0], "not-the-password")

    expect(page).to_have_url(re.compile(r"/login\?"))
    expect(page.locator(".error")).to_have_text("wrong username or password")
    expect(page.get_by_label("Password")).to_be_empty()
    assert not [c for c in page.context.cookies() if c["name"] == AuthSettings().cookie_name]

    visit.log_in(*SUPERVISOR)  # the form still knows where the user was going
    expect(page).to_have_url(f"{visit.base_url}/alerts/map")
