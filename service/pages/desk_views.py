"""The alert desk: the queue of alerts beside a map, filters, live arrivals, and handling.

The route renders the shell only (the template and a folium map with an empty marker
cluster and heat-map layer); the page's script fetches the alerts from the API, keeps
them current over the alert stream and acts on them through the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from folium.plugins import MarkerCluster

from service.api.deps import SettingsDep
from service.pages import mapping
from service.pages.access import ViewerPage
from service.pages.render import embed, render
from zones import handling
from zones.device_alerts import TITLES
from zones.model import AlertKind, Disposition, Handling, OrderType

router = APIRouter(include_in_schema=False)

HANDLING_LABELS = {
    Handling.UNHANDLED: "Unhandled",
    Handling.ACKNOWLEDGED: "Acknowledged",
    Handling.RESOLVED: "Resolved",
}
DISPOSITION_LABELS = {
    Disposition.BREACH_CONFIRMED: "Breach confirmed",
    Disposition.AUTHORISED_PRESENCE: "Authorised presence",
    Disposition.FALSE_ALARM: "False alarm (GPS drift and the like)",
    Disposition.DATA_FAULT: "Data fault",
    Disposition.DUPLICATE: "Duplicate",
}
KIND_LABELS = {AlertKind.ZONE: "Zone breach", **TITLES}
ORDER_TYPE_LABELS = {
    OrderType.SHPO: "SHPO",
    OrderType.SRO: "SRO",
    OrderType.LICENCE: "Licence conditions",
    OrderType.RESTRAINING: "Restraining order",
    OrderType.OTHER: "Other",
}


@router.get("/desk", response_class=HTMLResponse)
def alert_desk(
    request: Request, settings: SettingsDep, user: ViewerPage, alert: str | None = None
) -> HTMLResponse:
    """The alert desk; ``?alert=<id>`` opens with that alert chosen."""
    m, cluster, heat = mapping.with_clusters(settings)
    # Without the cluster's zoom animations: a marker that arrives live or is chosen while
    # one runs can otherwise stay off the map (Leaflet.markercluster 1.1 skips its redraw).
    assert isinstance(cluster, MarkerCluster)
    cluster.options["animate"] = False
    parts = embed(m, request, settings, cluster=cluster, heat=heat)
    chosen = int(alert) if alert and alert.isdigit() and len(alert) < 10 else None
    return render(
        request,
        "desk.html",
        title="Alert desk",
        user=user,
        settings=settings,
        map_parts=parts,
        config={
            "flag_minutes": settings.map.alert_flag_minutes,
            "alert": chosen,
            "can_act": user.role in handling.ACTING_ROLES,
            "can_reopen": user.role in handling.REOPENING_ROLES,
            "handling_labels": {h.value: label for h, label in HANDLING_LABELS.items()},
            "disposition_labels": {d.value: label for d, label in DISPOSITION_LABELS.items()},
            "order_type_labels": {t.value: label for t, label in ORDER_TYPE_LABELS.items()},
            "kind_labels": {k.value: label for k, label in KIND_LABELS.items()},
        },
        handling_labels=HANDLING_LABELS,
        disposition_labels=DISPOSITION_LABELS,
        order_type_labels=ORDER_TYPE_LABELS,
        kind_labels=KIND_LABELS,
        can_act=user.role in handling.ACTING_ROLES,
        can_reopen=user.role in handling.REOPENING_ROLES,
        flag_minutes=settings.map.alert_flag_minutes,
    )
