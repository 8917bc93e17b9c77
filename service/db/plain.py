"""Reading many rows as plain rows.

``Session.execute`` runs every row of a result through the ORM's loading, even a select of
plain columns; a batch of fixes from thousands of tags reads tens of thousands of rows
(fixes, verdicts, conditions and their zones), and that work per row was a large part of
a batch's time. These reads go to the session's connection instead, after flushing what the
session holds so that they see it, as the session's own autoflush would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.orm import Session


def rows(session: Session, statement: Executable, parameters: Any = None) -> Sequence[Any]:
    """Execute a read on the session's connection, after a flush; its rows, fetched at
    once (plain rows: tuples with their columns by name too)."""
    session.flush()
    return session.connection().execute(statement, parameters).all()
