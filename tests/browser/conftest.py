"""The workspaces as their users see them: Debian's chromium, driven through Playwright, with
real mouse and keyboard events, against a live server on the demo data, with no base-map
tiles and so no outside network at all.

One server serves every browser test (a fresh database loaded with the demo, dropped
afterwards). Tests change what they touch, so each test makes the subjects, zones and
alerts it relies on (through the API or the pages) rather than counting on the demo's
being untouched; the demo's own data is fine to read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    Request,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import create_engine

from service import demo
from service.db.migrate import upgrade
from service.settings import (
    AssetSource,
    DatabaseSettings,
    MapSettings,
    Settings,
    SignInSettings,
)
from tests.conftest import ROOT, in_ci, scratch_database
from tests.live import serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}
OFFICER = ("officer", "officer-demo-pw")
CONTROL = ("control", "control-demo-pw")
SUPERVISOR = ("supervisor", "supervisor-demo-pw")
ADMIN = ("admin", "admin-demo-pw")
AXE = "/static/npm/axe-core/axe.min.js"
# Set ZONES_SCREENSHOT_DIR=docs/screenshots to refresh the README's pictures (test_tour.py).
SCREENSHOTS = os.environ.get("ZONES_SCREENSHOT_DIR")

# Script-injection strings: each, if it ever ran, would set window.__xss.
INJECTIONS = (
    '</title><script>window.__xss="title"</script>',
    "<img src=x onerror=\"window.__xss='img'\">",
    '"><svg onload="window.__xss=\'svg\'">',
    "${window.__xss='template'}`;window.__xss='backtick';`",
    "javascript:window.__xss='href'",
)


def when(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


# -- the server ---------------------------------------------------------------------------------


@contextmanager
def demo_database(name: str) -> Iterator[str]:
    """A scratch database, migrated and loaded with the demo; dropped afterwards."""
    with scratch_database(name) as url:
        engine = create_engine(url)
        try:
            upgrade(engine)
            demo.run(engine)
        finally:
            engine.dispose()
        yield url


@contextmanager
def serve_demo(database_url: str) -> Iterator[str]:
    """The app on a database, without base tiles, on a free localhost port."""
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        map=MapSettings(tiles="none", assets=AssetSource.LOCAL),
        # Every test signs in again and again, as the same few users, from one address.
        sign_in=SignInSettings(
            per_client_per_minute=6000,
            per_client_burst=1000,
            per_account_per_minute=6000,
            per_account_burst=1000,
        ),
    )
    with serve(settings) as base:
        yield base


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database loaded with the demo, for the whole browser session."""
    with demo_database("browser_test") as url:
        yield url


@pytest.fixture(scope="session")
def base_url(database_url: str) -> Iterator[str]:
    """The app on the demo data, served by uvicorn on a free localhost port."""
    with serve_demo(database_url) as base:
        yield base


