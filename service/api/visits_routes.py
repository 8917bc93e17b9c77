"""Authorised visits, and reading a schedule's dated exceptions from an iCalendar file.

An authorised visit lets a subject be in one zone for a window (a supervised contact
visit, a court appearance): stays covered by it are stored, never alerts, and still being
inside when it ends opens an alert at that moment. Who authorised it and why are kept, and
a visit is withdrawn, never deleted.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import Field, ValidationError, model_validator
from sqlalchemy import select

from service.api.deps import SessionDep, SettingsDep, SubjectReader, SubjectWriter, Utility
from service.api.errors import UnsupportedMediaType
from service.api.schemas import ErrorResponse, Id, Instant, Line, Text, Wire
from service.db import audit_store, context_store, orders_store, tables, zones_store
from service.stays_sync import resync
from zones.errors import Conflict, InvalidSchedule, NotFound
from zones.icalendar import exceptions_from_icalendar

router = APIRouter(tags=["schedules and visits"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
MAX_VISIT = timedelta(days=366)


class UnknownVisit(NotFound):
    code = "unknown_visit"


class VisitIn(Wire):
    zone_id: Id
    starts: Instant
    ends: Instant
    authorised_by: Line = Field(
        min_length=2, max_length=200, description="Who authorised it, e.g. 'DS 123 Smith'"
    )
    reason: Text = Field(min_length=3, max_length=2000, description="Why it was authorised")

    @model_validator(mode="after")
    def _window(self) -> VisitIn:
        if self.ends <= self.starts:
            raise ValueError(f"ends ({self.ends}) must be after starts ({self.starts})")
        if self.ends - self.starts > MAX_VISIT:
            raise ValueError("a visit lasts at most a year; record another for longer")
        return self


class VisitOut(VisitIn):
    id: int
    authorised_by: str  # as stored
    reason: str
    subject_id: int
    zone_name: str
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class WithdrawIn(Wire):
    reason: Text = Field(min_length=3, max_length=2000, description="Why it is withdrawn")


class ExceptionOut(Wire):
    first_day: str
    last_day: str
    label: str


class CalendarIn(Wire):
    icalendar: Text = Field(
        min_length=1,
        max_length=2_000_000,
        description="The text of an iCalendar (.ics) file, e.g. the UK government's bank "
        "holidays: each event becomes a dated exception",
    )


def _out(row: tables.AuthorisedVisit, zone_name: str) -> VisitOut:
    return VisitOut(**asdict(context_store.visit(row)), zone_name=zone_name)


@router.post(
    "/subjects/{subject_id}/visits", status_code=201, response_model=VisitOut, responses=ERRORS
)
def record_visit(
    subject_id: Id, body: VisitIn, session: SessionDep, settings: SettingsDep, user: SubjectWriter
) -> VisitOut:
    """Record an authorised visit of the subject to one zone, with who authorised it and why.

    Stays inside the zone during the window are kept as *authorised* stays, not alerts
    (``GET /alerts?stage=authorised``). An alert raised before the visit was recorded stays
    an alert: resolve it with the disposition ``authorised_presence``.
    """
    orders_store.get_subject(session, subject_id, lock=True)
    zone = zones_store.get(session, body.zone_id)
    row = tables.AuthorisedVisit(
        subject_id=subject_id,
        zone_id=body.zone_id,
        starts=body.starts,
        ends=body.ends,
        authorised_by=body.authorised_by.strip(),
        reason=body.reason.strip(),
        recorded_by=user.username,
    )
    session.add(row)
    session.flush()
    audit_store.record(
        session, user.username, "visit.record", "subject", subject_id, reason=body.reason,
        detail={"visit": row.id, "zone": body.zone_id},
    )  # fmt: skip
    resync(session, subject_id, body.starts, datetime.now(UTC), settings.api)
    session.commit()
    session.refresh(row)
    return _out(row, zone.name)


@router.get("/subjects/{subject_id}/visits", response_model=list[VisitOut], responses=ERRORS)
def list_visits(subject_id: Id, session: SessionDep, user: SubjectReader) -> list[VisitOut]:
    """The subject's authorised visits, newest first, withdrawn ones included."""
    orders_store.get_subject(session, subject_id)
    av = tables.AuthorisedVisit
    rows = session.scalars(
        select(av).where(av.subject_id == subject_id).order_by(av.starts.desc(), av.id.desc())
    ).all()
    names = (
        {z.id: z.name for z in zones_store.current(session, ids=sorted({r.zone_id for r in rows}))}
        if rows
        else {}
    )
    return [_out(r, names.get(r.zone_id, "")) for r in rows]


@router.post("/visits/{visit_id}/withdraw", response_model=VisitOut, responses=ERRORS)
def withdraw_visit(
    visit_id: Id, body: WithdrawIn, session: SessionDep, settings: SettingsDep, user: SubjectWriter
) -> VisitOut:
    """Withdraw an authorised visit (it stays on record, marked withdrawn, with who and why)."""
    row = session.get(tables.AuthorisedVisit, visit_id, with_for_update=True)
    if row is None:
        raise UnknownVisit(f"no authorised visit with id {visit_id}", field="visit_id")
    if row.withdrawn_at is not None:
        raise Conflict(f"visit {visit_id} was already withdrawn", field="visit_id")
    now = datetime.now(UTC)
    row.withdrawn_at, row.withdrawn_by = now, user.username
    audit_store.record(
        session, user.username, "visit.withdraw", "subject", row.subject_id, reason=body.reason,
        detail={"visit": visit_id},
    )  # fmt: skip
    resync(session, row.subject_id, row.starts, now, settings.api)
    session.commit()
    zone = zones_store.get(session, row.zone_id)
    return _out(row, zone.name)


CALENDAR_BODY = {
    "required": True,
    "content": {
        "text/calendar": {"schema": {"type": "string", "description": "An .ics file"}},
        "application/json": {"schema": CalendarIn.model_json_schema()},
    },
}


@router.post(
    "/schedules/exceptions",
    response_model=list[ExceptionOut],
    responses={**ERRORS, 415: {"model": ErrorResponse, "description": "Not a calendar"}},
    openapi_extra={"requestBody": CALENDAR_BODY},
)
async def read_calendar(request: Request, user: Utility) -> list[ExceptionOut]:
    """Read dated exceptions from an iCalendar file, to put in a condition's schedule.

    Send the file as ``text/calendar`` or as JSON ``{"icalendar": "..."}``. Nothing is
    stored: the answer is the ``exceptions`` list of a schedule.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    data: str | bytes
    if kind == "application/json":
        try:
            data = CalendarIn.model_validate_json(raw).icalendar
        except ValidationError as exc:
            where = ".".join(str(x) for x in exc.errors()[0]["loc"]) or "body"
            raise InvalidSchedule(exc.errors()[0]["msg"], field=where) from None
    elif kind in ("text/calendar", "text/plain", "application/octet-stream"):
        data = raw
    else:
        raise UnsupportedMediaType(
            f"send the calendar as text/calendar or as JSON, not {kind or 'no content type'}",
            field="body",
        )
    found = exceptions_from_icalendar(data, field="icalendar")
    return [
        ExceptionOut(
            first_day=e.first_day.isoformat(), last_day=e.last_day.isoformat(), label=e.label
        )
        for e in found
    ]
