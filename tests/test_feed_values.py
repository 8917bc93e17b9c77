"""Numbers as trackers send them: JSON numbers or decimal strings, refused with the field's
name when they cannot be a coordinate or a reading."""

import json

import pytest

from zones.errors import InvalidObservation
from zones.feeds import osmand, traccar
from zones.feeds.values import number


@pytest.mark.parametrize("value", [10**400, "1e400", "nan", float("inf"), True, [1], "12 m"])
def test_numbers_that_are_not_readings_are_refused_by_field(value: object) -> None:
    with pytest.raises(InvalidObservation) as refused:
        number(value, "speed")
    assert refused.value.field == "speed"


def test_readings_and_blanks() -> None:
    assert number(" 52.2 ", "lat") == 52.2
    assert number(7, "batt") == 7.0
    assert number(None, "batt") is None and number("", "batt") is None


def test_a_huge_integer_in_a_json_body_is_a_refusal_not_a_crash() -> None:
    huge = "1" + "0" * 400
    with pytest.raises(InvalidObservation):
        osmand.read_json(
            '{"device_id": "TAG-1", "location": {"timestamp": "2026-11-29T10:00:00Z", '
            f'"coords": {{"latitude": {huge}, "longitude": 0.12}}}}}}'.encode()
        )
    position = {"latitude": 52.2, "longitude": 0.12, "fixTime": "2026-11-29T10:00:00Z", "speed": 0}
    body = {"position": position, "device": {"uniqueId": "TAG-1"}}
    text = json.dumps(body).replace('"speed": 0', f'"speed": {huge}')
    with pytest.raises(InvalidObservation):
        traccar.read_forwarded(text.encode())
