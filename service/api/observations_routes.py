"""Sightings checked at once, batches of fixes from trackers, and devices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import TypeAdapter, ValidationError

from service import monitoring
from service.api.deps import Checker, Editor, Feeder, SessionDep, SettingsDep
from service.api.errors import BatchTooLarge, EmptyBatch, describe_validation, error_body
from service.api.schemas import (
    BatchResult,
    DeviceIn,
    DeviceOut,
    ErrorBody,
    ErrorResponse,
    FixIn,
    FixResult,
    SightingIn,
    SightingResult,
    VerdictOut,
)
from service.db import orders_store
from zones import model
from zones.errors import InvalidObservation, ZonesError
from zones.geometry import check_position

router = APIRouter(tags=["observations"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
CLOCK_SKEW = timedelta(minutes=5)  # a fix "from the future" beyond this is a device clock fault
_fix = TypeAdapter(FixIn)


def _observation(
    p: FixIn | SightingIn, kind: model.ObservationKind, now: datetime
) -> model.Observation:
    check_position(p.lon, p.lat)
    if p.time - now > CLOCK_SKEW:
        raise InvalidObservation(f"time {p.time.isoformat()} is in the future", field="time")
    return model.Observation(
        lon=p.lon,
        lat=p.lat,
        time=p.time.astimezone(UTC),
        accuracy_m=p.accuracy_m,
        subject_id=p.subject_id,
        device_id=getattr(p, "device_id", None),
        kind=kind,
    )


def _verdict(v: model.Verdict) -> VerdictOut:
    return VerdictOut(
        order_id=v.order_id,
        condition_id=v.condition_id,
        zone_id=v.zone_id,
        zone_version=v.zone_version,
        status=v.status,
        distance_m=round(v.distance_m, 2),
        evidence=v.evidence,
        disc_fraction_inside=None
        if v.disc_fraction_inside is None
        else round(v.disc_fraction_inside, 4),
    )


@router.post("/sightings/check", response_model=SightingResult, responses=ERRORS)
def check_sighting(
    body: SightingIn, session: SessionDep, settings: SettingsDep, user: Checker
) -> SightingResult:
    """Store a reported sighting and judge it at once against every condition in force.

    ``breach`` is true when the reported position lies in a zone or its buffer; each verdict
    says how sure that is given ``accuracy_m`` (``evidence``, ``disc_fraction_inside``).
    """
    obs = _observation(body, model.ObservationKind.SIGHTING, datetime.now(UTC))
    [rec] = monitoring.record(session, [obs], settings.api, reporter=body.reporter or user.username)
    if rec.error is not None:
        raise rec.error
    session.commit()
    assert rec.observation_id is not None
    return SightingResult(
        observation_id=rec.observation_id,
        breach=any(v.is_breach for v in rec.verdicts),
        possible_breach=any(v.evidence is not model.Evidence.NONE for v in rec.verdicts),
        duplicate=rec.duplicate,
        late=rec.late,
        verdicts=[_verdict(v) for v in rec.verdicts],
        alert_id=rec.alert_ids[0] if rec.alert_ids else None,
        alert_ids=rec.alert_ids,
    )


@router.post("/observations", response_model=BatchResult, responses=ERRORS)
def post_observations(
    session: SessionDep,
    settings: SettingsDep,
    user: Feeder,
    response: Response,
    fixes: Annotated[
        list[dict[str, Any]],
        Body(
            description="Fixes: {subject_id or device_id, lon, lat, time, accuracy_m}",
            examples=[
                [
                    {
                        "subject_id": 1,
                        "lon": 0.1218,
                        "lat": 52.2053,
                        "time": "2026-11-28T14:03:00+00:00",
                        "accuracy_m": 12,
                    }
                ]
            ],
        ),
    ],
) -> BatchResult:
    """Store and judge a batch of fixes; a bad fix is rejected alone, with its index and reason.

    Answers 200 when at least one fix was stored (or was already stored), 422 when none was.
    """
    if not fixes:
        raise EmptyBatch("the batch is empty: send a JSON array of one or more fixes", field="body")
    if len(fixes) > settings.api.max_batch:
        raise BatchTooLarge(
            f"the batch has {len(fixes)} fixes; at most {settings.api.max_batch} per request",
            field="body",
        )
    now = datetime.now(UTC)
    good: list[model.Observation] = []
    where: list[int] = []
    results = [FixResult(index=i, status="rejected") for i in range(len(fixes))]
    for i, raw in enumerate(fixes):
        try:
            good.append(_observation(_fix.validate_python(raw), model.ObservationKind.FIX, now))
            where.append(i)
        except ValidationError as exc:
            message, field = describe_validation(exc.errors())
            results[i].error = ErrorBody(
                code="validation_error", message=message, field=f"[{i}].{field}"
            )
        except ZonesError as exc:
            body = error_body(exc)["error"]
            results[i].error = ErrorBody(
                code=exc.code, message=exc.message, field=f"[{i}].{body['field'] or ''}".rstrip(".")
            )
    recorded = monitoring.record(session, good, settings.api, reporter=user.username, now=now)
    session.commit()
    for i, rec in zip(where, recorded, strict=True):
        if rec.error is not None:
            results[i].error = ErrorBody(
                code=rec.error.code,
                message=rec.error.message,
                field=f"[{i}].{rec.error.field or ''}",
            )
            continue
        results[i] = FixResult(
            index=i,
            status="duplicate" if rec.duplicate else "stored",
            observation_id=rec.observation_id,
            breach=any(v.is_breach for v in rec.verdicts),
            alert_ids=rec.alert_ids,
        )
    accepted = sum(r.status != "rejected" for r in results)
    if accepted == 0:
        response.status_code = 422
    return BatchResult(accepted=accepted, rejected=len(results) - accepted, results=results)


@router.post("/devices", status_code=201, response_model=DeviceOut, responses=ERRORS)
def register_device(body: DeviceIn, session: SessionDep, user: Editor) -> DeviceOut:
    """Register a tracker, or move it to another subject; its fixes then count for that subject."""
    row = orders_store.assign_device(session, body.identifier, body.subject_id)
    session.commit()
    return DeviceOut(id=row.id, identifier=row.identifier, subject_id=row.subject_id)
