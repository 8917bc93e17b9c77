"""Signing in through single sign-on in a real browser. The provider listens on an address of
its own (another site), so that the browser treats the way back as a cross-site redirect,
as it will be in production, and the session cookie (SameSite=Strict) must still work."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from service.settings import AssetSource, DatabaseSettings, MapSettings, Settings
from tests.browser.conftest import VIEWPORT
from tests.live import serve
from tests.oidc_provider import address_of, bound_socket, running_provider

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sites(database_url: str) -> Iterator[str]:
    """This service at 127.0.0.1 and its identity provider at 127.0.0.2; yields the
    service's address."""
    app_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    app_sock.bind(("127.0.0.1", 0))
    base = address_of(app_sock)
    provider_sock = bound_socket("127.0.0.2")
    with running_provider([f"{base}/auth/oidc/callback"], sock=provider_sock) as provider:
        settings = Settings(
            database=DatabaseSettings(url=database_url),
            map=MapSettings(tiles="none", assets=AssetSource.LOCAL),
            oidc=provider.settings(f"{base}/auth/oidc/callback"),
        )
        with serve(settings, sock=app_sock):
            yield base


def test_a_person_signs_in_at_their_forces_provider_and_lands_where_they_were_going(
    browser: Browser, sites: str
) -> None:
    context = browser.new_context(base_url=sites, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/desk")
        expect(page).to_have_url(re.compile(r"/login\?next=/desk$"))
        page.get_by_role("link", name="Sign in with Test Constabulary SSO").click()

        expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.2:\d+/interaction/"))
        page.get_by_label("Login").fill("alice")
        page.get_by_role("button", name="Sign in").click()

        expect(page).to_have_url(f"{sites}/desk")
        expect(page.locator(".who")).to_contain_text("alice.cambs · officer")
        page.goto("/")  # the session holds from page to page
        expect(page.locator(".who")).to_contain_text("alice.cambs · officer")
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        page.goto("/desk")
        expect(page).to_have_url(re.compile(r"/login\?next="))
    finally:
        context.close()


def test_a_person_the_provider_gives_no_role_is_told_so(browser: Browser, sites: str) -> None:
    context = browser.new_context(base_url=sites, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_role("link", name="Sign in with Test Constabulary SSO").click()
        page.get_by_label("Login").fill("mallory")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("in no group that gives a role")
        page.goto("/desk")
        expect(page).to_have_url(re.compile(r"/login\?next=/desk$"))
    finally:
        context.close()
