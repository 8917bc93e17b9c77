"""Retention and provenance: legal holds, and devices worn by one subject for a period.

- ``legal_holds``: a hold on a subject or on one alert, with who placed it, when and why,
  and when and why it was released. Retention deletes nothing a hold in force covers.
- ``device_assignments``: which subject wore a device from when until when, so a fix counts
  for the subject who wore its device at the fix's time and no other. A device assigned
  before this revision gets one open assignment from the beginning (NULL), as it was read.
- ``retention_marks``: for each subject, the instant before which retention has deleted
  positions; recording refuses anything older (less the stays' reach).
- ``possible_transits`` gains an index on the fix that ends each, for deleting by fix.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id")),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id")),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("placed_by", sa.String(80), nullable=False),
        sa.Column("placed_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("released_at", TZ),
        sa.Column("released_by", sa.String(80)),
        sa.Column("release_reason", sa.Text),
        sa.CheckConstraint(
            "(subject_id IS NULL) <> (alert_id IS NULL)", name="ck_legal_holds_one_target"
        ),
    )
    op.create_index("ix_legal_holds_subject", "legal_holds", ["subject_id"])
    op.create_index("ix_legal_holds_alert", "legal_holds", ["alert_id"])
    # Deleting a batch of positions finds the transits they end by either end (the unique
    # constraint already indexes the first).
    op.create_index("ix_possible_transits_to", "possible_transits", ["to_observation_id"])

    op.create_table(
        "retention_marks",
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id"), primary_key=True),
        sa.Column("observations_before", TZ, nullable=False),
    )

    op.create_table(
        "device_assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("assigned_from", TZ),
        sa.Column("assigned_until", TZ),
        sa.Column("assigned_by", sa.String(80)),
        sa.Column("recorded_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "assigned_until IS NULL OR assigned_from IS NULL OR assigned_until > assigned_from",
            name="ck_device_assignments_period",
        ),
    )
    op.create_index(
        "ix_device_assignments_device", "device_assignments", ["device_id", "assigned_from"]
    )
    op.execute(
        "INSERT INTO device_assignments (device_id, subject_id, assigned_from, assigned_until) "
        "SELECT id, subject_id, assigned_from, assigned_until FROM devices "
        "WHERE subject_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_possible_transits_to", "possible_transits")
    op.drop_table("device_assignments")
    op.drop_table("retention_marks")
    op.drop_table("legal_holds")
