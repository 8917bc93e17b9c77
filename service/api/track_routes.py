"""A subject's track over a period and the zones as they stood then, for playback on a map."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from service.api import out
from service.api.deps import SessionDep, Viewer
from service.api.schemas import ErrorResponse, FeatureCollection, Id, TrackPoint
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

Since = Annotated[AwareDatetime, Query(alias="from", description="Start of the period")]
Until = Annotated[AwareDatetime, Query(alias="to", description="End of the period")]


def _period(since: AwareDatetime, until: AwareDatetime) -> None:
    if until <= since:
        raise InvalidObservation("the period must end after it starts", field="to")
    if until - since > LONGEST:
        raise InvalidObservation("a period is at most 31 days", field="to")


@router.get("/track", response_model=list[TrackPoint], responses=ERRORS)
def subject_track(
    subject_id: Id,
    session: SessionDep,
    user: Viewer,
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
    subject_id: Id, session: SessionDep, user: Viewer, since: Since, until: Until
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
