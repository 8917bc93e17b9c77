"""Tables (SQLAlchemy 2 declarative, geometry through GeoAlchemy2).

The schema itself is created by the Alembic migrations in ``service/migrations``; these
classes describe it for queries. Geometry is stored in EPSG:4326, longitude first.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geoalchemy2 import Geometry


class Base(DeclarativeBase):
    pass


def _now() -> Any:
    return func.now()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)  # None: signs in through SSO
    role: Mapped[str] = mapped_column(String(20))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    # An external user's identity at their provider (OpenID Connect ``iss`` and ``sub``).
    external_issuer: Mapped[str | None] = mapped_column(String(300))
    external_subject: Mapped[str | None] = mapped_column(String(255))
    __table_args__ = (
        CheckConstraint(
            "role IN ('officer', 'control_room', 'supervisor', 'analyst', 'admin')", name="role"
        ),
        UniqueConstraint("external_issuer", "external_subject", name="uq_users_external_identity"),
        CheckConstraint(
            "(external_issuer IS NULL) = (external_subject IS NULL)"
            " AND (password_hash IS NULL) = (external_subject IS NOT NULL)",
            name="one_way_to_sign_in",
        ),
    )


class Unit(Base):
    """A public-protection team of a force: it manages subjects, and users belong to it."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class UserUnit(Base):
    """A user's membership of a unit."""

    __tablename__ = "user_units"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    unit: Mapped[str] = mapped_column(
        ForeignKey("units.code", onupdate="CASCADE", ondelete="CASCADE"), primary_key=True
    )


class SignIn(Base):
    """One log-in (API or page): every token and cookie from it names it and dies with it."""

    __tablename__ = "sign_ins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # api, page
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(20))
    __table_args__ = (CheckConstraint("kind IN ('api', 'page')", name="ck_sign_ins_kind"),)


class RefreshToken(Base):
    """A refresh token of a sign-in, as its SHA-256; spent when used (rotation)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sign_in_id: Mapped[str] = mapped_column(ForeignKey("sign_ins.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    spent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PersonalToken(Base):
    """A personal access token (desktop GIS, scripts), as its SHA-256: named, scoped, expiring."""

    __tablename__ = "personal_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(10))  # read, full
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    __table_args__ = (
        CheckConstraint("scope IN ('read', 'full')", name="ck_personal_tokens_scope"),
    )


class SignInFailure(Base):
    """A failed sign-in: counted per account and per client address (see sign_in_limits)."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    username: Mapped[str] = mapped_column(String(200))
    client: Mapped[str] = mapped_column(String(100))


class Subject(Base):
    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    risk_level: Mapped[str | None] = mapped_column(String(20))
    officer: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(ForeignKey("units.code", onupdate="CASCADE"), index=True)
    photo_ref: Mapped[str | None] = mapped_column(String(200))
    travel_mode: Mapped[str] = mapped_column(String(20), default="walking")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Zone(Base):
    """A zone's identity; its shapes live in ``zone_versions``."""

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class ZoneVersion(Base):
    """One version of a zone, never updated once superseded."""

    __tablename__ = "zone_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(60))
    source: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    area_m2: Mapped[float] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)  # what a repair changed
    reason: Mapped[str | None] = mapped_column(Text)  # why this version was made
    drawing: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # e.g. a circle's centre
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Valid time: what this version says holds from then (``created_at`` is when it was
    # known); NULL for a first version, which holds from the beginning.
    effective_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("zone_id", "version"),
        Index("ix_zone_versions_geom", "geom", postgresql_using="gist"),
        CheckConstraint(
            "ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')", name="polygonal"
        ),
        CheckConstraint("ST_IsValid(geom)", name="valid"),
    )


