"""Traccar's position forwarding (``forward.type=json``) read into :class:`FeedFix`.

Traccar posts ``{"position": {...}, "device": {...}}``, its ``PositionData`` written by
Jackson: the ``Position`` and ``Device`` models' own field names, times in ISO 8601, speed
in knots, accuracy 0 when unknown, alarms in ``attributes.alarm`` (comma-separated when a
position carries several). Through it a Traccar server feeds us every protocol it decodes.
"""

from __future__ import annotations

from collections.abc import Mapping

from zones.errors import InvalidObservation
from zones.feeds import values
from zones.feeds.fix import FeedFix

PROTOCOL = "traccar"

# Traccar's alarm names (Position.ALARM_*) in this service's words; the rest are kept as
# Traccar names them, prefixed, so nothing a device reported is lost.
ALARMS: dict[str, str] = {
    "tampering": "tamper",
    "removing": "removed",  # taken off: a strap opened or cut
    "powerCut": "power_cut",
    "powerOff": "power_off",
    "lowBattery": "low_battery",
    "lowPower": "low_power",
    "sos": "sos",
    "gpsAntennaCut": "gps_antenna_cut",
    "jamming": "jamming",
    "fallDown": "fall",
}
_KEPT = ("batteryLevel", "battery", "hdop", "sat", "motion", "event", "charge", "ignition")


def alarms_of(value: object) -> frozenset[str]:
    """Traccar's ``alarm`` attribute (``"tampering"``, ``"powerCut,lowBattery"``) in this
    service's words; an alarm without one is kept as ``traccar:NAME``."""
    if not isinstance(value, str):
        return frozenset()
    names = [n.strip() for n in value.split(",") if n.strip()]
    return frozenset(ALARMS.get(n, f"traccar:{n[:40]}") for n in names[:20])


def read_forwarded(payload: bytes | str | Mapping[str, object]) -> FeedFix:
    """The fix in one forwarded Traccar position.

    Raises
    ------
    InvalidObservation
        Not JSON, no ``position`` or ``device``, no ``device.uniqueId``, or a position
        without a usable ``latitude``, ``longitude`` or ``fixTime``.
    """
    payload = values.json_object(payload, "a forwarded position")
    position, device = payload.get("position"), payload.get("device")
    if not isinstance(position, Mapping):
        raise InvalidObservation("the JSON has no position object", field="position")
    if not isinstance(device, Mapping):
        raise InvalidObservation(
            "the JSON has no device object (set forward.type to json)", field="device"
        )
    attributes = position.get("attributes")
    if not isinstance(attributes, Mapping):
        attributes = {}
    speed = values.number(position.get("speed"), "position.speed")
    accuracy = values.number(position.get("accuracy"), "position.accuracy")
    battery = values.number(attributes.get("batteryLevel"), "position.attributes.batteryLevel")
    valid = position.get("valid", True)
    client_id = position.get("id")
    return FeedFix(
        device=values.identifier(device.get("uniqueId"), "device.uniqueId"),
        time=values.iso_time(position.get("fixTime"), "position.fixTime"),
        lon=values.required(position.get("longitude"), "position.longitude"),
        lat=values.required(position.get("latitude"), "position.latitude"),
        accuracy_m=accuracy if accuracy else None,  # 0: the device gave none
        speed_mps=None if speed is None else speed * values.KNOT_MPS,
        bearing_deg=values.number(position.get("course"), "position.course"),
        altitude_m=values.number(position.get("altitude"), "position.altitude"),
        battery_pct=battery,
        valid=values.flag(valid, "position.valid"),
        alarms=alarms_of(attributes.get("alarm")),
        # Traccar's own id of the position: a retried forward carries the same one.
        client_id=str(client_id) if isinstance(client_id, int) and client_id > 0 else None,
        protocol=PROTOCOL,
        extra={
            "traccar_protocol": position.get("protocol"),
            **{k: attributes[k] for k in _KEPT if k in attributes},
        },
    )
