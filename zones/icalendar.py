"""Dated exceptions read from an iCalendar file (RFC 5545), such as GOV.UK's bank holidays.

Each event becomes the local dates it covers: an all-day event (``DTSTART;VALUE=DATE``)
runs to the day before its exclusive ``DTEND`` (one day without one); a timed event
covers every date it touches in its own time zone. ``SUMMARY`` is the label. Line folding
and CRLF endings are the parser's business (the ``icalendar`` package). Whatever is wrong
with the file is refused as ``InvalidSchedule``, never as the parser's own exception.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import icalendar

from zones.errors import InvalidSchedule
from zones.schedule import MAX_EXCEPTIONS, MAX_LABEL, DatedException

MAX_CHARACTERS = 2_000_000  # a year of bank holidays is 3 kB; 2 MB is plenty for any feed

_DAY = timedelta(days=1)


def exceptions_from_icalendar(
    data: bytes | str, *, field: str = "icalendar"
) -> list[DatedException]:
    """The days of each event in an iCalendar file, in the file's order.

    Parameters
    ----------
    data
        The file, as bytes (UTF-8) or text.
    field
        Where the file came from, named in any error.

    Returns
    -------
    list of DatedException
        One per event; cancelled events (``STATUS:CANCELLED``) are left out.

    Raises
    ------
    InvalidSchedule
        Not an iCalendar file, an event without a readable start, a recurring event
        (``RRULE``/``RDATE``: not expanded, so refused rather than half-read), an unknown
        time zone, or more than ``MAX_EXCEPTIONS`` events.
    """
    text = _text(data, field)
    if "BEGIN:VCALENDAR" not in text.upper():
        raise InvalidSchedule("not an iCalendar file: no BEGIN:VCALENDAR", field=field)
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise InvalidSchedule(f"not a readable iCalendar file: {reason}", field=field) from None
    events = [e for e in calendar.walk("VEVENT") if str(e.get("STATUS", "")).upper() != "CANCELLED"]
    if len(events) > MAX_EXCEPTIONS:
        raise InvalidSchedule(f"at most {MAX_EXCEPTIONS} events, got {len(events)}", field=field)
    return [
        _exception(event, f"event {n} {_name(event)}", field)
        for n, event in enumerate(events, start=1)
    ]


def _text(data: bytes | str, field: str) -> str:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidSchedule("not an iCalendar file: not UTF-8 text", field=field) from None
    if not isinstance(data, str):
        raise InvalidSchedule("not an iCalendar file: expected text", field=field)
    if len(data) > MAX_CHARACTERS:
        raise InvalidSchedule(f"the file is larger than {MAX_CHARACTERS} characters", field=field)
    return data.removeprefix("\ufeff")


def _exception(event: icalendar.Component, name: str, field: str) -> DatedException:
    broken = [f"{prop} ({why})" for prop, why in event.errors]
    if broken:
        raise InvalidSchedule(f"{name}: unreadable {', '.join(broken)}"[:300], field=field)
    for prop in ("RRULE", "RDATE"):
        if prop in event:
            raise InvalidSchedule(
                f"{name} repeats ({prop}); give each occurrence as its own event", field=field
            )
    if "DTSTART" not in event:
        raise InvalidSchedule(f"{name} has no DTSTART", field=field)
    start = event.decoded("DTSTART")
    end = event.decoded("DTEND") if "DTEND" in event else None
    if end is None and "DURATION" in event:
        end = start + event.decoded("DURATION")
    first, last = _days(start, end, name, event, field)
    label = " ".join(str(event.get("SUMMARY", "")).split())
    if len(label) > MAX_LABEL:
        label = label[: MAX_LABEL - 1] + "\u2026"
    return DatedException(first, last, label)


def _days(
    start: object, end: object, name: str, event: icalendar.Component, field: str
) -> tuple[date, date]:
    """The first and last local dates an event covers (``end`` exclusive, as RFC 5545 has it)."""
    if isinstance(start, datetime):
        if start.tzinfo is None and "TZID" in event["DTSTART"].params:
            tzid = str(event["DTSTART"].params["TZID"])[:60]
            raise InvalidSchedule(f"{name} has an unknown time zone {tzid!r}", field=field)
        if end is None:
            return start.date(), start.date()
        if not isinstance(end, datetime) or (end.tzinfo is None) != (start.tzinfo is None):
            raise InvalidSchedule(f"{name}: DTSTART and DTEND are of different kinds", field=field)
        if end.tzinfo is not None:
            end = end.astimezone(start.tzinfo)  # the dates it touches in its own zone
        if end < start:
            raise InvalidSchedule(f"{name} ends before it starts", field=field)
        last = end - timedelta(microseconds=1) if end > start else end
        return start.date(), last.date()
    if isinstance(start, date):
        if end is None:
            return start, start
        if not isinstance(end, date) or isinstance(end, datetime):
            raise InvalidSchedule(f"{name}: DTSTART and DTEND are of different kinds", field=field)
        if end <= start:
            raise InvalidSchedule(f"{name} ends before it starts", field=field)
        return start, end - _DAY
    raise InvalidSchedule(f"{name} has an unreadable DTSTART", field=field)


def _name(event: icalendar.Component) -> str:
    summary = " ".join(str(event.get("SUMMARY", "")).split())
    return repr(summary[:40]) if summary else "(no summary)"