def api_client(base_url: str, user: tuple[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=f"{base_url}/api/v1", timeout=30)
    got = client.post("/auth/token", data={"username": user[0], "password": user[1]})
    assert got.status_code == 200, got.text
    client.headers["Authorization"] = f"Bearer {got.json()['access_token']}"
    return client


@pytest.fixture(scope="session")
def api(base_url: str) -> Iterator[httpx.Client]:
    """The HTTP API as the demo officer (may create and edit): to set up and to check pages."""
    client = api_client(base_url, OFFICER)  # already used to log in: not re-entered by `with`
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def api_as(base_url: str) -> Iterator[Callable[[tuple[str, str]], httpx.Client]]:
    """The HTTP API as any demo user."""
    opened: list[httpx.Client] = []

    def make(user: tuple[str, str]) -> httpx.Client:
        client = api_client(base_url, user)
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.close()


# -- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install chromium"
        if in_ci():
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
    dialogs: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

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
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def on_failed(self, request: Request) -> None:
        # Closing a page cuts its event stream; that is not a failure of the page.
        if "/alerts/stream" not in request.url:
            self.failed.append(f"{request.url}: {request.failure}")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url") or "?"
            self.console_errors.append(f"{message.text} ({where})")

    def on_page_error(self, error: PlaywrightError) -> None:
        self.page_errors.append(error.message)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def log_in(self, user: tuple[str, str]) -> None:
        """Fill in and send the login form the browser is showing, as a person would."""
        expect(self.page.get_by_role("heading", name="Log in")).to_be_visible()
        self.page.get_by_label("User name").fill(user[0])
        self.page.get_by_label("Password").fill(user[1])
        self.page.get_by_role("button", name="Log in").click()

    def open_as(self, path: str, user: tuple[str, str]) -> None:
        """Go to ``path``, log in where the site asks to, and wait for ``path`` to load."""
        self.page.goto(path)
        if "/login" in self.page.url:
            self.log_in(user)
        expect(self.page).to_have_url(re.compile(re.escape(self.base_url + path.split("?")[0])))
        self.page.wait_for_load_state("load")

    def wait_for_map(self) -> None:
        """Leaflet loaded and a map on the page with room to show it."""
        self.page.wait_for_function("() => window.L !== undefined && window.Zones !== undefined")
        container = self.page.locator(".leaflet-container")
        expect(container).to_have_count(1)
        expect(container).to_be_visible()
        box = container.bounding_box()
        assert box is not None and box["height"] > 300 and box["width"] > 400, box

    def problems(self) -> dict[str, Any]:
        """Everything that went wrong that a user would not see: empty when all is well.

        A console error saying the Content-Security-Policy refused something means text
        reached the page as markup; that is a failure even though nothing ran.
        """
        found = {
            "requests to other hosts": self.outside,
            "static files not served": {
                p: s for p, s in self.static.items() if s not in (200, 304)
            },
            "requests that failed": self.failed,
            "uncaught errors in the page": self.page_errors,
            "errors in the console": self.console_errors,
            "dialogs opened": self.dialogs,
            "server errors": self.server_errors,
        }
        return {what: value for what, value in found.items() if value}

    def no_script_ran(self) -> None:
        """No injected script ran here (window.__xss unset), nor opened a dialog."""
        ran = self.page.evaluate("() => window.__xss === undefined ? null : String(window.__xss)")
        assert ran is None, f"an injected script ran on {self.page.url}: {ran}"
        assert not self.dialogs, self.dialogs

    def axe_violations(self, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
        """axe-core's violations of ``impacts`` on the page as it stands, one line each."""
        self.page.add_script_tag(url=AXE)  # served by the app: the page's CSP allows it
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        return [
            f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} nodes, e.g. "
            f"{v['nodes'][0]['target']})"
            for v in result
            if v["impact"] in impacts
        ]

    def screenshot(self, name: str, tmp_path: Path, *, docs: bool = False) -> Path:
        """A full-window screenshot. The README's (``docs``, made by the tour of the demo)
        go to ZONES_SCREENSHOT_DIR when it is set; all others to the test's own folder."""
        folder = Path(SCREENSHOTS) if SCREENSHOTS and docs else tmp_path
        if not folder.is_absolute():
            folder = ROOT / folder
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.screenshot(path=path)
        assert path.stat().st_size > 10_000, f"{path} is only {path.stat().st_size} bytes"
        return path


def open_visit(browser: Browser, base_url: str) -> tuple[BrowserContext, Visit]:
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    seen = Visit(page, base_url)
    page.on("request", seen.on_request)
    page.on("response", seen.on_response)
    page.on("requestfailed", seen.on_failed)
    page.on("console", seen.on_console)
    page.on("pageerror", seen.on_page_error)
    page.on("dialog", seen.on_dialog)
    return context, seen


@pytest.fixture
def visit(browser: Browser, base_url: str) -> Iterator[Visit]:
    """A fresh browser session (no cookies) on the demo server."""
    context, seen = open_visit(browser, base_url)
    yield seen
    context.close()


@pytest.fixture
def new_visit(browser: Browser, base_url: str) -> Iterator[Callable[[], Visit]]:
    """More sessions in one test (two users side by side)."""
    contexts: list[BrowserContext] = []

    def make() -> Visit:
        context, seen = open_visit(browser, base_url)
        contexts.append(context)
        return seen

    yield make
    for c in contexts:
        c.close()
