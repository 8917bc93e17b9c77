"""The officer's zone pages: the zone editor of one condition, a file import for review, and a
zone's version history.

The routes render shells only (a folium map and an empty panel); each page's script reads
and writes everything through the public API. The database is read only to answer 404 for
an order, clause or zone that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.deps import SessionDep, SettingsDep
from service.api.schemas import MAX_ID
from service.db import orders_store, zones_store
from service.pages import mapping
from service.pages.access import OfficerPage
from service.pages.render import embed, render
from zones.errors import NotFound, UnknownOrder, UnknownZone

router = APIRouter(include_in_schema=False)
PREVIEW_TYPES = ".geojson,.json,.kml,.gpkg,.zip"
# Suggested categories; any other (lower-case) word may be typed.
CATEGORIES = ("drawn", "park", "playground", "school", "nursery", "green_space", "sports_pitch")


def _known(number: int, error: type[NotFound], what: str) -> int:
    """An id from a path: one that cannot exist is a 404, like an unknown one."""
    if not 1 <= number <= MAX_ID:
        raise error(f"no {what} {number}")
    return number


@router.get("/orders/{order_id}/clauses/{clause_id}/zones", response_class=HTMLResponse)
def zone_editor(
    order_id: int,
    clause_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OfficerPage,
) -> HTMLResponse:
    """Draw, pick, edit and remove the zones of one condition, and set its buffer."""
    order = orders_store.get_order(session, _known(order_id, UnknownOrder, "order"))
    if not any(c.clause_id == clause_id for c in order.conditions):
        raise NotFound(f"order {order_id} has no clause {clause_id}")
    m, drawn, geoman = mapping.with_editor(settings)
    parts = embed(m, request, settings, drawn=drawn, geoman=geoman)
    return render(
        request,
        "editor_zones.html",
        title="Zones of a condition",
        user=user,
        settings=settings,
        map_parts=parts,
        config={"order_id": order_id, "clause_id": clause_id},
        order_id=order_id,
        clause_id=clause_id,
        categories=CATEGORIES,
        preview_types=PREVIEW_TYPES,
    )


@router.get("/library/import", response_class=HTMLResponse)
def import_zones(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OfficerPage,
    order_id: int | None = None,
    clause_id: int | None = None,
) -> HTMLResponse:
    """Upload a GeoJSON, KML or GeoPackage file, review its shapes, save the kept ones (and,
    with ``order_id`` and ``clause_id``, add them to that condition)."""
    if (order_id is None) != (clause_id is None):
        raise NotFound("give both order_id and clause_id, or neither")
    if order_id is not None:
        order = orders_store.get_order(session, _known(order_id, UnknownOrder, "order"))
        if not any(c.clause_id == clause_id for c in order.conditions):
            raise NotFound(f"order {order_id} has no clause {clause_id}")
    parts = embed(mapping.base(settings), request, settings)
    return render(
        request,
        "editor_import.html",
        title="Import zones",
        user=user,
        settings=settings,
        map_parts=parts,
        config={"order_id": order_id, "clause_id": clause_id},
        order_id=order_id,
        clause_id=clause_id,
        categories=CATEGORIES,
        preview_types=PREVIEW_TYPES,
    )


@router.get("/zones/{zone_id}", response_class=HTMLResponse)
def zone_history(
    zone_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OfficerPage,
) -> HTMLResponse:
    """Every version of a zone (who, when, why), an earlier one drawn over the current one,
    and the orders that use it."""
    zones_store.get(session, _known(zone_id, UnknownZone, "zone"))
    parts = embed(mapping.base(settings), request, settings)
    return render(
        request,
        "editor_history.html",
        title="Zone history",
        user=user,
        settings=settings,
        map_parts=parts,
        config={"zone_id": zone_id},
    )
