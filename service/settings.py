"""Typed settings, grouped by concern, read from ``ZONES_*`` environment variables.

``Settings()`` reads the environment once; the app factory and the CLI take the result as an
argument, so nothing reads the environment at import time.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.signing_secret import check_secret, state_secret

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class AssetSource(enum.StrEnum):
    LOCAL = "local"  # Leaflet and plugins served by this service (no outside network needed)
    CDN = "cdn"  # folium's public CDN links


class DocsAccess(enum.StrEnum):
    PUBLIC = "public"  # anyone may read /docs and /openapi.json
    SIGNED_IN = "signed_in"  # only signed-in users (bearer token or page session)
    OFF = "off"  # neither is served (404)


class DatabaseSettings(BaseSettings):
    """Where the data lives. Without ``ZONES_DATABASE_URL`` a private cluster is used."""

    model_config = SettingsConfigDict(env_prefix="ZONES_DATABASE_", extra="ignore")

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a PostGIS database, e.g. postgresql+psycopg://...",
    )
    dir: Path = Field(
        default=PROJECT_ROOT / ".zones-db",
        description="Folder of the private PostGIS cluster used when no URL is given.",
    )
    name: str = Field(default="zones", description="Database name inside the private cluster.")
    pool_size: int = Field(default=5, ge=1)


class AuthSettings(BaseSettings):
    """Bearer tokens and password hashing."""

    model_config = SettingsConfigDict(env_prefix="ZONES_AUTH_", extra="ignore")

    secret: str | None = Field(
        default=None,
        description="The key that signs tokens; without it, a random one is made on first "
        "run and kept in ZONES_STATE_DIR. A weak or published one is refused.",
    )
    token_minutes: int = Field(default=8 * 60, ge=1, le=7 * 24 * 60)
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For is "
        "believed for the client address that sign-in limits count",
    )

    @property
    def proxies(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.trusted_proxies.split(",") if a.strip())

    cookie_name: str = "zones_session"


class MapSettings(BaseSettings):
    """How map pages load their scripts and tiles."""

    model_config = SettingsConfigDict(env_prefix="ZONES_MAP_", extra="ignore")

    assets: AssetSource = AssetSource.LOCAL
    node_modules: Path = PROJECT_ROOT / "node_modules"
    tiles: str = Field(
        default="OpenStreetMap",
        description="folium tiles name or URL template; 'none' for no base map (closed networks).",
    )
    tiles_attribution: str | None = None
    center_lat: float = Field(default=52.205, ge=-90, le=90, description="Where maps open")
    center_lon: float = Field(default=0.119, ge=-180, le=180)
    zoom: int = Field(default=13, ge=1, le=19)
    alert_flag_minutes: int = Field(
        default=4, ge=1, le=1440, description="An alert unhandled this long is flagged"
    )


class ApiSettings(BaseSettings):
    """Limits on what the HTTP API accepts."""

    model_config = SettingsConfigDict(env_prefix="ZONES_API_", extra="ignore")

    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    docs: DocsAccess | None = Field(
        default=None,
        description="Who may read /docs and /openapi.json: public, signed_in or off "
        "(default: public in development, signed_in in production)",
    )
    max_batch: int = Field(default=10_000, ge=1, le=20_000)
    late_after_seconds: int = Field(
        default=300,
        ge=0,
        description="An observation received this long after it happened is late.",
    )
    episode_gap_seconds: int = Field(
        default=900,
        ge=1,
        description="No fix for longer than this ends a stay at its last in-fix (signal lost).",
    )
    transit_min_gap_seconds: int = Field(
        default=120,
        ge=1,
        description="Consecutive fixes further apart than this are tested for a possible "
        "transit through a zone between them",
    )
    last_known_seconds: int = Field(
        default=900,
        ge=0,
        description="How old the last known fix may be and still open a stay when a "
        "schedule window opens or an authorised visit ends.",
    )


class Settings(BaseSettings):
    """All settings; each group reads its own ``ZONES_<GROUP>_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="ZONES_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    state_dir: Path = Field(
        default=PROJECT_ROOT / ".zones-state",
        description="Where the service keeps what it makes for itself (its signing secret).",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    map: MapSettings = Field(default_factory=MapSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @property
    def docs_access(self) -> DocsAccess:
        """Who may read the API's documentation, as set or as the environment implies."""
        if self.api.docs is not None:
            return self.api.docs
        if self.environment is Environment.DEVELOPMENT:
            return DocsAccess.PUBLIC
        return DocsAccess.SIGNED_IN

    @model_validator(mode="after")
    def _signing_secret(self) -> Self:
        """A given secret is checked in every environment; without one, the installation's
        own is read from the state folder (made on first run)."""
        if self.auth.secret is not None:
            check_secret(self.auth.secret)
        else:
            self.auth.secret = state_secret(self.state_dir)
        return self
