"""Wire schemas: what clients send and receive. Domain objects never go on the wire directly.

Requests are strict: an unknown field is refused (422) rather than ignored, because a field
a client believes it set but the server dropped is worse than an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

import annotated_types as at
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NaiveDatetime,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    model_validator,
)
from pydantic.config import JsonDict

from service.api.json_kinds import LOCAL_INSTANT_PATTERN, iso_day, iso_instant, number_check
from zones import model

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: anything else names nothing
Id = Annotated[int, at.Ge(1), at.Le(MAX_ID)]


EARLIEST_YEAR, LATEST_YEAR = 1900, 2199


def _plausible(value: datetime) -> datetime:
    """An instant a monitoring record can be about: years 1900 to 2199."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(
            f"the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}, not {value.year}"
        )
    return value


# ISO 8601 text with a UTC offset
Instant = Annotated[AwareDatetime, BeforeValidator(iso_instant), AfterValidator(_plausible)]
# Local civil time: ISO 8601 text without an offset (not the schema's "date-time", which has one)
LocalInstant = Annotated[
    NaiveDatetime,
    BeforeValidator(iso_instant),
    AfterValidator(_plausible),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 40,
            "pattern": LOCAL_INSTANT_PATTERN,
            "description": "Local civil time, without a UTC offset",
            "examples": ["2026-11-28T14:03:00"],
        }
    ),
]
Day = Annotated[date, BeforeValidator(iso_day)]  # ISO 8601 text


# Text from clients holds no control characters: free text (``Text``: clauses, notes,
# reasons) may hold tabs and line breaks, one-line fields (``Line``: names, references)
# none. C1 controls and unpaired surrogates (which PostgreSQL cannot store) are refused too.
# Checked by the field's own type, so a refusal names the field and OpenAPI shows the
# pattern; NUL is refused even earlier, for every request (service.text_guard).
_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TEXT_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
LINE_PATTERN = r"^[^\x00-\x1F\x7F-\x9F]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"


def _refusing(bad: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        found = bad.search(value)
        if found is not None:
            raise ValueError(
                f"{what} may not hold control character U+{ord(found.group()):04X} "
                f"(at position {found.start()})"
            )
        return value

    return AfterValidator(check)


Line = Annotated[
    str,
    _refusing(_LINE_BAD, "one line of text"),
    Field(json_schema_extra={"pattern": LINE_PATTERN}),
]
Text = Annotated[
    str,
    _refusing(_TEXT_BAD, "text"),
    Field(json_schema_extra={"pattern": TEXT_PATTERN}),
]
# How much one order may hold: "all parks" of a city is about 1,000 zones.
MAX_CONDITIONS = 200
MAX_ZONES_PER_CONDITION = 2_000
MAX_ZONES_PER_ORDER = 10_000


class Wire(BaseModel):
    """Strict numbers (JSON numbers only; NaN and infinity refused) and no unknown fields."""

    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _json_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, check in _number_checks(cls):
                if key in data and check(data[key]):
                    raise ValueError(f"{key}: a number is expected here, not true, false or text")
        return data


_CHECKS: dict[type[BaseModel], list[tuple[str, Callable[[object], bool]]]] = {}


def _number_checks(cls: type[BaseModel]) -> list[tuple[str, Callable[[object], bool]]]:
    """The fields of a model that admit numbers, each with its test (worked out once per
    model: a batch validates thousands of fixes)."""
    found = _CHECKS.get(cls)
    if found is None:
        found = _CHECKS[cls] = [
            (field.alias or name, check)
            for name, field in cls.model_fields.items()
            if (check := number_check(field.annotation)) is not None
        ]
    return found


class ErrorBody(Wire):
    code: str = Field(description="Stable machine-readable error code")
    message: str = Field(description="What is wrong, safe to show a user")
    field: str | None = Field(default=None, description="Where in the request the problem is")
    location: list[float] | None = Field(
        default=None, description="[lon, lat] of the problem on the map, when it has one"
    )


class ErrorResponse(Wire):
    error: ErrorBody


class Token(Wire):
    access_token: str = Field(description="Send as `Authorization: Bearer ...`")
    token_type: Literal["bearer"] = "bearer"
    role: model.Role
    expires_in: int = Field(description="Seconds the access token lives (15 minutes)")
    refresh_token: str = Field(
        description="Spend at `POST /auth/refresh` for a new pair before the access token "
        "expires; each works once, until the sign-in's end (12 hours)"
    )


GEOMETRY_DOC: JsonDict = {
    "description": "GeoJSON Polygon or MultiPolygon, EPSG:4326, longitude first; holes allowed",
    "examples": [
        {
            "type": "Polygon",
            "coordinates": [
                [[0.12, 52.2], [0.13, 52.2], [0.13, 52.21], [0.12, 52.21], [0.12, 52.2]]
            ],
        }
    ],
}


class Drawing(Wire):
    """How a zone was drawn, kept beside its polygon: a circle's centre and radius."""

    shape: Literal["circle", "rectangle", "polygon"]
    center: tuple[float, float] | None = Field(default=None, description="[lon, lat]")
    radius_m: float | None = Field(default=None, gt=0, le=100_000)

    @model_validator(mode="after")
    def _circle(self) -> Drawing:
        if self.shape == "circle" and (self.center is None or self.radius_m is None):
            raise ValueError("a circle needs its center and radius_m")
        return self


class ZoneProperties(Wire):
    name: Line = Field(min_length=1, max_length=300)
    category: Line = Field(min_length=1, max_length=60, examples=["park", "school", "drawn"])
    source: Line | None = Field(default=None, max_length=2000)
    reason: Text | None = Field(
        default=None,
        max_length=2000,
        description="Why this version is made: required when editing a zone",
    )
    drawing: Drawing | None = None
    effective_from: Instant | None = Field(
        default=None,
        description="When this version takes effect (default: now). A correction of a "
        "mis-drawn shape may take effect from an earlier date: alerts already raised keep "
        "what they were judged against, and replay shows what the correction changes",
    )


class ZoneFeatureIn(Wire):
    """A zone as a GeoJSON Feature (a Feature's own ``id`` and ``bbox`` may come along)."""

    type: Literal["Feature"]
    geometry: dict[str, Any] = Field(json_schema_extra=GEOMETRY_DOC)
    properties: ZoneProperties
    id: StrictInt | Annotated[Line, Field(max_length=200)] | None = Field(
        default=None, description="Ignored: the server names zones"
    )
    bbox: list[float] | None = Field(
        default=None, max_length=6, description="Ignored: computed on output"
    )


class ZoneFeatureOut(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any]
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ZoneFeatureOut]


class PreviewFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: dict[str, Any]


class ZonePreview(BaseModel):
    """The shapes a file holds, as they would be stored; nothing is stored."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PreviewFeature]
    skipped: list[str]
    repaired: list[str]


class ZoneCheck(BaseModel):
    """A dry run of storing a zone: the Feature as it would be stored, or why it would not be."""

    valid: bool
    feature: PreviewFeature | None = Field(
        default=None, description="As it would be stored: normalised geometry, area, notes"
    )
    error: ErrorBody | None = Field(
        default=None, description="The error storing it would answer (with its place, if any)"
    )


class BufferIn(Wire):
    """Shapes to grow by a condition's buffer, to draw it while the condition is edited."""

    buffer_m: float = Field(gt=0, le=50_000, description="The buffer, metres")
    geometries: list[dict[str, Any]] = Field(
        min_length=1, max_length=5000, description="GeoJSON Polygons or MultiPolygons, EPSG:4326"
    )


class BufferOut(BaseModel):
    """Each shape grown by the buffer (``properties.index``: its place in the request)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PreviewFeature]
    skipped: list[str] = Field(description="Shapes that could not be grown, and why")


class SubjectIn(Wire):
    reference: Line = Field(min_length=1, max_length=64, examples=["CAM-0001"])
    name: Line = Field(min_length=1, max_length=200)
    risk_level: Line | None = Field(default=None, max_length=20)
    officer: Line | None = Field(default=None, max_length=200)
    unit: Line | None = Field(
        default=None,
        max_length=60,
        description="The code of the unit managing the subject (see GET /units); may be left "
        "out when creating if you belong to one unit only, and when editing to keep it",
    )
    photo_ref: Line | None = Field(
        default=None, max_length=200, description="A custody image reference, never the image"
    )
    travel_mode: model.TravelMode = Field(
        default=model.TravelMode.WALKING,
        description="How the subject may move (walking 2 m/s, bicycle 8 m/s, car 35 m/s): the "
        "top speed that makes a detour through a zone between sparse fixes possible",
    )


class SubjectOut(SubjectIn):
    model_config = ConfigDict(extra="ignore")
    id: int
    # as stored: what was accepted before a rule was tightened must still be shown
    reference: str
    name: str
    risk_level: str | None = None
    officer: str | None = None
    unit: str = Field(description="The code of the unit managing the subject")
    photo_ref: str | None = None


class MoveIn(Wire):
    unit: Line = Field(min_length=1, max_length=60, description="The code of the new unit")
    reason: Text = Field(min_length=1, max_length=2000, description="Why the subject moves")


class SubjectListed(SubjectOut):
    """A subject in a list, with how many orders they have."""

    orders: int = Field(description="Orders recorded for the subject, whatever their status")
    orders_in_force: int = Field(description="Of those, in force today (UK civil date)")


class ConditionIn(Wire):
    text: Text = Field(min_length=1, max_length=20_000, description="The clause, verbatim")
    zone_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_ZONES_PER_CONDITION,
        description="The zones the clause bars; may be empty while its area is being drawn "
        "(the clause is then judged against nothing, and pages say so)",
    )
    buffer_m: float = Field(default=0.0, ge=0, le=50_000)
    warning_m: float = Field(
        default=0.0,
        ge=0,
        le=50_000,
        description="A ring this wide beyond the buffer: stays in it are warnings, not breaches",
    )
    schedule: dict[str, Any] | None = Field(
        default=None,
        description="When the clause applies (omit: at all times): {timezone, windows: "
        "[{days: [mon..sun], start: 'HH:MM', end: 'HH:MM'}], exceptions: [{first_day, "
        "last_day, label}], from_date, until_date}; windows are local civil time",
    )
    confirm_fixes: int = Field(
        default=1, ge=1, le=1000, description="A stay is an alert once it has this many fixes"
    )
    confirm_seconds: int = Field(
        default=0, ge=0, le=86_400, description="...and has lasted this long (seconds)"
    )
    clear_fixes: int = Field(
        default=1, ge=1, le=1000, description="A stay ends after this many clear fixes in a row"
    )
    clear_seconds: int = Field(
        default=0,
        ge=0,
        le=86_400,
        description="...or after being clear this long (seconds; 0: by the count alone)",
    )
    clause_id: Id | None = Field(
        default=None,
        description="When editing an order: the clause this is a new wording of (omit for a "
        "new clause)",
    )
    tag_required: StrictBool = Field(
        default=False,
        description="The clause requires a working tag: no fix received from the subject's "
        "devices for silence_minutes opens a communication-loss alert",
    )
    silence_minutes: int = Field(
        default=15, ge=1, le=10_080, description="How long a silence is a loss (minutes)"
    )


class ConditionOut(BaseModel):
    id: int = Field(description="This wording of the clause (one order version)")
    clause_id: int = Field(description="The clause across the versions of its order")
    number: int
    text: str
    zone_ids: list[int]
    buffer_m: float
    kind: model.ConditionKind
    warning_m: float
    schedule: dict[str, Any] | None
    schedule_text: str | None = Field(description="The schedule as people read it")
    confirm_fixes: int
    confirm_seconds: int
    clear_fixes: int
    clear_seconds: int
    tag_required: bool
    silence_minutes: int


class OrderIn(Wire):
    subject_id: Id
    reference: Line = Field(min_length=1, max_length=100)
    type: model.OrderType = model.OrderType.SHPO
    court: Line | None = Field(default=None, max_length=200)
    starts: Day
    ends: Day | None = None
    conditions: list[ConditionIn] = Field(min_length=1, max_length=MAX_CONDITIONS)

    @model_validator(mode="after")
    def _dates(self) -> OrderIn:
        if self.ends is not None and self.ends < self.starts:
            raise ValueError(f"ends ({self.ends}) is before starts ({self.starts})")
        return self

    @model_validator(mode="after")
    def _zones(self) -> OrderIn:
        named = sum(len(c.zone_ids) for c in self.conditions)
        if named > MAX_ZONES_PER_ORDER:
            raise ValueError(
                f"the conditions name {named:,} zones in all; at most {MAX_ZONES_PER_ORDER:,} "
                "per order (each clause's zones are judged at every check)"
            )
        return self


class OrderEdit(OrderIn):
    """A new version of an order: what it says now, and why it changed."""

    reason: Text = Field(min_length=3, max_length=2000, description="Why the order changed")
    status: model.OrderStatus = model.OrderStatus.ACTIVE
    effective_from: Instant | None = Field(
        default=None,
        description="When this version takes effect (default: now); a correction may take "
        "effect from an earlier date",
    )


class OrderOut(BaseModel):
    id: int
    subject_id: int
    version: int
    reference: str
    type: model.OrderType
    court: str | None
    starts: date
    ends: date | None
    status: model.OrderStatus
    reason: str | None
    created_by: str | None
    created_at: datetime | None
    effective_from: datetime | None = Field(
        description="When this version took effect (null: from the beginning)"
    )
    conditions: list[ConditionOut]


class TimeOptions(BaseModel):
    """The instants a local civil time names: none (skipped hour), one, or two (repeated)."""

    local_time: LocalInstant
    time_zone: str
    status: Literal["ok", "ambiguous", "nonexistent"]
    instants: list[AwareDatetime]
    labels: list[str] = Field(description="Each instant as people read it, e.g. '01:30 BST'")
    message: str


class SightingIn(Wire):
    """A reported sighting: who, where (lon/lat or a grid reference), when, and from whom."""

    subject_id: Id
    lon: float | None = Field(default=None, ge=-180, le=180, description="Longitude, EPSG:4326")
    lat: float | None = Field(default=None, ge=-90, le=90, description="Latitude, EPSG:4326")
    grid_ref: Line | None = Field(
        default=None,
        max_length=40,
        description="Ordnance Survey grid reference instead of lon/lat, e.g. 'TL 451 583'; "
        "the square's centre, and half its diagonal as accuracy unless accuracy_m is given",
    )
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    time: Instant | None = Field(default=None, description="When, with a UTC offset")
    local_time: LocalInstant | None = Field(
        default=None,
        description="When, as local civil time in time_zone; a time in the hour repeated or "
        "skipped at a clock change is refused with the choices, never guessed",
    )
    time_to: Instant | None = Field(
        default=None, description="End of a window ('about 3 pm'): time is its start"
    )
    local_time_to: LocalInstant | None = None
    time_zone: Line = Field(default="Europe/London", max_length=64)
    source: model.SightingSource = Field(description="Who saw the subject")
    source_detail: Text | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_of_each(self) -> SightingIn:
        has_lonlat = self.lon is not None or self.lat is not None
        if has_lonlat == (self.grid_ref is not None):
            raise ValueError("give the place as lon and lat, or as grid_ref (one of them)")
        if has_lonlat and (self.lon is None or self.lat is None):
            raise ValueError("give both lon and lat")
        if (self.time is None) == (self.local_time is None):
            raise ValueError("give the time as time (with a UTC offset) or local_time (one)")
        if self.time_to is not None and self.time is None:
            raise ValueError("time_to goes with time; use local_time_to with local_time")
        if self.local_time_to is not None and self.local_time is None:
            raise ValueError("local_time_to goes with local_time; use time_to with time")
        return self


class FixIn(Wire):
    lon: float = Field(ge=-180, le=180, description="Longitude, EPSG:4326")
    lat: float = Field(ge=-90, le=90, description="Latitude, EPSG:4326")
    time: Instant = Field(description="When it happened, ISO-8601 with a UTC offset")
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    subject_id: Id | None = None
    device_id: Line | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _who(self) -> FixIn:
        if self.subject_id is None and self.device_id is None:
            raise ValueError("give subject_id or device_id")
        return self


class VerdictOut(BaseModel):
    """One zone of one clause, judged: named as people name them, with the ids beside."""

    subject_id: int
    subject_reference: str
    subject_name: str
    order_id: int
    order_reference: str
    order_type: model.OrderType
    condition_id: int
    clause_id: int
    clause_number: int
    clause_text: str
    zone_id: int
    zone_name: str
    zone_version: int
    buffer_m: float
    status: model.Status
    distance_m: float = Field(description="To the zone's boundary, metres: negative inside")
    evidence: model.Evidence = Field(
        description="definite: the accuracy disc lies wholly in the area; possible: it straddles"
    )
    disc_fraction_inside: float | None = None
    warning_m: float = 0.0
    applies: bool = Field(
        default=True,
        description="Whether the clause applied at that time under its schedule; a verdict "
        "that does not apply is never a breach",
    )
    schedule_window: str | None = Field(
        default=None,
        description="The schedule window the time fell in, or (not applying) the schedule",
    )
    explanation: str


class SubjectRef(BaseModel):
    id: int
    reference: str
    name: str
    photo_ref: str | None = None


class PositionOut(BaseModel):
    lon: float
    lat: float
    accuracy_m: float | None
    grid_ref: Line | None = Field(description="10-figure OS grid reference, in Great Britain")
    given_as: Literal["lonlat", "grid_ref"]


class WhenOut(BaseModel):
    time: datetime = Field(description="The instant judged (a window's middle)")
    local: str = Field(description="The same in local civil time, with BST or GMT")
    window_from: datetime | None = None
    window_to: datetime | None = None


class JudgedAgainst(BaseModel):
    in_force: bool = Field(description="False: nothing to judge against, which is not 'no breach'")
    orders: int
    conditions: int
    zones: int


class SightingResult(BaseModel):
    observation_id: int
    outcome: Literal["breach", "possible_breach", "no_breach", "nothing_in_force"]
    summary: str = Field(description="The answer in one plain sentence")
    breach: bool
    possible_breach: bool = Field(description="Some accuracy disc overlaps an area")
    duplicate: bool
    late: bool
    subject: SubjectRef
    position: PositionOut
    when: WhenOut
    source: model.SightingSource
    source_detail: str | None
    reporter: str
    judged_against: JudgedAgainst = Field(
        description="Every order, condition and zone in force at the time, listed or not"
    )
    verdicts: list[VerdictOut] = Field(
        description="Breaches first, then by distance. By default the zones that matter: "
        "those the sighting is inside, in the buffer or warning ring of, possibly inside, or "
        "within 1 km of, and the nearest zone of each condition; every zone in force with "
        "`?verdicts=all`"
    )
    nearest: list[VerdictOut] = Field(
        description="Zones of the subject's conditions within 1 km, nearest first"
    )
    alert_id: int | None
    alert_ids: list[int]


class FixResult(BaseModel):
    index: int
    status: Literal["stored", "duplicate", "rejected"]
    observation_id: int | None = None
    breach: bool = False
    alert_ids: list[int] = []
    error: ErrorBody | None = None


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    results: list[FixResult]


class BatchRejected(BatchResult):
    """No fix of the batch was stored (422): the error, as every error is answered, and each
    fix's own reason in ``results``."""

    error: ErrorBody


