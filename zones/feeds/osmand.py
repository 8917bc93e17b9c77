"""The OsmAnd protocol, as Traccar serves it (port 5055) and the Traccar Client and OsmAnd
apps send it, read into :class:`FeedFix`.

Two shapes (Traccar's ``OsmAndProtocolDecoder``): a query string or form (``id`` or
``deviceid``, ``lat``, ``lon`` or ``location=lat,lon``, ``timestamp`` in Unix seconds or
milliseconds or ISO 8601 or ``yyyy-MM-dd HH:mm:ss``, ``speed`` in KNOTS, ``bearing`` or
``heading``, ``altitude``, ``accuracy``, ``hdop``, ``batt``, ``valid``, ``alarm``, ...), and
JSON (``{"device_id", "location": {"timestamp", "coords": {... "speed" in m/s}, "battery":
{"level" 0..1}}}``, what the Traccar Client app of today posts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from zones.errors import InvalidObservation
from zones.feeds import values
from zones.feeds.fix import FeedFix
from zones.feeds.traccar import alarms_of

PROTOCOL = "osmand"
_EXTRA = ("hdop", "driverUniqueId", "charge", "vacc", "hacc", "ignition")


@dataclass(frozen=True, slots=True)
class Message:
    """What one request said: always the device, and its fix when it gave a position
    (the Traccar Client also posts only ``id`` and ``notificationToken``)."""

    device: str
    fix: FeedFix | None


def read_query(params: Iterable[tuple[str, str]], *, received_at: datetime) -> Message:
    """One message from a query string's or form's pairs. A fix without ``timestamp`` is
    taken to be from ``received_at``, as Traccar does."""
    got: dict[str, str] = {}
    for key, value in params:
        got.setdefault(key, value)  # the first of a repeated key, as for id
    device = values.identifier(got.get("id", got.get("deviceid")), "id")
    if "location" in got:
        lat_text, _, lon_text = got["location"].partition(",")
        got.setdefault("lat", lat_text)
        got.setdefault("lon", lon_text)
    lat = values.number(got.get("lat"), "lat")
    lon = values.number(got.get("lon"), "lon")
    if lat is None or lon is None:
        if lat is None and lon is None:
            return Message(device, None)
        raise InvalidObservation("give both lat and lon", field="lat" if lat is None else "lon")
    speed = values.number(got.get("speed"), "speed")
    return Message(
        device,
        FeedFix(
            device=device,
            time=_timestamp(got["timestamp"]) if got.get("timestamp") else received_at,
            lon=lon,
            lat=lat,
            accuracy_m=_accuracy(values.number(got.get("accuracy"), "accuracy")),
            speed_mps=None if speed is None or speed < 0 else speed * values.KNOT_MPS,
            bearing_deg=values.number(got.get("bearing", got.get("heading")), "bearing"),
            altitude_m=values.number(got.get("altitude"), "altitude"),
            battery_pct=values.number(got.get("batt"), "batt"),
            valid=values.flag(got["valid"], "valid") if "valid" in got else True,
            alarms=alarms_of(got.get("alarm")),
            protocol=PROTOCOL,
            extra={k: got[k] for k in _EXTRA if k in got},
        ),
    )


def read_json(payload: bytes | str | Mapping[str, object]) -> Message:
    """One message from the JSON shape (the Traccar Client app's)."""
    payload = values.json_object(payload, "the body")
    device = values.identifier(payload.get("device_id"), "device_id")
    location = payload.get("location")
    if not isinstance(location, Mapping):
        raise InvalidObservation("the JSON has no location object", field="location")
    coords = location.get("coords")
    if not isinstance(coords, Mapping):
        return Message(device, None)  # Traccar falls back to the last position; we keep none
    battery = location.get("battery")
    level = (
        values.number(battery.get("level"), "location.battery.level")
        if isinstance(battery, Mapping)
        else None
    )
    speed = values.number(coords.get("speed"), "location.coords.speed")
    heading = values.number(coords.get("heading"), "location.coords.heading")
    extras = location.get("extras")
    alarm = location.get("alarm") or (extras.get("alarm") if isinstance(extras, Mapping) else None)
    uuid = location.get("uuid")
    return Message(
        device,
        FeedFix(
            device=device,
            time=values.iso_time(location.get("timestamp"), "location.timestamp"),
            lon=values.required(coords.get("longitude"), "location.coords.longitude"),
            lat=values.required(coords.get("latitude"), "location.coords.latitude"),
            accuracy_m=_accuracy(values.number(coords.get("accuracy"), "location.coords.accuracy")),
            speed_mps=None if speed is None or speed < 0 else speed,  # -1: unknown
            bearing_deg=None if heading is None or heading < 0 else heading,
            altitude_m=values.number(coords.get("altitude"), "location.coords.altitude"),
            battery_pct=None if level is None or level < 0 else level * 100,
            alarms=alarms_of(alarm),
            client_id=uuid[:100] if isinstance(uuid, str) and uuid else None,
            protocol=PROTOCOL,
            extra={
                k: location[k]
                for k in ("event", "is_moving", "mock", "odometer")
                if k in location and not isinstance(location[k], Mapping | list)
            },
        ),
    )


def _timestamp(text: str) -> datetime:
    try:
        return values.unix_time(float(int(text)), "timestamp")
    except ValueError:
        pass
    if "T" in text:
        return values.iso_time(text, "timestamp")
    try:  # Traccar's other form: "2014-06-04 09:10:11", in UTC
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidObservation(
            f"timestamp {text[:40]!r} is not Unix seconds or milliseconds or ISO 8601",
            field="timestamp",
        ) from None


def _accuracy(value: float | None) -> float | None:
    if value is not None and value < 0:
        raise InvalidObservation("accuracy must not be negative", field="accuracy")
    return value
