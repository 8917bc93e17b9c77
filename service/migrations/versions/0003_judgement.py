"""Judgement that stands up in court: valid time, schedules, rules, visits, stays.

- Versions of zones and orders gain ``effective_from``: the instant from which what they
  say holds (valid time), beside ``created_at``, when it was recorded (transaction time).
  A correction to a mis-drawn zone can take effect from the original date; a fix is judged
  against the versions in force at its own time, as known when it is judged. A first
  version holds from the beginning (NULL); the order's own dates bound when it is in force.
- Conditions gain a ``schedule`` (weekly windows in local time, dated exceptions), a
  ``warning_m`` ring beyond the buffer, and the rules of a stay: confirmation after N fixes
  and T seconds, closing after M clear fixes or U seconds.
- ``authorised_visits``: a subject may be in a zone for a window, authorised by someone,
  for a reason. Stays covered by one are stored, never alerts.
- Alerts become the stays of a track: a ``severity`` (breach or warning), ``confirmed_at``
  (null while pending), the visit that covers it, what opened and closed it, the rules and
  schedule window it was judged under, and ``merged_into`` when a late fix joined two.
- Subjects gain a ``travel_mode`` (walking, bicycle, car): the top speed that makes a
  detour through a zone between sparse fixes plausible.
- ``possible_transits`` keeps straight paths or feasible detours between sparse fixes.
- ``worker_jobs`` records when each timed job of the worker last ran.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # NULL: from the beginning (a first version); a later version holds from its instant.
    for table in ("zone_versions", "order_versions"):
        op.add_column(table, sa.Column("effective_from", TZ))
        op.execute(f"UPDATE {table} SET effective_from = created_at WHERE version > 1")

    op.add_column("conditions", sa.Column("schedule", postgresql.JSONB))
    op.add_column(
        "conditions", sa.Column("warning_m", sa.Float, nullable=False, server_default="0")
    )
    for name, default in (
        ("confirm_fixes", "1"),
        ("confirm_seconds", "0"),
        ("clear_fixes", "1"),
        ("clear_seconds", "0"),
    ):
        op.add_column(
            "conditions", sa.Column(name, sa.Integer, nullable=False, server_default=default)
        )
    op.create_check_constraint(
        "ck_conditions_rules",
        "conditions",
        "warning_m >= 0 AND confirm_fixes >= 1 AND confirm_seconds >= 0 "
        "AND clear_fixes >= 1 AND clear_seconds >= 0",
    )

    op.add_column(
        "subjects",
        sa.Column("travel_mode", sa.String(20), nullable=False, server_default="walking"),
    )
    op.create_check_constraint(
        "ck_subjects_travel_mode", "subjects", "travel_mode IN ('walking', 'bicycle', 'car')"
    )

    op.create_table(
        "authorised_visits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zones.id"), nullable=False),
        sa.Column("starts", TZ, nullable=False),
        sa.Column("ends", TZ, nullable=False),
        sa.Column("authorised_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
        sa.Column("recorded_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("withdrawn_at", TZ),
        sa.Column("withdrawn_by", sa.String(80)),
        sa.CheckConstraint("ends > starts", name="ck_authorised_visits_window"),
    )
    op.create_index("ix_authorised_visits_subject", "authorised_visits", ["subject_id", "starts"])

    op.add_column(
        "alerts", sa.Column("severity", sa.String(20), nullable=False, server_default="breach")
    )
    op.add_column("alerts", sa.Column("confirmed_at", TZ))
    op.execute("UPDATE alerts SET confirmed_at = first_at")
    op.add_column(
        "alerts", sa.Column("visit_id", sa.Integer, sa.ForeignKey("authorised_visits.id"))
    )
    op.add_column(
        "alerts", sa.Column("opened_by", sa.String(20), nullable=False, server_default="fix")
    )
    op.add_column("alerts", sa.Column("closed_by", sa.String(20)))
    op.execute("UPDATE alerts SET closed_by = 'exit' WHERE closed_at IS NOT NULL")
    op.add_column("alerts", sa.Column("rules", postgresql.JSONB))
    op.add_column("alerts", sa.Column("schedule_window", sa.Text))
    op.add_column("alerts", sa.Column("merged_into", sa.Integer, sa.ForeignKey("alerts.id")))
    op.add_column("alerts", sa.Column("judged_at", TZ, server_default=sa.func.now()))
    op.execute("UPDATE alerts SET judged_at = opened_at")
    op.create_check_constraint("ck_alerts_severity", "alerts", "severity IN ('breach', 'warning')")
    op.drop_index("ix_alerts_subject_clause_zone", "alerts")
    op.create_index(
        "ix_alerts_track", "alerts", ["subject_id", "clause_id", "zone_id", "severity", "first_at"]
    )

    op.add_column(
        "verdicts", sa.Column("applies", sa.Boolean, nullable=False, server_default=sa.true())
    )
    op.create_index("ix_verdicts_clause_zone", "verdicts", ["clause_id", "zone_id"])

    op.create_table(
        "possible_transits",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("from_observation_id", sa.BigInteger, nullable=False),
        sa.Column("to_observation_id", sa.BigInteger, nullable=False),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("condition_id", sa.Integer, sa.ForeignKey("conditions.id"), nullable=False),
        sa.Column("clause_id", sa.Integer, nullable=False),
        sa.Column("zone_id", sa.Integer, nullable=False),
        sa.Column("zone_version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("starts", TZ, nullable=False),
        sa.Column("ends", TZ, nullable=False),
        sa.Column("min_distance_m", sa.Float, nullable=False),
        sa.Column("implied_speed_mps", sa.Float, nullable=False),
        sa.Column("implausible_speed", sa.Boolean, nullable=False),
        sa.Column("max_speed_mps", sa.Float, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint(
            "from_observation_id", "to_observation_id", "condition_id", "zone_id", name="uq_transit"
        ),
        sa.CheckConstraint(
            "kind IN ('path_crosses', 'detour_possible')", name="ck_possible_transits_kind"
        ),
    )
    op.create_index("ix_possible_transits_subject", "possible_transits", ["subject_id", "starts"])

    op.create_table(
        "worker_jobs",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("last_run", TZ, nullable=False),
        sa.Column("detail", postgresql.JSONB),
    )


def downgrade() -> None:
    op.drop_table("worker_jobs")
    op.drop_table("possible_transits")
    op.drop_index("ix_verdicts_clause_zone", "verdicts")
    op.drop_column("verdicts", "applies")
    op.drop_index("ix_alerts_track", "alerts")
    op.create_index(
        "ix_alerts_subject_clause_zone", "alerts", ["subject_id", "clause_id", "zone_id"]
    )
    op.drop_constraint("ck_alerts_severity", "alerts", type_="check")
    # Stays that were only pending, authorised, warnings or merged were never alerts before.
    op.execute(
        "DELETE FROM verdicts WHERE alert_id IN (SELECT id FROM alerts WHERE confirmed_at IS NULL "
        "OR visit_id IS NOT NULL OR severity = 'warning' OR merged_into IS NOT NULL)"
    )
    op.execute(
        "DELETE FROM alert_events WHERE alert_id IN (SELECT id FROM alerts WHERE confirmed_at "
        "IS NULL OR visit_id IS NOT NULL OR severity = 'warning' OR merged_into IS NOT NULL)"
    )
    op.execute(
        "DELETE FROM alert_actions WHERE alert_id IN (SELECT id FROM alerts WHERE confirmed_at "
        "IS NULL OR visit_id IS NOT NULL OR severity = 'warning' OR merged_into IS NOT NULL)"
    )
    op.execute("UPDATE alerts SET merged_into = NULL")
    op.execute(
        "DELETE FROM alerts WHERE confirmed_at IS NULL OR visit_id IS NOT NULL "
        "OR severity = 'warning'"
    )
    for column in (
        "judged_at",
        "merged_into",
        "schedule_window",
        "rules",
        "closed_by",
        "opened_by",
        "visit_id",
        "confirmed_at",
        "severity",
    ):
        op.drop_column("alerts", column)
    op.drop_table("authorised_visits")
    op.drop_constraint("ck_subjects_travel_mode", "subjects", type_="check")
    op.drop_column("subjects", "travel_mode")
    op.drop_constraint("ck_conditions_rules", "conditions", type_="check")
    for column in (
        "clear_seconds",
        "clear_fixes",
        "confirm_seconds",
        "confirm_fixes",
        "warning_m",
        "schedule",
    ):
        op.drop_column("conditions", column)
    for table in ("order_versions", "zone_versions"):
        op.drop_column(table, "effective_from")
