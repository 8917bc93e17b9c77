"""The home page: the workspaces a user's role opens, and the count of alerts to handle."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.api.deps import SessionDep, SettingsDep
from service.db import alerts_store
from service.pages.access import PageUser
from service.pages.render import render
from zones import model
from zones.permissions import Action, grant

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageUser
) -> HTMLResponse:
    reading = grant(Action.ALERT_READ, user.role, user.units)
    units = reading.units if reading is not None else frozenset()
    counts = alerts_store.count_by_handling(session, units)
    return render(
        request,
        "home.html",
        title="Workspaces",
        user=user,
        settings=settings,
        unhandled=counts[model.Handling.UNHANDLED],
        acknowledged=counts[model.Handling.ACKNOWLEDGED],
        units_label="whole force" if units is None else ", ".join(sorted(units)) or "no unit",
    )


@router.get("/alerts/map")
def old_alert_map() -> Response:
    """The force-wide alert map became the alert desk."""
    return RedirectResponse("/desk", status_code=308)


@router.get("/orders/{order_id}/map")
def old_order_map(order_id: int) -> Response:
    """The order map became the order's page."""
    return RedirectResponse(f"/orders/{order_id}", status_code=308)
