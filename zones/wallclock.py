"""A zone's wall clock as a function of UTC: the stretches over which its offset is constant.

Within one stretch the local clock runs evenly with UTC, so a span of wall-clock time maps
back to one span of instants by subtracting the offset; the stretches are what turn a
local-time rule into exact UTC intervals across clock changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
# Offset changes are looked for between samples this far apart: no zone in the tz database
# changes its offset and changes it back within six hours.
_SAMPLE_SECONDS = 6 * 3600


def constant_offset_spans(
    zone: ZoneInfo, lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """``[lo, hi)`` (aware) cut where ``zone``'s UTC offset changes: ``(start, end, offset)``.

    The spans are in UTC, in order, and cover ``[lo, hi)`` exactly.
    """
    # zoneinfo changes offset on a whole second of its data and reads an instant by its
    # whole second, so searching whole seconds finds each change exactly.
    first, last = (lo - _EPOCH) // _SECOND, -((_EPOCH - hi) // _SECOND)
    before = _offset(zone, first)
    changes: list[tuple[int, timedelta]] = []
    s = first
    while s < last:
        nxt = min(s + _SAMPLE_SECONDS, last)
        after = _offset(zone, nxt)
        if after != before:
            changes += _changes(zone, s, before, nxt, after)
        s, before = nxt, after
    spans: list[tuple[datetime, datetime, timedelta]] = []
    start, offset = lo.astimezone(UTC), _offset(zone, first)
    for second, new in changes:
        at = _EPOCH + second * _SECOND
        if at >= hi:
            break
        spans.append((start, at, offset))
        start, offset = at, new
    spans.append((start, hi.astimezone(UTC), offset))
    return spans


def _offset(zone: ZoneInfo, second: int) -> timedelta:
    offset = (_EPOCH + second * _SECOND).astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _changes(
    zone: ZoneInfo, lo: int, before: timedelta, hi: int, after: timedelta
) -> list[tuple[int, timedelta]]:
    """Offset changes in ``(lo, hi]`` (given one exists): (first second of new offset, it)."""
    a, b = lo, hi
    while b - a > 1:  # invariant: the offset at a is ``before``, at b it is not
        mid = (a + b) // 2
        if _offset(zone, mid) == before:
            a = mid
        else:
            b = mid
    new = _offset(zone, b)
    found = [(b, new)]
    if new != after:
        found += _changes(zone, b, new, hi, after)
    return found
