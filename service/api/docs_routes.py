"""``/docs`` and ``/openapi.json``, as the settings allow: for anyone, for signed-in users
only, or not at all (``ZONES_API_DOCS``; signed-in users only by default in production)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.params import Depends as DependsParam
from fastapi.responses import HTMLResponse, JSONResponse

from service.api.deps import current_user
from service.pages.access import page_user
from service.pages.render import STATIC
from service.security import nonce_of, with_nonce
from service.settings import AssetSource, DocsAccess, Settings

SWAGGER_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0"
OPENAPI_URL = "/openapi.json"


def router(settings: Settings) -> APIRouter:
    """The documentation's routes; none when it is off (both paths then answer 404)."""
    docs = APIRouter(include_in_schema=False)
    access = settings.docs_access
    if access is DocsAccess.OFF:
        return docs
    signed_in = access is DocsAccess.SIGNED_IN
    # The schema takes a bearer token or the page session; the page sends a browser to log in.
    schema_guard: list[DependsParam] = [Depends(current_user)] if signed_in else []
    page_guard: list[DependsParam] = [Depends(page_user)] if signed_in else []

    @docs.get(OPENAPI_URL, dependencies=schema_guard)
    def openapi(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @docs.get("/docs", dependencies=page_guard)
    def swagger_ui(request: Request) -> HTMLResponse:
        local = settings.map.assets is AssetSource.LOCAL
        base = f"{STATIC}/npm/swagger-ui-dist" if local else SWAGGER_CDN
        page = get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="Exclusion zones API",
            swagger_js_url=f"{base}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}/swagger-ui.css",
            swagger_favicon_url=f"{base}/favicon-32x32.png",
        )
        # Its one inline script (Swagger UI's set-up) is ours: it gets the page's nonce.
        html = with_nonce(bytes(page.body).decode(), nonce_of(request.scope))
        return HTMLResponse(html)

    return docs
