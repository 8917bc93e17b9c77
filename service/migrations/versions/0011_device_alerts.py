"""Device alerts: communication loss, tamper, strap-cut, power-cut and low-battery.

- ``conditions`` gain ``tag_required`` and ``silence_minutes``: a clause that requires a
  working tag, and how long without a fix received from the subject's devices is a loss
  of communication (15 minutes unless the clause says otherwise).
- ``alerts`` gain ``kind`` (``zone`` for every alert before this revision), ``device_id``
  (the device whose alarm or silence it is) and ``detail`` (what the kind records: the
  silence and any back-fill of a communication loss). A device alert has no zone, and an
  alarm no order or condition, so those columns become nullable; a check keeps them
  required of zone alerts, and an order and clause required of a communication loss.
  One device alert of each kind is open per subject at a time (a partial unique index).
- ``alert_observations``: the fixes behind a device alert (a zone alert's are its verdicts).

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KINDS = "('zone', 'communication_loss', 'tamper', 'strap_cut', 'power_cut', 'low_battery')"
ZONE_COLUMNS = ("order_id", "condition_id", "clause_id", "zone_id", "zone_version")
LOOSENED = (*ZONE_COLUMNS, "deepest_m", "evidence", "geom")
ZONE_COMPLETE = "kind <> 'zone' OR (" + " AND ".join(f"{c} IS NOT NULL" for c in LOOSENED) + ")"
LOSS_NAMES_CLAUSE = (
    "kind <> 'communication_loss' OR "
    "(order_id IS NOT NULL AND condition_id IS NOT NULL AND clause_id IS NOT NULL)"
)


def upgrade() -> None:
    op.add_column(
        "conditions",
        sa.Column("tag_required", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "conditions",
        sa.Column("silence_minutes", sa.Integer, nullable=False, server_default="15"),
    )
    op.create_check_constraint(
        "ck_conditions_silence", "conditions", "silence_minutes BETWEEN 1 AND 10080"
    )

    op.add_column("alerts", sa.Column("kind", sa.String(20), nullable=False, server_default="zone"))
    op.add_column("alerts", sa.Column("device_id", sa.String(100)))
    op.add_column("alerts", sa.Column("detail", JSONB))
    for column in LOOSENED:
        op.alter_column("alerts", column, nullable=True)
    op.create_check_constraint("ck_alerts_kind", "alerts", f"kind IN {KINDS}")
    op.create_check_constraint("ck_alerts_zone_complete", "alerts", ZONE_COMPLETE)
    op.create_check_constraint("ck_alerts_loss_names_clause", "alerts", LOSS_NAMES_CLAUSE)
    op.create_index(
        "ix_alerts_device_open",
        "alerts",
        ["subject_id", "kind"],
        unique=True,
        postgresql_where=sa.text("kind <> 'zone' AND status = 'open'"),
    )

    op.create_table(
        "alert_observations",
        sa.Column(
            "alert_id",
            sa.Integer,
            sa.ForeignKey("alerts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "observation_id",
            sa.BigInteger,
            sa.ForeignKey("observations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_alert_observations_observation", "alert_observations", ["observation_id"])


def downgrade() -> None:
    # Device alerts cannot be told as zone alerts: they go, with what hangs on them.
    op.drop_table("alert_observations")
    device = "(SELECT id FROM alerts WHERE kind <> 'zone')"
    for table in ("alert_events", "alert_actions", "legal_holds"):
        op.execute(f"DELETE FROM {table} WHERE alert_id IN {device}")
    op.execute("DELETE FROM alerts WHERE kind <> 'zone'")
    op.drop_index("ix_alerts_device_open", table_name="alerts")
    op.drop_constraint("ck_alerts_loss_names_clause", "alerts", type_="check")
    op.drop_constraint("ck_alerts_zone_complete", "alerts", type_="check")
    op.drop_constraint("ck_alerts_kind", "alerts", type_="check")
    for column in LOOSENED:
        op.alter_column("alerts", column, nullable=False)
    op.drop_column("alerts", "detail")
    op.drop_column("alerts", "device_id")
    op.drop_column("alerts", "kind")
    op.drop_constraint("ck_conditions_silence", "conditions", type_="check")
    op.drop_column("conditions", "silence_minutes")
    op.drop_column("conditions", "tag_required")
