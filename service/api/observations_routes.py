"""Sightings checked at once, batches of fixes from trackers, devices, and the helpers a
sighting form needs: grid references and local times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from service import monitoring
from service.api import out
from service.api.deps import (
    FeedWriter,
    SessionDep,
    SettingsDep,
    SightingChecker,
    SubjectWriter,
    Utility,
)
from service.api.errors import BatchTooLarge, EmptyBatch, describe_validation, error_body
from service.api.schemas import (
    BatchRejected,
    BatchResult,
    DeviceIn,
    DeviceOut,
    ErrorBody,
    ErrorResponse,
    FixIn,
    FixResult,
    GridRefOut,
    JudgedAgainst,
    Line,
    LocalInstant,
    PositionOut,
    SightingIn,
    SightingResult,
    TimeOptions,
    WhenOut,
)
from service.db import devices_store
from service.feeds.intake import not_future
from service.phase_clock import phase
from zones import explain, model
from zones.crs import in_great_britain
from zones.errors import (
    AmbiguousLocalTime,
    Conflict,
    InvalidGridReference,
    InvalidObservation,
    NonexistentLocalTime,
    NotFound,
    ZonesError,
)
from zones.geometry import check_position
from zones.gridref import grid_reference_of, parse_grid_reference
from zones.localtime import describe_local, resolve_local, time_zone

router = APIRouter(tags=["observations"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
LONGEST_WINDOW = timedelta(hours=24)
NEAREST_M = 1000.0
_fix = TypeAdapter(FixIn)


def _fix_observation(p: FixIn, now: datetime) -> model.Observation:
    check_position(p.lon, p.lat)
    not_future(p.time, now, "time")
    return model.Observation(
        lon=p.lon,
        lat=p.lat,
        time=p.time.astimezone(UTC),
        accuracy_m=p.accuracy_m,
        subject_id=p.subject_id,
        device_id=p.device_id,
        kind=model.ObservationKind.FIX,
    )


def _place(body: SightingIn) -> tuple[float, float, float | None, str]:
    """Longitude, latitude, accuracy and how the place was given."""
    if body.grid_ref is not None:
        square = parse_grid_reference(body.grid_ref, field="grid_ref")
        lon, lat = square.lon_lat()
        accuracy = body.accuracy_m if body.accuracy_m is not None else square.half_diagonal_m
        return lon, lat, accuracy, "grid_ref"
    assert body.lon is not None and body.lat is not None
    check_position(body.lon, body.lat)
    return body.lon, body.lat, body.accuracy_m, "lonlat"


def _span(body: SightingIn, now: datetime) -> tuple[datetime, datetime]:
    """When it happened: an instant (start == end) or a window, in UTC."""
    if body.local_time is not None:
        start = resolve_local(body.local_time, body.time_zone, field="local_time")
        end = (
            resolve_local(body.local_time_to, body.time_zone, field="local_time_to")
            if body.local_time_to is not None
            else start
        )
        end_field = "local_time_to"
    else:
        assert body.time is not None
        start = body.time.astimezone(UTC)
        end = body.time_to.astimezone(UTC) if body.time_to is not None else start
        end_field = "time_to"
    if end < start:
        raise InvalidObservation("the window must end after it starts", field=end_field)
    if end - start > LONGEST_WINDOW:
        raise InvalidObservation("a window is at most 24 hours long", field=end_field)
    start_field = "local_time" if body.local_time is not None else "time"
    not_future(end, now, end_field if end != start else start_field)
    return start, end


def _grid_ref(lon: float, lat: float) -> str | None:
    if not bool(in_great_britain(lon, lat)):
        return None
    try:
        return grid_reference_of(lon, lat, 10)
    except InvalidGridReference:
        return None


def _ranked(verdicts: list[model.Verdict]) -> list[model.Verdict]:
    """Breaches first, then possible ones, then warnings, then by distance to the area;
    verdicts of clauses that did not apply at the time (their schedule) after those that did."""
    return sorted(
        verdicts,
        key=lambda v: (
            not v.is_breach,
            not v.applies,
            v.evidence is model.Evidence.NONE,
            not v.is_warning,
            v.distance_m,
        ),
    )


class VerdictList(StrEnum):
    """Which verdicts a sighting check lists."""

    RELEVANT = "relevant"
    ALL = "all"


@router.post("/sightings/check", response_model=SightingResult, responses=ERRORS)
def check_sighting(
    body: SightingIn,
    session: SessionDep,
    settings: SettingsDep,
    user: SightingChecker,
    verdicts: Annotated[
        VerdictList,
        Query(
            alias="verdicts",
            description="relevant (the default): the zones the sighting is inside, in the "
            "buffer or warning ring of, possibly inside, or within 1 km of, and the nearest "
            "zone of each condition; all: every zone in force",
        ),
    ] = VerdictList.RELEVANT,
) -> SightingResult:
    """Store a reported sighting and judge it at once against every condition in force.

    The place is ``lon``/``lat`` or an OS ``grid_ref``; the time is ``time`` (with a UTC
    offset) or ``local_time`` in ``time_zone``, optionally a window up to ``time_to`` /
    ``local_time_to``. The answer says plainly whether anything was in force
    (``judged_against``), the ``outcome``, one ``summary`` sentence, every verdict named as
    people name things, and the zones of the subject's conditions within 1 km. A condition
    of many zones ("every park") lists the zones that matter, not all of them, unless
    ``verdicts=all``; ``judged_against`` counts everything in force either way.
    """
    now = datetime.now(UTC)
    lon, lat, accuracy, given_as = _place(body)
    start, end = _span(body, now)
    middle = start + (end - start) / 2
    obs = model.Observation(
        lon=lon,
        lat=lat,
        time=middle,
        accuracy_m=accuracy,
        subject_id=body.subject_id,
        kind=model.ObservationKind.SIGHTING,
        source=body.source,
        source_detail=(body.source_detail or "").strip() or None,
        window=(start, end) if end > start else None,
    )
    [rec] = monitoring.record(
        session,
        [obs],
        settings.api,
        reporter=user.username,
        now=now,
        # A subject beyond the user's units is refused as one that does not exist, by the
        # statement that locks it (not by reads of its own).
        units=user.units,
        near_m=None if verdicts is VerdictList.ALL else NEAREST_M,
    )
    if rec.error is not None:
        raise rec.error
    assert rec.subject is not None
    subject = rec.subject
    session.commit()
    assert rec.observation_id is not None
    ranked = _ranked(rec.verdicts)
    local = describe_local(middle)
    if end > start:
        local = f"between {describe_local(start)} and {describe_local(end)}"
    summary, outcome = explain.sighting(
        subject, ranked, accuracy, local, in_force=len(rec.in_force)
    )
    return SightingResult(
        observation_id=rec.observation_id,
        outcome=outcome,
        summary=summary,
        breach=any(v.is_breach for v in ranked),
        possible_breach=any(v.applies and v.evidence is not model.Evidence.NONE for v in ranked),
        duplicate=rec.duplicate,
        late=rec.late,
        subject=out.subject_ref(subject),
        position=PositionOut(
            lon=lon,
            lat=lat,
            accuracy_m=None if accuracy is None else round(accuracy, 2),
            grid_ref=_grid_ref(lon, lat),
            given_as="grid_ref" if given_as == "grid_ref" else "lonlat",
        ),
        when=WhenOut(
            time=middle,
            local=local,
            window_from=start if end > start else None,
            window_to=end if end > start else None,
        ),
        source=body.source,
        source_detail=obs.source_detail,
        reporter=user.username,
        judged_against=JudgedAgainst(
            in_force=bool(rec.in_force),
            orders=len({t.order_id for t in rec.in_force}),
            conditions=len({t.condition_id for t in rec.in_force}),
            zones=len({t.zone_id for t in rec.in_force}),
        ),
        verdicts=[out.verdict(v, subject, accuracy) for v in ranked],
        nearest=[
            out.verdict(v, subject, accuracy)
            for v in sorted(ranked, key=lambda v: v.distance_m)
            if v.distance_m <= NEAREST_M
        ],
        alert_id=rec.alert_ids[0] if rec.alert_ids else None,
        alert_ids=rec.alert_ids,
    )


@router.get("/gridref", response_model=GridRefOut, responses=ERRORS)
def grid_reference(
    ref: Annotated[Line, Query(min_length=1, max_length=40, examples=["TL 451 583"])],
    user: Utility,
) -> GridRefOut:
    """An Ordnance Survey grid reference as a position: the centre of its square, with half
    the square's diagonal as its accuracy (a 6-figure reference: a 100 m square, ~71 m)."""
    square = parse_grid_reference(ref, field="ref")
    lon, lat = square.lon_lat()
    return GridRefOut(
        grid_ref=str(square),
        easting=square.centre_easting,
        northing=square.centre_northing,
        size_m=square.size_m,
        lon=round(lon, 7),
        lat=round(lat, 7),
        accuracy_m=round(square.half_diagonal_m, 2),
    )


