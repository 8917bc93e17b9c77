"""Stays derived from judged fixes: gaps, confirmation, exits, window edges and visits."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from zones.stays import Closed, Mark, Opened, Rules, Segment, cut_by_visits, derive

T0 = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
ALWAYS = [Segment(T0 - timedelta(days=1), None)]
LATER = T0 + timedelta(days=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def marks(pattern: str, every: float = 1.0, start: float = 0.0) -> list[Mark]:
    """'I' in, '.' clear, ' ' no fix; one character per ``every`` minutes."""
    return [Mark(at(start + i * every), i, c == "I") for i, c in enumerate(pattern) if c != " "]


def test_two_sightings_27_minutes_apart_with_nothing_between_are_two_stays() -> None:
    fixes = [Mark(at(0), 1, True), Mark(at(27), 2, True)]
    first, second = derive(fixes, ALWAYS, Rules(), LATER)
    assert (first.first_at, first.last_at, first.closed_at) == (at(0), at(0), at(0))
    assert first.closed is Closed.SIGNAL_LOST
    assert second.first_at == at(27) and second.closed is Closed.SIGNAL_LOST


def test_ten_outside_fixes_between_two_stays_keep_them_apart_however_they_arrive() -> None:
    fixes = marks("IIII..........IIII.")
    expected = derive(fixes, ALWAYS, Rules(), LATER)
    assert [(s.first_at, s.closed_at) for s in expected] == [(at(0), at(4)), (at(14), at(18))]
    shuffled = fixes[:]
    random.Random(7).shuffle(shuffled)
    assert derive(shuffled, ALWAYS, Rules(), LATER) == expected


def test_a_stay_is_pending_until_it_has_enough_fixes_and_has_lasted_long_enough() -> None:
    rules = Rules(confirm_fixes=3, confirm_seconds=120)
    [stay] = derive(marks("IIII."), ALWAYS, rules, LATER)
    assert stay.confirmed_at == at(2)  # the third fix, 120 s after the first
    [stray] = derive(marks("..I..."), ALWAYS, rules, LATER)
    assert stray.confirmed_at is None and stray.closed is Closed.EXIT


def test_a_person_reporting_a_sighting_confirms_it_alone() -> None:
    [stay] = derive([Mark(at(0), 1, True, by_person=True)], ALWAYS, Rules(confirm_fixes=5), LATER)
    assert stay.confirmed_at == at(0)


def test_jitter_at_the_edge_does_not_end_a_stay_that_needs_three_clear_fixes() -> None:
    stay, again = derive(marks("III..III...I"), ALWAYS, Rules(clear_fixes=3), LATER)
    assert stay.closed_at == at(8) and stay.closed is Closed.EXIT
    assert stay.last_at == at(7) and again.first_at == at(11)


def test_clear_seconds_closes_a_stay_before_the_clear_fix_count() -> None:
    [stay] = derive(marks("II...", every=2), ALWAYS, Rules(clear_fixes=5, clear_seconds=180), LATER)
    assert stay.closed_at == at(4)  # the run from 4 to 8 min lasts 240 s >= 180 s


def test_a_stay_still_open_now_stays_open_until_the_gap_has_passed() -> None:
    [stay] = derive(marks("III"), ALWAYS, Rules(), at(10))
    assert stay.is_open
    [lost] = derive(marks("III"), ALWAYS, Rules(), at(20))
    assert lost.closed_at == at(2) and lost.closed is Closed.SIGNAL_LOST


def test_a_window_that_opens_while_the_subject_is_inside_opens_a_stay_then() -> None:
    window = [Segment(at(10), at(20))]
    [stay] = derive(marks("I  I      III"), window, Rules(), LATER)
    assert stay.opened is Opened.WINDOW_OPENED and stay.first_at == at(10)
    assert stay.keys[0] == 3  # the basis: the fix at 3 minutes, 7 minutes before
    assert stay.closed_at == at(20) and stay.closed is Closed.WINDOW_CLOSED


def test_a_window_that_closes_ends_the_stay_at_that_instant() -> None:
    [stay] = derive(marks("IIIIIIIIIIIIIIIIIIII"), [Segment(at(5), at(12))], Rules(), LATER)
    assert (stay.first_at, stay.last_at, stay.closed_at) == (at(5), at(11), at(12))
    assert stay.closed is Closed.WINDOW_CLOSED


def test_an_old_fix_does_not_carry_into_a_window() -> None:
    assert derive(marks("I"), [Segment(at(30), at(60))], Rules(), LATER) == []


def test_a_stay_covered_by_a_visit_is_authorised_and_one_opens_when_it_ends() -> None:
    segments = cut_by_visits(ALWAYS, [(7, at(5), at(10))])
    stays = derive(marks("....IIIIIIII...."), segments, Rules(), LATER)
    assert [(s.first_at, s.closed_at, s.visit, s.opened) for s in stays] == [
        (at(4), at(5), None, Opened.FIX),
        (at(5), at(10), 7, Opened.WINDOW_OPENED),
        (at(10), at(12), None, Opened.VISIT_ENDED),
    ]
    assert [s.closed for s in stays] == [Closed.VISIT_STARTED, Closed.VISIT_ENDED, Closed.EXIT]


def test_entering_before_a_visit_starts_closes_the_alert_at_the_visit_start() -> None:
    segments = cut_by_visits(ALWAYS, [(7, at(5), at(10))])
    first, during = derive(marks("..IIIIII...."), segments, Rules(), LATER)[:2]
    assert first.closed_at == at(5) and first.closed is Closed.VISIT_STARTED
    assert during.visit == 7 and during.opened is Opened.WINDOW_OPENED


@settings(max_examples=200, deadline=None)
@given(
    pattern=st.lists(st.sampled_from("I. "), min_size=1, max_size=40),
    every=st.sampled_from([0.5, 1.0, 7.0, 16.0]),
    seed=st.integers(0, 10_000),
    split=st.integers(0, 40),
    confirm=st.integers(1, 4),
    clear=st.integers(1, 3),
)
def test_stays_do_not_depend_on_arrival_order(
    pattern: list[str], every: float, seed: int, split: int, confirm: int, clear: int
) -> None:
    fixes = marks("".join(pattern), every)
    rules = Rules(confirm_fixes=confirm, clear_fixes=clear)
    expected = derive(fixes, ALWAYS, rules, LATER)
    shuffled = fixes[:]
    random.Random(seed).shuffle(shuffled)
    assert derive(shuffled, ALWAYS, rules, LATER) == expected
    # Time spent inside is never overstated: a stay spans only its own in-fixes.
    for s in expected:
        inside = [m.time for m in fixes if m.key in s.keys]
        assert s.first_at == min(inside) and s.last_at == max(inside)
        assert s.closed_at is None or s.closed_at >= s.last_at
    del split
