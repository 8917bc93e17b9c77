"""Schedules: when a condition applies, read on the local wall clock.

The 2026 UK changes: on Sun 29 March at 01:00 GMT the clocks go forward to 02:00 BST
(local 01:00-01:59 never happens); on Sun 25 October at 02:00 BST they go back to 01:00
GMT (local 01:00-01:59 happens twice: 00:00-00:59 UTC as BST, 01:00-01:59 UTC as GMT).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zones.errors import InvalidSchedule, UnknownTimeZone
from zones.holidays import bank_holidays, demo_exceptions, easter_sunday
from zones.icalendar import exceptions_from_icalendar
from zones.schedule import DASH, DatedException, Schedule, WeeklyWindow, describe_days

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAYS = frozenset({MON, TUE, WED, THU, FRI})
LONDON = ZoneInfo("Europe/London")
US = timedelta(microseconds=1)


def window(start: str, end: str, *days: int) -> WeeklyWindow:
    return WeeklyWindow(frozenset(days), time.fromisoformat(start), time.fromisoformat(end))


def schedule(*windows: WeeklyWindow, **kwargs: Any) -> Schedule:
    return Schedule(windows, **kwargs)


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def london(month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """A London wall-clock reading in 2026; ``fold=1`` is the second pass of a repeated hour."""
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON, fold=fold)


SCHOOL_RUN = schedule(window("08:00", "16:00", *WEEKDAYS))
FRIDAY_NIGHT = schedule(window("22:00", "06:00", FRI))


# Windows crossing midnight belong to the day they start on.


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (london(3, 6, 21, 59), False),  # Friday, before it opens
        (london(3, 6, 22, 0), True),
        (london(3, 7, 3, 0), True),  # Saturday small hours: Friday's window
        (london(3, 7, 5, 59), True),
        (london(3, 7, 6, 0), False),  # closed at 06:00
        (london(3, 7, 22, 30), False),  # Saturday night: Saturday is not one of its days
        (london(3, 8, 3, 0), False),
    ],
)
def test_a_friday_night_window_runs_into_saturday_morning(moment: datetime, inside: bool) -> None:
    assert FRIDAY_NIGHT.active_at(moment) is inside


def test_a_friday_night_window_is_named_from_friday() -> None:
    assert (
        FRIDAY_NIGHT.window_at(london(3, 7, 3))
        == f"Friday 2026-03-06 22:00{DASH}Saturday 06:00 GMT"
    )
    assert FRIDAY_NIGHT.window_at(london(3, 7, 22, 30)) is None


def test_start_equal_to_end_is_a_whole_day_from_the_start() -> None:
    all_day = schedule(window("07:00", "07:00", MON))
    assert all_day.active_at(london(3, 2, 7, 0))
    assert all_day.active_at(london(3, 3, 6, 59))
    assert not all_day.active_at(london(3, 3, 7, 0))
    assert not all_day.active_at(london(3, 2, 6, 59))


# 08:00-16:00 stays 08:00-16:00 local across both changes.


@pytest.mark.parametrize(
    ("opens", "closes"),
    [
        (utc(3, 27, 8), utc(3, 27, 16)),  # Friday before the spring change: GMT
        (utc(3, 30, 7), utc(3, 30, 15)),  # Monday after it: BST, an hour ahead of UTC
        (utc(10, 23, 7), utc(10, 23, 15)),  # Friday before the autumn change: BST
        (utc(10, 26, 8), utc(10, 26, 16)),  # Monday after it: GMT again
    ],
)
def test_the_school_run_opens_at_0800_local_whatever_the_season(
    opens: datetime, closes: datetime
) -> None:
    assert not SCHOOL_RUN.active_at(opens - US)
    assert SCHOOL_RUN.active_at(opens)
    assert SCHOOL_RUN.active_at(closes - US)
    assert not SCHOOL_RUN.active_at(closes)
    day = opens.replace(hour=0)
    assert SCHOOL_RUN.intervals(day, day + timedelta(days=1)) == [(opens, closes)]


def test_the_school_run_is_named_with_the_clock_of_its_day() -> None:
    assert SCHOOL_RUN.window_at(utc(3, 3, 9)) == f"Tuesday 2026-03-03 08:00{DASH}16:00 GMT"
    assert SCHOOL_RUN.window_at(utc(3, 31, 9)) == f"Tuesday 2026-03-31 08:00{DASH}16:00 BST"


# The repeated hour: on 25 Oct 2026 the clock shows 01:00-01:59 twice.


def test_both_passes_of_the_repeated_hour_read_0130() -> None:
    # (Compared in UTC: Python never calls an instant in a fold equal to another zone's.)
    assert london(10, 25, 1, 30).astimezone(UTC) == utc(10, 25, 0, 30)
    assert london(10, 25, 1, 30, fold=1).astimezone(UTC) == utc(10, 25, 1, 30)


def test_fixes_in_both_passes_of_the_repeated_hour_are_inside_a_window_covering_it() -> None:
    small_hours = schedule(window("00:30", "02:30", SUN))
    fixes = [london(10, 25, 1, 30), london(10, 25, 1, 30, fold=1), utc(10, 25, 0, 30)]
    assert small_hours.active(fixes).tolist() == [True, True, True]
    assert small_hours.active_at(utc(10, 25, 1, 30))
    # Three hours by the stopwatch: 00:30 BST to 02:30 GMT.
    assert small_hours.intervals(utc(10, 24, 12), utc(10, 25, 12)) == [
        (utc(10, 24, 23, 30), utc(10, 25, 2, 30))
    ]
    assert small_hours.window_at(utc(10, 25, 1)) == (f"Sunday 2026-10-25 00:30 BST{DASH}02:30 GMT")


def test_a_window_starting_in_the_repeated_hour_opens_at_the_first_0130() -> None:
    late = schedule(window("01:30", "03:00", SUN))
    assert not late.active_at(utc(10, 25, 0, 29, 59))
    assert late.active_at(utc(10, 25, 0, 30))  # 01:30 BST
    # 01:00-01:29 GMT reads before 01:30: outside, until the clock reaches 01:30 again.
    assert not late.active_at(utc(10, 25, 1, 15))
    assert late.active_at(utc(10, 25, 1, 30))  # 01:30 GMT
    assert late.intervals(utc(10, 24), utc(10, 26)) == [
        (utc(10, 25, 0, 30), utc(10, 25, 1, 0)),
        (utc(10, 25, 1, 30), utc(10, 25, 3, 0)),
    ]


def test_a_window_ending_in_the_repeated_hour_closes_at_the_last_0130() -> None:
    early = schedule(window("00:00", "01:30", SUN))
    assert early.active_at(utc(10, 25, 0, 29))  # 01:29 BST
    assert not early.active_at(utc(10, 25, 0, 45))  # 01:45 BST
    assert early.active_at(utc(10, 25, 1, 15))  # 01:15 GMT: the clock reads inside again
    assert not early.active_at(utc(10, 25, 1, 30))  # 01:30 GMT, the last 01:30
    assert early.intervals(utc(10, 24), utc(10, 26)) == [
        (utc(10, 24, 23), utc(10, 25, 0, 30)),
        (utc(10, 25, 1), utc(10, 25, 1, 30)),
    ]


# The skipped hour: on 29 Mar 2026 the clock goes from 00:59:59 GMT to 02:00 BST.


def test_a_window_starting_in_the_skipped_hour_opens_when_the_clock_jumps_past_it() -> None:
    late = schedule(window("01:30", "03:00", SUN))
    assert not late.active_at(utc(3, 29, 0, 59, 59))  # 00:59:59 GMT
    assert late.active_at(utc(3, 29, 1))  # 02:00 BST, the first reading past 01:30
    assert late.intervals(utc(3, 28), utc(3, 30)) == [(utc(3, 29, 1), utc(3, 29, 2))]
    assert late.window_at(utc(3, 29, 1)) == f"Sunday 2026-03-29 01:30{DASH}03:00 BST"


def test_a_window_ending_in_the_skipped_hour_closes_when_the_clock_jumps_past_it() -> None:
    early = schedule(window("00:00", "01:30", SUN))
    assert early.active_at(utc(3, 29, 0, 59, 59))
    assert not early.active_at(utc(3, 29, 1))
    assert early.intervals(utc(3, 28), utc(3, 30)) == [(utc(3, 29, 0), utc(3, 29, 1))]


# Dated exceptions remove the windows that start on their days.

SPRING_BANK_HOLIDAY = DatedException(date(2026, 5, 25), date(2026, 5, 25), "Spring bank holiday")
CURFEW_AND_SCHOOL = schedule(
    window("22:00", "06:00", SUN),
    window("08:00", "16:00", *WEEKDAYS),
    exceptions=(SPRING_BANK_HOLIDAY,),
)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (london(5, 24, 23, 0), True),  # Sunday night before the bank holiday
        (london(5, 25, 3, 0), True),  # Sunday's window runs on into the holiday
        (london(5, 25, 6, 0), False),  # and ends at its own end
        (london(5, 25, 9, 0), False),  # the holiday's own window is gone
        (london(5, 26, 9, 0), True),  # Tuesday as usual
        (london(5, 22, 9, 0), True),  # Friday before
    ],
)
def test_a_bank_holiday_removes_its_own_window_only(moment: datetime, inside: bool) -> None:
    assert CURFEW_AND_SCHOOL.active_at(moment) is inside


def test_an_excepted_sunday_takes_its_overnight_window_into_monday_with_it() -> None:
    sunday_off = DatedException(date(2026, 5, 24), date(2026, 5, 24), "Authorised visit")
    curfew = schedule(window("22:00", "06:00", SUN), exceptions=(sunday_off,))
    assert not curfew.active_at(london(5, 25, 3, 0))
    assert curfew.active_at(london(5, 18, 3, 0))


def test_the_date_range_is_of_the_day_a_window_starts_on() -> None:
    curfew = schedule(
        window("22:00", "06:00", *range(7)),
        from_date=date(2026, 7, 1),
        until_date=date(2026, 7, 21),
    )
    assert not curfew.active_at(london(7, 1, 3))  # June 30th's window: before the range
    assert curfew.active_at(london(7, 1, 22))
    assert curfew.active_at(london(7, 22, 3))  # the last night runs to its morning
    assert not curfew.active_at(london(7, 22, 22))


# Intervals: merged, and exactly the instants active() says yes to.


def test_touching_windows_merge_into_one_interval() -> None:
    night_and_morning = schedule(window("22:00", "06:00", *range(7)), window("06:00", "08:00", MON))
    assert night_and_morning.intervals(utc(1, 4, 12), utc(1, 5, 12)) == [
        (utc(1, 4, 22), utc(1, 5, 8))
    ]


def test_intervals_are_clipped_to_the_range_asked_about() -> None:
    assert SCHOOL_RUN.intervals(utc(3, 3, 9), utc(3, 3, 10)) == [(utc(3, 3, 9), utc(3, 3, 10))]
    assert SCHOOL_RUN.intervals(utc(3, 3, 10), utc(3, 3, 9)) == []


def test_edges_open_and_close_and_skip_a_start_already_inside() -> None:
    assert SCHOOL_RUN.edges(utc(3, 3, 9), utc(3, 5)) == [
        (utc(3, 3, 16), False),
        (utc(3, 4, 8), True),
        (utc(3, 4, 16), False),
    ]
    assert SCHOOL_RUN.edges(utc(3, 3, 8), utc(3, 3, 12)) == [(utc(3, 3, 8), True)]


# Transitions of 2026 (UTC), checked below, around which the property tests probe.
TRANSITIONS = {
    "Europe/London": (utc(3, 29, 1), utc(10, 25, 1)),
    "America/New_York": (utc(3, 8, 7), utc(11, 1, 6)),
    "Australia/Sydney": (utc(4, 4, 16), utc(10, 3, 16)),  # southern hemisphere
    "Australia/Lord_Howe": (utc(4, 4, 15), utc(10, 3, 15, 30)),  # a 30-minute shift
}


@pytest.mark.parametrize("tz", sorted(TRANSITIONS))
def test_the_probed_instants_are_the_clock_changes(tz: str) -> None:
    zone = ZoneInfo(tz)
    for change in TRANSITIONS[tz]:
        assert (change - US).astimezone(zone).utcoffset() != change.astimezone(zone).utcoffset()


INTERESTING_TIMES = [time(h, m) for h in (0, 1, 2, 3) for m in (0, 15, 30, 45)] + [
    time(8),
    time(16),
    time(22),
    time(23, 30),
]
times_of_day = st.one_of(
    st.sampled_from(INTERESTING_TIMES),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
weekly_windows = st.builds(
    WeeklyWindow, st.frozensets(st.integers(0, 6), min_size=1), times_of_day, times_of_day
)


@st.composite
def schedules_and_instants(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime, datetime]:
    """A schedule in a zone, an instant near one of its clock changes, a range around it."""
    tz = draw(st.sampled_from(sorted(TRANSITIONS)))
    change = draw(st.sampled_from(TRANSITIONS[tz]))
    local_day = change.astimezone(ZoneInfo(tz)).date()
    near_days = st.integers(-3, 3).map(lambda n: local_day + timedelta(days=n))
    exceptions = draw(
        st.lists(
            st.builds(
                lambda first, length: DatedException(first, first + timedelta(days=length), "x"),
                near_days,
                st.integers(0, 2),
            ),
            max_size=2,
        )
    )
    bounds = sorted(draw(st.lists(near_days, min_size=2, max_size=2)))
    from_date = draw(st.one_of(st.none(), st.just(bounds[0])))
    until_date = draw(st.one_of(st.none(), st.just(bounds[1])))
    sched = Schedule(
        tuple(draw(st.lists(weekly_windows, min_size=1, max_size=3))),
        tz=tz,
        exceptions=tuple(exceptions),
        from_date=from_date,
        until_date=until_date,
    )
    # Boundaries fall on whole minutes of UTC here, so probe minutes and a microsecond either side.
    t = change + timedelta(minutes=draw(st.integers(-48 * 60, 48 * 60)))
    t += draw(st.sampled_from([timedelta(0), US, -US]))
    lo = t - timedelta(minutes=draw(st.integers(0, 36 * 60)))
    hi = t + timedelta(minutes=draw(st.integers(1, 36 * 60)))
    return sched, t, lo, hi


@settings(max_examples=400, deadline=None)
@given(schedules_and_instants())
def test_an_instant_is_active_exactly_when_it_lies_in_an_interval(
    case: tuple[Schedule, datetime, datetime, datetime],
) -> None:
    sched, t, lo, hi = case
    spans = sched.intervals(lo, hi)
    assert sched.active_at(t) == any(a <= t < b for a, b in spans)
    assert sched.active([t, lo]).tolist() == [sched.active_at(t), sched.active_at(lo)]


@settings(max_examples=300, deadline=None)
@given(schedules_and_instants())
def test_intervals_are_sorted_disjoint_merged_and_exact_at_their_ends(
    case: tuple[Schedule, datetime, datetime, datetime],
) -> None:
    sched, _, lo, hi = case
    spans = sched.intervals(lo, hi)
    for i, (a, b) in enumerate(spans):
        assert lo <= a < b <= hi
        assert a.utcoffset() == timedelta(0)
        if i + 1 < len(spans):
            assert b < spans[i + 1][0]  # a gap between: touching spans are merged
        assert sched.active_at(a)
        assert sched.active_at(b - US)
        assert a == lo or not sched.active_at(a - US)
        assert b == hi or not sched.active_at(b)
    edges = sched.edges(lo, hi)
    assert [e for e, _ in edges] == sorted(e for e, _ in edges)
    assert all(lo <= e < hi for e, _ in edges)


def test_active_takes_a_numpy_array_of_utc_instants() -> None:
    instants = np.array(["2026-03-30T06:59:59", "2026-03-30T07:00"], dtype="datetime64[s]")
    assert SCHOOL_RUN.active(instants).tolist() == [False, True]


def test_a_naive_time_is_refused_as_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        SCHOOL_RUN.active_at(datetime(2026, 3, 3, 9))


# Words an officer can read out.


def test_a_school_run_with_holidays_reads_plainly() -> None:
    school_year = [
        e
        for e in demo_exceptions(2026) + demo_exceptions(2027)
        if e.first_day >= date(2026, 12, 19)
    ]
    school = schedule(window("08:00", "16:00", *WEEKDAYS), exceptions=tuple(school_year[:14]))
    assert school.describe() == (
        f"08:00{DASH}16:00 Monday to Friday, Europe/London local time, except 14 dated "
        "exceptions (first: Christmas holidays 2026-12-19 to 2027-01-03)"
    )
    alone = schedule(window("08:00", "16:00", *WEEKDAYS), exceptions=school_year[:1])
    assert alone.describe().endswith(
        "except 1 dated exception (Christmas holidays 2026-12-19 to 2027-01-03)"
    )


@pytest.mark.parametrize(
    ("w", "words"),
    [
        (
            window("22:00", "06:00", FRI, SAT),
            f"22:00{DASH}06:00 the next day, starting on Friday and Saturday",
        ),
        (window("19:00", "00:00", *range(7)), f"19:00{DASH}midnight every day"),
        (window("00:00", "00:00", SAT, SUN), "all day Saturday and Sunday"),
        (window("09:00", "09:00", MON), "24 hours from 09:00, starting on Monday"),
    ],
)
def test_windows_read_plainly(w: WeeklyWindow, words: str) -> None:
    assert w.describe() == words


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ({MON, WED, FRI}, "Monday, Wednesday and Friday"),
        ({MON, TUE, WED, SUN}, "Monday to Wednesday and Sunday"),
        ({SAT}, "Saturday"),
        (set(range(7)), "every day"),
    ],
)
def test_days_read_plainly(days: set[int], words: str) -> None:
    assert describe_days(days) == words


def test_the_date_range_is_said() -> None:
    ranged = schedule(window("08:00", "16:00", MON), until_date=date(2026, 7, 21))
    assert ranged.describe().endswith("Europe/London local time, until 2026-07-21")


# Construction refuses what cannot be meant.


def test_a_schedule_without_windows_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="at least one window") as caught:
        Schedule(())
    assert caught.value.field == "windows"


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(UnknownTimeZone) as caught:
        Schedule((window("08:00", "16:00", MON),), tz="BST")
    assert caught.value.field == "tz"


def test_an_exception_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="comes before") as caught:
        DatedException(date(2026, 5, 2), date(2026, 5, 1), "backwards")
    assert caught.value.field == "last_day"


def test_a_window_with_seconds_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="whole minutes"):
        WeeklyWindow(frozenset({MON}), time(8, 0, 30), time(16))


# JSON: the API body.

SCHOOL_JSON: dict[str, Any] = {
    "timezone": "Europe/London",
    "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "16:00"}],
    "exceptions": [
        {"first_day": "2026-12-19", "last_day": "2027-01-03", "label": "Christmas holidays"}
    ],
    "from_date": None,
    "until_date": None,
}


def test_the_documented_shape_reads_and_writes_back_unchanged() -> None:
    school = Schedule.from_json(SCHOOL_JSON)
    assert school.windows == (window("08:00", "16:00", *WEEKDAYS),)
    assert school.exceptions[0].label == "Christmas holidays"
    assert school.to_json() == SCHOOL_JSON


def test_only_windows_are_required() -> None:
    minimal = Schedule.from_json({"windows": [{"days": ["sat"], "start": "10:00", "end": "24:00"}]})
    assert minimal == schedule(window("10:00", "00:00", SAT))


labels = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_characters="\x7f"), max_size=30
)
dates = st.dates(date(1990, 1, 1), date(2100, 12, 31))
whole_minutes = st.builds(time, st.integers(0, 23), st.integers(0, 59))
any_schedule = st.builds(
    Schedule,
    st.lists(
        st.builds(
            WeeklyWindow, st.frozensets(st.integers(0, 6), min_size=1), whole_minutes, whole_minutes
        ),
        min_size=1,
        max_size=5,
    ).map(tuple),
    st.sampled_from(["Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC"]),
    st.lists(
        st.builds(
            lambda first, length, label: DatedException(
                first, first + timedelta(days=length), label
            ),
            dates,
            st.integers(0, 40),
            labels,
        ),
        max_size=5,
    ).map(tuple),
    st.one_of(st.none(), dates),
    st.none(),
)


@given(any_schedule)
def test_json_round_trips(original: Schedule) -> None:
    assert Schedule.from_json(json.loads(json.dumps(original.to_json()))) == original


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(SCHOOL_JSON))
    body["windows"].append({"days": ["sat"], "start": "10:00", "end": "12:00"})
    for path, value in changes.items():
        *parents, last = path.split("__")
        where: Any = body
        for part in parents:
            where = where[int(part)] if part.isdigit() else where[part]
        if value is _DROP:
            del where[int(last) if last.isdigit() else last]
        else:
            where[int(last) if last.isdigit() else last] = value
    return body


_DROP = object()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            _body(windows__1__start="25:00"),
            "schedule.windows[1].start",
            "'25:00' is not a time of day HH:MM",
        ),
        (_body(windows__0__end="4pm"), "schedule.windows[0].end", "is not a time of day"),
        (_body(windows__1__start=800), "schedule.windows[1].start", "is not a time of day"),
        (
            _body(windows__0__days=["mon", "funday"]),
            "schedule.windows[0].days[1]",
            "'funday' is not a day",
        ),
        (_body(windows__0__days=["mon", "mon"]), "schedule.windows[0].days[1]", "given twice"),
        (_body(windows__0__days=[]), "schedule.windows[0].days", "at least one day"),
        (_body(windows__0__days="mon"), "schedule.windows[0].days", "must be a JSON list"),
        (_body(windows__0__colour="red"), "schedule.windows[0].colour", "unknown key 'colour'"),
        (_body(windows__0__start=_DROP), "schedule.windows[0].start", "start is required"),
        (_body(colour="red"), "schedule.colour", "unknown key 'colour'"),
        (_body(windows=_DROP), "schedule.windows", "windows is required"),
        (_body(windows=[]), "schedule.windows", "at least one window"),
        (_body(windows=[SCHOOL_JSON["windows"][0]] * 51), "schedule.windows", "at most 50 windows"),
        (
            _body(exceptions=[SCHOOL_JSON["exceptions"][0]] * 1001),
            "schedule.exceptions",
            "at most 1000",
        ),
        (
            _body(exceptions__0__first_day="2026-02-30"),
            "schedule.exceptions[0].first_day",
            "not a date",
        ),
        (
            _body(exceptions__0__last_day="2026-12-01"),
            "schedule.exceptions[0].last_day",
            "comes before",
        ),
        (_body(exceptions__0__label="two\nlines"), "schedule.exceptions[0].label", "one line"),
        (_body(exceptions__0__label=7), "schedule.exceptions[0].label", "must be text"),
        (
            _body(from_date="2026-09-01", until_date="2026-07-21"),
            "schedule.until_date",
            "comes before",
        ),
        (_body(from_date="1/9/2026"), "schedule.from_date", "not a date YYYY-MM-DD"),
        (_body(timezone=None), "schedule.timezone", "tz database name"),
        (["not", "an", "object"], "schedule", "must be a JSON object"),
    ],
)
def test_each_refusal_names_its_field(body: Any, field: str, message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message) as caught:
        Schedule.from_json(body)
    assert caught.value.field == field
    assert caught.value.code == "invalid_schedule"


def test_an_unknown_time_zone_in_json_names_its_field() -> None:
    with pytest.raises(UnknownTimeZone) as caught:
        Schedule.from_json(_body(timezone="BST"))
    assert caught.value.field == "schedule.timezone"


def test_the_field_prefix_is_the_callers() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Schedule.from_json(_body(windows__1__start="25:00"), field="conditions[2].schedule")
    assert caught.value.field == "conditions[2].schedule.windows[1].start"


# iCalendar: GOV.UK's bank holidays feed, as published.

GOV_UK_BANK_HOLIDAYS = """\
BEGIN:VCALENDAR
VERSION:2.0
METHOD:PUBLISH
PRODID:-//uk.gov/GOVUK calendars//EN
CALSCALE:GREGORIAN
BEGIN:VEVENT
DTEND;VALUE=DATE:20260102
DTSTART;VALUE=DATE:20260101
SUMMARY:New Year\u2019s Day
UID:ca6af7456b0088abad9a69f9f620f5ac-0@gov.uk
SEQUENCE:0
DTSTAMP:20250901T000000Z
END:VEVENT
BEGIN:VEVENT
DTEND;VALUE=DATE:20260404
DTSTART;VALUE=DATE:20260403
SUMMARY:Good Friday
UID:ca6af7456b0088abad9a69f9f620f5ac-1@gov.uk
SEQUENCE:0
DTSTAMP:20250901T000000Z
END:VEVENT
END:VCALENDAR
"""


def test_the_gov_uk_feed_gives_one_day_per_holiday() -> None:
    assert exceptions_from_icalendar(GOV_UK_BANK_HOLIDAYS) == [
        DatedException(date(2026, 1, 1), date(2026, 1, 1), "New Year\u2019s Day"),
        DatedException(date(2026, 4, 3), date(2026, 4, 3), "Good Friday"),
    ]


def test_crlf_endings_and_folded_lines_are_unfolded() -> None:
    folded = GOV_UK_BANK_HOLIDAYS.replace("SUMMARY:Good Friday", "SUMMARY:Good\r\n  Friday")
    data = folded.replace("\n", "\r\n").replace("\r\r\n", "\r\n").encode("utf-8")
    assert exceptions_from_icalendar(data)[1].label == "Good Friday"


def _calendar(*event_lines: str) -> str:
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "BEGIN:VEVENT",
            *event_lines,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def test_a_multi_day_event_ends_the_day_before_its_dtend() -> None:
    half_term = _calendar(
        "DTSTART;VALUE=DATE:20261024", "DTEND;VALUE=DATE:20261102", "SUMMARY:Half term"
    )
    assert exceptions_from_icalendar(half_term) == [
        DatedException(date(2026, 10, 24), date(2026, 11, 1), "Half term")
    ]


def test_a_timed_event_covers_the_dates_it_touches_in_its_own_zone() -> None:
    # 23:00 to 01:00 in Sydney: 12:00 to 14:00 UTC on the 1st, but the 1st and 2nd locally.
    visit = _calendar(
        "DTSTART;TZID=Australia/Sydney:20260101T230000",
        "DTEND;TZID=Australia/Sydney:20260102T010000",
        "SUMMARY:Visit",
    )
    assert exceptions_from_icalendar(visit) == [
        DatedException(date(2026, 1, 1), date(2026, 1, 2), "Visit")
    ]
    ending_at_midnight = _calendar(
        "DTSTART:20260301T090000Z", "DTEND:20260302T000000Z", "SUMMARY:x"
    )
    assert exceptions_from_icalendar(ending_at_midnight)[0].last_day == date(2026, 3, 1)


def test_cancelled_events_are_left_out() -> None:
    assert (
        exceptions_from_icalendar(_calendar("DTSTART;VALUE=DATE:20260101", "STATUS:CANCELLED"))
        == []
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("hello", "not an iCalendar file: no BEGIN:VCALENDAR"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (
            "BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n",
            "not a readable iCalendar file",
        ),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "not a readable iCalendar file"),
        (_calendar("SUMMARY:when?"), "has no DTSTART"),
        (_calendar("DTSTART;VALUE=DATE:2026XX01", "SUMMARY:Bad"), "unreadable DTSTART"),
        (
            _calendar("DTSTART;VALUE=DATE:20260105", "DTEND;VALUE=DATE:20260101"),
            "ends before it starts",
        ),
        (_calendar("DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=YEARLY"), "repeats"),
        (_calendar("DTSTART;TZID=Nowhere/Foo:20260101T230000"), "unknown time zone 'Nowhere/Foo'"),
    ],
)
def test_bad_calendars_are_refused_as_invalid_schedules(data: str | bytes, message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message) as caught:
        exceptions_from_icalendar(data)
    assert caught.value.field == "icalendar"


# The demo's own calendar, computed by rule.


def test_demo_exceptions_hold_the_2026_bank_holidays() -> None:
    days = {e.first_day: e.label for e in demo_exceptions(2026) if e.first_day == e.last_day}
    assert days[date(2026, 4, 3)] == "Good Friday"
    assert days[date(2026, 4, 6)] == "Easter Monday"
    assert days[date(2026, 12, 25)] == "Christmas Day"
    assert days[date(2026, 12, 28)] == "Boxing Day (substitute day)"  # the 26th is a Saturday
    assert date(2026, 12, 26) not in days


def test_demo_exceptions_cover_the_school_holidays_of_the_year() -> None:
    ranges = {e.label: (e.first_day, e.last_day) for e in demo_exceptions(2026)}
    assert ranges["Christmas holidays"][0] in (date(2025, 12, 20), date(2026, 12, 19))
    assert ranges["October half term"] == (date(2026, 10, 24), date(2026, 11, 1))
    assert ranges["Summer holidays"][0].month == 7 and ranges["Summer holidays"][1].month == 9
    assert Schedule((window("08:00", "16:00", *WEEKDAYS),), exceptions=tuple(demo_exceptions(2026)))


@pytest.mark.parametrize(
    ("year", "christmas", "boxing"),
    [
        (2021, date(2021, 12, 27), date(2021, 12, 28)),  # Saturday and Sunday
        (2022, date(2022, 12, 27), date(2022, 12, 26)),  # Sunday: Boxing Day keeps its Monday
        (2026, date(2026, 12, 25), date(2026, 12, 28)),
    ],
)
def test_christmas_substitutes(year: int, christmas: date, boxing: date) -> None:
    days = {e.label.removesuffix(" (substitute day)"): e.first_day for e in bank_holidays(year)}
    assert (days["Christmas Day"], days["Boxing Day"]) == (christmas, boxing)


@pytest.mark.parametrize(
    "easter",
    [date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5), date(2038, 4, 25), date(2285, 3, 22)],
)
def test_easter_by_the_computus(easter: date) -> None:
    assert easter_sunday(easter.year) == easter
