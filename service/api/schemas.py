"""Wire schemas: what clients send and receive. Domain objects never go on the wire directly."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from zones import model


class Wire(BaseModel):
    """Strict numbers: NaN and infinity are refused wherever a float is read."""

    model_config = ConfigDict(allow_inf_nan=False, extra="ignore")


class ErrorBody(Wire):
    code: str = Field(description="Stable machine-readable error code")
    message: str = Field(description="What is wrong, safe to show a user")
    field: str | None = Field(default=None, description="Where in the request the problem is")


class ErrorResponse(Wire):
    error: ErrorBody


class Token(Wire):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: model.Role
    expires_in: int


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


class ZoneProperties(Wire):
    name: str = Field(min_length=1, max_length=300)
    category: str = Field(min_length=1, max_length=60, examples=["park", "school", "drawn"])
    source: str | None = Field(default=None, max_length=2000)


class ZoneFeatureIn(Wire):
    """A zone as a GeoJSON Feature."""

    type: Literal["Feature"]
    geometry: dict[str, Any] = Field(json_schema_extra=GEOMETRY_DOC)
    properties: ZoneProperties


class ZoneFeatureOut(Wire):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any]
    properties: dict[str, Any]


class FeatureCollection(Wire):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ZoneFeatureOut]


class SubjectIn(Wire):
    reference: str = Field(min_length=1, max_length=64, examples=["CAM-0001"])
    name: str = Field(min_length=1, max_length=200)
    risk_level: str | None = Field(default=None, max_length=20)
    officer: str | None = Field(default=None, max_length=200)
    unit: str | None = Field(default=None, max_length=200)


class SubjectOut(SubjectIn):
    id: int


class ConditionIn(Wire):
    text: str = Field(min_length=1, description="The clause, verbatim")
    zone_ids: list[int] = Field(min_length=1)
    buffer_m: float = Field(default=0.0, ge=0, le=50_000)


class ConditionOut(ConditionIn):
    id: int
    kind: model.ConditionKind


class OrderIn(Wire):
    subject_id: int
    reference: str = Field(min_length=1, max_length=100)
    type: model.OrderType = model.OrderType.SHPO
    court: str | None = Field(default=None, max_length=200)
    starts: date
    ends: date | None = None
    conditions: list[ConditionIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates(self) -> OrderIn:
        if self.ends is not None and self.ends < self.starts:
            raise ValueError(f"ends ({self.ends}) is before starts ({self.starts})")
        return self


class OrderOut(Wire):
    id: int
    subject_id: int
    reference: str
    type: model.OrderType
    court: str | None
    starts: date
    ends: date | None
    conditions: list[ConditionOut]


class PositionIn(Wire):
    lon: float = Field(ge=-180, le=180, description="Longitude, EPSG:4326")
    lat: float = Field(ge=-90, le=90, description="Latitude, EPSG:4326")
    time: AwareDatetime = Field(description="When it happened, ISO-8601 with a UTC offset")
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class SightingIn(PositionIn):
    subject_id: int
    reporter: str | None = Field(default=None, max_length=200)


class FixIn(PositionIn):
    subject_id: int | None = None
    device_id: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _who(self) -> FixIn:
        if self.subject_id is None and self.device_id is None:
            raise ValueError("give subject_id or device_id")
        return self


class VerdictOut(Wire):
    order_id: int
    condition_id: int
    zone_id: int
    zone_version: int
    status: model.Status
    distance_m: float = Field(description="To the zone's boundary, metres: negative inside")
    evidence: model.Evidence = Field(
        description="definite: the accuracy disc lies wholly in the area; possible: it straddles"
    )
    disc_fraction_inside: float | None = None


class SightingResult(Wire):
    observation_id: int
    breach: bool
    possible_breach: bool = Field(description="Some accuracy disc overlaps an area")
    duplicate: bool
    late: bool
    verdicts: list[VerdictOut]
    alert_id: int | None
    alert_ids: list[int]


class FixResult(Wire):
    index: int
    status: Literal["stored", "duplicate", "rejected"]
    observation_id: int | None = None
    breach: bool = False
    alert_ids: list[int] = []
    error: ErrorBody | None = None


class BatchResult(Wire):
    accepted: int
    rejected: int
    results: list[FixResult]


class DeviceIn(Wire):
    identifier: str = Field(min_length=1, max_length=100)
    subject_id: int | None


class DeviceOut(DeviceIn):
    id: int


class EvidenceOut(Wire):
    """One observation counted towards an alert, and the verdict it got."""

    observation_id: int
    kind: model.ObservationKind
    observed_at: datetime
    received_at: datetime
    late: bool
    lon: float
    lat: float
    accuracy_m: float | None
    reporter: str | None
    device_id: str | None
    zone_version: int
    status: model.Status
    distance_m: float
    evidence: model.Evidence
    disc_fraction_inside: float | None


class AlertOut(Wire):
    id: int
    subject_id: int
    order_id: int
    condition_id: int
    zone_id: int
    zone_version: int
    status: model.AlertStatus
    evidence: model.Evidence
    first_at: datetime
    last_at: datetime
    closed_at: datetime | None
    observation_count: int
    late: bool
    deepest_m: float
    lon: float
    lat: float