class Order(Base):
    """An order's identity; what it says lives in ``order_versions``."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class OrderVersion(Base):
    """One version of an order, never updated once superseded (bar ``superseded_at``)."""

    __tablename__ = "order_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    version: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(30))
    court: Mapped[str | None] = mapped_column(String(200))
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    effective_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("order_id", "version"),
        CheckConstraint("ends IS NULL OR ends >= starts", name="dates"),
        CheckConstraint("status IN ('active', 'revoked')", name="status"),
    )


class Condition(Base):
    """One clause of one order version; a new order version gets new rows."""

    __tablename__ = "conditions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_version_id: Mapped[int] = mapped_column(ForeignKey("order_versions.id"), index=True)
    clause_id: Mapped[int] = mapped_column(Integer)  # the same clause across order versions
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="exclusion")
    buffer_m: Mapped[float] = mapped_column(Float, default=0.0)
    warning_m: Mapped[float] = mapped_column(Float, default=0.0)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # zones.schedule JSON
    confirm_fixes: Mapped[int] = mapped_column(Integer, default=1)
    confirm_seconds: Mapped[int] = mapped_column(Integer, default=0)
    clear_fixes: Mapped[int] = mapped_column(Integer, default=1)
    clear_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # The clause requires a working tag: this long without a fix received from the
    # subject's devices is a loss of communication (migration 0011).
    tag_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    silence_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    __table_args__ = (
        CheckConstraint("buffer_m >= 0", name="buffer"),
        CheckConstraint("silence_minutes BETWEEN 1 AND 10080", name="ck_conditions_silence"),
    )


class ConditionZone(Base):
    """A zone named by a condition; judging uses the zone's current version and records it."""

    __tablename__ = "condition_zones"

    condition_id: Mapped[int] = mapped_column(ForeignKey("conditions.id"), primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), primary_key=True)
    zone_version_at_link: Mapped[int] = mapped_column(Integer)


class Observation(Base):
    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    device_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    reporter: Mapped[str | None] = mapped_column(String(200))  # the signed-in user
    source: Mapped[str | None] = mapped_column(String(20))  # public, officer, cctv, ...
    source_detail: Mapped[str | None] = mapped_column(Text)
    observed_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    observed_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # 64 bits of the observation's identity (see service/monitoring.py: dedup_key)
    dedup_key: Mapped[int] = mapped_column(BigInteger)
    # What the tracker said about the fix (migration 0010); see zones.feeds.fix.FeedFix.
    speed_mps: Mapped[float | None] = mapped_column(Float)
    bearing_deg: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    valid: Mapped[bool] = mapped_column(Boolean, server_default="true")
    protocol: Mapped[str | None] = mapped_column(String(20))
    client_id: Mapped[str | None] = mapped_column(String(100))
    flags: Mapped[list[str] | None] = mapped_column(ARRAY(Text))  # zones.feeds.filters
    __table_args__ = (
        # the identity, and the subject's observations in time order (revision 0013)
        Index("uq_observations_identity", "subject_id", "observed_at", "dedup_key", unique=True),
        Index("ix_observations_geom", "geom", postgresql_using="gist"),
        Index(
            "ix_observations_client_id",
            "device_id",
            "client_id",
            postgresql_where="client_id IS NOT NULL",
        ),
    )


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(100), unique=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    assigned_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeviceAssignment(Base):
    """A device worn by one subject for a period: its fixes count for them, and only then.

    ``assigned_from`` NULL means from the beginning (devices registered before assignments
    were kept); ``assigned_until`` NULL means still worn.
    """

    __tablename__ = "device_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    assigned_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by: Mapped[str | None] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    __table_args__ = (
        Index("ix_device_assignments_device", "device_id", "assigned_from"),
        CheckConstraint(
            "assigned_until IS NULL OR assigned_from IS NULL OR assigned_until > assigned_from",
            name="period",
        ),
    )


