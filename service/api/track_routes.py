"""A subject's track over a period and the zones as they stood then, for playback on a map."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from service import replay, transits
from service.api import out
from service.api.deps import PositionsReader, SessionDep, SettingsDep, SubjectReader
from service.api.schemas import ErrorResponse, FeatureCollection, Id, Instant, TrackPoint
from service.db import audit_store, observations_store, orders_store, zones_store
from zones import model
from zones.errors import InvalidObservation
from zones.localtime import describe_local

router = APIRouter(prefix="/subjects/{subject_id}", tags=["subjects and orders"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
LONGEST = timedelta(days=31)

Since = Annotated[Instant, Query(alias="from", description="Start of the period")]
Until = Annotated[Instant, Query(alias="to", description="End of the period")]


def _period(since: Instant, until: AwareDatetime) -> None:
    if until <= since:
        raise InvalidObservation("the period must end after it starts", field="to")
    if until - since > LONGEST:
        raise InvalidObservation("a period is at most 31 days", field="to")


@router.get("/track", response_model=list[TrackPoint], responses=ERRORS)
def subject_track(
    subject_id: Id,
    session: SessionDep,
    user: PositionsReader,
    since: Since,
    until: Until,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 20_000,
) -> list[TrackPoint]:
    """The subject's observations in the period, in time order: where, how accurate, whether
    each was a breach and the alerts it counted towards."""
    _period(since, until)
    orders_store.get_subject(session, subject_id)
    points = observations_store.track(session, subject_id, since, until, limit)
    audit_store.record(
        session, user.username, "subject.track", "subject", subject_id,
        detail={"from": since.isoformat(), "to": until.isoformat(), "points": len(points)},
    )  # fmt: skip
    session.commit()
    return [
        TrackPoint(
            observation_id=p.id,
            kind=model.ObservationKind(p.kind),
            time=p.observed_at,
            local=describe_local(p.observed_at),
            lon=p.lon,
            lat=p.lat,
            accuracy_m=p.accuracy_m,
            late=p.late,
            breach=p.breach,
            alert_ids=list(p.alert_ids),
        )
        for p in points
    ]


@router.get("/zones", response_model=FeatureCollection, responses=ERRORS)
def subject_zones(
    subject_id: Id, session: SessionDep, user: SubjectReader, since: Since, until: Until
) -> FeatureCollection:
    """Every version, current at some moment of the period, of each zone named by the subject's
    orders in force in the period; ``created_at`` and ``superseded_at`` say when each version
    was in force, and ``clauses`` which clauses name the zone (with their buffers)."""
    _period(since, until)
    orders_store.get_subject(session, subject_id)
    first_day, last_day = orders_store.civil_day([since, until])
    orders = [
        o
        for o in orders_store.orders_of(session, subject_id)
        if o.in_force_between(first_day, last_day)
    ]
    clauses: dict[int, list[dict[str, object]]] = {}
    for o in orders:
        for c in o.conditions:
            for z in c.zone_ids:
                clauses.setdefault(z, []).append(
                    {
                        "order_reference": o.reference,
                        "order_type": o.type.value,
                        "clause_number": c.number,
                        "clause_text": c.text,
                        "buffer_m": c.buffer_m,
                    }
                )
    versions = zones_store.versions_between(session, sorted(clauses), since, until)
    features = []
    for version in versions:
        feature = out.zone(version)
        feature.properties["clauses"] = clauses[version.id or 0]
        features.append(feature)
    return FeatureCollection(features=features)


class TransitOut(BaseModel):
    """A straight path, or a feasible detour, through a zone between two sparse fixes:
    a possible transit, never a confirmed breach."""

    id: int
    from_observation_id: int
    to_observation_id: int
    order_id: int
    condition_id: int
    clause_id: int
    zone_id: int
    zone_version: int
    kind: str = Field(description="path_crosses or detour_possible")
    starts: datetime = Field(description="When the subject could first have been inside")
    ends: datetime = Field(description="When the subject could last have been inside")
    min_distance_m: float
    implied_speed_mps: float
    implausible_speed: bool
    max_speed_mps: float
    explanation: str


@router.get("/transits", response_model=list[TransitOut], responses=ERRORS)
def subject_transits(
    subject_id: Id, session: SessionDep, user: PositionsReader, since: Since, until: Until
) -> list[TransitOut]:
    """Possible transits between the subject's sparse fixes in the period: where the straight
    path between consecutive fixes crosses a zone, or a detour into one was possible at the
    subject's top speed (their travel mode). Never a confirmed breach."""
    _period(since, until)
    orders_store.get_subject(session, subject_id)
    rows = transits.between(session, subject_id, since, until)
    audit_store.record(
        session, user.username, "subject.transits", "subject", subject_id,
        detail={"from": since.isoformat(), "to": until.isoformat(), "found": len(rows)},
    )  # fmt: skip
    session.commit()
    return [
        TransitOut(
            id=r.id,
            from_observation_id=r.from_observation_id,
            to_observation_id=r.to_observation_id,
            order_id=r.order_id,
            condition_id=r.condition_id,
            clause_id=r.clause_id,
            zone_id=r.zone_id,
            zone_version=r.zone_version,
            kind=r.kind,
            starts=r.starts,
            ends=r.ends,
            min_distance_m=round(r.min_distance_m, 2),
            implied_speed_mps=round(r.implied_speed_mps, 3),
            implausible_speed=r.implausible_speed,
            max_speed_mps=r.max_speed_mps,
            explanation=r.explanation,
        )
        for r in rows
    ]


