"""Writing only the stays that changed gives exactly what assigning every stay its state
gives: the same rows, the same events, the same evidence, whatever order the fixes come in.

Each example sends the same fixes (GPS fixes and sightings, in a park, in its buffer, in a
warning ring, away) in the same random batches for two subjects under the same order (a
clause with confirmation and closing rules, and a scheduled buffer clause, cut by an
authorised visit): one re-derived as the service does, one with ``full=True``.
"""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

import shapely

from service import monitoring, stays_sync
from service.db import orders_store, tables, units_store, zones_store
from service.settings import ApiSettings
from zones import model
from zones.schedule import Schedule, WeeklyWindow
from zones.stays import Rules

PARK = (0.1200, 52.2000)
HALF = 0.001  # the park is a square of 0.002 degrees (about 140 m by 220 m)
# Degrees east of the park's centre: inside; in the 60 m buffer; in the 250 m warning ring
# only; away from everything.
PLACES = {"in": 0.0, "buffer": HALF + 0.0006, "ring": HALF + 0.0025, "away": HALF + 0.01}
BASE = datetime(2026, 6, 1, 8, 50, tzinfo=UTC)  # 09:50 in London (BST)
NOW = BASE + timedelta(minutes=70)  # stays of the last minutes still open
_refs = itertools.count()

Fix = tuple[int, str, bool]  # minute after BASE, place, reported by a person


def _zone(session: Session) -> int:
    square = shapely.box(PARK[0] - HALF, PARK[1] - HALF, PARK[0] + HALF, PARK[1] + HALF)
    [zid] = zones_store.create_many(session, [square], ["park"], ["park"], ["test"])
    return zid


def _subject(session: Session, zone_id: int) -> int:
    if session.get(tables.Unit, "stays") is None:
        units_store.add_unit(session, "stays", "Stays")
    ref = f"ONLY-{next(_refs)}"
    subject = orders_store.create_subject(
        session, model.Subject(None, ref, f"Subject {ref}", unit="stays")
    )
    assert subject.id is not None
    every_day = WeeklyWindow(frozenset(range(7)), time(10, 0), time(10, 25))
    conditions = (
        model.Condition(
            None, "Not to enter the park.", (zone_id,), warning_m=250.0,
            rules=Rules(confirm_fixes=2, clear_fixes=2),
        ),
        model.Condition(
            None, "Not within 60 m of the park, 10:00-10:25.", (zone_id,), buffer_m=60.0,
            schedule=Schedule((every_day,)),
        ),
    )  # fmt: skip
    orders_store.create_order(
        session,
        model.Order(None, subject.id, f"SHPO/{ref}", model.OrderType.SHPO,
                    BASE.date() - timedelta(days=30), None, conditions=conditions),
    )  # fmt: skip
    session.add(
        tables.AuthorisedVisit(
            subject_id=subject.id, zone_id=zone_id, starts=BASE + timedelta(minutes=40),
            ends=BASE + timedelta(minutes=48), authorised_by="DS Test", reason="contact",
            recorded_by="test",
        )
    )  # fmt: skip
    session.flush()
    return subject.id


def _observation(fix: Fix, subject_id: int) -> model.Observation:
    minute, place, by_person = fix
    return model.Observation(
        lon=PARK[0] + PLACES[place],
        lat=PARK[1],
        time=BASE + timedelta(minutes=minute),
        accuracy_m=5.0,
        subject_id=subject_id,
        kind=model.ObservationKind.SIGHTING if by_person else model.ObservationKind.FIX,
    )


def _send(
    session: Session, subject_id: int, batches: list[list[Fix]]
) -> list[list[tuple[int, ...]]]:
    """Record the batches, each committed as a request would be; the alerts each fix
    counts towards, by batch."""
    answers = []
    for batch in batches:
        recorded = monitoring.record(
            session, [_observation(f, subject_id) for f in batch], ApiSettings(), now=NOW
        )
        session.commit()
        assert all(r.error is None for r in recorded)
        answers.append([tuple(r.alert_ids) for r in recorded])
    return answers


def _outcome(session: Session, subject_id: int, answers: list[list[tuple[int, ...]]]) -> Any:
    """Everything re-deriving wrote, with alert ids by the order the subject's alerts were
    made (both subjects make theirs in the same order) and clauses by position."""
    a, e, v, o = tables.Alert, tables.AlertEvent, tables.Verdict, tables.Observation
    rows = session.scalars(select(a).where(a.subject_id == subject_id).order_by(a.id)).all()
    rank = {row.id: i for i, row in enumerate(rows)}
    verdicts = session.execute(
        select(o.observed_at, v.clause_id, v.status, v.evidence, v.alert_id)
        .join(o, o.id == v.observation_id)
        .where(o.subject_id == subject_id)
    ).all()
    clauses = sorted({clause for _, clause, *_ in verdicts})
    skip = {"id", "subject_id", "order_id", "condition_id", "zone_id", "geom", "opened_at"}
    alerts = [
        {
            **{c.key: getattr(row, c.key) for c in a.__table__.c if c.key not in skip},
            "clause_id": clauses.index(row.clause_id),
            "merged_into": None if row.merged_into is None else rank[row.merged_into],
            "visit_id": row.visit_id is not None,  # each subject has a visit of its own
        }
        for row in rows
    ]
    events = sorted(
        (rank[i], kind)
        for i, kind in session.execute(select(e.alert_id, e.kind).where(e.alert_id.in_(rank)))
    )
    evidence = sorted(
        (t, clauses.index(clause), status, kind, -1 if alert is None else rank[alert])
        for t, clause, status, kind, alert in verdicts
    )
    counted = [[tuple(rank[i] for i in ids) for ids in batch] for batch in answers]
    return alerts, events, evidence, counted


fixes = st.lists(
    st.tuples(st.integers(0, 65), st.sampled_from(sorted(PLACES)), st.booleans()),
    min_size=1,
    max_size=14,
    unique_by=lambda f: f[0],
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fixes=fixes, data=st.data())
def test_writing_only_changed_stays_gives_what_rewriting_every_stay_gives(
    session: Session, monkeypatch: pytest.MonkeyPatch, fixes: list[Fix], data: st.DataObject
) -> None:
    arrival = data.draw(st.permutations(fixes), label="arrival")
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(fixes) - 1))), label="cuts"))
    batches = [arrival[i:j] for i, j in itertools.pairwise([0, *cuts, len(arrival)]) if i < j]
    zone_id = _zone(session)
    ordinary, full = _subject(session, zone_id), _subject(session, zone_id)
    got = _outcome(session, ordinary, _send(session, ordinary, batches))
    with monkeypatch.context() as m:
        m.setattr(
            stays_sync, "rederive_many", functools.partial(stays_sync.rederive_many, full=True)
        )
        want = _outcome(session, full, _send(session, full, batches))
    assert got == want
