"""Subjects and their orders (with the conditions and zones of each clause)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from service.api.deps import Editor, SessionDep, Viewer
from service.api.schemas import (
    ConditionOut,
    ErrorResponse,
    OrderIn,
    OrderOut,
    SubjectIn,
    SubjectOut,
)
from service.db import orders_store
from zones import model

router = APIRouter(tags=["subjects and orders"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def subject_out(s: model.Subject) -> SubjectOut:
    return SubjectOut(**asdict(s))


def order_out(o: model.Order) -> OrderOut:
    assert o.id is not None
    return OrderOut(
        id=o.id,
        subject_id=o.subject_id,
        reference=o.reference,
        type=o.type,
        court=o.court,
        starts=o.starts,
        ends=o.ends,
        conditions=[
            ConditionOut(
                id=c.id or 0,
                text=c.text,
                zone_ids=list(c.zone_ids),
                buffer_m=c.buffer_m,
                kind=c.kind,
            )
            for c in o.conditions
        ],
    )


@router.post("/subjects", status_code=201, response_model=SubjectOut, responses=ERRORS)
def create_subject(body: SubjectIn, session: SessionDep, user: Editor) -> SubjectOut:
    """Record a person under management; ``reference`` is unique (e.g. a PNC reference)."""
    subject = orders_store.create_subject(session, model.Subject(None, **body.model_dump()))
    session.commit()
    return subject_out(subject)


@router.get("/subjects", response_model=list[SubjectOut])
def list_subjects(session: SessionDep, user: Viewer) -> list[SubjectOut]:
    """Every subject."""
    return [subject_out(s) for s in orders_store.list_subjects(session)]


@router.get("/subjects/{subject_id}", response_model=SubjectOut, responses=ERRORS)
def get_subject(subject_id: int, session: SessionDep, user: Viewer) -> SubjectOut:
    """One subject."""
    return subject_out(orders_store.get_subject(session, subject_id))


@router.get("/subjects/{subject_id}/orders", response_model=list[OrderOut], responses=ERRORS)
def subject_orders(subject_id: int, session: SessionDep, user: Viewer) -> list[OrderOut]:
    """A subject's orders with their conditions."""
    orders_store.get_subject(session, subject_id)
    return [order_out(o) for o in orders_store.orders_of(session, subject_id)]


@router.post("/orders", status_code=201, response_model=OrderOut, responses=ERRORS)
def create_order(body: OrderIn, session: SessionDep, user: Editor) -> OrderOut:
    """Record a court order and its conditions, each naming the zones it excludes."""
    order = model.Order(
        id=None,
        subject_id=body.subject_id,
        reference=body.reference,
        type=body.type,
        starts=body.starts,
        ends=body.ends,
        court=body.court,
        conditions=tuple(
            model.Condition(None, c.text, tuple(c.zone_ids), c.buffer_m) for c in body.conditions
        ),
    )
    stored = orders_store.create_order(session, order, user=user.username)
    session.commit()
    return order_out(stored)


@router.get("/orders", response_model=list[OrderOut])
def list_orders(session: SessionDep, user: Viewer) -> list[OrderOut]:
    """Every order."""
    return [order_out(o) for o in orders_store.list_orders(session)]


@router.get("/orders/{order_id}", response_model=OrderOut, responses=ERRORS)
def get_order(order_id: int, session: SessionDep, user: Viewer) -> OrderOut:
    """One order with its conditions."""
    return order_out(orders_store.get_order(session, order_id))