@router.get("/time/local", response_model=TimeOptions, responses=ERRORS)
def local_time_options(
    local_time: LocalInstant,
    user: Utility,
    time_zone_name: Annotated[Line, Query(alias="time_zone", max_length=64)] = "Europe/London",
) -> TimeOptions:
    """The instants a local civil time names: one, two (the hour repeated when the clocks go
    back) or none (the hour skipped when they go forward), so a form can ask which."""
    zone = time_zone(time_zone_name, field="time_zone")
    try:
        instants = [resolve_local(local_time, time_zone_name)]
        status, message = "ok", "this local time happened once"
    except AmbiguousLocalTime as exc:
        instants, status, message = list(exc.candidates), "ambiguous", exc.message
    except NonexistentLocalTime as exc:
        instants, status, message = [], "nonexistent", exc.message
    labels = [
        f"{i.astimezone(zone):%H:%M} {i.astimezone(zone).tzname()} ({i:%H:%M} UTC)"
        for i in instants
    ]
    return TimeOptions(
        local_time=local_time,
        time_zone=time_zone_name,
        status=status,  # type: ignore[arg-type]
        instants=instants,
        labels=labels,
        message=message,
    )


def parse_fixes(
    fixes: list[dict[str, Any]], now: datetime
) -> tuple[list[model.Observation], list[int], list[FixResult]]:
    """The readable fixes of a batch as observations, with their places in it, and a result
    per fix: rejected, with its index and reason, for each one that cannot be read."""
    good: list[model.Observation] = []
    where: list[int] = []
    results = [FixResult(index=i, status="rejected") for i in range(len(fixes))]
    for i, raw in enumerate(fixes):
        try:
            good.append(_fix_observation(_fix.validate_python(raw), now))
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
    return good, where, results


