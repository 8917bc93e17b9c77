"""When a condition applies: weekly windows on the local wall clock, less dated exceptions.

"Must not go within 200 m of St Luke's school between 08:00 and 16:00 on school days" is
a ``Schedule`` of one ``WeeklyWindow`` (Monday to Friday, 08:00-16:00) in Europe/London,
with the school holidays and bank holidays as ``DatedException``s.

The rule
--------
An instant ``t`` is inside a schedule iff, reading ``t`` on the wall clock of the
schedule's time zone (zoneinfo), its local time of day lies in ``[start, end)`` of a
window that belongs to that local day; a window crossing midnight (``end <= start``)
covers ``[start, 24:00)`` of the day it belongs to and ``[00:00, end)`` of the next. A
window belongs to the day it STARTS on, and applies on that day only when the day is one
of its ``days``, is not excepted, and lies within ``[from_date, until_date]``.

Everything follows from reading the clock, which is how an order is worded and read:

- "08:00-16:00" stays 08:00-16:00 local across both clock changes (07:00-15:00 UTC in
  British Summer Time, 08:00-16:00 UTC in winter).
- When the clocks go back (Europe/London, last Sunday of October: 02:00 BST -> 01:00
  GMT) the clock shows 01:00-01:59 twice; a window covering 01:30 covers both instants
  that read 01:30. A window that starts or ends inside the repeated hour starts at the
  first instant the clock shows its start and ends at the last instant the clock reaches
  its end; in between, an instant is inside only while the clock reads inside the window,
  so 00:00-01:30 that night is inside 00:00-01:30 BST, outside 01:30-02:00 BST, and inside
  again 01:00-01:30 GMT.
- When the clocks go forward (last Sunday of March: 01:00 GMT -> 02:00 BST) the clock
  never shows 01:00-01:59; a window starting at 01:30 starts at the first instant that
  reads 01:30 or later (02:00 BST, 01:00 UTC), and one ending at 01:30 ends then too.

``active`` applies the rule to each instant; ``intervals`` turns it into UTC spans by
walking the zone's offset changes, and the tests hold the two to exact agreement.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from zones.errors import InvalidSchedule
from zones.localtime import DEFAULT_TZ, time_zone
from zones.wallclock import constant_offset_spans

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DASH = "\u2013"  # an en dash, as times are printed: "08:00\u201316:00"
MAX_WINDOWS = 50
MAX_EXCEPTIONS = 1000
MAX_LABEL = 200

_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Local wall-clock hours on some days of the week; ``end <= start`` runs past midnight.

    ``days`` are 0 (Monday) to 6 (Sunday); ``start`` and ``end`` are naive, in whole minutes.
    ``start == end`` is 24 hours from ``start``. The window belongs to the day it starts on.
    """

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", frozenset(self.days))
        if not self.days:
            raise InvalidSchedule("a window needs at least one day", field="days")
        for day in self.days:
            if type(day) is not int or not 0 <= day <= 6:
                raise InvalidSchedule(
                    f"days are 0 (Monday) to 6 (Sunday), got {day!r}", field="days"
                )
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise InvalidSchedule(f"{name} must be a local time of day", field=name)
            if value.second or value.microsecond:
                raise InvalidSchedule(f"{name} must be whole minutes (HH:MM)", field=name)

    @property
    def crosses_midnight(self) -> bool:
        """True when the window runs into the next day (``end <= start``)."""
        return self.end <= self.start

    def span_on(self, day: date) -> tuple[datetime, datetime]:
        """The window started on ``day`` as naive wall-clock datetimes, ``[start, end)``."""
        end_day = day + _DAY if self.crosses_midnight else day
        return datetime.combine(day, self.start), datetime.combine(end_day, self.end)

    def describe(self) -> str:
        """The window in words, e.g. "08:00-16:00 Monday to Friday" (with an en dash)."""
        start, end, days = _hhmm(self.start), _hhmm(self.end), describe_days(self.days)
        if not self.crosses_midnight:
            return f"{start}{DASH}{end} {days}"
        if self.start == self.end == time(0):
            return f"all day {days}"
        if self.end == time(0):
            return f"{start}{DASH}midnight {days}"
        starting = "each day" if len(self.days) == 7 else f"on {days}"
        if self.start == self.end:
            return f"24 hours from {start}, starting {starting}"
        return f"{start}{DASH}{end} the next day, starting {starting}"


