"""Units: the public-protection teams of a force. Users belong to units; every subject is
managed by one unit, and what a user may see or change follows from their role and units.

Subjects keep their ``unit`` column, which now names a row of ``units`` (by code): the free
text recorded so far becomes the first units, and subjects without one go to ``unassigned``,
which no one belongs to until an administrator says otherwise.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNASSIGNED = "unassigned"
ROLES = "'officer', 'control_room', 'supervisor', 'analyst', 'admin'"


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("code", sa.String(60), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("code ~ '^[a-z0-9][a-z0-9._-]*$'", name="ck_units_code"),
    )
    op.create_table(
        "user_units",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "unit",
            sa.String(60),
            sa.ForeignKey("units.code", onupdate="CASCADE", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    # Earlier free-text units become units; their code is a slug of the text.
    op.execute(
        f"""
        UPDATE subjects SET unit = COALESCE(NULLIF(left(trim(both '-' from
            regexp_replace(lower(unit), '[^a-z0-9._-]+', '-', 'g')), 60), ''), '{UNASSIGNED}')
        """
    )
    op.execute(f"UPDATE subjects SET unit = '{UNASSIGNED}' WHERE unit IS NULL")
    op.execute(
        f"""
        INSERT INTO units (code, name)
        SELECT DISTINCT unit, CASE WHEN unit = '{UNASSIGNED}' THEN 'No unit yet' ELSE unit END
        FROM subjects
        """
    )
    op.alter_column("subjects", "unit", type_=sa.String(60), nullable=False)
    op.create_foreign_key(
        "fk_subjects_unit", "subjects", "units", ["unit"], ["code"], onupdate="CASCADE"
    )
    op.create_index("ix_subjects_unit", "subjects", ["unit"])
    op.drop_constraint("ck_users_role", "users", type_="check")
    op.create_check_constraint("ck_users_role", "users", f"role IN ({ROLES})")


def downgrade() -> None:
    op.drop_constraint("ck_users_role", "users", type_="check")
    op.execute("UPDATE users SET role = 'officer' WHERE role = 'analyst'")
    op.create_check_constraint(
        "ck_users_role", "users", "role IN ('officer', 'control_room', 'supervisor', 'admin')"
    )
    op.drop_index("ix_subjects_unit", "subjects")
    op.drop_constraint("fk_subjects_unit", "subjects", type_="foreignkey")
    op.alter_column("subjects", "unit", type_=sa.String(200), nullable=True)
    op.drop_table("user_units")
    op.drop_table("units")
