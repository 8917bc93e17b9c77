"""England-like bank holidays and school holidays, computed by rule for demos and tests.

Bank holidays follow the standing rules (New Year, Good Friday and Easter Monday from the
date of Easter, the first and last Mondays of May, the last Monday of August, Christmas
and Boxing Day, with substitute weekdays); the one-off moves a royal occasion brings (the
spring holiday of 2022, say) are not known to a rule. School holidays are typical shapes
(weekend to weekend), not any authority's term dates. The demo generates its own data and
never copies a published calendar.
"""

from __future__ import annotations

from datetime import date, timedelta

from zones.schedule import DatedException

_MONDAY, _WEDNESDAY, _SATURDAY = 0, 2, 5


def demo_exceptions(year: int) -> list[DatedException]:
    """Bank holidays and school holidays covering ``year``, sorted by first day.

    The Christmas holidays that start in December of the year before are included, so
    every day of ``year`` is accounted for.
    """
    return sorted(
        bank_holidays(year) + school_holidays(year - 1)[-1:] + school_holidays(year),
        key=lambda e: (e.first_day, e.last_day, e.label),
    )


def bank_holidays(year: int) -> list[DatedException]:
    """England and Wales bank holidays of ``year`` by the standing rules."""
    easter = easter_sunday(year)
    new_year = _weekday_on_or_after(date(year, 1, 1))
    days = [
        (new_year, "New Year's Day" + ("" if new_year.day == 1 else " (substitute day)")),
        (easter - timedelta(days=2), "Good Friday"),
        (easter + timedelta(days=1), "Easter Monday"),
        (_nth_weekday(year, 5, _MONDAY, 1), "Early May bank holiday"),
        (_last_weekday(year, 5, _MONDAY), "Spring bank holiday"),
        (_last_weekday(year, 8, _MONDAY), "Summer bank holiday"),
        *_christmas(year),
    ]
    return [DatedException(day, day, label) for day, label in days]


def school_holidays(year: int) -> list[DatedException]:
    """Typical England school holidays starting in ``year``, each from a Saturday."""
    easter = easter_sunday(year)
    spring_bank = _last_weekday(year, 5, _MONDAY)
    october = _last_weekday(year, 10, _MONDAY)
    february = _nth_weekday(year, 2, _MONDAY, 3)
    christmas_start = _weekday_on_or_before(date(year, 12, 20), _SATURDAY)
    summer_end = _nth_weekday(year, 9, _WEDNESDAY, 1) - timedelta(days=1)
    return [
        _week_off(february, "February half term"),
        DatedException(easter - timedelta(days=8), easter + timedelta(days=7), "Easter holidays"),
        _week_off(spring_bank, "May half term"),
        DatedException(date(year, 7, 22), summer_end, "Summer holidays"),
        _week_off(october, "October half term"),
        DatedException(christmas_start, christmas_start + timedelta(days=15), "Christmas holidays"),
    ]


def easter_sunday(year: int) -> date:
    """Easter Day in the Gregorian calendar (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    lunar = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lunar) // 451
    month, day = divmod(h + lunar - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _christmas(year: int) -> list[tuple[date, str]]:
    """Christmas Day and Boxing Day, each moved to the next free weekday when at a weekend."""
    taken: set[date] = set()
    out = []
    for day, label in ((date(year, 12, 25), "Christmas Day"), (date(year, 12, 26), "Boxing Day")):
        moved = day
        # A substitute never lands on the other day itself (Boxing Day on a Monday stays).
        while moved.weekday() >= _SATURDAY or moved in taken or (moved != day and moved.day == 26):
            moved += timedelta(days=1)
        taken.add(moved)
        out.append((moved, label if moved == day else f"{label} (substitute day)"))
    return out


def _week_off(monday: date, label: str) -> DatedException:
    """The week of ``monday`` with the weekends either side: Saturday to Sunday, nine days."""
    return DatedException(monday - timedelta(days=2), monday + timedelta(days=6), label)


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= _SATURDAY:
        day += timedelta(days=1)
    return day


def _weekday_on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return _weekday_on_or_before(last, weekday)
