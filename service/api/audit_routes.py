"""The audit log, for supervisors and admins: who read or changed what, when, from where, why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import AuditReader, SessionDep
from service.api.errors import InvalidAuditQuery
from service.api.schemas import AuditOut, AuditPage, ErrorResponse, Instant, Line
from service.db import audit_store

router = APIRouter(tags=["users and audit"])
ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.get("/audit", response_model=AuditPage, responses=ERRORS)
def audit_log(
    session: SessionDep,
    user: AuditReader,
    username: Annotated[Line | None, Query(max_length=80, description="Who did it")] = None,
    action: Annotated[
        Line | None, Query(max_length=60, description="What was done, e.g. subject.track")
    ] = None,
    object_type: Annotated[
        Line | None, Query(max_length=40, description="The kind of record, e.g. subject")
    ] = None,
    object_id: Annotated[
        Line | None, Query(max_length=80, description="The record's id (with object_type)")
    ] = None,
    since: Annotated[
        Instant | None, Query(alias="from", description="Entries at or after this instant")
    ] = None,
    until: Annotated[
        Instant | None, Query(alias="to", description="Entries before this instant")
    ] = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=18,
            pattern=r"^[1-9][0-9]{0,17}$",
            description="`next_cursor` of the page before",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AuditPage:
    """Audit entries, newest first, filtered; paged with `cursor`.

    Reading the audit is itself audited (`audit.read`, with the filters): it shows who was
    looking at whom.
    """
    if object_id is not None and object_type is None:
        raise InvalidAuditQuery("object_id needs object_type", field="object_type")
    if since is not None and until is not None and until <= since:
        raise InvalidAuditQuery("'to' must be after 'from'", field="to")
    where = audit_store.Filter(username, action, object_type, object_id, since, until)
    found, more = audit_store.page(
        session, where, before_id=None if cursor is None else int(cursor), limit=limit
    )
    asked = {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in vars(where).items()
        if v is not None
    }
    audit_store.record(
        session, user.username, "audit.read",
        detail={**asked, "cursor": cursor, "entries": len(found)},
    )  # fmt: skip
    session.commit()
    return AuditPage(
        entries=[AuditOut(**vars(e)) for e in found],
        next_cursor=None if more is None else str(more),
    )