class Alert(Base):
    """One breach episode of one subject in one zone of one condition (``kind`` zone), or
    one device alert: a loss of communication, or a tracker's alarm (no zone; an alarm has
    no order or condition either)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    condition_id: Mapped[int | None] = mapped_column(ForeignKey("conditions.id"))
    clause_id: Mapped[int | None] = mapped_column(Integer)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    zone_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")
    evidence: Mapped[str | None] = mapped_column(String(20))
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    observation_count: Mapped[int] = mapped_column(Integer, default=1)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    deepest_m: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    # The force's handling, apart from the stay: unhandled until a person acts on it.
    handling: Mapped[str] = mapped_column(String(20), default="unhandled")
    assigned_to: Mapped[str | None] = mapped_column(String(80))
    disposition: Mapped[str | None] = mapped_column(String(30))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=_now()
    )
    # The stay as judged: a breach or a warning, confirmed or still pending, covered by an
    # authorised visit or not, what opened and closed it, and under which rules and window.
    severity: Mapped[str] = mapped_column(String(20), default="breach")
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("authorised_visits.id"))
    opened_by: Mapped[str] = mapped_column(String(20), default="fix")
    closed_by: Mapped[str | None] = mapped_column(String(20))
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    schedule_window: Mapped[str | None] = mapped_column(Text)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    judged_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=_now()
    )
    # What kind of alert (migration 0011): zone, communication_loss, tamper, strap_cut,
    # power_cut, low_battery; the device it concerns; what its kind records (a silence and
    # its back-fill).
    kind: Mapped[str] = mapped_column(String(20), default="zone", server_default="zone")
    device_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    __table_args__ = (
        Index("ix_alerts_track", "subject_id", "clause_id", "zone_id", "severity", "first_at"),
        Index("ix_alerts_status_first", "status", "first_at"),
        Index("ix_alerts_handling_first", "handling", "first_at"),
        Index("ix_alerts_geom", "geom", postgresql_using="gist"),
        # The alert list's order and its common filters (migration 0014).
        Index("ix_alerts_first_id", "first_at", "id"),
        Index("ix_alerts_subject_first_id", "subject_id", "first_at", "id"),
        Index("ix_alerts_closed", "closed_at"),
        Index(
            "ix_alerts_device_open",
            "subject_id",
            "kind",
            unique=True,
            postgresql_where="kind <> 'zone' AND status = 'open'",
        ),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
    )


class AlertAction(Base):
    """One thing a person did about an alert: acknowledge, assign, note, resolve, reopen."""

    __tablename__ = "alert_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    by_user: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    note: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(80))
    disposition: Mapped[str | None] = mapped_column(String(30))
    handling_after: Mapped[str] = mapped_column(String(20))


class AlertEvent(Base):
    """A numbered change to an alert; inserting one NOTIFYs ``zones_events`` (a trigger)."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


SEALED = "seal_seq IS NOT NULL"


class AuditEntry(Base):
    """Who read or changed what personal data, when, from where, and why.

    Append-only (a trigger refuses changes other than sealing). ``row_mac`` is the keyed MAC
    of the entry's content, made when it is written; the sealer later gives it its place in
    the chain (``seal_seq``, 1, 2, 3...) and ``chain_mac``. See :mod:`service.audit_mac`.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_username", "username", "id"),
        Index("ix_audit_log_object", "object_type", "object_id", "id"),
        Index("ix_audit_log_unsealed", "id", postgresql_where="seal_seq IS NULL"),
        Index("ix_audit_log_seal_seq", "seal_seq", unique=True, postgresql_where=SEALED),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now(), index=True)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    client: Mapped[str | None] = mapped_column(String(100))
    recipient: Mapped[str | None] = mapped_column(String(200))
    records: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    row_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    seal_seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class Verdict(Base):
    """A stored judgement: every verdict of a sighting, the breaching ones of a fix."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    condition_id: Mapped[int] = mapped_column(ForeignKey("conditions.id"))
    clause_id: Mapped[int] = mapped_column(Integer)
    zone_id: Mapped[int] = mapped_column(Integer)
    zone_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(String(20))
    distance_m: Mapped[float] = mapped_column(Float)
    disc_fraction_inside: Mapped[float | None] = mapped_column(Float)
    applies: Mapped[bool] = mapped_column(Boolean, default=True)  # within the schedule


