"""Starting from a place: who is barred from it. It discloses offenders by place, so it
needs a reason (an incident reference) and every use is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from service import barred
from service.api import out
from service.api.deps import PlaceSearcher, SessionDep
from service.api.schemas import BarredAnswer, BarredSubject, ErrorResponse, Instant, Line
from service.db import audit_store
from zones.geometry import check_position

router = APIRouter(prefix="/places", tags=["places"])


@router.get(
    "/barred",
    response_model=BarredAnswer,
    responses={403: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def barred_from_place(
    session: SessionDep,
    user: PlaceSearcher,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    reason: Annotated[
        Line,
        Query(min_length=3, max_length=500, description="Why: an incident or log reference"),
    ],
    time: Instant | None = None,
) -> BarredAnswer:
    """Every subject whose conditions in force at ``time`` (default now) bar them from this
    place, with the clause, the zone and the subject's photo reference: so the operator can
    ask the right questions, then check the sighting against the right subject."""
    check_position(lon, lat)
    at = (time or datetime.now(UTC)).astimezone(UTC)
    found = [b for b in barred.barred_at(session, lon, lat, at) if user.reaches(b.subject.unit)]
    audit_store.record(
        session, user.username, "places.barred", "place", f"{lon:.6f},{lat:.6f}",
        reason=reason.strip(),
        detail={"time": at.isoformat(), "subjects": sorted({b.subject.id for b in found})},
    )  # fmt: skip
    session.commit()
    return BarredAnswer(
        lon=lon,
        lat=lat,
        time=at,
        barred=[
            BarredSubject(
                subject=out.subject_ref(b.subject), verdict=out.verdict(b.verdict, b.subject)
            )
            for b in found
        ],
    )
