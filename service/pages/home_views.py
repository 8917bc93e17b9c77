"""The home page: the workspaces a user's role opens, and the count of alerts to handle."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.api.deps import SessionDep, SettingsDep
from service.db import alerts_store
from service.pages.access import PageUser
from service.pages.render import render
from zones import model

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageUser
) -> HTMLResponse:
    counts = alerts_store.count_by_handling(session)
    return render(
        request,
        "home.html",
        title="Workspaces",
        user=user,
        settings=settings,
        unhandled=counts[model.Handling.UNHANDLED],
        acknowledged=counts[model.Handling.ACKNOWLEDGED],
    )


@router.get("/alerts/map")
def old_alert_map() -> Response:
    """The force-wide alert map became the alert desk."""
    return RedirectResponse("/desk", status_code=308)


@router.get("/orders/{order_id}/map")
def old_order_map(order_id: int) -> Response:
    """The order map became the order's page."""
    return RedirectResponse(f"/orders/{order_id}", status_code=308)
