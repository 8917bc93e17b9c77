"""Local times typed by an operator: one instant, or a refusal that says why.

The 2026 UK changes: on Sun 29 March at 01:00 GMT the clocks go forward to 02:00 BST
(01:00:00-01:59:59 never happens); on Sun 25 October at 02:00 BST they go back to 01:00
GMT (01:00:00-01:59:59 happens twice).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from zones.errors import (
    AmbiguousLocalTime,
    InvalidObservation,
    NonexistentLocalTime,
    UnknownTimeZone,
    ZonesError,
)
from zones.localtime import DEFAULT_TZ, describe_local, resolve_local, resolve_window


def wall(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A naive clock reading in 2026, as an operator types it."""
    return datetime(2026, month, day, hour, minute, second)


def utc(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def test_london_is_the_default() -> None:
    assert DEFAULT_TZ == "Europe/London"
    assert resolve_local(wall(1, 15, 12)) == utc(1, 15, 12)


def test_summer_time_is_an_hour_ahead_of_utc() -> None:
    assert resolve_local(wall(7, 1, 12)) == utc(7, 1, 11)


def test_the_result_is_aware_utc() -> None:
    assert resolve_local(wall(7, 1, 12)).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("local", "instant"),
    [
        (wall(3, 29, 0, 59, 59), utc(3, 29, 0, 59, 59)),  # the last second of GMT
        (wall(3, 29, 2, 0, 0), utc(3, 29, 1, 0, 0)),  # the first second of BST
        (wall(3, 29, 3, 0), utc(3, 29, 2, 0)),
        (wall(10, 25, 0, 59, 59), utc(10, 24, 23, 59, 59)),  # still BST, once
        (wall(10, 25, 2, 0, 0), utc(10, 25, 2, 0, 0)),  # GMT, after the repeat
    ],
)
def test_times_either_side_of_a_change_happened_once(local: datetime, instant: datetime) -> None:
    assert resolve_local(local) == instant


@pytest.mark.parametrize(
    "local", [wall(3, 29, 1, 0, 0), wall(3, 29, 1, 30), wall(3, 29, 1, 59, 59)]
)
def test_the_hour_skipped_in_spring_is_refused(local: datetime) -> None:
    with pytest.raises(NonexistentLocalTime) as err:
        resolve_local(local)
    assert err.value.code == "nonexistent_local_time"
    assert err.value.field == "local_time"


def test_the_spring_refusal_says_which_hour_was_skipped() -> None:
    with pytest.raises(NonexistentLocalTime) as err:
        resolve_local(wall(3, 29, 1, 30))
    assert err.value.message == (
        "29 Mar 2026 01:30 never happened in Europe/London: the clocks went forward from "
        "01:00 GMT straight to 02:00 BST; check the time, or give it with a UTC offset"
    )


@pytest.mark.parametrize(
    ("local", "first", "second"),
    [
        (wall(10, 25, 1, 0, 0), utc(10, 25, 0, 0, 0), utc(10, 25, 1, 0, 0)),
        (wall(10, 25, 1, 30), utc(10, 25, 0, 30), utc(10, 25, 1, 30)),
        (wall(10, 25, 1, 59, 59), utc(10, 25, 0, 59, 59), utc(10, 25, 1, 59, 59)),
    ],
)
def test_the_hour_repeated_in_autumn_is_refused_with_both_instants(
    local: datetime, first: datetime, second: datetime
) -> None:
    with pytest.raises(AmbiguousLocalTime) as err:
        resolve_local(local)
    assert err.value.candidates == (first, second)
    assert err.value.code == "ambiguous_local_time"
    assert err.value.field == "local_time"


def test_the_autumn_refusal_names_both_instants() -> None:
    with pytest.raises(AmbiguousLocalTime) as err:
        resolve_local(wall(10, 25, 1, 30))
    assert err.value.message == (
        "25 Oct 2026 01:30 happened twice in Europe/London: 01:30 BST (00:30 UTC) or "
        "01:30 GMT (01:30 UTC); give a UTC offset to say which"
    )


def test_seconds_are_shown_when_there_are_some() -> None:
    with pytest.raises(AmbiguousLocalTime, match="01:59:59 BST"):
        resolve_local(wall(10, 25, 1, 59, 59))


