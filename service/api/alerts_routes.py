"""The alert list supervisors filter, single alerts, their evidence and their handling."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from service.api import out
from service.api.deps import AlertHandler, AlertReader, PositionsReader, SessionDep
from service.api.paging import PagerDep, page_responses
from service.api.schemas import (
    AlertActed,
    AlertActionIn,
    AlertActionOut,
    AlertOut,
    ErrorResponse,
    EvidenceOut,
    Id,
    Instant,
    Line,
)
from service.api.zones_routes import parse_bbox
from service.auth import user_exists
from service.db import alerts_store, audit_store
from zones import model
from zones.errors import InvalidAlertAction
from zones.localtime import describe_local

router = APIRouter(prefix="/alerts", tags=["alerts"])
ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.get(
    "", response_model=list[AlertOut], responses={**ERRORS, **page_responses(list[AlertOut])}
)
def list_alerts(
    session: SessionDep,
    user: AlertReader,
    pager: PagerDep,
    subject_id: Id | None = None,
    subject: Annotated[
        Line | None,
        Query(min_length=1, max_length=100, description="Part of a subject's reference or name"),
    ] = None,
    status: Annotated[
        model.AlertStatus | None, Query(description="The stay: open (still inside) or closed")
    ] = None,
    handling: Annotated[
        list[model.Handling] | None,
        Query(description="What the force has done: repeat for several (unhandled first...)"),
    ] = None,
    disposition: model.Disposition | None = None,
    order_type: model.OrderType | None = None,
    since: Annotated[Instant | None, Query(alias="from")] = None,
    until: Annotated[Instant | None, Query(alias="to")] = None,
    bbox: Annotated[
        Line | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="The page size")] = 500,
    stage: Annotated[
        list[model.Stage] | None,
        Query(
            description="Which stays: alert (the default: confirmed, not authorised), pending, "
            "authorised, merged; repeat for several"
        ),
    ] = None,
    severity: Annotated[
        model.Severity | None, Query(description="breach or warning (default: both)")
    ] = None,
    kind: Annotated[
        list[model.AlertKind] | None,
        Query(
            description="zone, communication_loss, tamper, strap_cut, power_cut, low_battery; "
            "repeat for several (default: every kind)"
        ),
    ] = None,
) -> list[AlertOut]:
    """Alerts, newest first, filtered by subject (id, or part of a reference or name), stay,
    handling, disposition, order type, time range (overlap), bbox and kind; each names its
    subject, order, clause and zone (a device alert has no zone; an alarm no order).
    Pending, authorised and merged stays are listed only when asked for with ``stage``.

    Paged: at most ``limit`` alerts; when more match, the ``Link`` (``rel="next"``) and
    ``Next-Cursor`` headers lead to the next page."""
    f = alerts_store.AlertFilter(
        subject_id=subject_id,
        subject=subject,
        status=status,
        handling=tuple(handling or ()),
        disposition=disposition,
        order_type=order_type,
        since=since,
        until=until,
        bbox=parse_bbox(bbox) if bbox else None,
        limit=limit + 1,
        stages=tuple(stage) if stage else (model.Stage.ALERT,),
        severity=severity,
        units=user.units,
        kinds=tuple(kind or ()),
        after=pager.after(alerts_store.ORDER, (datetime, int)),
    )
    found = alerts_store.search(session, f)
    return [
        out.alert(a) for a in pager.page(found, limit, alerts_store.ORDER, alerts_store.sort_key)
    ]


@router.get("/{alert_id}/evidence", response_model=list[EvidenceOut], responses=ERRORS)
def alert_evidence(alert_id: Id, session: SessionDep, user: PositionsReader) -> list[EvidenceOut]:
    """Every observation counted towards the alert, by when it happened: where, how accurate,
    who reported it and from what source, when it arrived, and the verdict against the exact
    zone version and clause wording."""
    alert, items = alerts_store.evidence(session, alert_id)
    audit_store.record(session, user.username, "alert.evidence", "alert", alert_id)
    session.commit()
    return [
        EvidenceOut(
            observation_id=e.observation_id,
            kind=model.ObservationKind(e.kind),
            observed_at=e.observed_at,
            observed_local=describe_local(e.observed_at),
            received_at=e.received_at,
            late=e.late,
            lon=e.lon,
            lat=e.lat,
            accuracy_m=e.accuracy_m,
            reporter=e.reporter,
            source=model.SightingSource(e.source) if e.source else None,
            source_detail=e.source_detail,
            device_id=e.device_id,
            subject_reference=alert.subject_reference,
            subject_name=alert.subject_name,
            order_reference=e.order_reference,
            order_type=model.OrderType(e.order_type) if e.order_type else None,
            clause_text=e.clause_text,
            zone_id=e.zone_id,
            zone_name=e.zone_name,
            zone_version=e.zone_version,
            status=model.Status(e.status) if e.status else None,
            distance_m=None if e.distance_m is None else round(e.distance_m, 2),
            evidence=model.Evidence(e.evidence) if e.evidence else None,
            disc_fraction_inside=e.disc_fraction_inside,
            flags=e.flags or [],
        )
        for e in items
    ]


@router.get("/{alert_id}/history", response_model=list[AlertActionOut], responses=ERRORS)
def alert_history(alert_id: Id, session: SessionDep, user: AlertReader) -> list[AlertActionOut]:
    """What people did about the alert, oldest first: who, when, what and their note."""
    alerts_store.get(session, alert_id)
    return [out.alert_action(a) for a in alerts_store.history(session, alert_id)]


@router.post("/{alert_id}/actions", response_model=AlertActed, responses=ERRORS)
def act_on_alert(
    alert_id: Id, body: AlertActionIn, session: SessionDep, user: AlertHandler
) -> AlertActed:
    """Acknowledge, assign (``assignee``: a user name), note, resolve (``disposition``) or
    reopen (supervisors, with a ``note``) an alert. The stay and the handling are apart: an
    alert stays unhandled until a person acts, whether or not the subject has left."""
    if body.assignee is not None and not user_exists(session, body.assignee):
        raise InvalidAlertAction(f"no active user {body.assignee!r}", field="assignee")
    action = alerts_store.act(
        session,
        alert_id,
        body.action,
        user.username,
        user.role,
        note=body.note,
        assignee=body.assignee,
        disposition=body.disposition,
    )
    audit_store.record(
        session, user.username, f"alert.{body.action.value}", "alert", alert_id,
        detail={"disposition": body.disposition.value if body.disposition else None},
    )  # fmt: skip
    session.commit()
    return AlertActed(
        alert=out.alert(alerts_store.get(session, alert_id)), action=out.alert_action(action)
    )


@router.get("/{alert_id}", response_model=AlertOut, responses=ERRORS)
def get_alert(alert_id: Id, session: SessionDep, user: AlertReader) -> AlertOut:
    """One alert, naming the order, clause and exact zone version it was judged against."""
    return out.alert(alerts_store.get(session, alert_id))
