"""Legal holds: stop retention deleting a subject's positions and alerts, or one alert's.

Supervisors and admins place and release holds, always with a reason; each change is
audited. A hold lasts until it is released.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field, model_validator

from service.api.deps import Access, HoldManager, SessionDep
from service.api.schemas import ErrorResponse, Id, Text, Wire
from service.db import holds_store
from zones.errors import NotFound

router = APIRouter(tags=["legal holds"])
ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
Reason = Annotated[
    Text,
    Field(min_length=3, max_length=2000, description="Why: a case, an appeal, a request"),
]


class HoldIn(Wire):
    """A hold on one subject (all their positions and alerts) or on one alert."""

    subject_id: Id | None = None
    alert_id: Id | None = None
    reason: Reason

    @model_validator(mode="after")
    def _one_target(self) -> HoldIn:
        if (self.subject_id is None) == (self.alert_id is None):
            raise ValueError("hold a subject_id or an alert_id (one of them)")
        return self


class ReleaseIn(Wire):
    reason: Reason


class HoldOut(Wire):
    id: int
    subject_id: int | None
    alert_id: int | None
    reason: str
    placed_by: str
    placed_at: datetime
    active: bool
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None


def _out(hold: holds_store.Hold) -> HoldOut:
    return HoldOut(**vars(hold), active=hold.active)


@router.post("/holds", status_code=201, response_model=HoldOut, responses=ERRORS)
def place_hold(body: HoldIn, session: SessionDep, user: HoldManager) -> HoldOut:
    """Place a legal hold: retention deletes nothing of the subject, or of the alert (its
    stay, the observations it rests on and those around it, what people did about it),
    until the hold is released."""
    _check(session, user, body.subject_id, body.alert_id)
    hold = holds_store.place(
        session,
        user.username,
        body.reason.strip(),
        subject_id=body.subject_id,
        alert_id=body.alert_id,
    )
    session.commit()
    return _out(hold)


@router.post("/holds/{hold_id}/release", response_model=HoldOut, responses=ERRORS)
def release_hold(hold_id: Id, body: ReleaseIn, session: SessionDep, user: HoldManager) -> HoldOut:
    """Release a hold; what it kept is deleted by the next retention run if its time has
    passed."""
    held = holds_store.get(session, hold_id)
    try:
        _check(session, user, held.subject_id, held.alert_id)
    except NotFound as exc:
        raise holds_store.UnknownHold(f"no legal hold with id {hold_id}", field="hold_id") from exc
    hold = holds_store.release(
        session, hold_id, user.username, body.reason.strip(), datetime.now(UTC)
    )
    session.commit()
    return _out(hold)


@router.get("/holds", response_model=list[HoldOut], responses=ERRORS)
def list_holds(
    session: SessionDep,
    user: HoldManager,
    active: Annotated[bool | None, Query(description="true: in force; false: released")] = None,
    subject_id: Annotated[Id | None, Query()] = None,
    alert_id: Annotated[Id | None, Query()] = None,
) -> list[HoldOut]:
    """Legal holds, newest first (of the subjects within your reach)."""
    found = holds_store.holds(session, active=active, subject_id=subject_id, alert_id=alert_id)
    return [_out(h) for h in found if _within(session, user, h)]


def _check(session: SessionDep, user: Access, subject_id: int | None, alert_id: int | None) -> None:
    if subject_id is not None:
        user.check(session, "subject_id", subject_id)
    if alert_id is not None:
        user.check(session, "alert_id", alert_id)


def _within(session: SessionDep, user: Access, hold: holds_store.Hold) -> bool:
    try:
        _check(session, user, hold.subject_id, hold.alert_id)
    except NotFound:
        return False
    return True
