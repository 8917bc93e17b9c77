"""Initial schema: users, subjects, versioned zones, orders and conditions, observations, alerts.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(80), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "role IN ('officer', 'control_room', 'supervisor', 'admin')", name="ck_users_role"
        ),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("risk_level", sa.String(20)),
        sa.Column("officer", sa.String(200)),
        sa.Column("unit", sa.String(200)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "zones",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "zone_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zones.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("created_by", sa.String(80)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("superseded_at", TZ),
        sa.UniqueConstraint("zone_id", "version", name="uq_zone_versions_zone_id_version"),
        sa.CheckConstraint(
            "ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')",
            name="ck_zone_versions_polygonal",
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_zone_versions_valid"),
    )
    op.create_index("ix_zone_versions_geom", "zone_versions", ["geom"], postgresql_using="gist")
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("court", sa.String(200)),
        sa.Column("starts", sa.Date, nullable=False),
        sa.Column("ends", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(80)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("ends IS NULL OR ends >= starts", name="ck_orders_dates"),
    )
    op.create_index("ix_orders_subject_id", "orders", ["subject_id"])
    op.create_table(
        "conditions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("buffer_m", sa.Float, nullable=False),
        sa.CheckConstraint("buffer_m >= 0", name="ck_conditions_buffer"),
    )
    op.create_index("ix_conditions_order_id", "conditions", ["order_id"])
    op.create_table(
        "condition_zones",
        sa.Column("condition_id", sa.Integer, sa.ForeignKey("conditions.id"), primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zones.id"), primary_key=True),
        sa.Column("zone_version_at_link", sa.Integer, nullable=False),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("identifier", sa.String(100), nullable=False, unique=True),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id")),
        sa.Column("assigned_from", TZ),
        sa.Column("assigned_until", TZ),
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("device_id", sa.String(100)),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("observed_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("reporter", sa.String(200)),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("dedup_key", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_observations_subject_time", "observations", ["subject_id", "observed_at"])
    op.create_index("ix_observations_geom", "observations", ["geom"], postgresql_using="gist")
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("condition_id", sa.Integer, sa.ForeignKey("conditions.id"), nullable=False),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zones.id"), nullable=False),
        sa.Column("zone_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("evidence", sa.String(20), nullable=False),
        sa.Column("first_at", TZ, nullable=False),
        sa.Column("last_at", TZ, nullable=False),
        sa.Column("closed_at", TZ),
        sa.Column("observation_count", sa.Integer, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("deepest_m", sa.Float, nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("opened_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("disposition", sa.String(30)),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_alerts_status"),
    )
    op.create_index(
        "ix_alerts_subject_condition_zone", "alerts", ["subject_id", "condition_id", "zone_id"]
    )
    op.create_index("ix_alerts_status_first", "alerts", ["status", "first_at"])
    op.create_index("ix_alerts_geom", "alerts", ["geom"], postgresql_using="gist")
    op.create_table(
        "verdicts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "observation_id", sa.BigInteger, sa.ForeignKey("observations.id"), nullable=False
        ),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id")),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("condition_id", sa.Integer, sa.ForeignKey("conditions.id"), nullable=False),
        sa.Column("zone_id", sa.Integer, nullable=False),
        sa.Column("zone_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("evidence", sa.String(20), nullable=False),
        sa.Column("distance_m", sa.Float, nullable=False),
        sa.Column("disc_fraction_inside", sa.Float),
    )
    op.create_index("ix_verdicts_observation_id", "verdicts", ["observation_id"])
    op.create_index("ix_verdicts_alert_id", "verdicts", ["alert_id"])


def downgrade() -> None:
    for table in (
        "verdicts",
        "alerts",
        "observations",
        "devices",
        "condition_zones",
        "conditions",
        "orders",
        "zone_versions",
        "zones",
        "subjects",
        "users",
    ):
        op.drop_table(table)
