"""The jump filter: implied speed between consecutive fixes of a subject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zones.feeds.filters import Point, jumps

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CAMBRIDGE = (0.1218, 52.2053)
LONDON = (-0.1276, 51.5072)  # some 79 km from Cambridge


def at(minutes: float, place: tuple[float, float], accuracy: float | None = None) -> Point:
    return Point(T0 + timedelta(minutes=minutes), place[0], place[1], accuracy)


def test_cambridge_to_london_in_a_minute_is_a_jump_in_an_hour_is_not() -> None:
    assert jumps(at(0, CAMBRIDGE), [at(1, LONDON)], 100) == [True]
    assert jumps(at(0, CAMBRIDGE), [at(60, LONDON)], 100) == [False]  # 22 m/s: a train


def test_the_first_fix_without_a_previous_one_is_never_a_jump() -> None:
    assert jumps(None, [at(0, CAMBRIDGE), at(1, LONDON), at(2, LONDON)], 100) == [
        False,
        True,
        False,
    ]


def test_accuracy_is_slack_a_fuzzy_fix_next_door_is_no_jump() -> None:
    near = (CAMBRIDGE[0] + 0.01, CAMBRIDGE[1])  # about 680 m east, 1 s later
    assert jumps(at(0, CAMBRIDGE), [at(1 / 60, near)], 100) == [True]
    assert jumps(at(0, CAMBRIDGE, 400), [at(1 / 60, near, 400)], 100) == [False]


def test_same_instant_elsewhere_is_a_jump() -> None:
    assert jumps(at(0, CAMBRIDGE), [at(0, LONDON)], 100) == [True]
