"""The alert list supervisors filter, and single alerts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from service.api.deps import SessionDep, Viewer
from service.api.schemas import AlertOut, ErrorResponse, EvidenceOut
from service.api.zones_routes import parse_bbox
from service.db import alerts_store
from zones import model

router = APIRouter(prefix="/alerts", tags=["alerts"])


def alert_out(a: model.Alert) -> AlertOut:
    return AlertOut(**(asdict(a) | {"deepest_m": round(a.deepest_m, 2)}))


@router.get("", response_model=list[AlertOut], responses={422: {"model": ErrorResponse}})
def list_alerts(
    session: SessionDep,
    user: Viewer,
    subject_id: int | None = None,
    status: model.AlertStatus | None = None,
    since: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[AlertOut]:
    """Alerts, newest first, filtered by subject, status, time range (overlap) and bbox."""
    f = alerts_store.AlertFilter(
        subject_id=subject_id,
        status=status,
        since=since,
        until=until,
        bbox=parse_bbox(bbox) if bbox else None,
        limit=limit,
    )
    return [alert_out(a) for a in alerts_store.search(session, f)]


@router.get(
    "/{alert_id}/evidence",
    response_model=list[EvidenceOut],
    responses={404: {"model": ErrorResponse}},
)
def alert_evidence(alert_id: int, session: SessionDep, user: Viewer) -> list[EvidenceOut]:
    """Every observation counted towards the alert, by when it happened: where, how accurate,
    who reported it, when it arrived, and the verdict against the exact zone version."""
    return [
        EvidenceOut(**(asdict(e) | {"distance_m": round(e.distance_m, 2)}))
        for e in alerts_store.evidence(session, alert_id)
    ]


@router.get("/{alert_id}", response_model=AlertOut, responses={404: {"model": ErrorResponse}})
def get_alert(alert_id: int, session: SessionDep, user: Viewer) -> AlertOut:
    """One alert, naming the order, clause and exact zone version it was judged against."""
    return alert_out(alerts_store.get(session, alert_id))
