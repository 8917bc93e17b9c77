"""The domain's nouns as frozen dataclasses holding shapely geometries.

These are what the rules work on. Wire schemas (pydantic) and tables (SQLAlchemy) live in
``service``; conversion to and from them happens there, in one place each.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry

from zones.stays import Rules

if TYPE_CHECKING:
    from zones.schedule import Schedule


class Role(enum.StrEnum):
    OFFICER = "officer"
    CONTROL_ROOM = "control_room"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMIN = "admin"


class OrderType(enum.StrEnum):
    SHPO = "SHPO"
    SRO = "SRO"
    LICENCE = "licence"
    RESTRAINING = "restraining"
    OTHER = "other"


class ConditionKind(enum.StrEnum):
    EXCLUSION = "exclusion"


class TravelMode(enum.StrEnum):
    """How a subject may move: the top speed that makes a detour between fixes plausible."""

    WALKING = "walking"
    BICYCLE = "bicycle"
    CAR = "car"

    @property
    def top_speed_mps(self) -> float:
        return {"walking": 2.0, "bicycle": 8.0, "car": 35.0}[self.value]


class Status(enum.StrEnum):
    """Where the reported position lies relative to one zone of one condition."""

    INSIDE = "inside"
    BUFFER = "buffer"  # outside the zone but within the condition's buffer (still a breach)
    WARNING = "warning"  # beyond the buffer but within the condition's warning ring (no breach)
    OUTSIDE = "outside"


class Evidence(enum.StrEnum):
    """How strongly the accuracy disc supports a breach of the condition's area."""

    DEFINITE = "definite"  # the whole disc lies inside the zone (plus buffer)
    POSSIBLE = "possible"  # the disc straddles the boundary
    NONE = "none"  # the whole disc lies outside


class AlertStatus(enum.StrEnum):
    """The stay: a fact about the subject (still inside, or left)."""

    OPEN = "open"
    CLOSED = "closed"


class AlertKind(enum.StrEnum):
    """What raised an alert: a stay in a zone, or the subject's device."""

    ZONE = "zone"
    COMMUNICATION_LOSS = "communication_loss"  # no fix received for the clause's silence
    TAMPER = "tamper"  # the tracker's alarms, as Traccar and others forward them
    STRAP_CUT = "strap_cut"
    POWER_CUT = "power_cut"
    LOW_BATTERY = "low_battery"


ALARM_KINDS = frozenset(
    {AlertKind.TAMPER, AlertKind.STRAP_CUT, AlertKind.POWER_CUT, AlertKind.LOW_BATTERY}
)


class Severity(enum.StrEnum):
    """A stay in the prohibited area (zone plus buffer), or in the warning ring beyond it."""

    BREACH = "breach"
    WARNING = "warning"


class Stage(enum.StrEnum):
    """Whether a stay is an alert."""

    ALERT = "alert"  # confirmed, not covered by a visit
    PENDING = "pending"  # not yet confirmed (too few fixes, too short)
    AUTHORISED = "authorised"  # covered by an authorised visit: stored, never an alert
    MERGED = "merged"  # a late fix joined it to another stay


class Handling(enum.StrEnum):
    """What the force has done about an alert: a fact about the force, apart from the stay."""

    UNHANDLED = "unhandled"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Disposition(enum.StrEnum):
    """How an alert was resolved."""

    BREACH_CONFIRMED = "breach_confirmed"
    AUTHORISED_PRESENCE = "authorised_presence"
    FALSE_ALARM = "false_alarm"  # GPS drift and the like
    DATA_FAULT = "data_fault"
    DUPLICATE = "duplicate"


