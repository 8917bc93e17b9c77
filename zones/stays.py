"""Stays: one subject's time in one area, derived from the judged fixes as a whole.

A *track* is one subject against one zone of one clause at one severity (the prohibited
area, or the warning ring beyond it). Its stays are a pure function of

* the fixes of the subject, each marked *in* (inside this track's area) or *clear*,
* the *segments* of time when the clause applies (its schedule windows while the order is in
  force), some of them covered by an authorised visit,
* the rules (confirmation, closing, the gap that splits a stay), and
* ``now``, which bounds what can have happened yet.

Because the stays are derived from the set of fixes, sorted by when they happened, the same
fixes give the same stays however they arrive: in order, shuffled or in late bursts. The
service re-derives the stays of the time range a batch touches and reconciles the stored
alerts with them.

The rules, in order of precedence:

* A stay opens at the first *in* fix of a segment; it is **pending** until it holds at least
  ``confirm_fixes`` in-fixes and has lasted ``confirm_seconds`` (from its opening to its last
  in-fix), then **confirmed** at the fix that made it so. A sighting reported by a person is
  confirmation on its own.
* A stay closes at the first clear fix of a run of ``clear_fixes`` clear fixes, or of a run
  that lasts ``clear_seconds`` (when that is above zero), whichever completes first. The
  close time is the first clear fix of that run: when the exit was first seen, so time
  inside is never overstated. Fewer clear fixes than that, followed by an in-fix, are jitter
  at the edge: the stay goes on.
* No fix at all for more than ``gap_seconds`` after the last one ends the stay at its last
  in-fix ("signal lost"): two in-fixes 27 minutes apart with nothing between are two stays.
  A stay with no fix since ``now - gap`` ends the same way.
* A stay open when its segment ends (a schedule window closes, the order ends, a visit ends)
  closes at that instant. When a segment starts while the subject's last known fix, no
  older than ``last_known_seconds``, was in, a stay opens at the segment's start with that
  fix as its basis ("already inside when the window opened", or "still inside when the
  visit ended").
* Stays within a segment covered by an authorised visit are **authorised**: stored, never
  an alert.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta


class Opened(enum.StrEnum):
    """What opened a stay."""

    FIX = "fix"  # an in-fix
    WINDOW_OPENED = "window_opened"  # the clause began to apply while the subject was in
    VISIT_ENDED = "visit_ended"  # an authorised visit ended while the subject was in


class Closed(enum.StrEnum):
    """What closed a stay."""

    EXIT = "exit"  # clear fixes, as the rules count them
    SIGNAL_LOST = "signal_lost"  # no fix for longer than the gap
    WINDOW_CLOSED = "window_closed"  # the clause stopped applying (schedule, order's end)
    VISIT_STARTED = "visit_started"  # an authorised visit began
    VISIT_ENDED = "visit_ended"  # the authorised visit this stay was covered by ended


@dataclass(frozen=True, slots=True)
class Rules:
    """When a stay is confirmed, when it ends; see the module docstring."""

    confirm_fixes: int = 1
    confirm_seconds: float = 0.0
    clear_fixes: int = 1
    clear_seconds: float = 0.0
    gap_seconds: float = 900.0
    last_known_seconds: float = 900.0

    def as_dict(self) -> dict[str, float]:
        return {
            "confirm_fixes": self.confirm_fixes,
            "confirm_seconds": self.confirm_seconds,
            "clear_fixes": self.clear_fixes,
            "clear_seconds": self.clear_seconds,
            "gap_seconds": self.gap_seconds,
            "last_known_seconds": self.last_known_seconds,
        }


@dataclass(frozen=True, slots=True)
class Mark:
    """One fix of the subject as this track sees it."""

    time: datetime
    key: int  # the caller's identity of the fix (an observation id, an index)
    inside: bool
    by_person: bool = False  # a sighting reported by a person: confirmed on its own


@dataclass(frozen=True, slots=True)
class Segment:
    """A half-open span ``[start, end)`` when the clause applies; ``end`` None: no end yet."""

    start: datetime
    end: datetime | None
    visit: int | None = None  # the authorised visit covering it, if any
    closes: Closed = Closed.WINDOW_CLOSED  # what its end means to a stay open at the time

    def holds(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


@dataclass(frozen=True, slots=True)
class Stay:
    first_at: datetime  # the first in-fix, or the segment start that opened it
    last_at: datetime  # the last in-fix (or ``first_at`` for a stay opened at a start)
    closed_at: datetime | None
    closed: Closed | None
    opened: Opened
    keys: tuple[int, ...]  # the in-fixes that make it, basis fix first for a carried stay
    confirmed_at: datetime | None
    visit: int | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def authorised(self) -> bool:
        return self.visit is not None

    @property
    def fix_count(self) -> int:
        return len(self.keys)


@dataclass
class _Open:
    first_at: datetime
    opened: Opened
    keys: list[int] = field(default_factory=list)
    last_in: datetime | None = None
    last_fix: datetime | None = None
    confirmed_at: datetime | None = None
    clear_run: list[datetime] = field(default_factory=list)

    def stay(self, closed_at: datetime | None, closed: Closed | None, visit: int | None) -> Stay:
        return Stay(
            first_at=self.first_at,
            last_at=self.last_in or self.first_at,
            closed_at=closed_at,
            closed=closed,
            opened=self.opened,
            keys=tuple(self.keys),
            confirmed_at=self.confirmed_at,
            visit=visit,
        )


def derive(
    marks: Sequence[Mark],
    segments: Sequence[Segment],
    rules: Rules,
    now: datetime,
) -> list[Stay]:
    """Every stay of one track, in time order; see the module docstring for the rules.

    ``marks`` may come in any order (they are sorted by time, then key); ``segments`` must
    not overlap. Fixes after ``now`` are ignored.
    """
    ordered = sorted((m for m in marks if m.time <= now), key=lambda m: (m.time, m.key))
    gap = timedelta(seconds=rules.gap_seconds)
    last_known = timedelta(seconds=rules.last_known_seconds)
    stays: list[Stay] = []
    times = [m.time for m in ordered]
    previous_end: Segment | None = None
    for seg in sorted(segments, key=lambda s: s.start):
        if seg.start > now:
            break
        lo = _bisect_left(times, seg.start)
        hi = len(ordered) if seg.end is None else _bisect_left(times, seg.end)
        current: _Open | None = None
        # Already in when the segment starts: the last fix before it, if recent, says so.
        if lo > 0 and ordered[lo - 1].inside and seg.start - ordered[lo - 1].time <= last_known:
            basis = ordered[lo - 1]
            adjacent_visit = (
                previous_end is not None
                and previous_end.visit is not None
                and previous_end.end == seg.start
            )
            current = _Open(
                first_at=seg.start,
                opened=Opened.VISIT_ENDED if adjacent_visit else Opened.WINDOW_OPENED,
                keys=[basis.key],
                last_in=seg.start,
                last_fix=seg.start,
            )
            _confirm(current, seg.start, rules, basis.by_person)
        for m in ordered[lo:hi]:
            if (
                current is not None
                and current.last_fix is not None
                and m.time - current.last_fix > gap
            ):
                stays.append(current.stay(current.last_in, Closed.SIGNAL_LOST, seg.visit))
                current = None
            if m.inside:
                if current is None:
                    current = _Open(first_at=m.time, opened=Opened.FIX)
                current.keys.append(m.key)
                current.last_in = m.time
                current.last_fix = m.time
                current.clear_run.clear()
                _confirm(current, m.time, rules, m.by_person)
            elif current is not None:
                current.clear_run.append(m.time)
                current.last_fix = m.time
                run = current.clear_run
                if len(run) >= rules.clear_fixes or (
                    rules.clear_seconds > 0
                    and (run[-1] - run[0]).total_seconds() >= rules.clear_seconds
                ):
                    stays.append(current.stay(run[0], Closed.EXIT, seg.visit))
                    current = None
        if current is not None:
            assert current.last_fix is not None
            lost_at = current.last_fix + gap
            if seg.end is not None and seg.end <= now and seg.end <= lost_at:
                closed_at = current.clear_run[0] if current.clear_run else seg.end
                stays.append(current.stay(min(closed_at, seg.end), seg.closes, seg.visit))
            elif lost_at < now and (seg.end is None or lost_at < seg.end):
                stays.append(current.stay(current.last_in, Closed.SIGNAL_LOST, seg.visit))
            else:
                stays.append(current.stay(None, None, seg.visit))
        previous_end = seg
    return stays


def _confirm(stay: _Open, at: datetime, rules: Rules, by_person: bool) -> None:
    if stay.confirmed_at is not None:
        return
    lasted = ((stay.last_in or at) - stay.first_at).total_seconds()
    if by_person or (len(stay.keys) >= rules.confirm_fixes and lasted >= rules.confirm_seconds):
        stay.confirmed_at = at


def _bisect_left(times: list[datetime], t: datetime) -> int:
    lo, hi = 0, len(times)
    while lo < hi:
        mid = (lo + hi) // 2
        if times[mid] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


def merge_segments(segments: Sequence[Segment]) -> list[Segment]:
    """Sorted segments with touching or overlapping ones of the same visit joined."""
    out: list[Segment] = []
    for s in sorted(segments, key=lambda s: s.start):
        if out and out[-1].visit == s.visit and out[-1].end is not None and s.start <= out[-1].end:
            last = out[-1]
            end = None if s.end is None else max(last.end, s.end)  # type: ignore[type-var]
            out[-1] = replace(last, end=end, closes=s.closes)
        else:
            out.append(s)
    return out


def cut_by_visits(
    segments: Sequence[Segment], visits: Sequence[tuple[int, datetime, datetime]]
) -> list[Segment]:
    """Split segments where authorised visits ``(id, start, end)`` begin and end.

    The parts covered by a visit carry its id; the part before a visit closes with
    ``VISIT_STARTED``, the visit's own part with ``VISIT_ENDED``.
    """
    out = list(segments)
    for vid, vstart, vend in sorted(visits, key=lambda v: v[1]):
        nxt: list[Segment] = []
        for s in out:
            if s.visit is not None or (s.end is not None and s.end <= vstart) or s.start >= vend:
                nxt.append(s)
                continue
            if s.start < vstart:
                nxt.append(replace(s, end=vstart, closes=Closed.VISIT_STARTED))
            v_end = vend if s.end is None else min(vend, s.end)
            closes = Closed.VISIT_ENDED if v_end == vend else s.closes
            nxt.append(Segment(max(s.start, vstart), v_end, vid, closes))
            if s.end is None or s.end > vend:
                nxt.append(replace(s, start=vend))
        out = nxt
    return sorted(out, key=lambda s: s.start)
