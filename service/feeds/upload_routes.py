"""Bulk back-fill: GPX, NDJSON and CSV files of fixes, uploaded by a signed-in user.

Each answers as ``POST /observations`` does: one result per record (a GPX point, a line),
200 when at least one was stored (or had been stored before), 422 when none was. A file
sent again stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import JSONResponse
from pydantic import Field

from service.api.deps import FeedWriter, SessionDep, SettingsDep
from service.api.errors import EmptyBatch
from service.api.schemas import BatchResult, ErrorBody, ErrorResponse, FixResult, Line
from service.feeds import uploads
from zones.feeds.gpx import read_gpx
from zones.feeds.records import Record
from zones.feeds.tabular import read_csv, read_ndjson

router = APIRouter(tags=["uploads"])


class UploadFixResult(FixResult):
    where: str = Field(description="Where the record is in the file: `line 7`, "
                       "`trk[0].trkseg[1].trkpt[5]`, `wpt[3]` (indexes from 0)")  # fmt: skip


class UploadResult(BatchResult):
    results: list[UploadFixResult]  # type: ignore[assignment]


class UploadRejected(UploadResult):
    """No record of the file was stored (422): the error, and each record's reason."""

    error: ErrorBody


RESPONSES: dict[int | str, dict[str, object]] = {
    413: {"model": ErrorResponse, "description": "The file is over the body limit"},
    422: {
        "model": UploadRejected | ErrorResponse,
        "description": "No fix was stored (each record's reason in results), or the file "
        "itself cannot be read (not GPX, not UTF-8, a bad CSV header, too many records)",
    },
}


def _answer(
    outcomes: list[uploads.Outcome],
) -> UploadResult | JSONResponse:
    results: list[UploadFixResult] = []
    for o in outcomes:
        rec = o.recorded
        if o.problem is not None or rec is None or rec.error is not None:
            code, message, field = (
                (o.problem.code, o.problem.message, o.problem.field)
                if o.problem is not None
                else (rec.error.code, rec.error.message, rec.error.field)  # type: ignore[union-attr]
            )
            error = ErrorBody(code=code, message=message, field=field)
            results.append(
                UploadFixResult(index=o.index, where=o.where, status="rejected", error=error)
            )
            continue
        results.append(
            UploadFixResult(
                index=o.index,
                where=o.where,
                status="duplicate" if rec.duplicate else "stored",
                observation_id=rec.observation_id,
                breach=any(v.is_breach for v in rec.verdicts),
                alert_ids=rec.alert_ids,
            )
        )
    accepted = sum(r.status != "rejected" for r in results)
    if accepted:
        return UploadResult(accepted=accepted, rejected=len(results) - accepted, results=results)
    first = next(r for r in results if r.error is not None).error
    assert first is not None
    rejected = UploadRejected(
        accepted=0,
        rejected=len(results),
        results=results,
        error=ErrorBody(
            code="batch_rejected",
            message=f"no fix was stored; the first reason: {first.message}",
            field=first.field,
        ),
    )
    return JSONResponse(rejected.model_dump(mode="json"), status_code=422)


def _upload(
    file: UploadFile,
    read: Callable[[bytes], list[Record]],
    session: SessionDep,
    user: FeedWriter,
    settings: SettingsDep,
) -> UploadResult | JSONResponse:
    records = read(file.file.read())
    if not records:
        raise EmptyBatch("the file holds no fixes", field="file")
    outcomes = uploads.store(
        session, records, settings.api, reporter=user.username, units=user.units
    )
    session.commit()
    return _answer(outcomes)


@router.post("/observations/gpx", response_model=UploadResult, responses=RESPONSES)
def upload_gpx(
    file: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    user: FeedWriter,
    device: Annotated[
        Line,
        Query(
            min_length=1,
            max_length=100,
            description="The registered device the file was recorded by",
            examples=["TAG-0042"],
        ),
    ],
    hdop_m: Annotated[
        float | None,
        Query(
            gt=0,
            le=1000,
            description="Metres of accuracy per unit of hdop, for this file (default: the "
            "installation's ZONES_UPLOAD_HDOP_M); 1 where a producer wrote metres in hdop",
        ),
    ] = None,
) -> UploadResult | JSONResponse:
    """Back-fill a GPX 1.0 or 1.1 file of one device: its track points and waypoints.

    Each point needs a ``time``; one without is refused alone, named by its place
    (``trk[0].trkseg[1].trkpt[5]``). ``hdop`` becomes an accuracy radius of hdop x
    ``hdop_m`` metres. A file with a DTD or entities is refused whole.
    """
    factor = hdop_m if hdop_m is not None else settings.upload.hdop_m
    limit = settings.upload.max_records

    def read(data: bytes) -> list[Record]:
        return read_gpx(data, device=device, hdop_m=factor, max_records=limit)

    return _upload(file, read, session, user, settings)


@router.post("/observations/ndjson", response_model=UploadResult, responses=RESPONSES)
def upload_ndjson(
    file: UploadFile, session: SessionDep, settings: SettingsDep, user: FeedWriter
) -> UploadResult | JSONResponse:
    """Back-fill an NDJSON file: one fix a line, ``{"device_id", "time", "lon", "lat",
    "accuracy_m", ...}``; a bad line is refused alone, with its line number."""
    limit = settings.upload.max_records
    return _upload(file, lambda d: read_ndjson(d, max_records=limit), session, user, settings)


@router.post("/observations/csv", response_model=UploadResult, responses=RESPONSES)
def upload_csv(
    file: UploadFile, session: SessionDep, settings: SettingsDep, user: FeedWriter
) -> UploadResult | JSONResponse:
    """Back-fill a CSV file: a header row naming the columns (``device_id,time,lon,lat``
    and optionally ``accuracy_m``, ``speed_mps``, ``bearing_deg``, ``altitude_m``,
    ``battery_pct``, ``valid``, ``id``), then one fix a row; a bad row is refused alone."""
    limit = settings.upload.max_records
    return _upload(file, lambda d: read_csv(d, max_records=limit), session, user, settings)
