"""Alert events, numbered in the order they are committed.

A sequence hands out numbers when rows are written, but transactions commit in any order:
event 41 of a slow batch can become visible after event 42 of a quick sighting. A page that
reconnects saying "I have seen up to 42" would then never be sent 41. So the events of a
transaction are written last, as it commits, under a transaction-scoped advisory lock:
each writer takes its numbers and commits before the next may take any, and the numbers
become visible in order. The lock is held only from that insert to the commit.

The same commit writes the outbox of alert notifications (:mod:`service.webhooks.outbox`):
what webhooks are told is committed with the change, or not at all.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from service.webhooks import outbox

LOCK_KEY = 0x5A4F4E45  # any fixed number; "ZONE"
PENDING = "zones_pending_alert_events"


def announce(session: Session, alert_id: int, kind: str) -> None:
    """Note a change to an alert; it is numbered and written when the session commits.

    One event per alert and transaction: the first kind of change noted wins (an alert
    opened and extended by one batch is announced as opened).
    """
    session.info.setdefault(PENDING, {}).setdefault(alert_id, kind)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: dict[int, str] | None = session.info.pop(PENDING, None)
    if not pending:
        return
    outbox.enqueue(session, pending)  # before the lock: the outbox needs no order
    # The lock and the rows in one statement: a row is made (and its id drawn) only once
    # the one-row lock side of the join has been evaluated, so the lock comes first.
    alerts, kinds = zip(*sorted(pending.items()), strict=True)
    session.execute(
        text(
            "INSERT INTO alert_events (alert_id, kind) SELECT e.alert_id, e.kind"
            " FROM (SELECT pg_advisory_xact_lock(:key)) AS locked,"
            " unnest(CAST(:alerts AS bigint[]), CAST(:kinds AS text[])) AS e(alert_id, kind)"
        ),
        {"key": LOCK_KEY, "alerts": list(alerts), "kinds": list(kinds)},
    )


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)
