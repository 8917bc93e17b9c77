"""Subjects and their orders (versioned, with the conditions and zones of each clause)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from service import zone_copies
from service.api import out
from service.api.deps import Access, SessionDep, SubjectMover, SubjectReader, SubjectWriter
from service.api.paging import PagerDep, page_responses
from service.api.schemas import (
    ConditionIn,
    ErrorResponse,
    Id,
    Line,
    MoveIn,
    OrderEdit,
    OrderIn,
    OrderOut,
    SubjectIn,
    SubjectListed,
    SubjectOut,
    ZoneFeatureIn,
    ZoneFeatureOut,
)
from service.api.zones_routes import Repair, draft, require_reason
from service.db import audit_store, orders_store, units_store
from zones import model
from zones.errors import Forbidden, InvalidOrder, ZonesError
from zones.schedule import Schedule
from zones.stays import Rules

router = APIRouter(tags=["subjects and orders"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


@router.post("/subjects", status_code=201, response_model=SubjectOut, responses=ERRORS)
def create_subject(body: SubjectIn, session: SessionDep, user: SubjectWriter) -> SubjectOut:
    """Record a person under management in one of your units (``unit``: its code; it may be
    left out when you belong to one unit only); ``reference`` is unique (a PNC reference)."""
    unit = _unit_for(user, body.unit)
    subject = orders_store.create_subject(
        session, model.Subject(None, **(body.model_dump() | {"unit": unit}))
    )
    audit_store.record(
        session, user.username, "subject.create", "subject", subject.id, detail={"unit": unit}
    )
    session.commit()
    return out.subject(subject)


@router.get(
    "/subjects",
    response_model=list[SubjectListed],
    responses={**ERRORS, **page_responses(list[SubjectListed])},
)
def list_subjects(
    session: SessionDep,
    user: SubjectReader,
    pager: PagerDep,
    q: Annotated[
        Line | None,
        Query(
            min_length=1,
            max_length=100,
            description="Part of a reference or a name, any case (exact references first)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5_000, description="The page size")] = 500,
) -> list[SubjectListed]:
    """Subjects: all (by id), or those whose reference or name contains ``q``, each with how
    many orders they have and how many of those are in force today.

    Paged: at most ``limit`` subjects; when more match, the ``Link`` (``rel="next"``) and
    ``Next-Cursor`` headers lead to the next page."""
    order = orders_store.subject_order(q)
    shape = (bool, bool, bool, str, int) if q else (int,)
    found = orders_store.list_subjects(
        session, q, limit + 1, user.units, after=pager.after(order, shape)
    )
    subjects = [s for s, _ in pager.page(found, limit, order, lambda keyed: keyed[1])]
    today = orders_store.civil_day([datetime.now(UTC)])[0]
    counts = orders_store.order_counts(session, [s.id for s in subjects if s.id], today)
    return [out.subject_listed(s, *counts.get(s.id or 0, (0, 0))) for s in subjects]


@router.get("/subjects/{subject_id}", response_model=SubjectOut, responses=ERRORS)
def get_subject(subject_id: Id, session: SessionDep, user: SubjectReader) -> SubjectOut:
    """One subject."""
    return out.subject(orders_store.get_subject(session, subject_id))


@router.put("/subjects/{subject_id}", response_model=SubjectOut, responses=ERRORS)
def edit_subject(
    subject_id: Id, body: SubjectIn, session: SessionDep, user: SubjectWriter
) -> SubjectOut:
    """Change a subject's details."""
    before = orders_store.get_subject(session, subject_id)
    unit = before.unit if body.unit is None else body.unit
    if unit != before.unit:
        _unit_for(user, unit)  # moving within your own units; else POST /subjects/{id}/move
    fields = body.model_dump() | {"unit": unit}
    subject = orders_store.update_subject(session, model.Subject(subject_id, **fields))
    changed = sorted(k for k, v in fields.items() if getattr(before, k) != v)
    audit_store.record(
        session, user.username, "subject.edit", "subject", subject_id, detail={"fields": changed}
    )
    session.commit()
    return out.subject(subject)


@router.get("/subjects/{subject_id}/orders", response_model=list[OrderOut], responses=ERRORS)
def subject_orders(subject_id: Id, session: SessionDep, user: SubjectReader) -> list[OrderOut]:
    """A subject's orders (current versions) with their conditions."""
    orders_store.get_subject(session, subject_id)
    return [out.order(o) for o in orders_store.orders_of(session, subject_id)]


def _unit_for(user: Access, unit: str | None) -> str:
    """The unit a subject is recorded in: one of the user's own (the only one, if unnamed)."""
    if unit is None:
        if len(user.user.units) == 1:
            return next(iter(user.user.units))
        mine = ", ".join(sorted(user.user.units)) or "none"
        raise ZonesError(f"name the subject's unit (yours: {mine})", field="unit")
    if not user.reaches(unit) or unit not in user.user.units:
        raise Forbidden(f"you are not a member of unit {unit!r}", field="unit")
    return unit


@router.post("/subjects/{subject_id}/move", response_model=SubjectOut, responses=ERRORS)
def move_subject(
    subject_id: Id, body: MoveIn, session: SessionDep, user: SubjectMover
) -> SubjectOut:
    """Move a subject to another unit: their orders, alerts and history go with them, and
    the members of their old unit no longer see them. ``reason`` is required."""
    before = units_store.move_subject(session, subject_id, body.unit)
    audit_store.record(
        session, user.username, "subject.move", "subject", subject_id, reason=body.reason,
        detail={"from": before, "to": body.unit},
    )  # fmt: skip
    session.commit()
    return out.subject(orders_store.get_subject(session, subject_id))


