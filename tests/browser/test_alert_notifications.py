"""The chosen alert on the alert desk says which webhooks it is to reach, and how far each got."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, CONTROL, SUPERVISOR, Visit
from tests.browser.test_alert_desk import filter_subject, make_case, queue_item, sighting_inside

pytestmark = pytest.mark.browser


def test_the_desk_shows_each_webhooks_delivery_of_the_chosen_alert(
    visit: Visit, api: httpx.Client, api_as: Callable[[tuple[str, str]], httpx.Client]
) -> None:
    admin = api_as(ADMIN)
    name = f"desk-{uuid.uuid4().hex[:8]}"
    # Nobody listens there: the worker is not running in this server anyway.
    hook = admin.post("/webhooks", json={"name": name, "url": "http://127.0.0.1:9/hook"})
    assert hook.status_code == 201, hook.text
    try:
        case = make_case(api, "HOOK")
        alert_id = sighting_inside(api_as(CONTROL), case)
        page = visit.page
        visit.open_as(f"/desk?alert={alert_id}", SUPERVISOR)
        visit.wait_for_map()
        filter_subject(page, case.reference)
        queue_item(page, case.reference).click()
        line = page.locator("#detail-deliveries li")
        expect(line).to_have_count(1)
        expect(line).to_contain_text(f"{name}: opened: waiting")
    finally:
        admin.post(f"/webhooks/{hook.json()['id']}/disable")