class DeviceIn(Wire):
    identifier: Line = Field(min_length=1, max_length=100)
    subject_id: Id | None = Field(description="Who wears it from now on; null: nobody")
    assigned_from: Instant | None = Field(
        default=None,
        description="When it was fitted (or taken off): its fixes count for the subject "
        "from then on, and for the previous wearer before; default now",
    )


class DeviceOut(DeviceIn):
    id: int
    identifier: str


class AlertOut(BaseModel):
    """A stay in one zone of one clause (``status``), or a device alert (``kind``: a loss of
    communication under a clause requiring a tag, or a tracker's alarm), and the force's
    handling of it. A device alert has no zone; an alarm has no order or clause."""

    id: int
    kind: model.AlertKind = Field(
        description="zone (a stay in a zone), communication_loss, tamper, strap_cut, "
        "power_cut or low_battery"
    )
    title: str = Field(description="What the alert is about, as people name it")
    subject_id: int
    subject_reference: str | None
    subject_name: str | None
    order_id: int | None
    order_reference: str | None
    order_type: model.OrderType | None
    condition_id: int | None
    clause_number: int | None
    clause_text: str | None
    zone_id: int | None
    zone_name: str | None
    zone_version: int | None
    device_id: str | None = Field(description="The device whose alarm or silence it is")
    detail: dict[str, Any] | None = Field(
        description="A communication loss: silence_minutes, due_at, last_received_at, "
        "last_observed_at, no_device, and backfill {count, first_observed_at, "
        "last_observed_at} once fixes from the gap arrive"
    )
    flags: list[str] = Field(
        default_factory=list,
        description="Flags of the fixes it counts (`jump`: an impossible speed from the fix "
        "before; `invalid`: the device marked it so), each once",
    )
    buffer_m: float
    status: model.AlertStatus = Field(description="The stay: open while the subject is inside")
    handling: model.Handling = Field(description="What the force has done about it")
    assigned_to: str | None
    disposition: model.Disposition | None
    handled_at: datetime | None
    evidence: model.Evidence | None
    first_at: datetime
    last_at: datetime
    closed_at: datetime | None
    observation_count: int
    late: bool
    deepest_m: float | None
    lon: float | None = Field(description="Where first seen; a device alert: last known")
    lat: float | None
    explanation: str
    severity: model.Severity = Field(
        description="breach: in the zone or its buffer; warning: in the warning ring beyond"
    )
    stage: model.Stage = Field(
        description="alert (confirmed), pending (not yet confirmed), authorised (covered by "
        "an authorised visit) or merged (a late fix joined it to merged_into)"
    )
    confirmed_at: datetime | None
    visit_id: int | None
    opened_by: str = Field(description="fix, window_opened, visit_ended, silence or alarm")
    closed_by: str | None = Field(
        description="exit, signal_lost, window_closed, visit_started, visit_ended, "
        "fixes_returned, requirement_ended or alarm_quiet"
    )
    schedule_window: str | None = Field(description="The schedule window the stay began in")
    rules: dict[str, float] | None = Field(description="The rules the stay was judged by")
    merged_into: int | None
    judged_at: datetime | None = Field(description="When it was last judged")