@dataclass(frozen=True, slots=True)
class DatedException:
    """Local days, ``first_day`` to ``last_day`` inclusive, on which no window starts."""

    first_day: date
    last_day: date
    label: str = ""

    def __post_init__(self) -> None:
        for name in ("first_day", "last_day"):
            value = getattr(self, name)
            if not isinstance(value, date) or isinstance(value, datetime):
                raise InvalidSchedule(f"{name} must be a date", field=name)
        if self.last_day < self.first_day:
            raise InvalidSchedule(
                f"the last day {self.last_day.isoformat()} comes before the first "
                f"{self.first_day.isoformat()}",
                field="last_day",
            )
        if not isinstance(self.label, str):
            raise InvalidSchedule("the label must be text", field="label")
        if len(self.label) > MAX_LABEL:
            raise InvalidSchedule(f"the label is longer than {MAX_LABEL} characters", field="label")
        if any(ord(c) < 32 or ord(c) == 127 for c in self.label):
            raise InvalidSchedule("the label must be one line of text", field="label")

    def describe(self) -> str:
        """E.g. "Christmas holidays 2026-12-19 to 2027-01-03" or "Christmas Day 2026-12-25"."""
        days = self.first_day.isoformat()
        if self.last_day != self.first_day:
            days += f" to {self.last_day.isoformat()}"
        return f"{self.label} {days}" if self.label else days