def _condition(c: ConditionIn, i: int) -> model.Condition:
    schedule = (
        None
        if c.schedule is None
        else Schedule.from_json(c.schedule, field=f"conditions[{i}].schedule")
    )
    rules = Rules(
        confirm_fixes=c.confirm_fixes,
        confirm_seconds=c.confirm_seconds,
        clear_fixes=c.clear_fixes,
        clear_seconds=c.clear_seconds,
    )
    return model.Condition(
        None,
        c.text,
        tuple(c.zone_ids),
        c.buffer_m,
        clause_id=c.clause_id,
        schedule=schedule,
        warning_m=c.warning_m,
        rules=rules,
        tag_required=c.tag_required,
        silence_minutes=c.silence_minutes,
    )


def _order(body: OrderIn | OrderEdit) -> model.Order:
    return model.Order(
        id=None,
        subject_id=body.subject_id,
        reference=body.reference,
        type=body.type,
        starts=body.starts,
        ends=body.ends,
        court=body.court,
        status=body.status if isinstance(body, OrderEdit) else model.OrderStatus.ACTIVE,
        conditions=tuple(_condition(c, i) for i, c in enumerate(body.conditions)),
        effective_from=body.effective_from if isinstance(body, OrderEdit) else None,
    )


@router.post("/orders", status_code=201, response_model=OrderOut, responses=ERRORS)
def create_order(body: OrderIn, session: SessionDep, user: SubjectWriter) -> OrderOut:
    """Record a court order and its conditions, each naming the zones it excludes."""
    if any(c.clause_id is not None for c in body.conditions):
        raise InvalidOrder(
            "a new order has no clauses yet: leave clause_id out", field="conditions"
        )
    user.check(session, "subject_id", body.subject_id)
    stored = orders_store.create_order(session, _order(body), user=user.username)
    audit_store.record(session, user.username, "order.create", "order", stored.id)
    session.commit()
    return out.order(stored)


@router.get(
    "/orders",
    response_model=list[OrderOut],
    responses={**ERRORS, **page_responses(list[OrderOut])},
)
def list_orders(
    session: SessionDep,
    user: SubjectReader,
    pager: PagerDep,
    limit: Annotated[int, Query(ge=1, le=5_000, description="The page size")] = 500,
) -> list[OrderOut]:
    """Every order of the subjects within reach, at its current version, by id.

    Paged: at most ``limit`` orders; when there are more, the ``Link`` (``rel="next"``) and
    ``Next-Cursor`` headers lead to the next page."""
    after = pager.after("orders:id", (int,))
    found = orders_store.list_orders(
        session, user.units, limit=limit + 1, after=None if after is None else after[0]
    )
    return [out.order(o) for o in pager.page(found, limit, "orders:id", lambda o: (o.id,))]


@router.get("/orders/{order_id}", response_model=OrderOut, responses=ERRORS)
def get_order(
    order_id: Id, session: SessionDep, user: SubjectReader, version: Id | None = None
) -> OrderOut:
    """One order with its conditions, at its current version or at ``version``."""
    return out.order(orders_store.get_order(session, order_id, version))


@router.get("/orders/{order_id}/versions", response_model=list[OrderOut], responses=ERRORS)
def order_versions(order_id: Id, session: SessionDep, user: SubjectReader) -> list[OrderOut]:
    """Every version of an order, oldest first, with who made it, when and why."""
    return [out.order(o) for o in orders_store.order_versions(session, order_id)]


@router.put("/orders/{order_id}", response_model=OrderOut, responses=ERRORS)
def edit_order(order_id: Id, body: OrderEdit, session: SessionDep, user: SubjectWriter) -> OrderOut:
    """Store an edit as a new version; the clauses earlier alerts cite stay as they were.

    Give each condition that is a new wording of an existing clause its ``clause_id``; a
    condition without one is a new clause. ``reason`` is required.
    """
    user.check(session, "subject_id", body.subject_id)
    edited = orders_store.edit_order(
        session, order_id, _order(body), user.username, body.reason.strip()
    )
    audit_store.record(
        session, user.username, "order.edit", "order", order_id, reason=body.reason,
        detail={"version": edited.version},
    )  # fmt: skip
    session.commit()
    return out.order(edited)


@router.post(
    "/orders/{order_id}/zones/{zone_id}/copy",
    status_code=201,
    response_model=ZoneFeatureOut,
    responses=ERRORS,
)
def copy_zone_for_order(
    order_id: Id,
    zone_id: Id,
    body: ZoneFeatureIn,
    session: SessionDep,
    user: SubjectWriter,
    repair: Repair = False,
) -> ZoneFeatureOut:
    """Store the edited shape as a new zone used by this order alone (a new order version);
    the other orders that use ``zone_id`` keep it as it is. ``properties.reason`` is required."""
    require_reason(body)
    zone, notes = draft(body, repair)
    copied, edited = zone_copies.copy_for_order(
        session, order_id, zone_id, zone, notes, user.username
    )
    audit_store.record(
        session, user.username, "zone.copy_for_order", "zone", copied.id, reason=zone.reason,
        detail={"from_zone": zone_id, "order": order_id, "order_version": edited.version},
    )  # fmt: skip
    session.commit()
    return out.zone(copied, notes)
