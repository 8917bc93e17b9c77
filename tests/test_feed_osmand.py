"""OsmAnd requests, as Traccar's own decoder tests and the Traccar Client app send them."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from zones.errors import InvalidObservation
from zones.feeds.osmand import read_json, read_query

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
KNOT = 1852 / 3600


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


# github:traccar/traccar src/test/java/org/traccar/protocol/OsmAndProtocolDecoderTest.java,
# testDecodeQuery: every request that decodes to a position, and the time each one says.
DECODER_QUERIES = [
    ("/?id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0"
     "&altitude=224.0&speed=0.0", datetime(2016, 1, 27, 18, 55, 47, tzinfo=UTC)),
    ("/?id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&hdop=6.0&altitude=224.0"
     "&speed=0.0", datetime(2015, 9, 12, 14, 38, 6, 579000, tzinfo=UTC)),
    ("/?lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&altitude=384.7&speed=0.0"
     "&id=353861053849681", datetime(2014, 6, 4, 9, 10, 11, tzinfo=UTC)),
    ("/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0&speed=0.0&bearing=0.0&altitude=0"
     "&hdop=0.0", datetime(2013, 8, 22, 13, 14, 27, tzinfo=UTC)),
    ("/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0",
     datetime(2013, 8, 22, 13, 14, 27, tzinfo=UTC)),
    ("/?lat=60.0&lon=30.0&speed=0.0&heading=0.0&vacc=0&hacc=0&altitude=0&deviceid=123456", NOW),
    ("/?id=861001000719969&lat=41.666667&lon=-0.883333&altitude=350.059479&speed=0.000000"
     "&batt=87", NOW),
    ("/?id=123456&timestamp=1377177267&location=60.0,30.0",
     datetime(2013, 8, 22, 13, 14, 27, tzinfo=UTC)),
    ("/?id=123456789012345&timestamp=1504763810&lat=40.7232948571&lon=-74.0061408571"
     "&bearing=7.19889788244&speed=40&ignition=true&rpm=933&fuel=24",
     datetime(2017, 9, 7, 5, 56, 50, tzinfo=UTC)),
]  # fmt: skip
# The same test, testDecodeJson: what the Traccar Client app posts (its tracker library's
# location object); the third has speed 18.67 m/s, heading 63 and battery level 0.79.
DECODER_JSON = [
    '{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,'
    '"longitude":-122.084,"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,'
    '"odometer":0,"event":"motionchange","battery":{"level":1,"is_charging":false},"activity":'
    '{"type":"still"},"extras":{},"_":"&id=48241179&lat=37.4219983&lon=-122.084&timestamp='
    '2025-06-15T13:45:12.862Z&"},"device_id":"48241179"}',
    '{"location":{"extras":{},"mock":true,"coords":{"speed_accuracy":-1,"speed":-1,"longitude":'
    '-122.406417,"ellipsoidal_altitude":0,"floor":null,"heading_accuracy":-1,"latitude":'
    '37.785834000000001,"accuracy":5,"altitude_accuracy":-1,"altitude":0,"heading":-1},'
    '"is_moving":false,"age":188,"odometer":0,"uuid":"2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8",'
    '"event":"motionchange","battery":{"level":-1,"is_charging":false},"activity":{"type":'
    '"unknown","confidence":100},"timestamp":"2025-05-09T04:11:30.579Z"},"device_id":"658765"}',
    '{"location":{"event":"motionchange","is_moving":false,"uuid":"0e9a2473-a9a7-4c00-997b-'
    'fb97d2154e75","timestamp":"2021-07-21T08:06:34.444Z","odometer":0,"coords":{"latitude":'
    '-6.1148096,"longitude":106.6837015,"accuracy":3.8,"speed":18.67,"speed_accuracy":0.26,'
    '"heading":63,"heading_accuracy":0.28,"altitude":35.7,"altitude_accuracy":3.8},"activity":'
    '{"type":"still","confidence":100},"battery":{"is_charging":false,"level":0.79},"extras":'
    '{}},"device_id":"8737767034"}',
]


@pytest.mark.parametrize(("url", "time"), DECODER_QUERIES)
def test_traccars_own_query_strings_give_a_fix_at_the_time_they_say(
    url: str, time: datetime
) -> None:
    message = read_query(query(url), received_at=NOW)
    assert message.fix is not None
    assert message.fix.time == time
    assert message.fix.device == message.device and message.fix.protocol == "osmand"


def test_query_units_speed_is_knots_and_values_are_kept() -> None:
    message = read_query(query(DECODER_QUERIES[-1][0]), received_at=NOW)
    fix = message.fix
    assert fix is not None and message.device == "123456789012345"
    assert (fix.lat, fix.lon) == (40.7232948571, -74.0061408571)
    assert fix.speed_mps == pytest.approx(40 * KNOT)  # OsmAnd's speed is in knots
    assert fix.bearing_deg == pytest.approx(7.19889788244)
    assert fix.extra["ignition"] == "true"
    batt = read_query(query(DECODER_QUERIES[6][0]), received_at=NOW).fix
    assert batt is not None and batt.battery_pct == 87 and batt.altitude_m == 350.059479


def test_location_pair_is_latitude_first() -> None:
    fix = read_query(query(DECODER_QUERIES[7][0]), received_at=NOW).fix
    assert fix is not None and (fix.lat, fix.lon) == (60.0, 30.0)


def test_a_request_without_a_position_names_its_device_and_has_no_fix() -> None:
    # github:traccar/traccar OsmAndProtocolDecoderTest: cell towers and wifi, no lat/lon;
    # github:traccar/traccar-client lib/push_service.dart posts id and notificationToken.
    for url in (
        "/?id=123456&timestamp=1377177267&cell=257,02,16,2224&cell=257,02,16,2223,-90"
        "&wifi=00-14-22-01-23-45,-80&wifi=00-1C-B3-09-85-15,-70",
        "/?id=48241179&notificationToken=abc",
    ):
        message = read_query(query(url), received_at=NOW)
        assert message.fix is None and message.device in ("123456", "48241179")


def test_invalid_and_alarm_are_kept() -> None:
    fix = read_query(
        query("/?id=7&lat=52.2&lon=0.12&timestamp=1700000000&valid=false&alarm=tampering"),
        received_at=NOW,
    ).fix
    assert fix is not None and not fix.valid and fix.alarms == {"tamper"}


@pytest.mark.parametrize(
    ("url", "field"),
    [
        # The decoder test's request without an id: Traccar answers 400.
        ("/?timestamp=1377177267&lat=60.0&lon=30.0", "id"),
        ("/?id=1&lat=60.0&lon=abc", "lon"),
        ("/?id=1&lat=60.0", "lon"),
        ("/?id=1&lat=60&lon=30&timestamp=yesterday", "timestamp"),
        ("/?id=1&lat=60&lon=30&timestamp=-5", "timestamp"),
        ("/?id=1&lat=60&lon=30&valid=maybe", "valid"),
        ("/?id=1&lat=60&lon=30&accuracy=-3", "accuracy"),
    ],
)
def test_bad_queries_are_refused_naming_the_field(url: str, field: str) -> None:
    with pytest.raises(InvalidObservation) as caught:
        read_query(query(url), received_at=NOW)
    assert caught.value.field == field


def test_the_traccar_clients_json_is_read_in_its_units() -> None:
    first = read_json(DECODER_JSON[0])
    assert first.device == "48241179" and first.fix is not None
    assert first.fix.time == datetime(2025, 6, 15, 13, 45, 12, 862000, tzinfo=UTC)
    assert (first.fix.lat, first.fix.lon, first.fix.accuracy_m) == (37.4219983, -122.084, 5)
    assert first.fix.bearing_deg is None  # heading -1: unknown
    assert first.fix.battery_pct == 100
    mock = read_json(DECODER_JSON[1]).fix
    assert mock is not None and mock.speed_mps is None and mock.battery_pct is None
    assert mock.client_id == "2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8" and mock.extra["mock"]
    moving = read_json(DECODER_JSON[2].encode()).fix
    assert moving is not None
    assert moving.speed_mps == 18.67  # m/s in the JSON shape, unlike the query's knots
    assert moving.bearing_deg == 63 and moving.battery_pct == pytest.approx(79)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("nonsense", "body"),
        ("[]", "body"),
        ('{"location": {}}', "device_id"),
        ('{"device_id": "1"}', "location"),
        ('{"device_id": "1", "location": {"timestamp": "now", "coords": {"latitude": 1, '
         '"longitude": 2}}}', "location.timestamp"),
        ('{"device_id": "1", "location": {"timestamp": "2025-06-15T13:45:12Z", "coords": '
         '{"latitude": 1}}}', "location.coords.longitude"),
    ],
)  # fmt: skip
def test_bad_json_is_refused_naming_the_field(body: str, field: str) -> None:
    with pytest.raises(InvalidObservation) as caught:
        read_json(body)
    assert caught.value.field == field
