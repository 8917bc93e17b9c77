"""Device feeds: credentials for devices and gateways, and what trackers say about a fix.

- ``feed_credentials``: a secret (stored as its SHA-256; shown once) that may submit fixes
  for the devices linked to it in ``feed_credential_devices``: one device (``kind`` device:
  an OwnTracks phone, an API client) or many (``gateway``: a Traccar server forwarding, the
  Traccar Client app with the secret in its URL). ``username`` is for HTTP Basic. Fixes for
  a device outside the set are refused and counted here (``refused_count``).
- ``observations`` gains the tracker's speed, bearing, altitude, battery, its own validity
  flag, the protocol and the client's id of the fix, and ``flags`` (``invalid``: the device
  said so, not judged; ``jump``: an implied speed beyond the limit, judged). Every new
  column is nullable or has a constant default: adding them rewrites no row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_credentials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("username", sa.String(100)),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_by", sa.String(80)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("refused_count", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("last_refused_device", sa.String(100)),
        sa.Column("last_refused_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("kind IN ('device', 'gateway')", name="ck_feed_credentials_kind"),
    )
    op.create_table(
        "feed_credential_devices",
        sa.Column(
            "credential_id",
            sa.Integer,
            sa.ForeignKey("feed_credentials.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id"), primary_key=True),
    )
    for name, kind in (
        ("speed_mps", sa.Float),
        ("bearing_deg", sa.Float),
        ("altitude_m", sa.Float),
        ("battery_pct", sa.Float),
        ("protocol", sa.String(20)),
        ("client_id", sa.String(100)),
    ):
        op.add_column("observations", sa.Column(name, kind))
    op.add_column(
        "observations",
        sa.Column("valid", sa.Boolean, server_default=sa.true(), nullable=False),
    )
    op.add_column("observations", sa.Column("flags", postgresql.ARRAY(sa.Text)))
    # A resend known by the client's own id; only fixes that carry one are in it.
    op.create_index(
        "ix_observations_client_id",
        "observations",
        ["device_id", "client_id"],
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_observations_client_id", table_name="observations")
    for name in (
        "flags", "valid", "client_id", "protocol", "battery_pct", "altitude_m", "bearing_deg",
        "speed_mps",
    ):  # fmt: skip
        op.drop_column("observations", name)
    op.drop_table("feed_credential_devices")
    op.drop_table("feed_credentials")