def test_a_fold_on_the_naive_time_does_not_choose_for_the_operator() -> None:
    with pytest.raises(AmbiguousLocalTime):
        resolve_local(wall(10, 25, 1, 30).replace(fold=1))


def test_both_refusals_are_bad_observations_and_name_the_field() -> None:
    with pytest.raises(InvalidObservation) as err:
        resolve_local(wall(3, 29, 1, 30), field="sighting.seen_at")
    assert err.value.field == "sighting.seen_at"


def test_new_york_changes_on_its_own_dates() -> None:
    assert resolve_local(wall(3, 29, 1, 30), "America/New_York") == utc(3, 29, 5, 30)
    with pytest.raises(NonexistentLocalTime, match="from 02:00 EST straight to 03:00 EDT"):
        resolve_local(wall(3, 8, 2, 30), "America/New_York")
    with pytest.raises(AmbiguousLocalTime) as err:
        resolve_local(wall(11, 1, 1, 30), "America/New_York")
    assert err.value.candidates == (utc(11, 1, 5, 30), utc(11, 1, 6, 30))


def test_auckland_goes_back_in_april_and_the_utc_date_is_named() -> None:
    with pytest.raises(AmbiguousLocalTime) as err:
        resolve_local(wall(4, 5, 2, 30), "Pacific/Auckland")
    assert err.value.candidates == (utc(4, 4, 13, 30), utc(4, 4, 14, 30))
    assert "02:30 NZDT (13:30 UTC on 4 Apr 2026)" in err.value.message


@pytest.mark.parametrize("name", ["BST", "Europe/Cambridge", "", "Europe", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused(name: str) -> None:
    with pytest.raises(UnknownTimeZone, match="unknown time zone") as err:
        resolve_local(wall(7, 1, 12), name)
    assert err.value.code == "unknown_time_zone"
    assert isinstance(err.value, ZonesError)


def test_an_aware_time_is_a_programming_error_not_an_operator_one() -> None:
    # It already names one instant; the caller should use it as it is.
    with pytest.raises(ValueError, match="naive wall-clock time"):
        resolve_local(utc(7, 1, 12))
    with pytest.raises(ValueError, match="naive"):
        resolve_local(wall(7, 1, 12).replace(tzinfo=timezone(timedelta(hours=1))))


def test_a_window_over_the_autumn_change_lasts_an_hour_more_than_the_clock_says() -> None:
    start, end = resolve_window(wall(10, 25, 0, 30), wall(10, 25, 2, 30))
    assert (start, end) == (utc(10, 24, 23, 30), utc(10, 25, 2, 30))
    assert end - start == timedelta(hours=3)


def test_a_window_must_end_after_it_starts() -> None:
    with pytest.raises(InvalidObservation, match="must end after it starts") as err:
        resolve_window(wall(7, 1, 12), wall(7, 1, 12))
    assert err.value.field == "end"
    with pytest.raises(InvalidObservation, match="must end after it starts"):
        resolve_window(wall(7, 1, 12), wall(7, 1, 11))


def test_a_window_names_which_end_is_ambiguous() -> None:
    with pytest.raises(AmbiguousLocalTime) as err:
        resolve_window(wall(10, 25, 0, 30), wall(10, 25, 1, 30))
    assert err.value.field == "end"
    with pytest.raises(NonexistentLocalTime) as gap:
        resolve_window(wall(3, 29, 1, 30), wall(3, 29, 4), start_field="from")
    assert gap.value.field == "from"


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        (utc(10, 25, 0, 30), "Sun 25 Oct 2026 01:30:00 BST"),
        (utc(10, 25, 1, 30), "Sun 25 Oct 2026 01:30:00 GMT"),
        (utc(3, 29, 0, 59, 59), "Sun 29 Mar 2026 00:59:59 GMT"),
        (utc(3, 29, 1, 0, 0), "Sun 29 Mar 2026 02:00:00 BST"),
        (utc(4, 6, 9, 5), "Mon 6 Apr 2026 10:05:00 BST"),
    ],
)
def test_an_instant_is_described_as_a_london_clock_showed_it(instant: datetime, shown: str) -> None:
    assert describe_local(instant) == shown


def test_describing_in_another_zone() -> None:
    assert describe_local(utc(1, 15, 12), "Pacific/Auckland") == "Fri 16 Jan 2026 01:00:00 NZDT"


def test_describing_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        describe_local(wall(7, 1, 12))
