"""Workspaces: versioned orders, alert handling apart from the stay, live alert events,
sighting sources and windows, zone-version reasons, token revocation and an audit log.

- Orders become an identity (``orders``) with versions (``order_versions``); conditions
  belong to one order version and are never rewritten, so the clause an alert cites stays
  as it was. ``conditions.clause_id`` ties the versions of one clause together (a stay
  goes on across an edit of its order).
- Alerts keep the stay (``status`` open/closed) and gain the force's handling of it
  (``handling`` unhandled/acknowledged/resolved, ``assigned_to``, ``disposition``), with
  every action in ``alert_actions``.
- ``alert_events`` numbers every change to an alert; a trigger NOTIFYs ``zones_events``
  with the event id, so every server process can push it to open pages, and a page that
  reconnects asks for the events after the last id it saw.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # -- users: disabling, and revoked tokens (log-out ends a token, not only a cookie)
    op.add_column(
        "users", sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=False, server_default=sa.func.now()),
    )

    # -- subjects: a photo reference (a custody image id, never the image)
    op.add_column("subjects", sa.Column("photo_ref", sa.String(200)))
    op.add_column("subjects", sa.Column("updated_at", TZ))

    # -- zone versions: why each was made, and how it was drawn (a circle's centre, radius)
    op.add_column("zone_versions", sa.Column("reason", sa.Text))
    op.add_column("zone_versions", sa.Column("drawing", postgresql.JSONB))
    op.execute("CREATE INDEX ix_zone_versions_name ON zone_versions (lower(name))")

    # -- orders: identity plus versions; conditions belong to a version
    op.create_table(
        "order_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("court", sa.String(200)),
        sa.Column("starts", sa.Date, nullable=False),
        sa.Column("ends", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_by", sa.String(80)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("superseded_at", TZ),
        sa.UniqueConstraint("order_id", "version", name="uq_order_versions_order_id_version"),
        sa.CheckConstraint("ends IS NULL OR ends >= starts", name="ck_order_versions_dates"),
        sa.CheckConstraint("status IN ('active', 'revoked')", name="ck_order_versions_status"),
    )
    op.add_column(
        "orders", sa.Column("current_version", sa.Integer, nullable=False, server_default="1")
    )
    op.execute(
        "INSERT INTO order_versions (order_id, version, reference, type, court, starts, ends, "
        "status, reason, created_by, created_at) "
        "SELECT id, 1, reference, type, court, starts, ends, status, 'recorded', created_by, "
        "created_at FROM orders"
    )
    op.add_column(
        "conditions",
        sa.Column("order_version_id", sa.Integer, sa.ForeignKey("order_versions.id")),
    )
    op.add_column("conditions", sa.Column("clause_id", sa.Integer))
    op.execute(
        "UPDATE conditions c SET order_version_id = v.id, clause_id = c.id "
        "FROM order_versions v WHERE v.order_id = c.order_id AND v.version = 1"
    )
    op.alter_column("conditions", "order_version_id", nullable=False)
    op.alter_column("conditions", "clause_id", nullable=False)
    op.create_index("ix_conditions_order_version_id", "conditions", ["order_version_id"])
    op.drop_constraint("ck_orders_dates", "orders", type_="check")
    for column in ("reference", "type", "court", "starts", "ends", "status", "created_by"):
        op.drop_column("orders", column)

    # -- observations: who reported a sighting, through which channel, and when (a window)
    op.add_column("observations", sa.Column("source", sa.String(20)))
    op.add_column("observations", sa.Column("source_detail", sa.Text))
    op.add_column("observations", sa.Column("observed_from", TZ))
    op.add_column("observations", sa.Column("observed_to", TZ))
    op.create_check_constraint(
        "ck_observations_source",
        "observations",
        "source IS NULL OR source IN ('public', 'officer', 'cctv', 'other_agency', 'other')",
    )

    # -- alerts: the handling apart from the stay, and the clause across order versions
    op.add_column("alerts", sa.Column("clause_id", sa.Integer))
    op.execute("UPDATE alerts SET clause_id = condition_id")
    op.alter_column("alerts", "clause_id", nullable=False)
    op.add_column(
        "alerts",
        sa.Column("handling", sa.String(20), nullable=False, server_default="unhandled"),
    )
    op.add_column("alerts", sa.Column("assigned_to", sa.String(80)))
    op.add_column("alerts", sa.Column("handled_at", TZ))
    op.add_column("alerts", sa.Column("updated_at", TZ, server_default=sa.func.now()))
    op.create_check_constraint(
        "ck_alerts_handling", "alerts", "handling IN ('unhandled', 'acknowledged', 'resolved')"
    )
    op.create_check_constraint(
        "ck_alerts_disposition",
        "alerts",
        "disposition IS NULL OR disposition IN ('breach_confirmed', 'authorised_presence', "
        "'false_alarm', 'data_fault', 'duplicate')",
    )
    op.create_check_constraint(
        "ck_alerts_resolved_has_disposition",
        "alerts",
        "(handling = 'resolved') = (disposition IS NOT NULL)",
    )
    op.drop_index("ix_alerts_subject_condition_zone", "alerts")
    op.create_index(
        "ix_alerts_subject_clause_zone", "alerts", ["subject_id", "clause_id", "zone_id"]
    )
    op.create_index("ix_alerts_handling_first", "alerts", ["handling", "first_at"])
    op.create_table(
        "alert_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("by_user", sa.String(80), nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("note", sa.Text),
        sa.Column("assignee", sa.String(80)),
        sa.Column("disposition", sa.String(30)),
        sa.Column("handling_after", sa.String(20), nullable=False),
        sa.CheckConstraint(
            "action IN ('acknowledge', 'assign', 'note', 'resolve', 'reopen')",
            name="ck_alert_actions_action",
        ),
    )
    op.create_index("ix_alert_actions_alert_id", "alert_actions", ["alert_id"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    # NOTIFY is transactional: listeners hear of an event only once it is committed.
    op.execute(
        """
        CREATE FUNCTION zones_notify_alert_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('zones_events', json_build_object(
                'kind', 'alert', 'id', NEW.id, 'alert_id', NEW.alert_id)::text);
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER alert_events_notify AFTER INSERT ON alert_events "
        "FOR EACH ROW EXECUTE FUNCTION zones_notify_alert_event()"
    )

    # -- verdicts: a sighting's verdicts and the clause they judged
    op.add_column("verdicts", sa.Column("clause_id", sa.Integer))
    op.execute("UPDATE verdicts SET clause_id = condition_id")
    op.alter_column("verdicts", "clause_id", nullable=False)

    # -- the audit log: who read or changed what personal data, and why
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("object_type", sa.String(40)),
        sa.Column("object_id", sa.String(80)),
        sa.Column("reason", sa.Text),
        sa.Column("detail", postgresql.JSONB),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_column("verdicts", "clause_id")
    op.execute("DROP TRIGGER alert_events_notify ON alert_events")
    op.execute("DROP FUNCTION zones_notify_alert_event()")
    op.drop_table("alert_events")
    op.drop_table("alert_actions")
    op.drop_index("ix_alerts_handling_first", "alerts")
    op.drop_index("ix_alerts_subject_clause_zone", "alerts")
    op.create_index(
        "ix_alerts_subject_condition_zone", "alerts", ["subject_id", "condition_id", "zone_id"]
    )
    for name in ("resolved_has_disposition", "disposition", "handling"):
        op.drop_constraint(f"ck_alerts_{name}", "alerts", type_="check")
    op.execute("UPDATE alerts SET disposition = NULL")
    for column in ("updated_at", "handled_at", "assigned_to", "handling", "clause_id"):
        op.drop_column("alerts", column)
    op.drop_constraint("ck_observations_source", "observations", type_="check")
    for column in ("observed_to", "observed_from", "source_detail", "source"):
        op.drop_column("observations", column)
    # Orders go back to one row each, holding their latest version. Lossy by nature: the
    # clauses of superseded versions stay behind as extra conditions of their order.
    op.add_column("orders", sa.Column("reference", sa.String(100)))
    op.add_column("orders", sa.Column("type", sa.String(30)))
    op.add_column("orders", sa.Column("court", sa.String(200)))
    op.add_column("orders", sa.Column("starts", sa.Date))
    op.add_column("orders", sa.Column("ends", sa.Date))
    op.add_column("orders", sa.Column("status", sa.String(20)))
    op.add_column("orders", sa.Column("created_by", sa.String(80)))
    op.execute(
        "UPDATE orders o SET reference = v.reference, type = v.type, court = v.court, "
        "starts = v.starts, ends = v.ends, status = v.status, created_by = v.created_by "
        "FROM order_versions v WHERE v.order_id = o.id AND v.version = o.current_version"
    )
    for column in ("reference", "type", "starts", "status"):
        op.alter_column("orders", column, nullable=False)
    op.create_check_constraint("ck_orders_dates", "orders", "ends IS NULL OR ends >= starts")
    op.drop_index("ix_conditions_order_version_id", "conditions")
    op.drop_column("conditions", "clause_id")
    op.drop_column("conditions", "order_version_id")
    op.drop_column("orders", "current_version")
    op.drop_table("order_versions")
    op.drop_index("ix_zone_versions_name", "zone_versions")
    op.drop_column("zone_versions", "drawing")
    op.drop_column("zone_versions", "reason")
    op.drop_column("subjects", "updated_at")
    op.drop_column("subjects", "photo_ref")
    op.drop_table("revoked_tokens")
    op.drop_column("users", "disabled")
