"""Indexes that let the alert list read one page, not every stored alert.

``GET /alerts`` sorts by ``(first_at DESC, id DESC)`` and pages on that key. Without an index
in that order PostgreSQL read and joined every alert, then kept the newest 500: some 4 us
per stored alert in the database alone. Now:

- ``(first_at, id)``: the whole list, scanned backwards from a cursor, stopping at the page;
- ``(subject_id, first_at, id)``: one subject's alerts, in the same order;
- ``closed_at``: the ``from`` filter (an alert ending at or after an instant: closed then
  or later, or still open) as two ranges of it (``>= from`` and ``IS NULL``), so a short
  recent window reads its own alerts, not every older one on the way to a full page.

None of them holds ``last_at``, which every fix of a stay moves: extending an alert stays
a heap-only update. ``closed_at`` moves once, when the stay closes, as ``status`` (already
indexed) does.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_first_id", "alerts", ["first_at", "id"])
    op.create_index("ix_alerts_subject_first_id", "alerts", ["subject_id", "first_at", "id"])
    op.create_index("ix_alerts_closed", "alerts", ["closed_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_closed", "alerts")
    op.drop_index("ix_alerts_subject_first_id", "alerts")
    op.drop_index("ix_alerts_first_id", "alerts")
