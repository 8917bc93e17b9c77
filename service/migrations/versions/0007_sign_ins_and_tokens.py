"""Sign-ins with refresh tokens, and personal access tokens; revoked token ids go.

- ``sign_ins``: one per log-in (API or page), with an absolute end. Every access token and
  page cookie names its sign-in, and every request checks it: ending the row (log-out,
  disabling the user, a refresh token used twice) ends them all at once.
- ``refresh_tokens``: the refresh tokens of a sign-in, stored as SHA-256 hashes; each is
  spent when used and replaced by a new one.
- ``personal_tokens``: named, scoped, expiring tokens for desktop GIS and scripts, stored
  as SHA-256 hashes, revocable.
- ``revoked_tokens`` (one row per logged-out token id) is no longer needed: a sign-in that
  ended refuses all its tokens.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("started_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("ended_at", TZ),
        sa.Column("end_reason", sa.String(20)),
        sa.CheckConstraint("kind IN ('api', 'page')", name="ck_sign_ins_kind"),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "sign_in_id",
            sa.String(32),
            sa.ForeignKey("sign_ins.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("issued_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("spent_at", TZ),
    )
    op.create_table(
        "personal_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
        sa.Column("revoked_by", sa.String(80)),
        sa.CheckConstraint("scope IN ('read', 'full')", name="ck_personal_tokens_scope"),
    )
    op.drop_table("revoked_tokens")


def downgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.drop_table("personal_tokens")
    op.drop_table("refresh_tokens")
    op.drop_table("sign_ins")
