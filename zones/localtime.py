"""Local civil times typed by an operator, turned into instants without guessing at clock changes.

Once a year the clocks skip an hour (a time in it never happened) and once a year they
repeat one (a time in it happened twice). A sighting recorded at the wrong one of two
instants can put a subject inside a zone an hour before they were there, so both cases
are refused with a message that says what happened and how to say which was meant.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zones.errors import (
    AmbiguousLocalTime,
    InvalidObservation,
    NonexistentLocalTime,
    UnknownTimeZone,
)

DEFAULT_TZ = "Europe/London"

# Spelt out because strftime's %a and %b follow the process locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def time_zone(tz: str, *, field: str = "tz") -> ZoneInfo:
    """The tz database zone named ``tz`` (e.g. "Europe/London"), or ``UnknownTimeZone``."""
    try:
        return ZoneInfo(tz)
    # ValueError for malformed keys ("../x", ""), OSError for a directory such as "Europe".
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(
            f"unknown time zone {tz[:60]!r}: give a tz database name such as {DEFAULT_TZ!r}",
            field=field,
        ) from None


def resolve_local(local: datetime, tz: str = DEFAULT_TZ, *, field: str = "local_time") -> datetime:
    """The UTC instant of a wall-clock time in ``tz``, when that time happened exactly once.

    Parameters
    ----------
    local
        A naive datetime as read off a clock in ``tz``. Its ``fold`` is ignored: a typed
        time carries none, and choosing between two instants is the operator's call.
    tz
        A tz database name.
    field
        Where the time came from, named in any error.

    Returns
    -------
    datetime
        Aware, in UTC.

    Raises
    ------
    NonexistentLocalTime
        The time lies in the gap skipped when the clocks went forward.
    AmbiguousLocalTime
        The time lies in the hour repeated when the clocks went back; ``candidates``
        holds both instants, earlier first.
    UnknownTimeZone
        ``tz`` is not a tz database name.
    ValueError
        ``local`` is aware: it already names one instant, so the caller should use it as
        it is (a programming error, not an operator's).
    """
    if local.tzinfo is not None:
        raise ValueError(
            f"resolve_local takes a naive wall-clock time, got {local.isoformat()} which "
            "already has an offset: use it as it is"
        )
    zone = time_zone(tz)
    wall = local.replace(fold=0)
    # In a repeated hour fold=0 is the first pass and fold=1 the second; in a skipped one
    # fold=0 reads the time with the old offset and fold=1 with the new (PEP 495).
    first, second = wall.replace(tzinfo=zone), wall.replace(tzinfo=zone, fold=1)
    as_utc = first.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None, fold=0) != wall:
        raise NonexistentLocalTime(_gap_message(wall, zone, tz), field=field)
    if first.utcoffset() != second.utcoffset():
        candidates = (as_utc, second.astimezone(UTC))
        raise AmbiguousLocalTime(
            f"{_date(wall)} {_clock(wall)} happened twice in {tz}: "
            f"{_clock(wall)} {first.tzname()} ({_in_utc(candidates[0], wall)}) or "
            f"{_clock(wall)} {second.tzname()} ({_in_utc(candidates[1], wall)}); "
            "give a UTC offset to say which",
            candidates,
            field=field,
        )
    return as_utc


def resolve_window(
    start: datetime,
    end: datetime,
    tz: str = DEFAULT_TZ,
    *,
    start_field: str = "start",
    end_field: str = "end",
) -> tuple[datetime, datetime]:
    """Both ends of a local-time window as UTC instants; the end must come after the start.

    Each end is resolved by ``resolve_local`` (and may raise what it raises); an end not
    after the start raises ``InvalidObservation`` on ``end_field``.
    """
    start_utc = resolve_local(start, tz, field=start_field)
    end_utc = resolve_local(end, tz, field=end_field)
    if end_utc <= start_utc:
        raise InvalidObservation(
            f"the window must end after it starts: it starts {_date(start)} {_clock(start)} "
            f"and ends {_date(end)} {_clock(end)} ({tz})",
            field=end_field,
        )
    return start_utc, end_utc


def describe_local(instant: datetime, tz: str = DEFAULT_TZ) -> str:
    """An instant as a clock in ``tz`` showed it, e.g. "Sun 25 Oct 2026 01:30:00 BST".

    The abbreviation (BST or GMT in London) is what tells the two passes of a repeated
    hour apart. ``instant`` must be aware (``ValueError`` otherwise).
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"describe_local needs an aware datetime, got {instant.isoformat()}")
    local = instant.astimezone(time_zone(tz))
    return (
        f"{_DAYS[local.weekday()]} {_date(local)} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {local.tzname()}"
    )


def _gap_message(wall: datetime, zone: ZoneInfo, tz: str) -> str:
    """Say which hour was skipped, e.g. "from 01:00 GMT straight to 02:00 BST"."""
    # The change lies between the two readings of the wall time; find it to the second.
    lo = math.floor(wall.replace(tzinfo=zone, fold=1).timestamp())
    hi = math.ceil(wall.replace(tzinfo=zone).timestamp())
    before = datetime.fromtimestamp(lo, zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    old, new = datetime.fromtimestamp(lo, zone), datetime.fromtimestamp(hi, zone)
    skipped_from = old + timedelta(seconds=hi - lo)  # wall arithmetic: where old's clock got to
    return (
        f"{_date(wall)} {_clock(wall)} never happened in {tz}: the clocks went forward "
        f"from {_clock(skipped_from)} {old.tzname()} straight to {_clock(new)} {new.tzname()}; "
        "check the time, or give it with a UTC offset"
    )


def _date(moment: datetime) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _clock(moment: datetime) -> str:
    """Hours and minutes, with seconds only when there are some."""
    if moment.second or moment.microsecond:
        return f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def _in_utc(instant: datetime, wall: datetime) -> str:
    """A UTC instant as "00:30 UTC", with the UTC date when it is not the local date."""
    day = "" if instant.date() == wall.date() else f" on {_date(instant)}"
    return f"{_clock(instant)} UTC{day}"
