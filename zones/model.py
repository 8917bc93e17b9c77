"""The domain's nouns as frozen dataclasses holding shapely geometries.

These are what the rules work on. Wire schemas (pydantic) and tables (SQLAlchemy) live in
``service``; conversion to and from them happens there, in one place each.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from shapely.geometry.base import BaseGeometry


class Role(enum.StrEnum):
    OFFICER = "officer"
    CONTROL_ROOM = "control_room"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class OrderType(enum.StrEnum):
    SHPO = "SHPO"
    SRO = "SRO"
    LICENCE = "licence"
    RESTRAINING = "restraining"
    OTHER = "other"


class ConditionKind(enum.StrEnum):
    EXCLUSION = "exclusion"


class Status(enum.StrEnum):
    """Where the reported position lies relative to one zone of one condition."""

    INSIDE = "inside"
    BUFFER = "buffer"  # outside the zone but within the condition's buffer (still a breach)
    OUTSIDE = "outside"


class Evidence(enum.StrEnum):
    """How strongly the accuracy disc supports a breach of the condition's area."""

    DEFINITE = "definite"  # the whole disc lies inside the zone (plus buffer)
    POSSIBLE = "possible"  # the disc straddles the boundary
    NONE = "none"  # the whole disc lies outside


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ObservationKind(enum.StrEnum):
    SIGHTING = "sighting"
    FIX = "fix"


@dataclass(frozen=True, slots=True)
class Subject:
    """A person under management."""

    id: int | None
    reference: str
    name: str
    risk_level: str | None = None
    officer: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Zone:
    """One version of a zone: a (multi)polygon in EPSG:4326, never overwritten."""

    id: int | None
    version: int
    name: str
    category: str
    geometry: BaseGeometry
    source: str | None = None
    area_m2: float | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """One clause of an order and the zones it names."""

    id: int | None
    text: str
    zone_ids: tuple[int, ...]
    buffer_m: float = 0.0
    kind: ConditionKind = ConditionKind.EXCLUSION


@dataclass(frozen=True, slots=True)
class Order:
    """A court order on a subject; in force from ``starts`` to ``ends`` inclusive."""

    id: int | None
    subject_id: int
    reference: str
    type: OrderType
    starts: date
    ends: date | None
    conditions: tuple[Condition, ...] = ()
    court: str | None = None

    def in_force_on(self, day: date) -> bool:
        """True when ``day`` lies within the order's dates."""
        return self.starts <= day and (self.ends is None or day <= self.ends)


@dataclass(frozen=True, slots=True)
class Observation:
    """One location of a subject at an instant (UTC, aware)."""

    lon: float
    lat: float
    time: datetime
    accuracy_m: float | None = None
    subject_id: int | None = None
    device_id: str | None = None
    kind: ObservationKind = ObservationKind.FIX


@dataclass(frozen=True, slots=True)
class Target:
    """One zone version of one condition, as judging needs it."""

    order_id: int
    condition_id: int
    zone_id: int
    zone_version: int
    geometry: BaseGeometry
    buffer_m: float = 0.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of one observation against one zone of one condition."""

    order_id: int
    condition_id: int
    zone_id: int
    zone_version: int
    status: Status
    distance_m: float  # to the zone's boundary: negative inside, positive outside
    evidence: Evidence
    disc_fraction_inside: float | None = None  # share of the accuracy disc inside the area

    @property
    def is_breach(self) -> bool:
        """The reported position lies within the condition's area (zone plus buffer)."""
        return self.status is not Status.OUTSIDE


@dataclass(frozen=True, slots=True)
class Alert:
    """One breach episode of a subject in one zone version of one condition."""

    id: int
    subject_id: int
    order_id: int
    condition_id: int
    zone_id: int
    zone_version: int
    status: AlertStatus
    evidence: Evidence
    first_at: datetime
    last_at: datetime
    closed_at: datetime | None
    observation_count: int
    late: bool
    deepest_m: float  # the most negative distance to the zone's boundary seen in the stay
    lon: float  # where the stay was first seen
    lat: float


@dataclass(frozen=True, slots=True)
class Episode:
    """The time span of one alert: first and last breaching instants, and the exit if seen."""

    first_at: datetime
    last_at: datetime
    closed_at: datetime | None = None
    observation_count: int = 1

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
