"""Typed settings, grouped by concern, read from ``ZONES_*`` environment variables.

``Settings()`` reads the environment once; the app factory and the CLI take the result as an
argument, so nothing reads the environment at import time.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.signing_secret import check_secret, state_secret
from zones.model import Role

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AUDIT_KEY_FILE = "audit-key"
WEBHOOK_KEY_FILE = "webhook-key"


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
    """Sign-in: access and refresh tokens, page sessions, personal access tokens."""

    model_config = SettingsConfigDict(env_prefix="ZONES_AUTH_", extra="ignore")

    secret: str | None = Field(
        default=None,
        description="The key that signs tokens; without it, a random one is made on first "
        "run and kept in ZONES_STATE_DIR. A weak or published one is refused.",
    )
    access_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="Lifetime of an API access token"
    )
    session_hours: int = Field(
        default=12,
        ge=1,
        le=7 * 24,
        description="The absolute end of a sign-in (a shift): its refresh tokens and its "
        "page session end then, however much they are used",
    )
    idle_minutes: int = Field(
        default=30,
        ge=5,
        le=24 * 60,
        description="A page session not used for this long ends (open pages renew it)",
    )
    personal_token_max_days: int = Field(
        default=365, ge=1, le=5 * 365, description="The longest a personal access token may live"
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For is "
        "believed for the client address that sign-in limits count",
    )

    @property
    def proxies(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.trusted_proxies.split(",") if a.strip())

    cookie_name: str = "zones_session"


class GroupGrant(BaseModel):
    """What one value of the identity provider's groups claim grants here."""

    role: Role
    units: list[str] = Field(default_factory=list, max_length=100)


class OidcSettings(BaseSettings):
    """Sign-in through a force's single sign-on (OpenID Connect); off without an issuer.

    ``ZONES_OIDC_GROUPS`` is JSON mapping a value of the groups claim to a role and units,
    e.g. ``{"ppu-cambs-officers": {"role": "officer", "units": ["cambs-ppu"]}}``.
    """

    model_config = SettingsConfigDict(env_prefix="ZONES_OIDC_", extra="ignore")

    issuer: str | None = Field(
        default=None, description="The provider's issuer URL, exactly as its discovery says"
    )
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    redirect_url: str = Field(
        default="", description="This service's https://.../auth/oidc/callback, as registered"
    )
    scopes: str = "openid profile email"
    provider_name: str = Field(default="single sign-on", max_length=60)
    username_claim: str = "preferred_username"
    groups_claim: str = Field(
        default="groups", description="Claim (a dotted path for a nested one) listing groups"
    )
    groups: dict[str, GroupGrant] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10, gt=0, le=60)

    @property
    def enabled(self) -> bool:
        return self.issuer is not None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        """Configured means configured fully: a half-set provider is an error at start."""
        if self.issuer is None:
            return self
        missing = [
            f"ZONES_OIDC_{name.upper()}"
            for name, value in (
                ("client_id", self.client_id),
                ("redirect_url", self.redirect_url),
                ("groups", self.groups),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"ZONES_OIDC_ISSUER is set, so {', '.join(missing)} must be too")
        if "openid" not in self.scopes.split():
            raise ValueError("ZONES_OIDC_SCOPES must include openid")
        return self


class AuditSettings(BaseSettings):
    """The audit log's keyed MAC chain."""

    model_config = SettingsConfigDict(env_prefix="ZONES_AUDIT_", extra="ignore")

    key: str | None = Field(
        default=None,
        description="The key that chains the audit log's MACs; without it, a random one is "
        "made on first run and kept in ZONES_STATE_DIR. Never stored in the database: back "
        "it up apart from it.",
    )


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


class RetentionSettings(BaseSettings):
    """How long positions are kept (see :mod:`service.retention`)."""

    model_config = SettingsConfigDict(env_prefix="ZONES_RETENTION_", extra="ignore")

    observation_days: int = Field(
        default=90,
        ge=1,
        le=36_500,
        description="Fixes and sightings that no alert uses are deleted this many days after "
        "they happened; once a subject's are, older ones of theirs are refused.",
    )
    alert_days: int = Field(
        default=2192,
        ge=1,
        le=36_500,
        description="An alert (a stay), what people did about it and its evidence are deleted "
        "this many days after the stay ended or was last handled (six years).",
    )
    batch_size: int = Field(
        default=5_000, ge=100, le=100_000, description="Observations deleted per transaction."
    )

    @model_validator(mode="after")
    def _evidence_outlives_positions(self) -> Self:
        if self.alert_days < self.observation_days:
            raise ValueError(
                "ZONES_RETENTION_ALERT_DAYS must be at least ZONES_RETENTION_OBSERVATION_DAYS: "
                "alert evidence is kept longer than plain positions"
            )
        return self


class WebhookSettings(BaseSettings):
    """Alert notifications to webhooks (see :mod:`service.webhooks`)."""

    model_config = SettingsConfigDict(env_prefix="ZONES_WEBHOOK_", extra="ignore")

    key: str | None = Field(
        default=None,
        description="The key that encrypts webhook secrets at rest; without it, a random one "
        "is made on first run and kept in ZONES_STATE_DIR. Never stored in the database.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        max_length=500,
        description="This service's address as people open it: notifications link to "
        "<public_url>/desk?alert=<id>",
    )
    timeout_seconds: float = Field(
        default=5.0, gt=0, le=30, description="Longest wait for one webhook to answer"
    )
    batch: int = Field(default=50, ge=1, le=1000, description="Deliveries taken at a time")
    budget_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="No new delivery is started once a tick has spent this long delivering, "
        "so the worker's other jobs keep their time",
    )
    retry_base_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="Wait after the first failure (then doubled)"
    )
    retry_cap_seconds: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        description="Longest wait between tries: a delivery is retried at least this often "
        "for as long as it fails",
    )
    failing_after: int = Field(
        default=5, ge=1, le=1000, description="After this many failed tries it shows as failing"
    )


