"""Observations into the table many at a time: ``COPY`` into a staging table, then one
set-based insert that skips what is already stored.

Per-row statement parameters cost more than the rows themselves at batch sizes; ``COPY``
sends the rows as one stream and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``
stores them, its ``RETURNING`` saying which were new. The rows are plain dicts of column
values, all with the same keys (built in one place: ``service.monitoring``), so a column
added to observations needs no change here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

STAGE = "observation_stage"
IDENTITY = ("subject_id", "observed_at", "dedup_key")  # uq_observations_identity's columns

Identity = tuple[int, datetime, int]
# Up to this many rows go in by one statement with parameters (a sighting, a phone's few
# fixes): staging them would cost three more round trips than the rows do.
FEW = 32


def store(
    session: Session, rows: Sequence[dict[str, Any]]
) -> tuple[dict[Identity, int], set[Identity]]:
    """Insert each row whose identity is not stored yet (in the session's transaction).

    Returns the id of every row's identity, and the identities inserted now; a row sent
    twice in ``rows`` is inserted once."""
    if not rows:
        return {}, set()
    if len(rows) <= FEW:
        return _store_few(session, rows)
    columns = list(rows[0])
    names = ", ".join(columns)
    with _cursor(session) as cursor:
        # Kept for the connection's life, emptied at each commit: no catalogue churn per
        # batch. The columns of observations, without their constraints or defaults.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ON COMMIT DELETE ROWS AS "
            "SELECT * FROM observations WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {STAGE}")  # a second batch in one transaction
        _copy(cursor, STAGE, columns, rows)
        ident = ", ".join(IDENTITY)
        cursor.execute(
            f"INSERT INTO observations ({names}) SELECT {names} FROM {STAGE} "
            f"ON CONFLICT ({ident}) DO NOTHING RETURNING id, {ident}"
        )
        fresh = {(s, t, k): i for i, s, t, k in cursor.fetchall()}
        ids = dict(fresh)
        if len(fresh) < len(rows):  # some were stored before: find their ids
            cursor.execute(
                f"SELECT o.id, {', '.join('o.' + c for c in IDENTITY)} FROM observations o "
                f"JOIN {STAGE} s USING ({ident})"
            )
            ids.update({(s, t, k): i for i, s, t, k in cursor.fetchall()})
    return ids, set(fresh)


def _store_few(
    session: Session, rows: Sequence[dict[str, Any]]
) -> tuple[dict[Identity, int], set[Identity]]:
    """:func:`store` for a few rows, in one statement: the insert, and the ids of the rows
    stored before (the insert's own rows are not visible to the statement's read of the
    table, so what that read finds was there already)."""
    columns = list(rows[0])
    names = ", ".join(columns)
    ident = ", ".join(IDENTITY)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    keys = "(" + ", ".join(["%s"] * len(IDENTITY)) + ")"
    params: list[Any] = [row[c] for row in rows for c in columns]
    params += [row[c] for row in rows for c in IDENTITY]
    with _cursor(session) as cursor:
        cursor.execute(
            f"WITH new AS (INSERT INTO observations ({names}) VALUES "
            + ", ".join([one] * len(rows))
            + f" ON CONFLICT ({ident}) DO NOTHING RETURNING id, {ident}) "
            f"SELECT id, {ident}, true FROM new UNION ALL "
            f"SELECT o.id, {', '.join('o.' + c for c in IDENTITY)}, false FROM observations o "
            f"JOIN (VALUES {', '.join([keys] * len(rows))}) AS k ({ident}) USING ({ident})",
            params,
        )
        ids: dict[Identity, int] = {}
        fresh: set[Identity] = set()
        for i, s, t, k, new in cursor.fetchall():
            ids[(s, t, k)] = i
            if new:
                fresh.add((s, t, k))
        if missing := {tuple(row[c] for c in IDENTITY) for row in rows} - ids.keys():
            # Stored by a transaction that committed after this statement began (callers
            # lock the subject first, so not by a writer of these subjects' fixes).
            cursor.execute(
                f"SELECT o.id, {', '.join('o.' + c for c in IDENTITY)} FROM observations o "
                f"JOIN (VALUES {', '.join([keys] * len(missing))}) AS k ({ident}) "
                f"USING ({ident})",
                [v for key in missing for v in key],
            )
            ids.update({(s, t, k): i for i, s, t, k in cursor.fetchall()})
    return ids, fresh


def copy_rows(session: Session, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """``COPY`` plain rows (dicts with the same keys) into ``table``, in the session's
    transaction: many rows with no conflict to settle, such as a batch's verdicts."""
    if not rows:
        return
    with _cursor(session) as cursor:
        _copy(cursor, table, list(rows[0]), rows)


@contextmanager
def _cursor(session: Session) -> Iterator[psycopg.Cursor[Any]]:
    """A cursor on the session's own connection (its transaction). Its errors are raised
    as SQLAlchemy raises the driver's, so the error table at the edge maps them alike: a
    value PostgreSQL cannot hold is the client's, a lost connection is a 503."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    try:
        with connection.cursor() as cursor:
            yield cursor
    except psycopg.Error as exc:
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc


def _copy(
    cursor: psycopg.Cursor[Any], table: str, columns: list[str], rows: Sequence[dict[str, Any]]
) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
