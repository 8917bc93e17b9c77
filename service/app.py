"""The app factory: ``create_app(settings)``; its lifespan owns the engine."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from service import heap
from service.api import (
    alerts_routes,
    audit_routes,
    auth_routes,
    bench_floor_routes,
    docs_routes,
    documented,
    errors,
    holds_routes,
    observations_routes,
    people_routes,
    personal_tokens_routes,
    places_routes,
    stream_routes,
    track_routes,
    users_routes,
    visits_routes,
    webhooks_routes,
    zones_routes,
)
from service.api.deps import no_unknown_query
from service.assets import vendor_roots
from service.audit_mac import AuditKey
from service.body_limit import BodyLimit
from service.db.engine import listen_conninfo, make_engine, make_sessionmaker
from service.events import AlertHub
from service.feeds import manage_routes, protocol_routes, upload_routes
from service.feeds.osmand_port import OsmAndPort
from service.oidc.client import OidcClient
from service.pages import (
    auth_views,
    control_views,
    desk_views,
    editor_views,
    home_views,
    officer_views,
    oidc_views,
    track_views,
)
from service.pages.access import LoginRequired
from service.pages.render import APP_STATIC, STATIC, render
from service.security import SecurityHeaders
from service.session_cookie import RenewSessionCookie
from service.settings import Environment, Settings
from service.sign_in_gate import SignInGate
from service.text_guard import RefuseNul
from zones import bounded
from zones.errors import ZonesError

APP_FILES = Path(__file__).resolve().parent / "static" / "app"
PAGES = (
    auth_views,
    oidc_views,
    home_views,
    officer_views,
    editor_views,
    control_views,
    desk_views,
    track_views,
)

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


class VendorFiles(StaticFiles):
    """Pinned third-party files: let browsers keep them a day instead of re-checking each page."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def create_app(settings: Settings, *, own_process: bool = False) -> FastAPI:
    """Build the app; the database engine is created when the app starts, not at import.
    ``own_process``: the app is all its process serves (``zones serve``), so it may set the
    garbage collector for itself (:mod:`service.heap`) once started."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if hasattr(app.state, "sessionmaker"):  # tests may hand in their own (no live events)
            yield
            return
        bounded.warm_up()  # the fork server that checks shapes, started before any request
        engine = make_engine(settings.database)
        app.state.sessionmaker = make_sessionmaker(engine, AuditKey.of(settings))
        hub = AlertHub(listen_conninfo(engine), stream_routes.renderer(app.state.sessionmaker))
        await hub.start()
        app.state.hub = hub
        if own_process:
            heap.settle()  # what the process holds now lives as long as it does
        try:
            yield
        finally:
            await hub.stop()
            engine.dispose()

    app = FastAPI(
        title="Exclusion zones",
        version="0.1.0",
        description=(
            "Exclusion zones of court orders as versioned geometry; sightings and GPS fixes "
            "judged against them; breach alerts. Log in at `POST /api/v1/auth/token`."
        ),
        lifespan=lifespan,
        docs_url=None,  # both served by docs_routes, as ZONES_API_DOCS allows
        openapi_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.oidc = OidcClient(settings.oidc) if settings.oidc.enabled else None
    errors.install(app)

    # Unknown query parameters are refused on every call, never silently ignored.
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(no_unknown_query)])
    for module in (
        auth_routes,
        personal_tokens_routes,
        zones_routes,
        people_routes,
        track_routes,
        observations_routes,
        upload_routes,
        stream_routes,  # /alerts/stream before /alerts/{alert_id}
        alerts_routes,
        places_routes,
        users_routes,
        audit_routes,
        visits_routes,
        holds_routes,
        manage_routes,
        webhooks_routes,
    ):
        api.include_router(module.router)
    if settings.api.bench_floor:  # zones bench api's floor; off unless the bench asks
        api.include_router(bench_floor_routes.router)
    app.include_router(api)
    # The trackers' protocols carry parameters of their own (OsmAnd's ``hdop``, ``rpm``...),
    # kept as the protocol defines them: no refusal of unknown query parameters here.
    app.include_router(protocol_routes.router, prefix=API_PREFIX)
    app.include_router(docs_routes.router(settings))
    for page in PAGES:
        app.include_router(page.router)

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    app.add_exception_handler(LoginRequired, to_login)
    api_errors = app.exception_handlers[ZonesError]

    async def page_or_api_error(request: Request, exc: Exception) -> Response:
        """The API answers errors in JSON; a page answers with a page."""
        assert isinstance(exc, ZonesError)
        path = request.url.path
        if path.startswith((API_PREFIX, STATIC)) or path == docs_routes.OPENAPI_URL:
            answer = api_errors(request, exc)
            return await answer if not isinstance(answer, Response) else answer
        status = errors.status_of(exc)
        return render(
            request, "error.html", title="Not possible", user=None, settings=settings,
            heading="That is not possible", message=exc.message, status_code=status,
        )  # fmt: skip

    app.add_exception_handler(ZonesError, page_or_api_error)

    for name, folder in vendor_roots(settings.map.node_modules).items():
        if folder.is_dir():
            app.mount(f"{STATIC}/{name}", VendorFiles(directory=folder), name=f"static-{name}")
        else:
            log.warning("map assets folder %s is missing: run `npm ci`", folder)
    app.mount(APP_STATIC, StaticFiles(directory=APP_FILES), name="static-app")
    # Outermost last: headers on every answer, then the size limit (before anything reads a
    # body), then the door to signing in, then the NUL check; innermost, the renewed
    # session cookie a dependency noted.
    app.add_middleware(RenewSessionCookie, settings=settings.auth)
    if settings.api.osmand_port is not None:
        app.add_middleware(OsmAndPort, port=settings.api.osmand_port, path=protocol_routes.OSMAND)
    app.add_middleware(RefuseNul)
    app.add_middleware(
        SignInGate,
        settings=settings,
        api_paths={f"{API_PREFIX}/auth/token"},
        page_paths={"/login"},
    )
    app.add_middleware(BodyLimit, api=settings.api, auth=settings.auth)
    app.add_middleware(
        SecurityHeaders,
        settings=settings.map,
        secure_cookies=settings.environment is not Environment.DEVELOPMENT,
    )
    documented.document_errors(app, API_PREFIX)
    return app


def app_from_environment() -> FastAPI:
    """The app with settings from the environment: what each ``--workers`` process imports."""
    return create_app(Settings(), own_process=True)
