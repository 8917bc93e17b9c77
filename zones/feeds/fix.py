"""A position as a tracker reported it, before it is attributed to a subject."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedFix:
    """One fix from a device, in the units this service uses.

    ``device`` is the identifier the device is registered under (a Traccar ``uniqueId``, an
    OsmAnd ``id``, an OwnTracks ``user/device``). ``time`` is aware. Speed is in metres a
    second (Traccar's knots and OsmAnd's are converted by the reader), bearing in degrees
    from north, altitude in metres, battery in percent. ``valid`` is the device's own flag
    (False: no satellite fix). ``alarms`` are the device's alarms in this service's words
    (``tamper``, ``power_cut``, ``low_battery``, ...). ``client_id`` is an id the client gave
    the fix, when it gives one, so a resend is known by it.
    """

    device: str
    time: datetime
    lon: float
    lat: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    bearing_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    valid: bool = True
    alarms: frozenset[str] = frozenset()
    client_id: str | None = None
    protocol: str = ""
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A record of a payload that could not be read: its place in the payload, a stable
    code, a message for a person, and the field at fault when one is."""

    index: int
    code: str
    message: str
    field: str | None = None