class ApiSettings(BaseSettings):
    """Limits on what the HTTP API accepts, and the rules recording follows."""

    model_config = SettingsConfigDict(env_prefix="ZONES_API_", extra="ignore")

    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest request body from a signed-in caller; larger is refused (413) "
        "before it is read",
    )
    anonymous_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest request body from a caller without a valid token or session "
        "cookie (a sign-in form fits)",
    )
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
    jump_speed_mps: float = Field(
        default=100.0,
        gt=0,
        description="A device fix implying a speed beyond this from the subject's previous "
        "fix (less both accuracies) is flagged 'jump': judged, and the flag shown with any "
        "alert it opens. 100 m/s (360 km/h) is beyond any journey on land.",
    )
    alarm_quiet_minutes: float = Field(
        default=30.0,
        gt=0,
        le=7 * 24 * 60,
        description="A tracker's alarm (tamper, power cut, ...) not repeated for this long "
        "has ended: its alert closes as alarm_quiet.",
    )
    backfill_days: float = Field(
        default=7.0,
        ge=0,
        le=366,
        description="Fixes from the gap of a communication loss that arrive up to this long "
        "after it closed are recorded on it as back-fill.",
    )
    osmand_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Also serve the OsmAnd protocol on this port, at / and /<secret>, as "
        "Traccar serves it on 5055 (zones serve --osmand-port)",
    )
    bench_floor: bool = Field(
        default=False,
        description="Serve POST /api/v1/bench/floor, which inserts one row into the scratch "
        "table zones bench api creates: for that bench only, refused in production",
    )
    # Here because the worker's jobs take these settings, retention among them.
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)


class SignInSettings(BaseSettings):
    """What a sign-in may cost: each checks a password (argon2, tens of milliseconds of CPU),
    the one expensive thing a caller can ask for without signing in. Counted per process."""

    model_config = SettingsConfigDict(env_prefix="ZONES_SIGN_IN_", extra="ignore")

    concurrent: int = Field(
        default=1, ge=1, le=64, description="Sign-ins (password checks) at once per process"
    )
    queue: int = Field(
        default=8,
        ge=0,
        le=10_000,
        description="Sign-ins that may wait for one of those; more are refused at once (429)",
    )
    wait_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Longest wait in that queue before a 429"
    )
    per_client_per_minute: float = Field(
        default=30, gt=0, description="Sign-ins per minute from one client address"
    )
    per_client_burst: int = Field(
        default=20, ge=1, description="... of which this many may come at once"
    )
    per_account_per_minute: float = Field(
        default=10, gt=0, description="Sign-ins per minute for one username"
    )
    per_account_burst: int = Field(default=20, ge=1)
    refusal_delay_seconds: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description="A refused sign-in is answered this much later (holding no thread), so a "
        "client that retries at once cannot turn refusals into a flood of their own",
    )