class ReplayStay(BaseModel):
    """A stay as replay compares it (stored: with its alert id)."""

    alert_id: int | None
    clause_id: int
    zone_id: int
    severity: str
    stage: str
    first_at: datetime
    last_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    opened_by: str | None
    fixes: int
    zone_version: int | None
    condition_id: int | None


class ReplayChange(BaseModel):
    stored: ReplayStay
    replayed: ReplayStay
    fields: list[str] = Field(description="What would differ")


class VerdictChange(BaseModel):
    observation_id: int
    time: datetime
    clause_id: int
    zone_id: int
    stored: str
    replayed: str
    stored_zone_version: int | None
    replayed_zone_version: int | None


class ReplayOut(BaseModel):
    """What judging the stored observations again, as known at ``as_of``, would change."""

    subject_id: int
    subject_reference: str
    from_: datetime = Field(alias="from")
    to: datetime
    as_of: datetime
    fixes: int = Field(description="Stored observations in the period judged again")
    differs: bool
    verdict_changes: list[VerdictChange]
    stays_unchanged: list[ReplayStay]
    stays_changed: list[ReplayChange]
    stays_only_stored: list[ReplayStay] = Field(description="Stays that would not be raised")
    stays_only_replayed: list[ReplayStay] = Field(description="Stays that would be new")
    summary: str


@router.get("/replay", response_model=ReplayOut, responses=ERRORS)
def subject_replay(
    subject_id: Id,
    session: SessionDep,
    settings: SettingsDep,
    user: PositionsReader,
    since: Since,
    until: Until,
    as_of: Annotated[
        Instant | None,
        Query(description="Judge as things were known at this instant (default: now)"),
    ] = None,
) -> ReplayOut:
    """Judge the subject's stored observations in the period again, against the zones,
    orders, schedules and visits in force at each one's time as recorded by ``as_of``, and
    report every difference from the stored verdicts and stays. Nothing is changed."""
    _period(since, until)
    report = replay.replay(session, subject_id, since, until, settings.api, as_of=as_of)
    session.rollback()  # replay writes nothing; make sure of it
    audit_store.record(
        session, user.username, "subject.replay", "subject", subject_id,
        detail={"from": since.isoformat(), "to": until.isoformat(),
                "as_of": None if as_of is None else as_of.isoformat()},
    )  # fmt: skip
    session.commit()
    return ReplayOut.model_validate({**report.as_dict(), "summary": report.text()})
