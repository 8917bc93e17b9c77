"""OwnTracks payloads, as the apps and their documentation give them, read into fixes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from zones.errors import InvalidObservation, ZonesError
from zones.feeds.owntracks import device_identifier, read_message

# github:owntracks/booklet docs/guide/quicksetup.md (a location as mosquitto_sub shows it,
# published to owntracks/jane/nokia)
BOOKLET_LOCATION = (
    b'{"_type":"location","SSID":"mywifi","alt":154,"batt":53,"conn":"w",'
    b'"created_at":1706856299,"lat":48.856826,"lon":2.292713,"tid":"j1","tst":1706856298,'
    b'"vel":0}'
)
# github:owntracks/android project/app/src/test/resources/fixtures/location_beacon_trigger.json
ANDROID_MOVING = """{
  "_type": "location",
  "acc": 5,
  "alt": 84,
  "batt": 34,
  "bs": 1,
  "cog": 277,
  "conn": "m",
  "lat": -25.762245,
  "lon": 126.074502,
  "m": 2,
  "p": 100.477,
  "tid": "AA",
  "t": "b",
  "tst": 1721896446,
  "vac": 3,
  "vel": 79
}"""
# github:owntracks/android .../fixtures/location_deserialize_extended.json (has an _id)
ANDROID_WITH_ID = {
    "_type": "location",
    "tid": "s5",
    "acc": 1600,
    "alt": 0.0,
    "batt": 99,
    "bs": 3,
    "cog": 56,
    "conn": "w",
    "_id": "inputTestId",
    "lat": 52.3153748,
    "lon": 5.0408462,
    "t": "p",
    "tst": 1514455575,
    "vac": 0,
    "inregions": ["Testregion1", "Testregion2"],
}
# github:owntracks/android .../fixtures/location_multiple_messages.json
ANDROID_TWO = [
    {
        "_type": "location",
        "tid": "s5",
        "acc": 1600,
        "alt": 0.0,
        "batt": 99,
        "cog": 45,
        "conn": "w",
        "lat": 52.3153748,
        "lon": 5.0408462,
        "t": "p",
        "tst": 1514455575,
        "vac": 0,
    },
    {
        "_type": "location",
        "tid": "s5",
        "acc": 95,
        "alt": 0.0,
        "batt": 99,
        "cog": 56,
        "conn": "w",
        "lat": 12.3153748,
        "lon": 15.0408462,
        "t": "p",
        "tst": 1514455579,
        "vac": 0,
    },
]
# github:owntracks/booklet docs/features/encrypt.md
ENCRYPTED = '{"_type": "encrypted", "data": "1Vu7Owp ... W4lMnh28FB+el22GsCrlnggvEcp4H8GR9iKJ"}'
# github:owntracks/booklet docs/features/beacons.md
TRANSITION = {
    "_type": "transition",
    "acc": 65,
    "desc": "Main@WestWing",
    "event": "enter",
    "lat": 2.2222,
    "lon": 1.1111,
    "tid": "jp",
    "tst": 1433342520,
    "wtst": 1432817332,
}
# github:owntracks/android .../fixtures/card_message_with_tid.json
CARD = '{"_type": "card", "tid": "overridden-topic", "name": "MyName!"}'
# github:owntracks/booklet docs/tech/lua.md (batt -1: the level is unknown)
LUA_EXAMPLE = (
    '{"batt":-1,"lon":2.29513,"lat":48.85833,"t":"u","tst":1441984413,"_type":"location",'
    '"tid":"JJ"}'
)


def test_a_booklet_location_is_one_fix_of_user_slash_device() -> None:
    [fix] = read_message(BOOKLET_LOCATION, user="jane", device="nokia")
    assert fix.device == "jane/nokia"
    assert fix.time == datetime(2024, 2, 2, 6, 44, 58, tzinfo=UTC)
    assert (fix.lon, fix.lat) == (2.292713, 48.856826)
    assert fix.altitude_m == 154
    assert fix.battery_pct == 53
    assert fix.speed_mps == 0
    assert fix.accuracy_m is None  # acc is left out when zero or unknown
    assert fix.valid and fix.protocol == "owntracks" and fix.client_id is None
    assert fix.extra["tid"] == "j1" and fix.extra["created_at"] == 1706856299


def test_units_are_converted_velocity_kmh_to_metres_a_second() -> None:
    [fix] = read_message(ANDROID_MOVING, user="u", device="d")
    assert fix.speed_mps == pytest.approx(79 / 3.6)
    assert fix.bearing_deg == 277
    assert fix.accuracy_m == 5
    assert fix.extra["t"] == "b"


def test_the_android_message_id_is_the_client_id() -> None:
    [fix] = read_message(ANDROID_WITH_ID, user="u", device="d")
    assert fix.client_id == "inputTestId"
    assert fix.accuracy_m == 1600


def test_an_array_gives_one_fix_per_location_in_order() -> None:
    fixes = read_message(json.dumps(ANDROID_TWO), user="u", device="d")
    assert [f.lat for f in fixes] == [52.3153748, 12.3153748]
    assert fixes[1].time == datetime.fromtimestamp(1514455579, UTC)


def test_unknown_battery_level_is_none() -> None:
    [fix] = read_message(LUA_EXAMPLE, user="u", device="d")
    assert fix.battery_pct is None


@pytest.mark.parametrize("payload", [TRANSITION, CARD, '{"_type":"lwt","tst":1441984413}', b""])
def test_other_types_and_empty_bodies_give_no_fix(payload: object) -> None:
    assert read_message(payload, user="u", device="d") == []  # type: ignore[arg-type]


def test_an_encrypted_payload_is_refused_saying_how_to_fix_it() -> None:
    with pytest.raises(InvalidObservation, match="encrypt") as caught:
        read_message(ENCRYPTED, user="u", device="d")
    assert caught.value.field == "_type"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "body"),
        ('"location"', "body"),
        ('{"lat": 1}', "_type"),
        ('{"_type": "teleport"}', "_type"),
        # github:owntracks/android .../fixtures/location_empty.json
        ('{"_type": "location"}', "lat"),
        # github:owntracks/android .../fixtures/invalid_location_message_zero_timestamp.json
        ('{"_type":"location","tst":0,"tid":"xx","lat":0.0,"lon":0.0,"acc":15,"alt":300}', "tst"),
        ('{"_type":"location","tst":"soon","lat":1,"lon":2}', "tst"),
        ('{"_type":"location","tst":1e300,"lat":1,"lon":2}', "tst"),
        ('{"_type":"location","tst":1441984413,"lat":NaN,"lon":2}', "lat"),
        ('{"_type":"location","tst":1441984413,"lat":true,"lon":2}', "lat"),
        ('{"_type":"location","tst":1441984413,"lat":1,"lon":2,"acc":-4}', "acc"),
    ],
)
def test_unreadable_payloads_are_refused_naming_the_field(payload: str, field: str) -> None:
    with pytest.raises(ZonesError) as caught:
        read_message(payload, user="u", device="d")
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("user", "device", "field"),
    [
        ("", "phone", "user"),
        ("jane", " ", "device"),
        ("ja/ne", "phone", "user"),
        ("jane", "ph+", "device"),
        ("j" * 60, "p" * 60, "device"),
    ],
)
def test_a_device_identifier_is_two_topic_levels(user: str, device: str, field: str) -> None:
    assert device_identifier("jane", "phone") == "jane/phone"
    with pytest.raises(InvalidObservation) as caught:
        device_identifier(user, device)
    assert caught.value.field == field
