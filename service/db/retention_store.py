"""The reads and deletes of retention, a batch at a time (see :mod:`service.retention`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Delete,
    Select,
    and_,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.db import tables
from service.db.arrays import among
from zones.retention import Gap, StoredAlert

o, v, a = tables.Observation, tables.Verdict, tables.Alert
t = tables.PossibleTransit


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _count(session: Session, statement: Select[int]) -> int:
    return int(session.scalar(statement) or 0)


def subject_ids(session: Session) -> list[int]:
    return list(session.scalars(select(tables.Subject.id).order_by(tables.Subject.id)))


def lock_subject(session: Session, subject_id: int) -> None:
    """The lock recording takes first: no fix of this subject is judged meanwhile."""
    session.execute(
        select(tables.Subject.id).where(tables.Subject.id == subject_id).with_for_update()
    )


def mark(session: Session, subject_id: int, before: datetime) -> None:
    """Note, in the transaction that deletes, that the subject's track may have holes
    before ``before``."""
    m = tables.RetentionMark
    session.execute(
        insert(m)
        .values(subject_id=subject_id, observations_before=before)
        .on_conflict_do_update(
            index_elements=[m.subject_id],
            set_={"observations_before": func.greatest(m.observations_before, before)},
        )
    )


def marks(session: Session, subject_ids: Collection[int]) -> dict[int, datetime]:
    """Each subject's instant before which retention has deleted positions, if it has."""
    m = tables.RetentionMark
    rows = session.execute(
        select(m.subject_id, m.observations_before).where(among(m.subject_id, subject_ids))
    )
    return {sid: at for sid, at in rows}


def stored_alerts(session: Session, subject_id: int) -> list[StoredAlert]:
    rows = session.execute(
        select(
            a.id,
            a.merged_into,
            a.first_at,
            a.closed_at,
            func.greatest(a.last_at, a.closed_at, a.handled_at),
            a.observation_count,
        ).where(a.subject_id == subject_id)
    )
    return [StoredAlert(*r) for r in rows]


def _alert_rows(ids: Collection[int]) -> dict[str, ColumnElement[bool]]:
    """Each kind of row that belongs to the alerts ``ids``: deleted with them."""
    return {
        "verdicts": v.alert_id.in_(ids),
        "alert_actions": tables.AlertAction.alert_id.in_(ids),
        "alert_events": tables.AlertEvent.alert_id.in_(ids),
        "legal_holds": tables.LegalHold.alert_id.in_(ids),  # released ones: none is in force
    }


_TABLES = {
    "verdicts": v,
    "alert_actions": tables.AlertAction,
    "alert_events": tables.AlertEvent,
    "legal_holds": tables.LegalHold,
}


def delete_alerts(session: Session, ids: Sequence[int]) -> Counter[str]:
    """Delete the alerts with their verdicts, actions, events and released holds. The
    verdicts go too: a position kept beside another alert must not raise this one again."""
    done: Counter[str] = Counter()
    for kind, where in _alert_rows(ids).items():
        done[kind] = _deleted(session, delete(_TABLES[kind]).where(where))
    # One statement for the whole episode: rows merged into one another go together.
    done["alerts"] = _deleted(session, delete(a).where(a.id.in_(ids)))
    return done


def count_alerts(session: Session, ids: Sequence[int]) -> Counter[str]:
    done: Counter[str] = Counter({"alerts": len(ids)})
    if ids:
        for kind, where in _alert_rows(ids).items():
            done[kind] = _count(session, select(func.count()).where(where))
    return done


def _outside_alerts(ignoring: Collection[int]) -> ColumnElement[bool]:
    """No alert (but those being deleted) counts this observation as evidence."""
    used: ColumnElement[bool] = v.alert_id.is_not(None)
    if ignoring:
        used = and_(used, v.alert_id.not_in(ignoring))
    return ~exists().where(v.observation_id == o.id, used)


def _in_gap(gap: Gap) -> ColumnElement[bool]:
    inside = o.observed_at < gap.before
    return inside if gap.after is None else and_(o.observed_at > gap.after, inside)


def next_observations(
    session: Session,
    subject_id: int,
    gaps: Sequence[Gap],
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[tuple[int, datetime]]:
    """Up to ``limit`` deletable observations of the subject, in time order, after the
    keyset ``after`` (observed_at, id): one index range per gap, from the first gap on."""
    found: list[tuple[int, datetime]] = []
    for gap in gaps:
        if after is not None and gap.before <= after[0]:
            continue
        q = (
            select(o.id, o.observed_at)
            .where(o.subject_id == subject_id, _in_gap(gap), _outside_alerts(()))
            .order_by(o.observed_at, o.id)
            .limit(limit - len(found))
        )
        if after is not None:
            q = q.where(tuple_(o.observed_at, o.id) > tuple_(*after))
        found.extend((i, at) for i, at in session.execute(q))
        if len(found) >= limit:
            break
    return found


def delete_observations(
    session: Session, subject_id: int, batch: Sequence[tuple[int, datetime]]
) -> Counter[str]:
    """Delete the observations with their verdicts and the possible transits they end."""
    ids = [i for i, _ in batch]
    done: Counter[str] = Counter()
    done["verdicts"] = _deleted(session, delete(v).where(v.observation_id.in_(ids)))
    done["possible_transits"] = _deleted(
        session,
        delete(t).where(
            t.subject_id == subject_id,
            or_(t.from_observation_id.in_(ids), t.to_observation_id.in_(ids)),
        ),
    )
    done["observations"] = _deleted(session, delete(o).where(o.id.in_(ids)))
    return done


def count_observations(
    session: Session, subject_id: int, gaps: Sequence[Gap], ignoring: Collection[int]
) -> Counter[str]:
    """What :func:`delete_observations` would delete in every gap (a dry run)."""
    candidates = (
        select(o.id)
        .where(o.subject_id == subject_id, or_(false(), *map(_in_gap, gaps)))
        .where(_outside_alerts(ignoring))
    )
    ids = candidates.scalar_subquery()
    done: Counter[str] = Counter()
    done["observations"] = _count(session, select(func.count()).select_from(candidates.subquery()))
    # Those pointing at alerts being deleted are counted with the alerts.
    done["verdicts"] = _count(
        session, select(func.count()).where(v.observation_id.in_(ids), v.alert_id.is_(None))
    )
    done["possible_transits"] = _count(
        session,
        select(func.count()).where(
            t.subject_id == subject_id,
            or_(t.from_observation_id.in_(ids), t.to_observation_id.in_(ids)),
        ),
    )
    return done
