"""When a condition applies, its warning ring and stay rules, a subject's travel mode and
authorised visits, all set through the officer's pages with real keyboard and mouse: a
weekday schedule with bank holidays imported from an iCalendar file, saved and kept
through an edit; a window the server refuses, named at the window; a visit recorded in UK
time (asked which, when the clocks go back), listed and withdrawn with a reason; the travel
mode kept across saves; and the subject's stays that are not alerts, with their severity.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import INJECTIONS, OFFICER, Visit, when
from tests.browser.test_officer_pages import condition, pick_zone, type_into
from tests.service.conftest import square, zone_feature

pytestmark = pytest.mark.browser

WHERE = (0.2450, 52.1750)  # a corner of the demo's map that no demo zone covers
PLANTED = INJECTIONS[1]  # <img src=x onerror=...>: must show as text, never run
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
DASH = "\u2013"  # an en dash, as the pages and the API print time spans


def bank_holidays_ics(extra_label: str) -> str:
    """A small calendar shaped like GOV.UK's england-and-wales.ics (CRLF, all-day events)."""
    events = [
        ("20261225", "20261226", "Christmas Day"),
        ("20261228", "20261229", "Boxing Day (substitute day)"),
        ("20270101", "20270102", extra_label),
    ]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "METHOD:PUBLISH",
        "PRODID:-//uk.gov/GOVUK calendars//EN",
        "CALSCALE:GREGORIAN",
    ]
    for i, (first, after, label) in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"DTEND;VALUE=DATE:{after}",
            f"DTSTART;VALUE=DATE:{first}",
            f"SUMMARY:{label}",
            f"UID:test-{i}@gov.uk",
            "SEQUENCE:0",
            "DTSTAMP:20260101T000000Z",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def new_zone(api: httpx.Client, name: str, dx: float, dy: float = 0.0) -> dict[str, Any]:
    r = api.post("/zones", json=zone_feature(square(WHERE[0] + dx, WHERE[1] + dy), name, "school"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def new_subject(api: httpx.Client, name: str, **more: Any) -> dict[str, Any]:
    body = {"reference": f"SCH-{uuid.uuid4().hex[:8]}", "name": name} | more
    r = api.post("/subjects", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def new_order(api: httpx.Client, subject_id: int, *conditions: dict[str, Any]) -> dict[str, Any]:
    r = api.post(
        "/orders",
        json={
            "subject_id": subject_id,
            "reference": f"SHPO/SCH/{uuid.uuid4().hex[:8]}",
            "starts": "2025-01-01",
            "conditions": list(conditions),
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def only_console_error(visit: Visit, status: str) -> None:
    """Nothing went wrong but the one refused request the browser logs itself."""
    problems = visit.problems()
    console = problems.pop("errors in the console", [])
    assert problems == {} and len(console) == 1 and status in console[0], (problems, console)


def window_box(card: Locator, number: int) -> Locator:
    return card.locator(".window-box").nth(number - 1)


def test_a_weekday_schedule_with_imported_bank_holidays_is_saved_shown_and_kept(
    visit: Visit, api: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    school = new_zone(api, f"St Swithin's Primary {tag}", 0.0)
    subject = new_subject(api, "Sam Schedule")
    page = visit.page
    visit.open_as(f"/subjects/{subject['id']}/orders/new", OFFICER)
    type_into(page, page.get_by_label("Order reference"), f"SHPO/SCH/{tag}")
    page.get_by_label("In force from").fill("2026-01-05")
    card = condition(page, 1)
    type_into(
        page,
        card.get_by_label("Clause text, word for word"),
        "Not to go within 200 metres of St Swithin's Primary School between 08:00 and 16:00 "
        "on school days.",
    )
    type_into(page, card.get_by_label("Buffer (metres)"), "200")
    pick_zone(
        page, card, f"swithin's primary {tag}", school["properties"]["name"], with_mouse=False
    )

    # At all times until told otherwise; a schedule starts as a weekday 08:00-16:00 window.
    expect(card.get_by_label("At all times")).to_be_checked()
    expect(card.get_by_label("Time zone")).to_be_hidden()
    card.get_by_label("Only at set times").check()
    expect(card.get_by_label("Time zone")).to_have_value("Europe/London")
    first = window_box(card, 1)
    expect(first.locator("legend").first).to_contain_text("Window 1")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        expect(first.get_by_label(day, exact=True)).to_be_checked()
    for day in ("Sat", "Sun"):
        expect(first.get_by_label(day, exact=True)).not_to_be_checked()
    expect(first.get_by_label("Starts at")).to_have_value("08:00")
    expect(first.get_by_label("Ends at")).to_have_value("16:00")

    # Bank holidays from a file, one with a planted label; and a half term typed in.
    upload = card.get_by_label(re.compile("^Import from an iCalendar file"))
    upload.set_input_files(
        files=[
            {
                "name": "england-and-wales.ics",
                "mimeType": "text/calendar",
                "buffer": bank_holidays_ics(f"New Year's Day {PLANTED}").encode(),
            }
        ]
    )
    rows = card.locator(".exception-row")
    expect(rows).to_have_count(3)
    expect(card.get_by_role("status").filter(has_text="3 exceptions added")).to_be_visible()
    expect(rows.nth(0).get_by_label(re.compile("^First day"))).to_have_value("2026-12-25")
    expect(rows.nth(1).get_by_label(re.compile("^What it is"))).to_have_value(
        "Boxing Day (substitute day)"
    )
    # The same file again adds nothing twice.
    upload.set_input_files(
        files=[
            {
                "name": "again.ics",
                "mimeType": "text/calendar",
                "buffer": bank_holidays_ics(f"New Year's Day {PLANTED}").encode(),
            }
        ]
    )
    expect(card.get_by_role("status").filter(has_text="3 already listed")).to_be_visible()
    expect(rows).to_have_count(3)
    card.get_by_role("button", name=re.compile("^Add a dated exception")).click()
    expect(rows).to_have_count(4)
    fourth = rows.nth(3)
    expect(fourth.get_by_label(re.compile("^First day"))).to_be_focused()
    fourth.get_by_label(re.compile("^First day")).fill("2027-02-15")
    fourth.get_by_label(re.compile("^Last day")).fill("2027-02-19")
    type_into(page, fourth.get_by_label(re.compile("^What it is")), "February half term")

    card.get_by_label(re.compile("^Stops applying after")).fill("2031-07-31")

    # A warning ring and stricter stay rules.
    card.locator("summary", has_text="Warning ring and stay rules").click()
    type_into(page, card.get_by_label(re.compile(r"^Warning ring \(metres")), "50")
    type_into(page, card.get_by_label(re.compile("^Fixes inside")), "2")
    type_into(page, card.get_by_label(re.compile("^and seconds inside")), "60")
    type_into(page, card.get_by_label(re.compile("^Clear fixes in a row")), "3")
    card.get_by_label(re.compile("^The clause requires a working tag")).check()
    type_into(page, card.get_by_label(re.compile("^Minutes without a fix")), "30")
    assert visit.axe_violations() == []
    page.get_by_role("button", name="Record the order").click()

    # The API holds it as entered.
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    saved = api.get(f"/orders/{order_id}").json()["conditions"][0]
    assert saved["schedule"] == {
        "timezone": "Europe/London",
        "windows": [{"days": WEEKDAYS, "start": "08:00", "end": "16:00"}],
        "exceptions": [
            {"first_day": "2026-12-25", "last_day": "2026-12-25", "label": "Christmas Day"},
            {
                "first_day": "2026-12-28",
                "last_day": "2026-12-28",
                "label": "Boxing Day (substitute day)",
            },
            {
                "first_day": "2027-01-01",
                "last_day": "2027-01-01",
                "label": f"New Year's Day {PLANTED}",
            },
            {"first_day": "2027-02-15", "last_day": "2027-02-19", "label": "February half term"},
        ],
        "from_date": None,
        "until_date": "2031-07-31",
    }
    rules = {k: saved[k] for k in ("warning_m", "confirm_fixes", "confirm_seconds")}
    assert rules == {"warning_m": 50.0, "confirm_fixes": 2, "confirm_seconds": 60}
    assert (saved["clear_fixes"], saved["clear_seconds"], saved["buffer_m"]) == (3, 0, 200.0)
    assert (saved["tag_required"], saved["silence_minutes"]) == (True, 30)

    # The order's page reads it out in plain English, exceptions as text.
    clause = page.locator(".clause-item").first
    expect(clause.locator(".schedule-text")).to_have_text(saved["schedule_text"])
    expect(clause).to_contain_text(f"08:00{DASH}16:00 Monday to Friday")
    expect(clause).to_contain_text("50 m beyond the buffer")
    expect(clause).to_contain_text("an alert after 2 fixes inside and 60 seconds")
    expect(clause).to_contain_text("ends after 3 clear fixes in a row")
    expect(clause).to_contain_text("required: 30 minutes without a fix raises")
    clause.locator("summary", has_text="4 dated exceptions").click()
    expect(clause.locator(".exception-names li").nth(2)).to_have_text(
        f"New Year's Day {PLANTED}: 1 Jan 2027"
    )
    page.wait_for_load_state("networkidle")
    visit.no_script_ran()
    assert visit.problems() == {}
    assert visit.axe_violations() == []

    # An edit that changes only the wording keeps the schedule and rules as they were.
    page.get_by_role("link", name="Edit the order").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_id}/edit$"))
    card = condition(page, 1)
    expect(card.get_by_label("Only at set times")).to_be_checked()
    expect(card.locator(".exception-row")).to_have_count(4)
    expect(
        card.locator(".exception-row").nth(2).get_by_label(re.compile("^What it is"))
    ).to_have_value(f"New Year's Day {PLANTED}")
    visit.no_script_ran()
    expect(card.get_by_label(re.compile(r"^Warning ring \(metres"))).to_have_value("50")
    expect(card.locator("details.rules-box")).to_have_attribute("open", "")
    type_into(page, card.get_by_label("Clause text, word for word"), "Reworded on appeal.")
    type_into(page, page.get_by_label("Why is the order changed?"), "Varied on appeal")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_id}$"))
    expect(page.get_by_text("Version 2 saved.")).to_be_visible()
    now = api.get(f"/orders/{order_id}").json()["conditions"][0]
    assert now["text"] == "Reworded on appeal."
    assert (now["tag_required"], now["silence_minutes"]) == (True, 30)
    assert {k: v for k, v in now.items() if k not in ("id", "text")} == {
        k: v for k, v in saved.items() if k not in ("id", "text")
    }
    page.wait_for_load_state("networkidle")
    assert visit.problems() == {}


def test_a_window_the_server_refuses_is_named_at_the_window(
    visit: Visit, api: httpx.Client
) -> None:
    subject = new_subject(api, "Wendy Window")
    page = visit.page
    visit.open_as(f"/subjects/{subject['id']}/orders/new", OFFICER)
    type_into(page, page.get_by_label("Order reference"), f"SRO/SCH/{uuid.uuid4().hex[:8]}")
    page.get_by_label("In force from").fill("2026-02-01")
    card = condition(page, 1)
    type_into(page, card.get_by_label("Clause text, word for word"), "Not to enter the area.")
    card.get_by_label("Only at set times").check()
    card.get_by_role("button", name=re.compile("^Add a weekly window")).click()
    second = window_box(card, 2)
    expect(second.get_by_label("Mon", exact=True)).to_be_focused()
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):  # no day left: the server refuses it
        second.get_by_label(day, exact=True).uncheck()
    second.get_by_label("Starts at").fill("22:00")
    second.get_by_label("Ends at").fill("06:00")
    expect(second).to_contain_text("Ends the next day.")
    page.get_by_role("button", name="Record the order").click()

    days_error = second.locator(".days-box .field-error")
    expect(days_error).to_have_text("a window needs at least one day")
    monday = second.get_by_label("Mon", exact=True)
    expect(monday).to_have_attribute("aria-invalid", "true")
    expect(monday).to_be_focused()
    expect(window_box(card, 1).locator(".days-box .field-error")).to_be_hidden()
    expect(page.locator("#order-status-line")).to_contain_text("Not saved")
    expect(page).to_have_url(re.compile(r"/orders/new$"))
    only_console_error(visit, "422")
    assert visit.axe_violations() == []

    # Put right, it is saved with both windows.
    second.get_by_label("Sat", exact=True).check()
    page.get_by_role("button", name="Record the order").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    schedule = api.get(f"/orders/{page.url.rsplit('/', 1)[1]}").json()["conditions"][0]["schedule"]
    assert schedule["windows"] == [
        {"days": WEEKDAYS, "start": "08:00", "end": "16:00"},
        {"days": ["sat"], "start": "22:00", "end": "06:00"},
    ]
    expect(page.locator(".clause-item .schedule-text")).to_contain_text(
        f"22:00{DASH}06:00 the next day, starting on Saturday"
    )


def visit_form(page: Page) -> Locator:
    return page.locator("#visit-form")


def test_an_authorised_visit_is_recorded_in_uk_time_listed_and_withdrawn(
    visit: Visit, api: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    centre = new_zone(api, f"Family Centre {tag}", 0.006)
    subject = new_subject(api, "Vera Visit")
    order = new_order(
        api, subject["id"], {"text": "Not to enter the family centre.", "zone_ids": [centre["id"]]}
    )
    page = visit.page
    visit.open_as(f"/subjects/{subject['id']}", OFFICER)
    expect(page.locator("#visits-status")).to_have_text("No authorised visits recorded.")
    form = visit_form(page)
    zone = form.get_by_label("Zone")
    expect(zone.locator("option")).to_have_count(2)
    zone.select_option(label=f"Family Centre {tag} (SHPO {order['reference']} clause 1)")
    # 01:30 on the night the clocks go back happened twice: the page asks which.
    form.get_by_label("Visit starts").fill("2026-10-25T01:30")
    form.get_by_label("Visit ends").fill("2026-10-25T03:00")
    type_into(page, form.get_by_label(re.compile("^Authorised by")), "DS 123 Smith")
    type_into(page, form.get_by_label("Why it is authorised"), f"Contact visit {PLANTED}")
    form.get_by_role("button", name="Record the visit").click()
    expect(form.locator("#visit-starts-error")).to_contain_text("pick which of the two times")
    bst = form.get_by_label("01:30 BST (00:30 UTC)")
    expect(bst).to_be_focused()
    assert api.get(f"/subjects/{subject['id']}/visits").json() == []
    assert visit.axe_violations() == []
    form.get_by_label("01:30 GMT (01:30 UTC)").check()
    form.get_by_role("button", name="Record the visit").click()

    item = page.locator(".visit-item")
    expect(item).to_have_count(1)
    expect(page.locator("#visits-status")).to_contain_text(f"Visit to Family Centre {tag} recorded")
    expect(item).to_contain_text(f"Family Centre {tag}")
    expect(item.locator(".visit-when")).to_have_text(
        f"Sun, 25 Oct 2026, 01:30 GMT {DASH} 03:00 GMT"
    )
    expect(item).to_contain_text("DS 123 Smith")
    expect(item.locator(".visit-reason")).to_have_text(f"Contact visit {PLANTED}")
    expect(item).to_contain_text("by officer")
    expect(form.get_by_label("Visit starts")).to_have_value("")
    [stored] = api.get(f"/subjects/{subject['id']}/visits").json()
    assert (stored["starts"], stored["ends"], stored["zone_id"]) == (
        "2026-10-25T01:30:00Z",
        "2026-10-25T03:00:00Z",
        centre["id"],
    )
    assert stored["withdrawn_at"] is None

    # Withdrawn, with a reason asked for on the page.
    item.get_by_role("button", name=re.compile("^Withdraw")).click()
    reason = item.get_by_label("Why is it withdrawn?")
    expect(reason).to_be_focused()
    item.get_by_role("button", name="Withdraw the visit").click()
    expect(item.locator(".field-error")).to_contain_text("Say why")
    assert api.get(f"/subjects/{subject['id']}/visits").json()[0]["withdrawn_at"] is None
    page.keyboard.type("Contact cancelled by the family court")
    item.get_by_role("button", name="Withdraw the visit").click()
    expect(item.locator(".badge")).to_have_text("withdrawn")
    expect(item).to_contain_text("Withdrawn")
    expect(item.get_by_role("button", name=re.compile("^Withdraw"))).to_have_count(0)
    expect(page.locator("#visits-status")).to_contain_text("0 not withdrawn")
    [after] = api.get(f"/subjects/{subject['id']}/visits").json()
    assert after["withdrawn_at"] is not None and after["withdrawn_by"] == "officer"
    page.wait_for_load_state("networkidle")
    visit.no_script_ran()
    assert visit.problems() == {}
    assert visit.axe_violations() == []


def test_the_travel_mode_is_changed_and_kept_by_other_edits(
    visit: Visit, api: httpx.Client
) -> None:
    subject = new_subject(api, "Tom Travel", travel_mode="bicycle", risk_level="high")
    page = visit.page
    visit.open_as(f"/subjects/{subject['id']}", OFFICER)
    mode = page.get_by_label("Travel mode")
    expect(mode).to_have_value("bicycle")
    # Another field changed: the travel mode is sent back as it was, not reset.
    type_into(page, page.get_by_label("Managing officer"), "PC 99 Ely")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#subject-status")).to_contain_text("Saved at")
    got = api.get(f"/subjects/{subject['id']}").json()
    assert (got["travel_mode"], got["officer"], got["risk_level"]) == (
        "bicycle",
        "PC 99 Ely",
        "high",
    )

    mode.select_option("car")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#subject-status")).to_contain_text("Saved at")
    assert api.get(f"/subjects/{subject['id']}").json()["travel_mode"] == "car"
    page.reload()
    expect(page.get_by_label("Travel mode")).to_have_value("car")
    page.wait_for_load_state("networkidle")
    assert visit.problems() == {}
    assert visit.axe_violations() == []


def stays_subject(api: httpx.Client, tag: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A subject with a clause confirmed only after 3 fixes, one with a 300 m warning ring and
    one whose zone they may visit now; and three fixes, one in (or by) each."""
    lon, lat = WHERE[0] + 0.012, WHERE[1] + 0.006
    slow = new_zone(api, f"Slow Park {tag}", 0.012, 0.006)
    ringed = new_zone(api, f"Ringed Park {tag}", 0.020, 0.006)
    visited = new_zone(api, f"Visited Hall {tag}", 0.028, 0.006)
    subject = new_subject(api, "Stacey Stay")
    new_order(
        api,
        subject["id"],
        {"text": "Not to enter Slow Park.", "zone_ids": [slow["id"]], "confirm_fixes": 3},
        {"text": "Not to enter Ringed Park.", "zone_ids": [ringed["id"]], "warning_m": 300},
        {"text": "Not to enter Visited Hall.", "zone_ids": [visited["id"]]},
    )
    r = api.post(
        f"/subjects/{subject['id']}/visits",
        json={
            "zone_id": visited["id"],
            "starts": when(60),
            "ends": when(-60),
            "authorised_by": "DI 9 Jones",
            "reason": "Court-ordered assessment",
        },
    )
    assert r.status_code == 201, r.text
    fixes = [
        {"subject_id": subject["id"], "lon": lon, "lat": lat, "time": when(30), "accuracy_m": 5},
        # 0.0015 degrees east of Ringed Park's edge: about 100 m, in its warning ring.
        {"subject_id": subject["id"], "lon": lon + 0.0105, "lat": lat, "time": when(20),
         "accuracy_m": 5},
        {"subject_id": subject["id"], "lon": lon + 0.016, "lat": lat, "time": when(10),
         "accuracy_m": 5},
    ]  # fmt: skip
    r = api.post("/observations", json=fixes)
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    quiet = api.get(
        "/alerts",
        params=[("subject_id", subject["id"]), ("stage", "pending"), ("stage", "authorised")],
    ).json()
    return subject, quiet


def test_the_subjects_stays_show_their_stage_and_severity(visit: Visit, api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    subject, quiet = stays_subject(api, tag)
    assert sorted(a["stage"] for a in quiet) == ["authorised", "pending"]
    # The alert list is given one alert of each kind it must draw: the pending stay as the
    # API would send a confirmed warning in a schedule window.
    warning = quiet[0] | {
        "id": quiet[0]["id"],
        "stage": "alert",
        "severity": "warning",
        "zone_name": f"Ringed Park {tag}",
        "schedule_window": f"08:00{DASH}16:00 Monday to Friday",
    }
    page = visit.page
    page.route(
        re.compile(r".*/api/v1/alerts\?(?!.*stage=).*"),
        lambda route: route.fulfill(status=200, json=[warning]),
    )
    visit.open_as(f"/subjects/{subject['id']}", OFFICER)
    alerts = page.locator("#alert-list > li")
    expect(alerts).to_have_count(1)
    expect(alerts.first).to_contain_text(f"Ringed Park {tag}")
    expect(alerts.first.locator(".badge.severity-warning")).to_have_text("warning")
    expect(alerts.first).to_have_class(re.compile("severity-warning"))
    expect(alerts.first).to_contain_text("in the warning ring, not the zone")
    expect(alerts.first).to_contain_text(f"Schedule window: 08:00{DASH}16:00 Monday to Friday")
    stays = page.locator("#stay-list > li")
    expect(stays).to_have_count(2)
    pending = stays.filter(has_text=f"Slow Park {tag}")
    expect(pending.locator(".badge.stage-pending")).to_have_text("pending")
    expect(pending.locator(".badge.severity-breach")).to_have_text("in the zone")  # no breach
    authorised = stays.filter(has_text=f"Visited Hall {tag}")
    expect(authorised.locator(".badge.stage-authorised")).to_have_text("authorised")
    expect(authorised).to_contain_text("still inside at the last fix")
    expect(page.locator("#stays-status")).to_have_text("2 stays.")
    page.wait_for_load_state("networkidle")
    assert visit.problems() == {}
    assert visit.axe_violations() == []


def test_a_stay_in_the_warning_ring_is_listed_as_a_warning(visit: Visit, api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    subject, _ = stays_subject(api, tag)
    visit.open_as(f"/subjects/{subject['id']}", OFFICER)
    alerts = visit.page.locator("#alert-list > li")
    expect(alerts).to_have_count(1, timeout=3000)
    expect(alerts.first.locator(".badge.severity-warning")).to_have_text("warning")
