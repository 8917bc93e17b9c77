"""A schedule's JSON shape, the API body too: written plainly, read strictly.

::

    {
      "timezone": "Europe/London",
      "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "16:00"}],
      "exceptions": [
        {"first_day": "2026-12-19", "last_day": "2027-01-03", "label": "Christmas holidays"}
      ],
      "from_date": null,
      "until_date": null
    }

``days`` are ``mon`` ... ``sun``; times are ``HH:MM`` on the local wall clock (``end``
may be ``24:00``, read as midnight ``00:00``); ``end`` not after ``start`` runs past
midnight; dates are ``YYYY-MM-DD`` local dates, inclusive. ``windows`` is required (1 to
50); ``timezone`` defaults to Europe/London; ``exceptions`` (up to 1000) and the dates may
be left out. Unknown keys are refused. Every refusal is an ``InvalidSchedule`` (or
``UnknownTimeZone``) whose ``field`` names the exact place, e.g.
``schedule.windows[1].start``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, time
from typing import Any, TypeVar

from zones.errors import InvalidSchedule
from zones.localtime import DEFAULT_TZ, time_zone
from zones.schedule import (
    MAX_EXCEPTIONS,
    MAX_WINDOWS,
    DatedException,
    Schedule,
    WeeklyWindow,
)

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_T = TypeVar("_T")


def schedule_to_json(schedule: Schedule) -> dict[str, Any]:
    """The JSON shape of ``schedule`` (days in week order, exceptions as given)."""
    return {
        "timezone": schedule.tz,
        "windows": [
            {
                "days": [DAY_KEYS[d] for d in sorted(w.days)],
                "start": w.start.strftime("%H:%M"),
                "end": w.end.strftime("%H:%M"),
            }
            for w in schedule.windows
        ],
        "exceptions": [
            {
                "first_day": e.first_day.isoformat(),
                "last_day": e.last_day.isoformat(),
                "label": e.label,
            }
            for e in schedule.exceptions
        ],
        "from_date": _iso(schedule.from_date),
        "until_date": _iso(schedule.until_date),
    }


def schedule_from_json(data: object, *, field: str = "schedule") -> Schedule:
    """A ``Schedule`` from its JSON shape; ``field`` prefixes the place named in errors."""
    body = _object(
        data,
        field,
        required=("windows",),
        optional=("timezone", "exceptions", "from_date", "until_date"),
    )
    tz = body.get("timezone", DEFAULT_TZ)
    if not isinstance(tz, str):
        raise InvalidSchedule(
            f"the time zone must be a tz database name such as {DEFAULT_TZ!r}",
            field=f"{field}.timezone",
        )
    time_zone(tz, field=f"{field}.timezone")
    windows = _list(body["windows"], f"{field}.windows", MAX_WINDOWS, "windows")
    exceptions = _list(
        body.get("exceptions", []), f"{field}.exceptions", MAX_EXCEPTIONS, "dated exceptions"
    )
    built_windows = tuple(_window(w, f"{field}.windows[{i}]") for i, w in enumerate(windows))
    built_exceptions = tuple(
        _exception(e, f"{field}.exceptions[{i}]") for i, e in enumerate(exceptions)
    )
    from_date = _date(body.get("from_date"), f"{field}.from_date", nullable=True)
    until_date = _date(body.get("until_date"), f"{field}.until_date", nullable=True)
    return _built(
        lambda: Schedule(built_windows, tz, built_exceptions, from_date, until_date), field
    )


def _window(data: object, field: str) -> WeeklyWindow:
    body = _object(data, field, required=("days", "start", "end"))
    days = _list(body["days"], f"{field}.days", 7, "days")
    numbers: list[int] = []
    for i, name in enumerate(days):
        key = name.lower() if isinstance(name, str) else None
        if key not in DAY_KEYS:
            raise InvalidSchedule(
                f"{_shown(name)} is not a day: use {', '.join(DAY_KEYS)}",
                field=f"{field}.days[{i}]",
            )
        if DAY_KEYS.index(key) in numbers:
            raise InvalidSchedule(f"{_shown(name)} is given twice", field=f"{field}.days[{i}]")
        numbers.append(DAY_KEYS.index(key))
    start = _time(body["start"], f"{field}.start", midnight_as_24=False)
    end = _time(body["end"], f"{field}.end", midnight_as_24=True)
    return _built(lambda: WeeklyWindow(frozenset(numbers), start, end), field)


def _exception(data: object, field: str) -> DatedException:
    body = _object(data, field, required=("first_day", "last_day"), optional=("label",))
    first = _date(body["first_day"], f"{field}.first_day", nullable=False)
    last = _date(body["last_day"], f"{field}.last_day", nullable=False)
    label = body.get("label", "")
    assert first is not None and last is not None
    return _built(lambda: DatedException(first, last, label), field)


def _object(
    data: object, field: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidSchedule("must be a JSON object", field=field)
    for key in data:
        if key not in required and key not in optional:
            raise InvalidSchedule(
                f"unknown key {_shown(key)}: expected {', '.join(required + optional)}",
                field=f"{field}.{str(key)[:40]}",
            )
    for key in required:
        if key not in data:
            raise InvalidSchedule(f"{key} is required", field=f"{field}.{key}")
    return data


def _list(data: object, field: str, limit: int, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise InvalidSchedule(f"{what} must be a JSON list", field=field)
    if len(data) > limit:
        raise InvalidSchedule(f"at most {limit} {what}, got {len(data)}", field=field)
    return data


def _time(data: object, field: str, *, midnight_as_24: bool) -> time:
    if midnight_as_24 and data == "24:00":
        return time(0)
    match = _TIME.fullmatch(data) if isinstance(data, str) else None
    if match is None:
        raise InvalidSchedule(f"{_shown(data)} is not a time of day HH:MM", field=field)
    return time(int(match[1]), int(match[2]))


def _date(data: object, field: str, *, nullable: bool) -> date | None:
    if data is None and nullable:
        return None
    if isinstance(data, str) and _DATE.fullmatch(data):
        try:
            return date.fromisoformat(data)
        except ValueError:
            pass
    raise InvalidSchedule(f"{_shown(data)} is not a date YYYY-MM-DD", field=field)


def _built(make: Callable[[], _T], field: str) -> _T:
    """``make()``, with the field of any refusal placed under ``field``."""
    try:
        return make()
    except InvalidSchedule as exc:
        raise InvalidSchedule(exc.message, field=f"{field}.{exc.field}") from None


def _shown(value: object) -> str:
    """A value as it may be echoed in a message: short."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