@router.post(
    "/observations",
    response_model=BatchResult,
    responses={
        **ERRORS,
        422: {
            "model": BatchRejected | ErrorResponse,
            "description": "No fix was stored (each fix's reason in results), or the batch "
            "itself cannot be read",
        },
    },
)
def post_observations(
    session: SessionDep,
    settings: SettingsDep,
    user: FeedWriter,
    fixes: Annotated[
        list[dict[str, Any]],
        Body(
            description="Fixes: {subject_id or device_id, lon, lat, time, accuracy_m}. A "
            "device_id must have been worn by the subject at the fix's time",
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
) -> BatchResult | JSONResponse:
    """Store and judge a batch of fixes; a bad fix is rejected alone, with its index and reason.

    Answers 200 when at least one fix was stored (or was already stored), 422 when none was:
    then ``error`` says so, and ``results`` still gives each fix's reason.
    """
    if not fixes:
        raise EmptyBatch("the batch is empty: send a JSON array of one or more fixes", field="body")
    if len(fixes) > settings.api.max_batch:
        raise BatchTooLarge(
            f"the batch has {len(fixes)} fixes; at most {settings.api.max_batch} per request",
            field="body",
        )
    now = datetime.now(UTC)
    with phase("parse"):
        good, where, results = parse_fixes(fixes, now)
    recorded = monitoring.record(
        session,
        good,
        settings.api,
        reporter=user.username,
        now=now,
        units=user.units,
        outside=False,
    )
    with phase("commit"):
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
        first = next((r.error for r in results if r.error is not None), None)
        why = f"; the first reason: {first.message}" if first is not None else ""
        rejected = BatchRejected(
            accepted=0,
            rejected=len(results),
            results=results,
            error=ErrorBody(
                code="batch_rejected",
                message=f"no fix was stored{why}",
                field=first.field if first is not None else None,
            ),
        )
        return JSONResponse(rejected.model_dump(mode="json"), status_code=422)
    return BatchResult(accepted=accepted, rejected=len(results) - accepted, results=results)


@router.post("/devices", status_code=201, response_model=DeviceOut, responses=ERRORS)
def register_device(body: DeviceIn, session: SessionDep, user: SubjectWriter) -> DeviceOut:
    """Register a tracker, or move it to another subject from ``assigned_from`` (default now).

    A fix carrying the device counts for the subject who wore it at the fix's time; a fix
    for another subject, or from a time nobody wore it, is refused. A tag worn by a subject
    of another unit is theirs to move."""
    if body.subject_id is not None:
        user.check(session, "subject_id", body.subject_id)
    held_by = devices_store.current_wearer(session, body.identifier)
    if held_by is not None:
        try:
            user.check(session, "subject_id", held_by)
        except NotFound as exc:
            raise Conflict(
                f"device {body.identifier!r} is assigned to a subject of another unit",
                field="identifier",
            ) from exc
    now = datetime.now(UTC)
    at = now if body.assigned_from is None else body.assigned_from.astimezone(UTC)
    not_future(at, now, "assigned_from")
    row = devices_store.assign_device(session, body.identifier, body.subject_id, at, user.username)
    session.commit()
    return DeviceOut(
        id=row.id,
        identifier=row.identifier,
        subject_id=row.subject_id,
        assigned_from=row.assigned_from if row.subject_id is not None else row.assigned_until,
    )
