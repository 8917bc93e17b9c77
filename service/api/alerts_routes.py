"""The alert list supervisors filter, and single alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from service.api.deps import SessionDep, Viewer
from service.api.schemas import AlertOut, ErrorResponse
from service.api.zones_routes import parse_bbox
from service.db import alerts_store, tables
from zones import model

router = APIRouter(prefix="/alerts", tags=["alerts"])


def alert_out(a: tables.Alert, lon: float, lat: float) -> AlertOut:
    return AlertOut(
        id=a.id,
        subject_id=a.subject_id,
        order_id=a.order_id,
        condition_id=a.condition_id,
        zone_id=a.zone_id,
        zone_version=a.zone_version,
        status=model.AlertStatus(a.status),
        evidence=model.Evidence(a.evidence),
        first_at=a.first_at,
        last_at=a.last_at,
        closed_at=a.closed_at,
        observation_count=a.observation_count,
        late=a.late,
        deepest_m=round(a.deepest_m, 2),
        lon=lon,
        lat=lat,
    )


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
    return [alert_out(a, x, y) for a, x, y in alerts_store.search(session, f)]


@router.get("/{alert_id}", response_model=AlertOut, responses={404: {"model": ErrorResponse}})
def get_alert(alert_id: int, session: SessionDep, user: Viewer) -> AlertOut:
    """One alert, naming the order, clause and exact zone version it was judged against."""
    return alert_out(*alerts_store.get(session, alert_id))
