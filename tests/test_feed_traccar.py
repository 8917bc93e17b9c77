"""Positions forwarded by a Traccar server (``forward.type=json``)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from zones.errors import InvalidObservation
from zones.feeds.traccar import alarms_of, read_forwarded

# What github:traccar/traccar src/main/java/org/traccar/forward/PositionForwarderJson.java
# posts: PositionData (forward/PositionData.java) written by Traccar's ObjectMapper
# (MainModule.provideObjectMapper: dates as ISO 8601, not numbers), with the fields of
# model/Position.java (fixTime, valid, latitude, longitude, altitude, speed in knots,
# course, accuracy, attributes with KEY_ALARM "alarm" and KEY_BATTERY_LEVEL "batteryLevel";
# Position.addAlarm joins several alarms with commas) and model/Device.java (uniqueId).
FORWARDED = {
    "position": {
        "id": 5243,
        "attributes": {
            "alarm": "tampering,powerCut",
            "batteryLevel": 14.0,
            "motion": False,
            "distance": 0.0,
            "totalDistance": 81234.5,
        },
        "deviceId": 3,
        "protocol": "gt06",
        "serverTime": "2026-11-29T10:00:04.512+00:00",
        "deviceTime": "2026-11-29T10:00:00.000+00:00",
        "fixTime": "2026-11-29T10:00:00.000+00:00",
        "outdated": False,
        "valid": True,
        "latitude": 52.2053,
        "longitude": 0.1218,
        "altitude": 12.0,
        "speed": 10.0,
        "course": 90.0,
        "address": None,
        "accuracy": 0.0,
        "network": None,
        "geofenceIds": None,
    },
    "device": {
        "id": 3,
        "attributes": {},
        "groupId": 0,
        "calendarId": 0,
        "name": "Tag 7",
        "uniqueId": "864035050000007",
        "status": "online",
        "lastUpdate": "2026-11-29T10:00:04.512+00:00",
        "positionId": 5242,
        "phone": None,
        "model": None,
        "contact": None,
        "category": None,
        "disabled": False,
        "expirationTime": None,
    },
}


def test_a_forwarded_position_in_our_units_with_its_alarms() -> None:
    fix = read_forwarded(json.dumps(FORWARDED).encode())
    assert fix.device == "864035050000007"
    assert fix.time == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert (fix.lon, fix.lat) == (0.1218, 52.2053)
    assert fix.speed_mps == pytest.approx(10 * 1852 / 3600)  # knots
    assert fix.bearing_deg == 90 and fix.altitude_m == 12 and fix.battery_pct == 14
    assert fix.accuracy_m is None  # Traccar's 0: unknown
    assert fix.alarms == {"tamper", "power_cut"}
    assert fix.client_id == "5243" and fix.valid and fix.protocol == "traccar"
    assert fix.extra["traccar_protocol"] == "gt06"


def test_an_invalid_position_says_so() -> None:
    body = copy.deepcopy(FORWARDED)
    body["position"]["valid"] = False  # type: ignore[index]
    assert not read_forwarded(body).valid


def test_alarm_names_in_our_words_and_unknown_ones_kept() -> None:
    assert alarms_of("lowBattery") == {"low_battery"}
    assert alarms_of("removing,overspeed") == {"removed", "traccar:overspeed"}
    assert alarms_of(None) == frozenset()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.pop("device"), "device"),
        (lambda b: b.pop("position"), "position"),
        (lambda b: b["device"].pop("uniqueId"), "device.uniqueId"),
        (lambda b: b["position"].update(fixTime=1764410400000), "position.fixTime"),
        (lambda b: b["position"].update(latitude="north"), "position.latitude"),
        (lambda b: b["position"].pop("longitude"), "position.longitude"),
    ],
)
def test_a_broken_forward_is_refused_naming_the_field(change: object, field: str) -> None:
    body = copy.deepcopy(FORWARDED)
    change(body)  # type: ignore[operator]
    with pytest.raises(InvalidObservation) as caught:
        read_forwarded(body)
    assert caught.value.field == field