class AuthorisedVisit(Base):
    """Permission for a subject to be in a zone for a window: its stays raise no alert."""

    __tablename__ = "authorised_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    starts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    authorised_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[str | None] = mapped_column(String(80))


class PossibleTransit(Base):
    """A straight path, or a feasible detour, through a zone between two sparse fixes."""

    __tablename__ = "possible_transits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    from_observation_id: Mapped[int] = mapped_column(BigInteger)
    to_observation_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    condition_id: Mapped[int] = mapped_column(ForeignKey("conditions.id"))
    clause_id: Mapped[int] = mapped_column(Integer)
    zone_id: Mapped[int] = mapped_column(Integer)
    zone_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    starts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    min_distance_m: Mapped[float] = mapped_column(Float)
    implied_speed_mps: Mapped[float] = mapped_column(Float)
    implausible_speed: Mapped[bool] = mapped_column(Boolean)
    max_speed_mps: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class LegalHold(Base):
    """A legal hold on a subject or one alert: retention deletes nothing it covers."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(80))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(80))
    release_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint("(subject_id IS NULL) <> (alert_id IS NULL)", name="one_target"),
        Index("ix_legal_holds_subject", "subject_id"),
        Index("ix_legal_holds_alert", "alert_id"),
    )


class RetentionMark(Base):
    """How far retention has deleted a subject's positions: before ``observations_before``
    the track may have holes, so nothing older is judged any more."""

    __tablename__ = "retention_marks"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    observations_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkerJob(Base):
    """When each timed job of the worker last ran."""

    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_run: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class FeedCredential(Base):
    """A secret that may submit fixes for its devices: one (``device``) or many
    (``gateway``). Stored as its SHA-256; fixes for other devices are refused and counted."""

    __tablename__ = "feed_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(100))  # for HTTP Basic
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refused_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    last_refused_device: Mapped[str | None] = mapped_column(String(100))
    last_refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("kind IN ('device', 'gateway')", name="kind"),)


class FeedCredentialDevice(Base):
    """A device a feed credential may submit fixes for."""

    __tablename__ = "feed_credential_devices"

    credential_id: Mapped[int] = mapped_column(
        ForeignKey("feed_credentials.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)


class AlertObservation(Base):
    """A fix behind a device alert: the alarm it carried, or the last known position."""

    __tablename__ = "alert_observations"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observations.id", ondelete="CASCADE"), primary_key=True
    )
    __table_args__ = (Index("ix_alert_observations_observation", "observation_id"),)


class Webhook(Base):
    """A receiver of alert notifications (a force's command and control, an SMS gateway).

    ``secret_sealed`` is the signing secret encrypted under the installation's webhook key
    (AES-GCM, :mod:`service.webhooks.sealing`): the database alone cannot sign as us.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    events: Mapped[list[str]] = mapped_column(JSONB)  # of "opened", "closed", "handled"
    detail: Mapped[str] = mapped_column(String(20), default="references")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    created_by: Mapped[str] = mapped_column(String(80))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("detail IN ('references', 'names', 'positions')", name="detail"),
    )


class AlertNotice(Base):
    """The outbox: one thing receivers are told about an alert, written in the transaction
    that changed it. ``key`` is the idempotency key every delivery of it carries."""

    __tablename__ = "alert_notices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    __table_args__ = (
        CheckConstraint("event IN ('opened', 'closed', 'handled')", name="event"),
        # An alert opens once and closes once; handling may change many times.
        Index(
            "ux_alert_notices_once",
            "alert_id",
            "event",
            unique=True,
            postgresql_where="event IN ('opened', 'closed')",
        ),
    )


class WebhookDelivery(Base):
    """One notice to one webhook: tried until it is delivered, however long that takes."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("alert_notices.id", ondelete="CASCADE"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=_now()
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_result: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("notice_id", "webhook_id", name="uq_webhook_deliveries_once"),
        CheckConstraint("status IN ('pending', 'failing', 'delivered')", name="status"),
        # The worker's work list: small however many were delivered.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where="status <> 'delivered'",
        ),
    )
