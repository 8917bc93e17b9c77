"""The alert desk's filters as the API takes them: a subject by part of its reference or name,
with the other filters; and the stream's book of what it has sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.stream_routes import LOOKBACK, Sent
from tests.service.conftest import square, zone_feature

PARK = (0.1500, 52.1000)


def when(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def alert_for(officer: TestClient, control: TestClient, reference: str, name: str) -> int:
    """A subject barred from a park, seen inside it: the alert's id."""
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK), "Filter Park")).json()
    subject = officer.post("/api/v1/subjects", json={"reference": reference, "name": name}).json()
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": subject["id"],
            "reference": f"SHPO/{reference}",
            "starts": "2020-01-01",
            "conditions": [{"text": "Not to enter Filter Park.", "zone_ids": [zone["id"]]}],
        },
    )
    assert order.status_code == 201, order.text
    seen = control.post(
        "/api/v1/sightings/check",
        json={
            "subject_id": subject["id"],
            "lon": PARK[0],
            "lat": PARK[1],
            "time": when(1),
            "source": "public",
        },
    )
    assert seen.status_code == 200, seen.text
    alert_id: int = seen.json()["alert_id"]
    return alert_id


def ids(client: TestClient, **params: Any) -> list[int]:
    got = client.get("/api/v1/alerts", params=params)
    assert got.status_code == 200, got.text
    return [a["id"] for a in got.json()]


def test_a_subject_is_found_by_part_of_its_reference_or_name_in_any_case(
    officer: TestClient, control: TestClient
) -> None:
    kim = alert_for(officer, control, "FLT-100_A", "Kim Filterby")
    lee = alert_for(officer, control, "FLT-200", "Lee 50% Marsh")
    assert ids(control, subject="flt-100") == [kim]
    assert ids(control, subject="FILTERBY") == [kim]
    assert sorted(ids(control, subject="FLT-")) == sorted([kim, lee])
    # % and _ are letters like any other, not patterns.
    assert ids(control, subject="50%") == [lee]
    assert ids(control, subject="100_A") == [kim]
    assert ids(control, subject="FLT_1") == []
    # With the other filters.
    assert ids(control, subject="flt-", handling="resolved") == []
    assert sorted(ids(control, subject="flt-", handling=["unhandled", "acknowledged"])) == sorted(
        [kim, lee]
    )
    assert ids(control, subject="flt-", order_type="restraining") == []


@pytest.mark.parametrize("bad", ["", "x" * 101])
def test_a_subject_filter_that_says_nothing_or_too_much_is_refused(
    control: TestClient, bad: str
) -> None:
    got = control.get("/api/v1/alerts", params={"subject": bad})
    assert got.status_code == 422, got.text
    assert got.json()["error"]["field"] == "query.subject"


def test_a_stream_sends_each_event_once_whatever_order_they_are_heard_in() -> None:
    sent = Sent(40)
    assert sent.add(42)
    assert sent.add(41)  # committed after 42: still sent
    assert not sent.add(42)
    assert sent.last == 42
    # Catching up looks below the newest, but never before where the stream began.
    assert sent.floor() == 40
    sent.add(40 + 3 * LOOKBACK)
    assert sent.floor() == 40 + 2 * LOOKBACK
