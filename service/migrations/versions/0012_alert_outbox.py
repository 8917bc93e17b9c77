"""Alert notifications that survive failure: webhooks, the outbox and its deliveries.

- ``webhooks``: receivers configured by admins, each with its own signing secret, kept
  encrypted under the installation's webhook key (not in the database), the events it
  wants and how much personal detail it may be sent.
- ``alert_notices``: the outbox. A notice is written in the same transaction as the change
  to the alert it tells of (opened, closed, handled), with what receivers are told frozen
  in ``payload`` and an idempotency key.
- ``webhook_deliveries``: one row per notice and enabled webhook, written in that same
  transaction; the worker tries each until it is delivered (``service.webhooks``).

Notices and deliveries go with their alert when retention deletes it (ON DELETE CASCADE).

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("events", postgresql.JSONB, nullable=False),
        sa.Column("detail", sa.String(20), nullable=False, server_default="references"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("secret_rotated_at", TZ),
        sa.Column("disabled_at", TZ),
        sa.CheckConstraint(
            "detail IN ('references', 'names', 'positions')", name="ck_webhooks_detail"
        ),
    )
    op.create_table(
        "alert_notices",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "alert_id",
            sa.Integer,
            sa.ForeignKey("alerts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.CheckConstraint(
            "event IN ('opened', 'closed', 'handled')", name="ck_alert_notices_event"
        ),
    )
    op.create_index("ix_alert_notices_alert_id", "alert_notices", ["alert_id"])
    op.create_index(
        "ux_alert_notices_once",
        "alert_notices",
        ["alert_id", "event"],
        unique=True,
        postgresql_where=sa.text("event IN ('opened', 'closed')"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "notice_id",
            sa.BigInteger,
            sa.ForeignKey("alert_notices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("webhook_id", sa.Integer, sa.ForeignKey("webhooks.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("last_attempt_at", TZ),
        sa.Column("last_result", sa.String(200)),
        sa.Column("delivered_at", TZ),
        sa.UniqueConstraint("notice_id", "webhook_id", name="uq_webhook_deliveries_once"),
        sa.CheckConstraint(
            "status IN ('pending', 'failing', 'delivered')", name="ck_webhook_deliveries_status"
        ),
    )
    op.create_index("ix_webhook_deliveries_webhook_id", "webhook_deliveries", ["webhook_id"])
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status <> 'delivered'"),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("alert_notices")
    op.drop_table("webhooks")
