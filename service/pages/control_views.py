"""The control room's sighting check: is this reported sighting a breach, of what, how sure;
and, starting from a place, who is barred from it.

The route renders the shell only (a map and an empty panel); the page's script does the rest
through the public API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.deps import SettingsDep
from service.pages import mapping
from service.pages.access import CheckerPage
from service.pages.render import embed, render
from zones.permissions import Action, grant

router = APIRouter(include_in_schema=False)

# Who may ask "who is barred from this place?" (the API's rule; admins always).
SOURCES = (
    ("public", "Member of the public"),
    ("officer", "Police officer or patrol"),
    ("cctv", "CCTV"),
    ("other_agency", "Other agency (probation, council, ...)"),
    ("other", "Other"),
)


@router.get("/check", response_class=HTMLResponse)
def sighting_check(request: Request, settings: SettingsDep, user: CheckerPage) -> HTMLResponse:
    """The sighting check: a map beside the form and the answer."""
    parts = embed(mapping.base(settings), request, settings)
    places = grant(Action.PLACE_SEARCH, user.role, user.user.units) is not None
    return render(
        request,
        "control_check.html",
        title="Sighting check",
        user=user,
        settings=settings,
        map_parts=parts,
        config={"place_search": places, "desk": "/desk"},
        place_search=places,
        sources=SOURCES,
    )