class EvidenceOut(BaseModel):
    """One observation counted towards an alert, and the verdict it got, as judged."""

    observation_id: int
    kind: model.ObservationKind
    observed_at: datetime
    observed_local: str
    received_at: datetime
    late: bool
    lon: float
    lat: float
    accuracy_m: float | None
    reporter: str | None
    source: model.SightingSource | None
    source_detail: str | None
    device_id: str | None
    subject_reference: str | None
    subject_name: str | None
    order_reference: str | None
    order_type: model.OrderType | None
    clause_text: str | None
    zone_id: int | None = Field(description="None for a device alert's fix (not judged)")
    zone_name: str | None
    zone_version: int | None
    status: model.Status | None
    distance_m: float | None
    evidence: model.Evidence | None
    disc_fraction_inside: float | None
    flags: list[str] = Field(
        default_factory=list,
        description="What the feed's filters noticed: 'jump' (an implied speed beyond the "
        "limit from the previous fix: weigh this fix with care)",
    )


class AlertActionIn(Wire):
    action: model.AlertActionKind
    note: Text | None = Field(default=None, max_length=4000)
    assignee: Line | None = Field(default=None, max_length=80)
    disposition: model.Disposition | None = None


class AlertActionOut(BaseModel):
    id: int
    alert_id: int
    action: model.AlertActionKind
    by: str
    at: datetime
    at_local: str
    handling_after: model.Handling
    note: str | None
    assignee: str | None
    disposition: model.Disposition | None