@dataclass(frozen=True, slots=True)
class Schedule:
    """Weekly windows in the local civil time of ``tz``, within optional dates, less exceptions.

    ``from_date`` and ``until_date`` are local dates, inclusive, and like the exceptions
    they apply to the day a window starts on. A schedule has at least one window: a
    condition that always applies has no schedule (``None``). See the module docstring for
    how instants are judged across clock changes.
    """

    windows: tuple[WeeklyWindow, ...]
    tz: str = DEFAULT_TZ
    exceptions: tuple[DatedException, ...] = ()
    from_date: date | None = None
    until_date: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", tuple(self.windows))
        object.__setattr__(self, "exceptions", tuple(self.exceptions))
        if not self.windows:
            raise InvalidSchedule(
                "a schedule needs at least one window (a condition that always applies "
                "has no schedule)",
                field="windows",
            )
        if len(self.windows) > MAX_WINDOWS:
            raise InvalidSchedule(
                f"at most {MAX_WINDOWS} windows, got {len(self.windows)}", field="windows"
            )
        for i, window in enumerate(self.windows):
            if not isinstance(window, WeeklyWindow):
                raise InvalidSchedule("not a weekly window", field=f"windows[{i}]")
        if len(self.exceptions) > MAX_EXCEPTIONS:
            raise InvalidSchedule(
                f"at most {MAX_EXCEPTIONS} dated exceptions, got {len(self.exceptions)}",
                field="exceptions",
            )
        for i, exception in enumerate(self.exceptions):
            if not isinstance(exception, DatedException):
                raise InvalidSchedule("not a dated exception", field=f"exceptions[{i}]")
        if not isinstance(self.tz, str):
            raise InvalidSchedule("the time zone must be a tz database name", field="tz")
        time_zone(self.tz)
        for name in ("from_date", "until_date"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
                raise InvalidSchedule(f"{name} must be a date", field=name)
        if self.from_date and self.until_date and self.until_date < self.from_date:
            raise InvalidSchedule(
                f"until_date {self.until_date.isoformat()} comes before from_date "
                f"{self.from_date.isoformat()}",
                field="until_date",
            )

    def active(self, times: Sequence[datetime] | NDArray[np.datetime64]) -> NDArray[np.bool_]:
        """Whether the schedule applies at each instant.

        Parameters
        ----------
        times
            Aware datetimes (any offset), or a numpy ``datetime64`` array read as UTC.

        Returns
        -------
        numpy.ndarray
            Booleans, one per instant.
        """
        zone = self._zone()
        ordinals, micros = _local_days_and_times(_aware_instants(times), zone)
        in_force_today = self._in_force(ordinals)
        in_force_yesterday = self._in_force(ordinals - 1)
        weekday, weekday_yesterday = (ordinals - 1) % 7, (ordinals - 2) % 7  # ordinal 1: Monday
        out = np.zeros(len(ordinals), dtype=bool)
        for window in self.windows:
            on = np.zeros(7, dtype=bool)
            on[sorted(window.days)] = True
            start, end = _micros(window.start), _micros(window.end)
            started_today = on[weekday] & in_force_today & (micros >= start)
            if window.crosses_midnight:
                out |= started_today | (on[weekday_yesterday] & in_force_yesterday & (micros < end))
            else:
                out |= started_today & (micros < end)
        return out

    def active_at(self, t: datetime) -> bool:
        """Whether the schedule applies at the instant ``t`` (aware)."""
        return self._window_of(_wall(_as_utc(t, "t"), self._zone())) is not None

    def window_at(self, t: datetime) -> str | None:
        """The window ``t`` falls in, e.g. "Tuesday 2026-03-03 08:00-16:00 GMT", or ``None``.

        The abbreviations are those in force when the window opened and closed; both are
        given when a clock change falls inside it ("00:00 BST-03:00 GMT"); the dashes are en dashes.
        """
        zone = self._zone()
        found = self._window_of(_wall(_as_utc(t, "t"), zone))
        if found is None:
            return None
        day, window = found
        start, end = window.span_on(day)
        opened, closed = _abbreviation(start, zone, last=False), _abbreviation(end, zone, last=True)
        first = f"{DAY_NAMES[day.weekday()]} {day.isoformat()} {_hhmm(window.start)}"
        second = _hhmm(window.end)
        if end.date() != day:
            second = f"{DAY_NAMES[end.weekday()]} {second}"
        if opened == closed:
            return f"{first}{DASH}{second} {opened}"
        return f"{first} {opened}{DASH}{second} {closed}"

    def intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The maximal UTC spans ``[a, b)`` within ``[start, end)`` when the schedule applies.

        Sorted, disjoint and merged where they touch (22:00-06:00 and 06:00-08:00 give one
        span); exactly the instants ``active`` says yes to.
        """
        lo, hi = _as_utc(start, "start"), _as_utc(end, "end")
        if hi <= lo:
            return []
        zone = self._zone()
        segments = constant_offset_spans(zone, lo, hi)
        wall_lo = min(_naive(a + offset) for a, _, offset in segments)
        wall_hi = max(_naive(b + offset) for _, b, offset in segments)
        spans = self._wall_spans(wall_lo, wall_hi)
        span_ends = [b for _, b in spans]
        out: list[tuple[datetime, datetime]] = []
        for a, b, offset in segments:
            # Within a segment the wall clock runs evenly, so wall spans map straight back.
            seg_lo, seg_hi = _naive(a + offset), _naive(b + offset)
            for span_lo, span_hi in spans[bisect.bisect_right(span_ends, seg_lo) :]:
                if span_lo >= seg_hi:
                    break
                first = (max(span_lo, seg_lo) - offset).replace(tzinfo=UTC)
                last = (min(span_hi, seg_hi) - offset).replace(tzinfo=UTC)
                if out and out[-1][1] >= first:
                    out[-1] = (out[-1][0], max(out[-1][1], last))
                else:
                    out.append((first, last))
        return out

    def edges(self, start: datetime, end: datetime) -> list[tuple[datetime, bool]]:
        """The instants in ``[start, end)`` when the schedule opens (True) or closes (False)."""
        lo, hi = _as_utc(start, "start"), _as_utc(end, "end")
        out: list[tuple[datetime, bool]] = []
        for a, b in self.intervals(lo, hi):
            if a > lo or not self.active_at(lo - _MICROSECOND):
                out.append((a, True))
            if b < hi:
                out.append((b, False))
        return out

    def describe(self) -> str:
        """The schedule in plain English, fit to be read out in court."""
        text = "; ".join(w.describe() for w in self.windows) + f", {self.tz} local time"
        if self.from_date and self.until_date:
            text += f", from {self.from_date.isoformat()} to {self.until_date.isoformat()}"
        elif self.from_date:
            text += f", from {self.from_date.isoformat()}"
        elif self.until_date:
            text += f", until {self.until_date.isoformat()}"
        if len(self.exceptions) == 1:
            text += f", except 1 dated exception ({self.exceptions[0].describe()})"
        elif self.exceptions:
            first = min(self.exceptions, key=lambda e: (e.first_day, e.last_day))
            text += f", except {len(self.exceptions)} dated exceptions (first: {first.describe()})"
        return text

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape (also the API body); see ``zones.schedule_json``."""
        from zones.schedule_json import schedule_to_json  # imports this module: the door is lazy

        return schedule_to_json(self)

    @classmethod
    def from_json(cls, data: object, *, field: str = "schedule") -> Schedule:
        """A schedule from its JSON shape, or ``InvalidSchedule`` naming the exact field."""
        from zones.schedule_json import schedule_from_json  # it imports this module

        return schedule_from_json(data, field=field)

    def _zone(self) -> ZoneInfo:
        return time_zone(self.tz)

    def _excepted(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The excepted days as merged, sorted ordinal ranges (first, last)."""
        merged: list[list[int]] = []
        for e in sorted(self.exceptions, key=lambda e: e.first_day):
            first, last = e.first_day.toordinal(), e.last_day.toordinal()
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        return (
            np.array([m[0] for m in merged], dtype=np.int64),
            np.array([m[1] for m in merged], dtype=np.int64),
        )

    def _in_force(self, ordinals: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether windows may start on each local day (by ordinal): in range, not excepted."""
        ok = np.ones(len(ordinals), dtype=bool)
        if self.from_date is not None:
            ok &= ordinals >= self.from_date.toordinal()
        if self.until_date is not None:
            ok &= ordinals <= self.until_date.toordinal()
        firsts, lasts = self._excepted()
        if len(firsts):
            i = np.searchsorted(firsts, ordinals, side="right") - 1
            ok &= ~((i >= 0) & (ordinals <= lasts[np.maximum(i, 0)]))
        return ok

    def _days_in_force(self, first: date, last: date) -> set[date]:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        ok = self._in_force(np.array([d.toordinal() for d in days], dtype=np.int64))
        return {d for d, keep in zip(days, ok, strict=True) if keep}

    def _window_of(self, wall: datetime) -> tuple[date, WeeklyWindow] | None:
        """The local day and window a wall-clock reading falls in (the first listed)."""
        today = wall.date()
        yesterday = today - _DAY
        in_force = self._days_in_force(yesterday, today)
        now = wall.time()
        for window in self.windows:
            if window.crosses_midnight:
                if now >= window.start and today in in_force and today.weekday() in window.days:
                    return today, window
                if (
                    now < window.end
                    and yesterday in in_force
                    and yesterday.weekday() in window.days
                ):
                    return yesterday, window
            elif (
                window.start <= now < window.end
                and today in in_force
                and today.weekday() in window.days
            ):
                return today, window
        return None

    def _wall_spans(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """The schedule's windows meeting the wall-clock range ``[lo, hi)``, merged, sorted."""
        first = lo.date() - _DAY  # a window crossing midnight may reach in from the day before
        in_force = self._days_in_force(first, hi.date())
        spans = sorted(
            (a, b)
            for day in in_force
            for window in self.windows
            if day.weekday() in window.days
            for a, b in (window.span_on(day),)
            if b > lo and a < hi
        )
        merged: list[tuple[datetime, datetime]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged


def describe_days(days: Iterable[int]) -> str:
    """Days of the week in words: "Monday to Friday", "Saturday and Sunday", "every day"."""
    chosen = sorted(set(days))
    if len(chosen) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in chosen:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    words: list[str] = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{DAY_NAMES[run[0]]} to {DAY_NAMES[run[-1]]}")
        else:
            words.extend(DAY_NAMES[d] for d in run)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _as_utc(t: datetime, name: str) -> datetime:
    if not isinstance(t, datetime) or t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (an instant), got {t!r}")
    return t.astimezone(UTC)


def _aware_instants(times: Sequence[datetime] | NDArray[np.datetime64]) -> list[datetime]:
    if isinstance(times, np.ndarray) and times.dtype.kind == "M":
        naive = times.astype("datetime64[us]").astype(datetime)
        return [t.replace(tzinfo=UTC) for t in naive]
    return [_as_utc(t, "each time") for t in times]


def _local_days_and_times(
    instants: list[datetime], zone: ZoneInfo
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each instant's local date (proleptic ordinal) and local time of day (microseconds)."""
    ordinals = np.empty(len(instants), dtype=np.int64)
    micros = np.empty(len(instants), dtype=np.int64)
    for i, t in enumerate(instants):
        local = t.astimezone(zone)
        ordinals[i] = local.toordinal()
        micros[i] = (
            (local.hour * 60 + local.minute) * 60 + local.second
        ) * 1_000_000 + local.microsecond
    return ordinals, micros


def _micros(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _naive(t: datetime) -> datetime:
    return t.replace(tzinfo=None)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """What a clock in ``zone`` showed at ``instant``, as a naive datetime."""
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _abbreviation(wall: datetime, zone: ZoneInfo, *, last: bool) -> str:
    """The zone's abbreviation when the clock showed ``wall`` (its last showing if ``last``).

    A time skipped by the clocks going forward was "reached" at the change, so it gets the
    abbreviation in force after it.
    """
    first_guess = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    if _naive(first_guess) != wall:  # skipped
        return first_guess.tzname() or ""
    return wall.replace(tzinfo=zone, fold=1 if last else 0).tzname() or ""
