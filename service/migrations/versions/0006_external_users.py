"""Users who sign in through single sign-on: no password, known by their provider's subject.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "password_hash", existing_type=sa.Text, nullable=True)
    op.add_column("users", sa.Column("external_issuer", sa.String(300), nullable=True))
    op.add_column("users", sa.Column("external_subject", sa.String(255), nullable=True))
    op.create_unique_constraint(
        "uq_users_external_identity", "users", ["external_issuer", "external_subject"]
    )
    # One way in for each user: a password, or an identity at a provider (never both, so
    # an external user can never be given a password the provider does not know about).
    op.create_check_constraint(
        "one_way_to_sign_in",
        "users",
        "(external_issuer IS NULL) = (external_subject IS NULL)"
        " AND (password_hash IS NULL) = (external_subject IS NOT NULL)",
    )


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE password_hash IS NULL")
    op.drop_constraint("one_way_to_sign_in", "users", type_="check")
    op.drop_constraint("uq_users_external_identity", "users", type_="unique")
    op.drop_column("users", "external_subject")
    op.drop_column("users", "external_issuer")
    op.alter_column("users", "password_hash", existing_type=sa.Text, nullable=False)
