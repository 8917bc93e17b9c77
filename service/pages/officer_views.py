"""The officer's pages: subjects (a search and a form), orders (a form and the order's page
with its zones and versions) and the zone library.

The routes render shells only; each page's script reads and writes everything through the
public API. The database is read only to answer 404 for a subject or order that does not
exist, instead of an empty page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.deps import SessionDep, SettingsDep
from service.api.schemas import MAX_ID
from service.db import orders_store
from service.pages import mapping
from service.pages.access import OfficerPage
from service.pages.render import embed, render
from zones import model
from zones.errors import NotFound, UnknownOrder, UnknownSubject

router = APIRouter(include_in_schema=False)

RISK_LEVELS = ("low", "medium", "high", "very high")
# How a subject may move, as the subject's form offers it (the speed is the judge's own).
TRAVEL_MODES = tuple(
    (mode, f"{label} (up to {mode.top_speed_mps:g} m/s)")
    for mode, label in (
        (model.TravelMode.WALKING, "On foot"),
        (model.TravelMode.BICYCLE, "Bicycle"),
        (model.TravelMode.CAR, "Car or other vehicle"),
    )
)
ORDER_TYPES = (
    (model.OrderType.SHPO, "SHPO (Sexual Harm Prevention Order)"),
    (model.OrderType.SRO, "SRO (Sexual Risk Order)"),
    (model.OrderType.LICENCE, "Licence conditions"),
    (model.OrderType.RESTRAINING, "Restraining order"),
    (model.OrderType.OTHER, "Other"),
)
# The library's category filter offers these (and any other category its results show).
LIBRARY_CATEGORIES = (
    "park", "playground", "school", "nursery", "green_space", "sports_pitch", "drawn", "boundary",
)  # fmt: skip


def _id(number: int, error: type[NotFound], what: str) -> int:
    """An id from a path: one that cannot exist is a 404, like an unknown one."""
    if not 1 <= number <= MAX_ID:
        raise error(f"no {what} {number}")
    return number


def _subject(session: SessionDep, subject_id: int) -> int:
    orders_store.get_subject(session, _id(subject_id, UnknownSubject, "subject"))
    return subject_id


def _order(session: SessionDep, order_id: int) -> model.Order:
    return orders_store.get_order(session, _id(order_id, UnknownOrder, "order"))


@router.get("/subjects", response_class=HTMLResponse)
def subjects(request: Request, settings: SettingsDep, user: OfficerPage) -> HTMLResponse:
    """Find a subject by part of a reference or a name."""
    return render(request, "officer_subjects.html", title="Subjects", user=user, settings=settings)


def _subject_page(
    request: Request, settings: SettingsDep, user: OfficerPage, subject_id: int | None
) -> HTMLResponse:
    return render(
        request,
        "officer_subject.html",
        title="Subject" if subject_id else "New subject",
        user=user,
        settings=settings,
        config={"subject_id": subject_id, "risk_levels": RISK_LEVELS},
        subject_id=subject_id,
        risk_levels=RISK_LEVELS,
        travel_modes=TRAVEL_MODES,
        units=sorted(user.user.units),
    )


@router.get("/subjects/new", response_class=HTMLResponse)
def new_subject(request: Request, settings: SettingsDep, user: OfficerPage) -> HTMLResponse:
    """Record a subject."""
    return _subject_page(request, settings, user, None)


@router.get("/subjects/{subject_id}", response_class=HTMLResponse)
def subject(
    subject_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OfficerPage,
) -> HTMLResponse:
    """A subject's details (as a form) and orders."""
    return _subject_page(request, settings, user, _subject(session, subject_id))


def _order_form(
    request: Request,
    settings: SettingsDep,
    user: OfficerPage,
    subject_id: int,
    order_id: int | None,
) -> HTMLResponse:
    return render(
        request,
        "officer_order_form.html",
        title="Edit an order" if order_id else "New order",
        user=user,
        settings=settings,
        config={"subject_id": subject_id, "order_id": order_id},
        subject_id=subject_id,
        order_id=order_id,
        order_types=ORDER_TYPES,
    )


@router.get("/subjects/{subject_id}/orders/new", response_class=HTMLResponse)
def new_order(
    subject_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OfficerPage,
) -> HTMLResponse:
    """Record an order on a subject, with its conditions and their zones."""
    return _order_form(request, settings, user, _subject(session, subject_id), None)


@router.get("/orders/{order_id}/edit", response_class=HTMLResponse)
def edit_order(
    order_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OfficerPage,
) -> HTMLResponse:
    """Change an order (a new version, with a reason), or mark it revoked."""
    order = _order(session, order_id)
    return _order_form(request, settings, user, order.subject_id, order_id)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    order_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OfficerPage,
) -> HTMLResponse:
    """An order: its conditions and their zones on a map, and its versions."""
    order = _order(session, order_id)
    parts = embed(mapping.base(settings), request, settings)
    return render(
        request,
        "officer_order.html",
        title="Order",
        user=user,
        settings=settings,
        map_parts=parts,
        config={"order_id": order_id, "subject_id": order.subject_id},
        order_id=order_id,
        subject_id=order.subject_id,
    )


@router.get("/library", response_class=HTMLResponse)
def library(request: Request, settings: SettingsDep, user: OfficerPage) -> HTMLResponse:
    """The zone library: find zones by name and category, and the orders that use each."""
    parts = embed(mapping.base(settings), request, settings)
    return render(
        request,
        "officer_library.html",
        title="Zone library",
        user=user,
        settings=settings,
        map_parts=parts,
        categories=LIBRARY_CATEGORIES,
    )
