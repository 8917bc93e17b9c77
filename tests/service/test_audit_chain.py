"""The audit chain: sealed in the order entries commit, and every tampering named.

Each tampering test does what the owner of the database could: switch off the append-only
trigger and change rows by SQL. The MACs, whose key is not in the database, tell.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from service import worker
from service.audit_mac import AuditKey
from service.db import audit_store
from service.db.audit_chain import ChainBroken, read_head, seal, verify
from service.settings import Settings

UNGUARD = "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"


def write(session: Session, n: int, action: str = "subject.track") -> list[int]:
    """``n`` entries, committed; their ids."""
    for i in range(n):
        audit_store.record(
            session, "pc-ames", action, "subject", 40 + i, reason="incident 4411",
            detail={"from": "2026-03-01T00:00:00+00:00", "points": i, "ratio": 0.1 * i},
        )  # fmt: skip
    session.commit()
    return list(
        session.scalars(text("SELECT id FROM audit_log ORDER BY id DESC LIMIT :n"), {"n": n})
    )[::-1]


def sealed(session: Session) -> dict[int, int]:
    """Entry id -> position."""
    rows = session.execute(text("SELECT id, seal_seq FROM audit_log WHERE seal_seq IS NOT NULL"))
    return {r.id: r.seal_seq for r in rows}


def test_entries_carry_a_mac_and_where_from_and_are_sealed_one_after_another(
    session: Session, audit_key: AuditKey
) -> None:
    ids = write(session, 3)
    row = session.execute(text("SELECT client, row_mac, seal_seq FROM audit_log WHERE id = :i"),
                          {"i": ids[0]}).one()  # fmt: skip
    assert row.client == "test" and len(row.row_mac) == 32 and row.seal_seq is None
    report = verify(session, audit_key)
    assert report.ok and (report.entries, report.unsealed) == (3, 3)

    assert seal(session, audit_key) == 3
    assert sealed(session) == {ids[0]: 1, ids[1]: 2, ids[2]: 3}
    head = read_head(audit_key.head_file)
    assert head is not None and (head.position, head.entry_id) == (3, ids[2])
    more = write(session, 2)
    assert seal(session, audit_key) == 2 and seal(session, audit_key) == 0
    report = verify(session, audit_key)
    assert report.ok, report.text()
    assert report.intact is not None and report.intact.entry_id == more[-1]
    assert f"5 entries, chain intact up to id {more[-1]} (position 5), 0 unsealed" in report.text()


def test_detail_read_back_from_jsonb_still_matches_its_mac(
    session: Session, audit_key: AuditKey
) -> None:
    audit_store.record(
        session, "pc-ames", "zone.edit", "zone", 7, reason="Café — «école» \t tab",
        detail={"z": 1e20, "a": [0.1, 2**70, 1.5e-07, -0.0, True, None], "k": {"é": "ü"}},
        records={"observation": [3, 1, 2]}, recipient="CPS Cambridge",
    )  # fmt: skip
    session.commit()
    seal(session, audit_key)
    assert verify(session, audit_key).ok


def test_the_log_refuses_changes_and_deletions(session: Session, audit_key: AuditKey) -> None:
    [entry] = write(session, 1)
    for statement in (
        "UPDATE audit_log SET reason = 'none' WHERE id = :i",
        "DELETE FROM audit_log WHERE id = :i",
    ):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement), {"i": entry})
    seal(session, audit_key)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE audit_log SET seal_seq = 9 WHERE id = :i"), {"i": entry})


def test_an_altered_entry_is_named(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    ids = write(session, 5)
    seal(session, audit_key)
    connection.execute(text(UNGUARD))
    session.execute(text("UPDATE audit_log SET reason = 'routine' WHERE id = :i"), {"i": ids[2]})
    session.execute(
        text("UPDATE audit_log SET detail = jsonb_set(detail, '{points}', '7') WHERE id = :i"),
        {"i": ids[3]},
    )
    report = verify(session, audit_key)
    assert [(p.kind, p.entry_id) for p in report.problems] == [
        ("altered", ids[2]),
        ("altered", ids[3]),
    ]
    assert report.intact is not None and report.intact.entry_id == ids[1]
    assert report.text().startswith(f"audit chain BROKEN: entry {ids[2]} (position 3) altered")


def test_an_altered_unsealed_entry_is_named_too(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    [entry] = write(session, 1)
    connection.execute(text(UNGUARD))
    session.execute(text("UPDATE audit_log SET username = 'pc-other' WHERE id = :i"), {"i": entry})
    [problem] = verify(session, audit_key).problems
    assert (problem.kind, problem.entry_id, problem.position) == ("altered", entry, None)


def test_a_deleted_entry_is_missing_before_the_next(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    ids = write(session, 5)
    seal(session, audit_key)
    connection.execute(text(UNGUARD))
    session.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[1]})
    report = verify(session, audit_key)
    [problem] = report.problems  # one deletion is one problem, not one per entry after it
    assert (problem.kind, problem.entry_id, problem.position) == ("missing", ids[2], 3)
    assert "1 entry missing before entry" in problem.message
    assert report.intact is not None and report.intact.entry_id == ids[0]


def test_the_first_entry_deleted_is_missing_too(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    ids = write(session, 2)
    seal(session, audit_key)
    connection.execute(text(UNGUARD))
    session.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[0]})
    [problem] = verify(session, audit_key).problems
    assert (problem.kind, problem.entry_id) == ("missing", ids[1])


def test_two_swapped_entries_are_out_of_order(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    ids = write(session, 5)
    seal(session, audit_key)
    connection.execute(text(UNGUARD))
    a, b = ids[1], ids[3]
    for statement in (  # swap their ids: each one's content and MACs move with it
        "UPDATE audit_log SET id = -id WHERE id = :a",
        "UPDATE audit_log SET id = :a WHERE id = :b",
        "UPDATE audit_log SET id = :b WHERE id = -:a",
    ):
        session.execute(text(statement), {"a": a, "b": b})
    report = verify(session, audit_key)
    assert [(p.kind, p.position) for p in report.problems] == [
        ("out_of_order", 2),
        ("out_of_order", 4),
    ]
    assert report.problems[0].entry_id == b  # position 2 now holds the entry called b


def test_swapped_positions_are_out_of_order(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    ids = write(session, 4)
    seal(session, audit_key)
    connection.execute(text(UNGUARD))
    session.execute(text("DROP INDEX ix_audit_log_seal_seq"))
    session.execute(
        text("UPDATE audit_log SET seal_seq = 5 - seal_seq WHERE id IN (:a, :b)"),
        {"a": ids[1], "b": ids[2]},
    )  # positions 2 and 3 exchanged, chain MACs kept
    problems = verify(session, audit_key).problems
    assert (problems[0].kind, problems[0].entry_id, problems[0].position) == (
        "out_of_order", ids[2], 2,
    )  # fmt: skip
    assert {p.kind for p in problems} == {"out_of_order"}


def test_a_truncated_tail_is_detected_and_not_sealed_over(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    ids = write(session, 6)
    seal(session, audit_key)
    connection.execute(text(UNGUARD))
    session.execute(text("DELETE FROM audit_log WHERE id >= :i"), {"i": ids[3]})
    session.commit()
    report = verify(session, audit_key)
    [problem] = report.problems  # what is left verifies: only the file outside can tell
    assert problem.kind == "head_truncated"
    assert f"entry {ids[5]} at position 6" in problem.message and "ends at position 3" in (
        problem.message
    )
    # New entries are not chained on after the cut, which would hide it.
    write(session, 2)
    with pytest.raises(ChainBroken, match="head truncated"):
        seal(session, audit_key)
    assert max(sealed(session).values()) == 3


def test_another_chain_in_place_of_the_sealed_one_is_a_mismatch(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    ids = write(session, 3)
    seal(session, audit_key)
    connection.execute(text(UNGUARD))
    session.execute(text("DELETE FROM audit_log"))
    write(session, 5)
    session.execute(text("UPDATE audit_log SET seal_seq = NULL, chain_mac = NULL"))
    # Sealing the replacement is refused: it has no entry at the recorded position yet...
    with pytest.raises(ChainBroken, match="head truncated"):
        seal(session, audit_key)
    # ...and had someone sealed it by hand, position 3 would hold the wrong entry.
    audit_key_elsewhere = AuditKey(audit_key.secret, audit_key.head_file.with_name("x"))
    seal(session, audit_key_elsewhere)
    problems = verify(session, audit_key).problems
    assert [p.kind for p in problems] == ["head_mismatch"]
    assert f"(entry {ids[2]})" in problems[0].message


def test_entries_from_before_the_macs_are_adopted_at_the_first_seal_only(
    session: Session, connection: Connection, audit_key: AuditKey
) -> None:
    insert = "INSERT INTO audit_log (username, action, detail) VALUES ('old', 'subject.create', "
    session.execute(text(insert + "'{\"n\": 1}')"))
    session.execute(text(insert + "NULL)"))
    session.commit()
    assert seal(session, audit_key) == 3  # the two old ones, and the entry saying so
    adopt = session.execute(
        text("SELECT detail FROM audit_log WHERE action = 'audit.adopt'")
    ).scalar_one()
    assert adopt["entries"] == 2
    assert verify(session, audit_key).ok
    # Once the chain exists, an entry without a MAC was not written by the service.
    session.execute(text(insert + "NULL)"))
    session.commit()
    assert seal(session, audit_key) == 0
    [problem] = verify(session, audit_key).problems
    assert problem.kind == "no_mac" and "not written by the service" in problem.message


def test_writing_without_the_key_is_refused(connection: Connection) -> None:
    with Session(bind=connection) as bare, pytest.raises(audit_store.AuditUnbound):
        audit_store.record(bare, "pc-ames", "subject.track")


def test_the_worker_seals_on_its_tick(
    sessions: sessionmaker[Session], session: Session, settings: Settings, audit_key: AuditKey
) -> None:
    ids = write(session, 2)
    done = worker.run_jobs(sessions, settings.api, datetime.now(UTC) + timedelta(seconds=1))
    assert done["audit_seal"] == 2 and sorted(sealed(session)) == ids
    assert json.loads(audit_key.head_file.read_text())["entry_id"] == ids[1]
