"""The audit log's integrity: from where, a keyed MAC per entry, a sealed chain; append-only.

- ``client`` (the address a request came from), ``recipient`` (to whom something was
  disclosed) and ``records`` (the records a request or batch touched) join each entry.
- ``row_mac`` is an HMAC-SHA256 of the entry's content, made by the service when it writes
  the entry; ``seal_seq`` and ``chain_mac`` are given later by the sealer, which links the
  entries one after another. The key is not in the database (see ``service/audit_mac.py``).
- Entries written before this revision have no MAC: the first seal adopts them (MACs them
  as they stand then, and says so in an ``audit.adopt`` entry). After that, an entry
  without a MAC was not written by the service and ``zones audit verify`` names it.
- A trigger refuses to delete entries or change them other than by sealing once. The owner
  of the database can drop it; the MACs are what tell.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit log is append-only: entry % cannot be deleted', OLD.id;
    END IF;
    -- Sealing sets seal_seq and chain_mac once; adopting an entry from before the MACs
    -- sets its row_mac once. Nothing else may change.
    IF (NEW.id, NEW.at, NEW.username, NEW.action, NEW.object_type, NEW.object_id,
        NEW.reason, NEW.detail, NEW.client, NEW.recipient, NEW.records)
       IS DISTINCT FROM
       (OLD.id, OLD.at, OLD.username, OLD.action, OLD.object_type, OLD.object_id,
        OLD.reason, OLD.detail, OLD.client, OLD.recipient, OLD.records)
       OR (OLD.row_mac IS NOT NULL AND NEW.row_mac IS DISTINCT FROM OLD.row_mac)
       OR (OLD.seal_seq IS NOT NULL AND
           (NEW.seal_seq, NEW.chain_mac) IS DISTINCT FROM (OLD.seal_seq, OLD.chain_mac))
    THEN
        RAISE EXCEPTION 'the audit log is append-only: entry % cannot be changed', OLD.id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("client", sa.String(100)))
    op.add_column("audit_log", sa.Column("recipient", sa.String(200)))
    op.add_column("audit_log", sa.Column("records", postgresql.JSONB))
    op.add_column("audit_log", sa.Column("row_mac", sa.LargeBinary(32)))
    op.add_column("audit_log", sa.Column("seal_seq", sa.BigInteger))
    op.add_column("audit_log", sa.Column("chain_mac", sa.LargeBinary(32)))
    op.create_index("ix_audit_log_username", "audit_log", ["username", "id"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id", "id"])
    # The sealer's work list: small however long the log grows.
    op.create_index(
        "ix_audit_log_unsealed", "audit_log", ["id"], postgresql_where=sa.text("seal_seq IS NULL")
    )
    # One entry per position; unsealed entries (the ones being written) are not in it.
    op.create_index(
        "ix_audit_log_seal_seq",
        "audit_log",
        ["seal_seq"],
        unique=True,
        postgresql_where=sa.text("seal_seq IS NOT NULL"),
    )
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_index("ix_audit_log_seal_seq", "audit_log")
    op.drop_index("ix_audit_log_unsealed", "audit_log")
    op.drop_index("ix_audit_log_object", "audit_log")
    op.drop_index("ix_audit_log_username", "audit_log")
    for column in ("chain_mac", "seal_seq", "row_mac", "records", "recipient", "client"):
        op.drop_column("audit_log", column)
