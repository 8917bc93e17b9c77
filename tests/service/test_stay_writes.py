"""A sighting check writes only the stays it changes: the other stays within reach of it
are re-derived, found equal to their rows and left alone (no UPDATE, no event)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, select, text
from sqlalchemy.orm import Session

from service.db import tables
from tests.service.test_checking_api import PARK, check, east_of, park_order

__all__ = ["park_order"]
AWAY = east_of(*PARK, 2000)  # outside every clause of the park order


def minutes_before(now: datetime) -> Any:
    """Times counted back from ``now``, taken when the test starts: test_checking_api's
    ``when`` counts from when that module was imported, which in a whole run is many
    minutes earlier, and how stays close depends on how long ago their last fix was."""
    return lambda minutes: (now - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def alert_writes(connection: Connection) -> Iterator[list[tuple[str, int]]]:
    """Every INSERT into and UPDATE of ``alerts``, with the rows an UPDATE writes (a flush
    sends the UPDATEs of one shape as one executemany; its INSERTs as one statement)."""
    seen: list[tuple[str, int]] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.startswith(("INSERT INTO alerts ", "UPDATE alerts ")):
            seen.append((statement.split()[0], len(params) if many else 1))

    event.listen(connection, "before_cursor_execute", note)
    yield seen
    event.remove(connection, "before_cursor_execute", note)


def _versions(session: Session, subject_id: int) -> dict[int, str]:
    """Each alert row of the subject and its row version (``xmin``: every UPDATE, even one
    writing the same values, makes a new one)."""
    rows = session.execute(
        text("SELECT id, xmin::text FROM alerts WHERE subject_id = :sid"), {"sid": subject_id}
    )
    return {int(i): str(x) for i, x in rows}


def _events(session: Session) -> list[tuple[int, str]]:
    e = tables.AlertEvent
    return [(int(a), str(k)) for a, k in session.execute(select(e.alert_id, e.kind))]


def _count(writes: list[tuple[str, int]], verb: str) -> int:
    return sum(n for v, n in writes if v == verb)


def test_a_sighting_check_writes_only_the_stays_it_changes(
    control: TestClient,
    park_order: dict[str, Any],
    session: Session,
    alert_writes: list[tuple[str, int]],
) -> None:
    when = minutes_before(datetime.now(UTC).replace(microsecond=0))
    sid = park_order["subject"]["id"]
    clauses = len(park_order["order"]["conditions"])  # the park is in the area of each
    # In and out of the park each minute: many stays, all within reach of the next check.
    for minute in range(40, 10, -1):
        check(control, sid, *(PARK if minute % 2 == 0 else AWAY), time=when(minute))
    before, events = _versions(session, sid), _events(session)
    assert len(before) == 15 * clauses

    alert_writes.clear()
    check(control, sid, *PARK, time=when(10))  # in again: a new stay of each clause
    after = _versions(session, sid)
    new = set(after) - set(before)
    assert len(new) == clauses
    assert {a: after[a] for a in before} == before, "a stay the check did not change was written"
    # Each new stay is written by one INSERT, complete, not inserted and then updated.
    assert [v for v, _ in alert_writes] == ["INSERT"]
    assert sorted(_events(session)) == sorted([*events, *((a, "opened") for a in new)])

    before, events = after, _events(session)
    alert_writes.clear()
    check(control, sid, *AWAY, time=when(9))  # out: those stays close, and only those
    after = _versions(session, sid)
    assert set(after) == set(before)
    assert {a for a in before if after[a] != before[a]} == new
    assert [v for v, _ in alert_writes] == ["UPDATE"] and _count(alert_writes, "UPDATE") == clauses
    assert sorted(_events(session)) == sorted([*events, *((a, "closed") for a in new)])

    before, events = after, _events(session)
    alert_writes.clear()
    again = check(control, sid, *AWAY, time=when(9))  # the same sighting sent again
    assert again["duplicate"]
    assert _versions(session, sid) == before and _events(session) == events
    assert alert_writes == []
