"""Rendering pages: Jinja2 templates (autoescaped) around folium maps, with a CSP nonce.

User text reaches a page only through the templates (escaped by Jinja2) or through the
page's scripts, which fetch it from the API and put it into the page as text. Folium's
markup never holds user text; its inline scripts are marked with the response's nonce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

import folium

from service.api.deps import Access
from service.assets import localise
from service.auth import User, csrf_token
from service.security import nonce_of, with_nonce
from service.settings import AssetSource, Settings
from zones.model import Role
from zones.permissions import Action, grant

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
STATIC = "/static"
APP_STATIC = f"{STATIC}/app"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_HEAD = re.compile(r"<head>(.*)</head>", re.DOTALL)
_BODY = re.compile(r"<body>(.*)</body>", re.DOTALL)
_TAIL = re.compile(r"</body>(.*)</html>", re.DOTALL)
# folium's full-window layout rules; the pages lay their maps out themselves.
_PAGE_RULES = re.compile(r"<style>\s*(?:html, body|#map) \{[^}]*\}\s*</style>", re.DOTALL)
_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>', re.DOTALL)

ROLE_LABELS = {
    Role.OFFICER: "officer",
    Role.CONTROL_ROOM: "control room",
    Role.SUPERVISOR: "supervisor",
    Role.ADMIN: "administrator",
}


@dataclass(frozen=True)
class MapParts:
    """A folium map cut into what goes in ``<head>``, where the map sits, and its scripts."""

    head: Markup
    body: Markup
    script: Markup
    names: dict[str, str] = field(default_factory=dict)  # JS variable names, for the page


def embed(m: folium.Map, request: Request, settings: Settings, **named: Any) -> MapParts:
    """Render ``m`` for a page: local assets, nonce on its scripts, the JS names of ``named``
    folium elements (and of the map itself, as ``map``) for the page's own script."""
    if settings.map.assets is AssetSource.LOCAL:
        localise(m, STATIC)
    html = m.get_root().render()
    nonce = nonce_of(request.scope)

    def part(pattern: re.Pattern[str]) -> Markup:
        found = pattern.search(html)
        text = found.group(1) if found else ""
        text = _VIEWPORT.sub("", _PAGE_RULES.sub("", text))
        return Markup(with_nonce(text, nonce))  # folium markup: never user text

    names = {"map": m.get_name()} | {key: el.get_name() for key, el in named.items()}
    return MapParts(part(_HEAD), part(_BODY), part(_TAIL), names)


def render(
    request: Request,
    template: str,
    *,
    title: str,
    user: User | Access | None,
    settings: Settings,
    map_parts: MapParts | None = None,
    config: dict[str, Any] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A whole page. ``config`` goes to the page's script as JSON (``#page-config``)."""
    if isinstance(user, Access):
        user = user.user
    csrf = csrf_token(user, settings.auth) if user is not None else ""
    may = (
        sorted(a.value for a in Action if grant(a, user.role, user.units) is not None)
        if user is not None
        else []
    )
    page_config = {
        "api": "/api/v1",
        "csrf": csrf,
        "user": user.username if user else None,
        "role": user.role.value if user else None,
        "may": may,
        "tiles": settings.map.tiles.lower() != "none",
        **(map_parts.names if map_parts else {}),
        **(config or {}),
    }
    html = _env.get_template(template).render(
        title=title,
        user=user,
        role_label=ROLE_LABELS.get(user.role, "") if user else "",
        csrf=csrf,
        may=may,
        nonce=nonce_of(request.scope),
        map=map_parts,
        config=page_config,
        static=APP_STATIC,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
