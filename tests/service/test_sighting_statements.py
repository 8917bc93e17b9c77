"""What one sighting check costs the database, in statements: a count that must not creep
back up (each is a round trip while the subject's rows are locked)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.service.test_checking_api import PARK, check, east_of, park_order, when

__all__ = ["park_order"]
# Signing in, with the user's units (1); locking the subject with its retention mark and
# the version of what held for it, refused there if beyond the user's units (1); storing it
# (1); the stays around it (1); its neighbours and their transits (2); the fixes around it
# with their verdicts, which also say which fixes the stored stays own (1); its verdicts
# (1); a stay written (0-1); the events announced: the webhooks to tell, and the numbered
# events (2). What held (5 statements) is read only when its version moved since the
# subject's last check in this process; each test here makes its subject afresh, so the
# first of its checks reads it and the counted one does not.
# It was 12-13 before the fixes came with their verdicts and the stays' fixes were no longer
# read again; 17-18 before signing in read the units along, the route stopped reading the
# subject (and its unit) before locking it, a few rows went in without a staging table and
# the advisory lock came with the events' insert; 22-23 before what held was kept and a new
# stay went in by one INSERT; 24-25 before the lock took the retention mark along.
MOST = 11


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement sent through psycopg, ``COPY`` included (the test's own savepoints
    left out)."""
    seen: list[str] = []
    execute, copy = psycopg.Cursor.execute, psycopg.Cursor.copy

    def note(query: Any) -> None:
        text = " ".join(str(query if isinstance(query, str) else repr(query)).split())
        if not text.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            seen.append(text)

    def counted_execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        note(query)
        return execute(self, query, *args, **kw)

    def counted_copy(self: psycopg.Cursor[Any], statement: Any, *args: Any, **kw: Any) -> Any:
        note(statement)
        return copy(self, statement, *args, **kw)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Cursor, "copy", counted_copy)
    yield seen


@pytest.mark.parametrize(
    "where", [PARK, east_of(*PARK, 150), east_of(*PARK, 2000)], ids=["in", "buffer", "away"]
)
def test_a_sighting_check_costs_at_most_a_fixed_number_of_statements(
    control: TestClient,
    park_order: dict[str, Any],
    statements: list[str],
    where: tuple[float, float],
) -> None:
    sid = park_order["subject"]["id"]
    for minutes in (9, 8, 7):  # an open stay to extend (or to close)
        check(control, sid, *PARK, time=when(minutes))
    statements.clear()
    check(control, sid, *where, time=when(5))
    listing = "\n".join(s[:160] for s in statements)
    assert len(statements) <= MOST, f"{len(statements)} statements:\n{listing}"
