"""Alert episodes: one per stay, placed by when things happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zones.episodes import Action, place
from zones.model import Episode

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_the_first_breach_opens_and_the_next_extends() -> None:
    opened = place([], T0, breach=True)
    assert opened.action is Action.OPEN
    assert opened.episode is not None
    extended = place([opened.episode], T0 + 3 * MIN, breach=True)
    assert extended.action is Action.EXTEND and extended.episode is not None
    assert extended.episode.last_at == T0 + 3 * MIN and extended.episode.observation_count == 2


def test_leaving_closes_and_coming_back_opens_a_new_stay() -> None:
    ep = Episode(T0, T0 + 5 * MIN)
    closed = place([ep], T0 + 6 * MIN, breach=False)
    assert closed.action is Action.CLOSE and closed.episode is not None
    assert closed.episode.closed_at == T0 + 6 * MIN
    assert place([closed.episode], T0 + 9 * MIN, breach=True).action is Action.OPEN


def test_a_late_outside_within_a_stay_changes_nothing() -> None:
    ep = Episode(T0, T0 + 5 * MIN)
    assert place([ep], T0 + 2 * MIN, breach=False).action is Action.NONE


def test_a_late_inside_before_the_exit_extends_the_closed_stay() -> None:
    ep = Episode(T0, T0 + 5 * MIN, closed_at=T0 + 10 * MIN)
    late = place([ep], T0 + 7 * MIN, breach=True)
    assert late.action is Action.EXTEND and late.episode is not None
    assert late.episode.closed_at == T0 + 10 * MIN and late.episode.last_at == T0 + 7 * MIN


def test_a_breach_long_before_a_stay_is_a_stay_of_its_own() -> None:
    ep = Episode(T0, T0 + 5 * MIN)
    assert place([ep], T0 - 60 * MIN, breach=True).action is Action.OPEN