class AlertActionKind(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    NOTE = "note"
    RESOLVE = "resolve"
    REOPEN = "reopen"


class ObservationKind(enum.StrEnum):
    SIGHTING = "sighting"
    FIX = "fix"


class SightingSource(enum.StrEnum):
    """Who saw the subject (the person who records it is always the signed-in user)."""

    PUBLIC = "public"  # a member of the public
    OFFICER = "officer"  # a police officer or patrol
    CCTV = "cctv"
    OTHER_AGENCY = "other_agency"  # probation, a council, ...
    OTHER = "other"


class OrderStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"  # set aside by a court: judged against nothing from then on


@dataclass(frozen=True, slots=True)
class Subject:
    """A person under management."""

    id: int | None
    reference: str
    name: str
    risk_level: str | None = None
    officer: str | None = None
    unit: str | None = None
    photo_ref: str | None = None  # a custody image reference, never the image itself
    travel_mode: TravelMode = TravelMode.WALKING


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
    reason: str | None = None  # why this version was made
    created_by: str | None = None
    created_at: datetime | None = None
    superseded_at: datetime | None = None
    drawing: dict[str, Any] | None = None  # how it was drawn: a circle's centre and radius
    effective_from: datetime | None = None  # valid time: what it says holds from then


@dataclass(frozen=True, slots=True)
class Condition:
    """One clause of one version of an order, and the zones it names.

    ``id`` names this very wording; ``clause_id`` stays the same across the versions of an
    order, so a stay goes on when the order is edited while the subject is inside.
    """

    id: int | None
    text: str
    zone_ids: tuple[int, ...]
    buffer_m: float = 0.0
    kind: ConditionKind = ConditionKind.EXCLUSION
    clause_id: int | None = None
    number: int | None = None  # its place in the order: clause 1, 2, ...
    schedule: Schedule | None = None  # None: it applies at all times
    warning_m: float = 0.0
    rules: Rules = field(default_factory=Rules)
    tag_required: bool = False  # the subject must wear a working tag while it holds
    silence_minutes: int = 15  # this long with no fix received is a loss of communication


@dataclass(frozen=True, slots=True)
class Order:
    """A version of a court order on a subject; in force from ``starts`` to ``ends``."""

    id: int | None
    subject_id: int
    reference: str
    type: OrderType
    starts: date
    ends: date | None
    conditions: tuple[Condition, ...] = ()
    court: str | None = None
    version: int = 1
    status: OrderStatus = OrderStatus.ACTIVE
    reason: str | None = None  # why this version was made
    created_by: str | None = None
    created_at: datetime | None = None
    effective_from: datetime | None = None  # valid time: what it says holds from then

    def in_force_on(self, day: date) -> bool:
        """True when ``day`` lies within the order's dates and it has not been revoked."""
        return (
            self.status is OrderStatus.ACTIVE
            and self.starts <= day
            and (self.ends is None or day <= self.ends)
        )

    def in_force_between(self, first: date, last: date) -> bool:
        """True when the order is in force on any day from ``first`` to ``last``."""
        return (
            self.status is OrderStatus.ACTIVE
            and self.starts <= last
            and (self.ends is None or self.ends >= first)
        )


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
    source: SightingSource | None = None
    source_detail: str | None = None
    # A report like "about 3 pm": the window it happened in (``time`` is its middle).
    window: tuple[datetime, datetime] | None = None
    # What a tracker said about a fix (see zones.feeds.fix.FeedFix), kept with it.
    speed_mps: float | None = None
    bearing_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    valid: bool = True  # False: the device had no satellite fix; stored, never judged
    protocol: str | None = None
    client_id: str | None = None
    flags: tuple[str, ...] = ()  # zones.feeds.filters: "invalid", "jump"

    @property
    def span(self) -> tuple[datetime, datetime]:
        """The instants the observation may have happened at: its window, or its time."""
        return self.window if self.window is not None else (self.time, self.time)


@dataclass(frozen=True, slots=True)
class Names:
    """What a target is called by people: the order, the clause and the zone."""

    order_reference: str
    order_type: OrderType
    clause_number: int
    clause_text: str
    zone_name: str


@dataclass(frozen=True, slots=True)
class Target:
    """One zone version of one condition, as judging needs it."""

    order_id: int
    condition_id: int
    zone_id: int
    zone_version: int
    geometry: BaseGeometry
    buffer_m: float = 0.0
    clause_id: int | None = None  # defaults to condition_id
    names: Names | None = None
    warning_m: float = 0.0  # a ring beyond the buffer whose stays are warnings, not breaches
    schedule: Schedule | None = None
    rules: Rules = field(default_factory=Rules)

    @property
    def clause(self) -> int:
        """The clause across order versions (the key of a stay)."""
        return self.condition_id if self.clause_id is None else self.clause_id


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
    clause_id: int | None = None
    names: Names | None = None
    buffer_m: float = 0.0

    warning_m: float = 0.0
    applies: bool = True  # False outside the condition's schedule: judged, but no breach
    window: str | None = None  # the schedule window it fell in, or the schedule it missed

    @property
    def in_area(self) -> bool:
        """The reported position lies within the condition's area (zone plus buffer)."""
        return self.status in (Status.INSIDE, Status.BUFFER)

    @property
    def is_breach(self) -> bool:
        """In the condition's area while the condition applies (within its schedule)."""
        return self.applies and self.in_area

    @property
    def is_warning(self) -> bool:
        """In the warning ring beyond the condition's area while the condition applies."""
        return self.applies and self.status is Status.WARNING

    @property
    def clause(self) -> int:
        """The clause across order versions (the key of a stay)."""
        return self.condition_id if self.clause_id is None else self.clause_id


@dataclass(frozen=True, slots=True)
class Alert:
    """One breach episode of a subject in one zone version of one condition, or one device
    alert (``kind``: a loss of communication, a tracker's alarm), and its handling."""

    id: int
    subject_id: int
    order_id: int | None  # None: a device alarm, under no order
    condition_id: int | None
    zone_id: int | None  # None: a device alert
    zone_version: int | None
    status: AlertStatus
    evidence: Evidence | None  # None: a device alert (no accuracy disc was judged)
    first_at: datetime
    last_at: datetime
    closed_at: datetime | None
    observation_count: int
    late: bool
    deepest_m: float | None  # the most negative distance to the zone's boundary in the stay
    lon: float | None  # where the stay was first seen (a device alert: the last known
    lat: float | None  # position, None when the subject was never located)
    handling: Handling = Handling.UNHANDLED
    assigned_to: str | None = None
    disposition: Disposition | None = None
    handled_at: datetime | None = None
    subject_reference: str | None = None
    subject_name: str | None = None
    subject_unit: str | None = None
    names: Names | None = None
    buffer_m: float = 0.0
    severity: Severity = Severity.BREACH
    confirmed_at: datetime | None = None  # None: a pending stay, not yet an alert
    visit_id: int | None = None  # covered by an authorised visit: stored, never an alert
    opened_by: str = "fix"  # fix, window_opened, visit_ended (zones.stays.Opened)
    closed_by: str | None = None  # exit, signal_lost, window_closed, visit_started, ...
    schedule_window: str | None = None  # the schedule window it began in, as people read it
    rules: dict[str, float] | None = None  # the confirmation and closing rules it was judged by
    merged_into: int | None = None  # a late fix joined it to this alert
    judged_at: datetime | None = None  # when it was last judged: what was known then
    warning_m: float = 0.0
    kind: AlertKind = AlertKind.ZONE
    device_id: str | None = None  # the device whose alarm or silence it is
    detail: dict[str, Any] | None = None  # a silence and its back-fill, as recorded
    flags: tuple[str, ...] = ()  # its evidence fixes' flags (zones.feeds.filters: jump, ...)

    @property
    def stage(self) -> Stage:
        if self.merged_into is not None:
            return Stage.MERGED
        if self.visit_id is not None:
            return Stage.AUTHORISED
        if self.confirmed_at is None:
            return Stage.PENDING
        return Stage.ALERT


@dataclass(frozen=True, slots=True)
class AlertAction:
    """One thing a person did about an alert, as its history shows it."""

    id: int | None
    alert_id: int
    action: AlertActionKind
    by: str
    at: datetime | None
    handling_after: Handling
    note: str | None = None
    assignee: str | None = None
    disposition: Disposition | None = None
