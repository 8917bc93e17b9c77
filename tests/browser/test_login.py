"""Logging in and out in the browser, and the home page each role sees."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CONTROL, OFFICER, SUPERVISOR, Visit

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("user", "links"),
    [
        (OFFICER, ["Subjects and orders", "Zone library", "Sighting check", "Alert desk"]),
        (CONTROL, ["Sighting check", "Alert desk"]),
        (SUPERVISOR, ["Sighting check", "Alert desk"]),
    ],
)
def test_each_role_lands_on_its_workspaces(
    visit: Visit, user: tuple[str, str], links: list[str]
) -> None:
    visit.open_as("/", user)
    nav = visit.page.get_by_role("navigation", name="Workspaces")
    shown = [t.strip() for t in nav.get_by_role("link").all_inner_texts()]
    assert shown == ["Exclusion zones", *links, "API"]
    assert visit.axe_violations() == []
    assert visit.problems() == {}


def test_log_out_ends_the_session(visit: Visit) -> None:
    page = visit.page
    visit.open_as("/", SUPERVISOR)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    assert visit.axe_violations() == []


def test_a_wrong_password_shows_the_form_again_with_an_error(visit: Visit) -> None:
    page = visit.page
    page.goto("/")
    visit.log_in((SUPERVISOR[0], "not-the-password"))
    expect(page.locator(".error")).to_have_text("wrong username or password")
    expect(page.get_by_label("Password")).to_be_empty()
    visit.log_in(SUPERVISOR)
    expect(page).to_have_url(f"{visit.base_url}/")


def test_an_open_page_renews_its_session_and_leaves_when_the_sign_in_ends(visit: Visit) -> None:
    page = visit.page
    page.clock.install()
    visit.open_as("/", SUPERVISOR)
    # Every four minutes the page asks who is signed in: that renews its cookie.
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/session")) as asked:
        page.clock.run_for("04:05")
    assert asked.value.status == 200
    # The sign-in ends elsewhere (here: a log-out through the API with the same cookie);
    # at its next renewal the page goes to the log-in form.
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    out = page.request.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status == 204
    page.clock.run_for("04:05")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
