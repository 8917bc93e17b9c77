"""A subject's track, played back: the fixes of a period on a time slider, the stays and their
alerts, and the zones as they stood at each moment.

The route renders the shell only (the template and an empty folium map); the page's script
reads the subject, the track, the zone versions and the alerts from the public API. The
database is read only to answer 404 for a subject that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.deps import SessionDep, SettingsDep
from service.api.schemas import MAX_ID
from service.db import orders_store
from service.pages import mapping
from service.pages.access import TrackPage
from service.pages.render import embed, render
from zones.errors import UnknownSubject

router = APIRouter(include_in_schema=False)
# Playback speeds: seconds of the track per second of playback, and how they are named.
SPEEDS = {
    1: "real time",
    10: "10 s per second",
    60: "1 min per second",
    300: "5 min per second",
    900: "15 min per second",
    3600: "1 h per second",
    21600: "6 h per second",
}
PERIODS = {
    "hour": "Last hour",
    "3h": "Last 3 hours",
    "day": "Last 24 hours",
    "today": "Today",
    "yesterday": "Yesterday",
    "week": "Last 7 days",
    "custom": "From … to …",
}


@router.get("/subjects/{subject_id}/track", response_class=HTMLResponse)
def subject_track(
    subject_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: TrackPage,
) -> HTMLResponse:
    """Play back a subject's fixes over a period (``?from=&to=`` ISO instants, ``?at=`` a
    moment to open at; default the last 24 hours)."""
    if not 1 <= subject_id <= MAX_ID:
        raise UnknownSubject(f"no subject {subject_id}")
    orders_store.get_subject(session, subject_id)
    parts = embed(mapping.base(settings), request, settings)
    return render(
        request,
        "track.html",
        title="Subject track",
        user=user,
        settings=settings,
        map_parts=parts,
        config={"subject_id": subject_id, "speeds": {str(k): v for k, v in SPEEDS.items()}},
        speeds=SPEEDS,
        periods=PERIODS,
    )