class UploadSettings(BaseSettings):
    """Bulk back-fill files (GPX, NDJSON, CSV) uploaded by signed-in users."""

    model_config = SettingsConfigDict(env_prefix="ZONES_UPLOAD_", extra="ignore")

    hdop_m: float = Field(
        default=9.0,
        gt=0,
        le=1000,
        description="Metres of accuracy radius per unit of a GPX point's hdop. gpsd's error "
        "model takes 15 m at 95 % confidence per unit of HDOP (no DGPS); accuracy radii "
        "here are at about 68 %, as phones report them, hence 15 x 1.51/2.45 = 9 m.",
    )
    max_records: int = Field(
        default=50_000,
        ge=1,
        le=1_000_000,
        description="Most fixes (points, lines, rows) one uploaded file may hold",
    )


class MqttSettings(BaseSettings):
    """The broker the worker subscribes to for OwnTracks over MQTT; off without a host."""

    model_config = SettingsConfigDict(env_prefix="ZONES_MQTT_", extra="ignore")

    host: str | None = Field(default=None, description="Broker host; unset: no subscription")
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = Field(default=False, description="Connect over TLS (usually port 8883)")
    ca_file: Path | None = Field(
        default=None, description="CA bundle for the broker's certificate (default: system's)"
    )
    topic: str = Field(
        default="owntracks/+/+", description="Topic filter: owntracks/<user>/<device>"
    )
    client_id: str = Field(
        default="zones-worker",
        min_length=1,
        max_length=23,
        description="Stable client id: the broker keeps this session's subscription and "
        "unacknowledged messages while the worker is away",
    )
    keepalive_seconds: int = Field(default=60, ge=5, le=3600)
    retry_seconds: float = Field(
        default=5.0, gt=0, le=300, description="Wait before reconnecting after a failure"
    )
    batch: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Most messages stored in one transaction (each acknowledged after it)",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.host)


class Settings(BaseSettings):
    """All settings; each group reads its own ``ZONES_<GROUP>_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="ZONES_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    state_dir: Path = Field(
        default=PROJECT_ROOT / ".zones-state",
        description="Where the service keeps what it makes for itself: its signing secret, "
        "its audit key and the record of the audit chain's sealed head.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    map: MapSettings = Field(default_factory=MapSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    sign_in: SignInSettings = Field(default_factory=SignInSettings)
    upload: UploadSettings = Field(default_factory=UploadSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)

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

    @model_validator(mode="after")
    def _sign_on_over_tls(self) -> Self:
        """In production the provider and our callback are reached over TLS only."""
        oidc = self.oidc
        if self.environment is Environment.PRODUCTION and oidc.issuer is not None:
            for name, url in (("ISSUER", oidc.issuer), ("REDIRECT_URL", oidc.redirect_url)):
                if not url.startswith("https://"):
                    raise ValueError(f"ZONES_OIDC_{name} must be an https:// URL in production")
        return self

    @model_validator(mode="after")
    def _no_bench_in_production(self) -> Self:
        """The bench's floor endpoint writes without signing in: never in production."""
        if self.environment is Environment.PRODUCTION and self.api.bench_floor:
            raise ValueError("ZONES_API_BENCH_FLOOR is for zones bench api, not production")
        return self

    @model_validator(mode="after")
    def _audit_key(self) -> Self:
        """The audit key likewise: checked when given, else the installation's own."""
        if self.audit.key is not None:
            check_secret(self.audit.key, name="ZONES_AUDIT_KEY")
        else:
            self.audit.key = state_secret(self.state_dir, AUDIT_KEY_FILE)
        if self.audit.key == self.auth.secret:
            # One key for two jobs: whoever may sign tokens could also re-chain the audit.
            raise ValueError("ZONES_AUDIT_KEY must differ from ZONES_AUTH_SECRET")
        return self

    @model_validator(mode="after")
    def _webhook_key(self) -> Self:
        """The key of webhook secrets likewise, and a key of its own."""
        hooks = self.api.webhooks
        if hooks.key is not None:
            check_secret(hooks.key, name="ZONES_WEBHOOK_KEY")
        else:
            hooks.key = state_secret(self.state_dir, WEBHOOK_KEY_FILE)
        if hooks.key in (self.auth.secret, self.audit.key):
            raise ValueError("ZONES_WEBHOOK_KEY must differ from the other keys")
        return self