class AlertActed(BaseModel):
    alert: AlertOut
    action: AlertActionOut


class BarredSubject(BaseModel):
    """A subject barred from a place at a time, and by what."""

    subject: SubjectRef
    verdict: VerdictOut


class BarredAnswer(BaseModel):
    lon: float
    lat: float
    time: datetime
    barred: list[BarredSubject]


class GridRefOut(BaseModel):
    grid_ref: str
    easting: float
    northing: float
    size_m: float
    lon: float
    lat: float
    accuracy_m: float = Field(description="Half the square's diagonal")


class TrackPoint(BaseModel):
    observation_id: int
    kind: model.ObservationKind
    time: datetime
    local: str
    lon: float
    lat: float
    accuracy_m: float | None
    late: bool
    breach: bool
    alert_ids: list[int]


class UserOut(BaseModel):
    username: str
    role: model.Role
    units: list[str] = Field(description="The codes of the units the user belongs to")


class UnitIn(Wire):
    code: str = Field(
        min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9._-]*$", examples=["cambs-ppu"]
    )
    name: Line = Field(min_length=1, max_length=200, examples=["Cambridgeshire PPU (south)"])


class UnitOut(BaseModel):
    code: str
    name: str
    created_at: datetime
    members: list[str]


class MembershipIn(Wire):
    units: list[Annotated[Line, Field(max_length=60)]] = Field(
        max_length=100, description="Unit codes: the user's units, all"
    )


class AuditOut(BaseModel):
    """One audit entry: who read or changed what, when, from where, and why."""

    id: int
    at: datetime
    username: str
    action: str = Field(description="What was done, e.g. subject.track, order.edit")
    object_type: str | None = Field(description="The kind of record, e.g. subject, alert")
    object_id: str | None
    reason: str | None = Field(description="The justification or incident reference given")
    detail: dict[str, Any] | None = Field(description="Changed fields, periods, counts")
    client: str | None = Field(description="The address the request came from")
    recipient: str | None = Field(description="To whom something was disclosed")
    records: dict[str, Any] | None = Field(
        description="The records a request or batch touched, by kind: references only"
    )
    sealed: bool = Field(description="Linked into the keyed chain already (within seconds)")


class AuditPage(BaseModel):
    """Audit entries, newest first; ``next_cursor`` fetches the older ones."""

    entries: list[AuditOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same filters) for the next page; null at the end"
    )
