"""Security headers on every response, and a fresh CSP nonce for every page.

Pages may run only scripts this service serves and the inline scripts it marks with the
response's nonce (folium writes its maps as inline scripts; they get the nonce, user text
never reaches them). ``script-src`` has no ``'unsafe-inline'``, so text that slipped into
a page as markup still could not run.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.settings import AssetSource, MapSettings

CDN_HOSTS = (
    "https://cdn.jsdelivr.net",
    "https://cdnjs.cloudflare.com",
    "https://code.jquery.com",
    "https://unpkg.com",
    "https://netdna.bootstrapcdn.com",
)
NAMED_TILES = {
    "openstreetmap": "https://tile.openstreetmap.org",
    "cartodb positron": "https://*.basemaps.cartocdn.com",
    "cartodb dark_matter": "https://*.basemaps.cartocdn.com",
}
_SCRIPT_TAG = re.compile(r"<script(?![^>]*\bnonce=)", re.IGNORECASE)


def nonce_of(scope: Scope) -> str:
    """The CSP nonce of this request (made by the middleware)."""
    state = scope.setdefault("state", {})
    if "csp_nonce" not in state:
        state["csp_nonce"] = secrets.token_urlsafe(18)
    return str(state["csp_nonce"])


def with_nonce(html: str, nonce: str) -> str:
    """Mark every ``<script`` tag of markup the service itself generated with the nonce."""
    return _SCRIPT_TAG.sub(f'<script nonce="{nonce}"', html)


def tile_origins(settings: MapSettings) -> list[str]:
    tiles = settings.tiles.strip()
    if tiles.lower() == "none":
        return []
    if tiles.lower() in NAMED_TILES:
        return [NAMED_TILES[tiles.lower()]]
    parts = urlsplit(tiles.replace("{s}", "a"))
    if parts.scheme in ("http", "https") and parts.netloc:
        host = parts.netloc
        if "{s}" in tiles:  # subdomains a, b, c...: allow the parent domain's hosts
            host = "*." + host.split(".", 1)[1] if "." in host else host
        return [f"{parts.scheme}://{host}"]
    return []


def policy(nonce: str, settings: MapSettings) -> str:
    cdn = " ".join(CDN_HOSTS) if settings.assets is AssetSource.CDN else ""
    tiles = " ".join(tile_origins(settings))
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}' {cdn}".strip(),
            # Leaflet and folium position things with inline styles; styles cannot run code.
            f"style-src 'self' 'unsafe-inline' {cdn}".strip(),
            f"img-src 'self' data: blob: {tiles}".strip(),
            f"font-src 'self' data: {cdn}".strip(),
            "connect-src 'self'",
            "media-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def secure_cookie(header: bytes) -> bytes:
    """A ``Set-Cookie`` value marked ``Secure`` (sent back over HTTPS only)."""
    attributes = [a.strip().lower() for a in header.split(b";")[1:]]
    return header if b"secure" in attributes else header + b"; Secure"


class SecurityHeaders:
    """Adds the headers; pages (HTML) get the Content-Security-Policy with their nonce.
    With ``secure_cookies`` (every environment but development, which may run on plain
    HTTP on a laptop) every cookie set, by any route, is marked ``Secure``."""

    def __init__(self, app: ASGIApp, settings: MapSettings, secure_cookies: bool = False) -> None:
        self.app, self.settings, self.secure_cookies = app, settings, secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = nonce_of(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if self.secure_cookies:
                    headers = [
                        (name, secure_cookie(value) if name == b"set-cookie" else value)
                        for name, value in headers
                    ]
                kind = dict(headers).get(b"content-type", b"")
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if kind.startswith(b"text/html"):
                    extra.append(
                        (b"content-security-policy", policy(nonce, self.settings).encode())
                    )
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
