"""OwnTracks JSON (the apps' HTTP and MQTT payloads) read into :class:`FeedFix`.

The format is the OwnTracks booklet's ``docs/tech/json.md``: every message has a ``_type``;
only ``location`` carries a fix. The device is the ``user/device`` pair of the MQTT topic
``owntracks/user/device`` (over HTTP: Basic auth user or ``X-Limit-U``, and ``X-Limit-D``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime

from zones.errors import InvalidObservation
from zones.feeds.fix import FeedFix

PROTOCOL = "owntracks"
IDENTIFIER_LENGTH = 100  # the length of a registered device identifier
MAX_MESSAGES = 1000  # the Android app may send an array of messages in one body
KMH = 1 / 3.6  # ``vel`` is in km/h; FeedFix speeds are in m/s

# Every _type the booklet lists; those other than location carry no fix of the wearer.
KNOWN_TYPES = frozenset(
    {
        "beacon",
        "card",
        "cmd",
        "configuration",
        "encrypted",
        "location",
        "lwt",
        "request",
        "status",
        "steps",
        "transition",
        "waypoint",
        "waypoints",
    }
)
# Kept with the fix for whoever reads it later; none of them is judged.
_EXTRA_KEYS = ("tid", "t", "created_at", "conn", "bs", "vac", "m", "topic", "inregions")


def device_identifier(user: str, device: str) -> str:
    """The identifier an OwnTracks device is registered under: ``user/device``, the last
    two levels of its MQTT topic ``owntracks/user/device``."""
    for name, part in (("user", user), ("device", device)):
        if not part or not part.strip():
            raise InvalidObservation(f"the OwnTracks {name} name is empty", field=name)
        if any(c in part for c in "/+#") or any(ord(c) < 32 for c in part):
            raise InvalidObservation(
                f"the OwnTracks {name} name {part!r} holds a character a topic level cannot",
                field=name,
            )
    identifier = f"{user}/{device}"
    if len(identifier) > IDENTIFIER_LENGTH:
        raise InvalidObservation(
            f"the OwnTracks user/device is longer than {IDENTIFIER_LENGTH} characters",
            field="device",
        )
    return identifier


def read_message(
    payload: bytes | str | Mapping[str, object], *, user: str, device: str
) -> list[FeedFix]:
    """The fixes in one OwnTracks payload: one for a ``location``, none for the other
    types (and for an empty body, which the apps send when a friend is deleted).

    A JSON array of messages (the Android app queues and may send several) gives one fix
    per location in it. An ``encrypted`` payload is refused: this service holds no
    OwnTracks secret, so the app's payload encryption must be turned off for it.

    Raises
    ------
    InvalidObservation
        The payload is not JSON, not an OwnTracks message, encrypted, or a location
        without a usable ``lat``, ``lon`` or ``tst``; ``field`` names the culprit.
    """
    identifier = device_identifier(user, device)
    if isinstance(payload, bytes | str):
        if not payload.strip():
            return []
        try:
            message: object = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise InvalidObservation("the OwnTracks payload is not JSON", field="body") from exc
    else:
        message = payload
    if isinstance(message, list):
        if len(message) > MAX_MESSAGES:
            raise InvalidObservation(
                f"more than {MAX_MESSAGES} OwnTracks messages in one payload", field="body"
            )
        return [fix for item in message for fix in _read_one(item, identifier)]
    return _read_one(message, identifier)


def _read_one(message: object, identifier: str) -> list[FeedFix]:
    if not isinstance(message, Mapping):
        raise InvalidObservation("an OwnTracks message is a JSON object", field="body")
    kind = message.get("_type")
    if not isinstance(kind, str):
        raise InvalidObservation("the OwnTracks message has no _type", field="_type")
    if kind == "encrypted":
        raise InvalidObservation(
            "the OwnTracks payload is encrypted; turn off the app's encryption secret for "
            "this service (the connection itself is protected by TLS)",
            field="_type",
        )
    if kind != "location":
        if kind in KNOWN_TYPES:
            return []
        raise InvalidObservation(f"unknown OwnTracks _type {kind[:40]!r}", field="_type")
    return [_location(message, identifier)]


def _location(message: Mapping[str, object], identifier: str) -> FeedFix:
    lat, lon, tst = (_required(message, key) for key in ("lat", "lon", "tst"))
    if tst <= 0:
        raise InvalidObservation("tst must be a time after 1970", field="tst")
    try:
        time = datetime.fromtimestamp(tst, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidObservation(f"tst {tst} is not a time", field="tst") from exc
    acc = _number(message, "acc")
    if acc is not None and acc < 0:
        raise InvalidObservation("acc must not be negative", field="acc")
    vel = _number(message, "vel")
    batt = _number(message, "batt")
    client_id = message.get("_id")
    return FeedFix(
        device=identifier,
        time=time,
        lon=lon,
        lat=lat,
        accuracy_m=acc,
        speed_mps=None if vel is None or vel < 0 else vel * KMH,
        bearing_deg=_number(message, "cog"),
        altitude_m=_number(message, "alt"),
        battery_pct=None if batt is None or batt < 0 else batt,  # -1: level unknown
        client_id=client_id[:100] if isinstance(client_id, str) and client_id else None,
        protocol=PROTOCOL,
        extra={k: message[k] for k in _EXTRA_KEYS if k in message},
    )


def _required(message: Mapping[str, object], key: str) -> float:
    number = _number(message, key)
    if number is None:
        raise InvalidObservation(f"an OwnTracks location needs {key}", field=key)
    return number


def _number(message: Mapping[str, object], key: str) -> float | None:
    value = message.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidObservation(f"{key} must be a number", field=key)
    number = float(value)
    if not math.isfinite(number):
        raise InvalidObservation(f"{key} must be a finite number", field=key)
    return number
