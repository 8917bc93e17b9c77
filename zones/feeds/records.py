"""Records of an uploaded file (GPX, NDJSON, CSV): each read into a fix, or refused alone
with where it is in the file and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from zones.errors import ImportFailed, InvalidObservation
from zones.feeds.fix import FeedFix, Unreadable

MAX_RECORDS = 50_000  # fixes in one uploaded file: ~14 hours at one a second
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199  # as the API admits instants
MAX_ACCURACY_M = 100_000.0  # as the JSON batch admits: a fix known to 100 km is no fix


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a file in file order: ``where`` it is (``line 7``,
    ``trk[0].trkseg[1].trkpt[5]``), and the fix read from it or the reason it was not."""

    where: str
    fix: FeedFix | None = None
    problem: Unreadable | None = None


def refused(index: int, where: str, exc: InvalidObservation) -> Record:
    return Record(where, problem=Unreadable(index, exc.code, exc.message, exc.field))


def check_count(count: int, limit: int) -> None:
    """Refuse a file with more records than ``limit`` (as soon as it has one too many)."""
    if count > limit:
        raise ImportFailed(
            f"the file has more than {limit:,} records; split it into smaller files",
            field="file",
        )


def instant(text: str, field: str, *, naive_is_utc: bool) -> datetime:
    """An ISO 8601 date and time, in UTC. Without an offset it is UTC only where the format
    says so (GPX's ``time`` is UTC by its schema); elsewhere it is refused."""
    text = text.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidObservation(
            f"{text[:40]!r} is not an ISO 8601 date and time", field=field
        ) from exc
    if when.tzinfo is None:
        if not naive_is_utc:
            raise InvalidObservation(
                f"{text[:40]!r} has no UTC offset: add one, e.g. 2026-11-28T14:03:00+00:00",
                field=field,
            )
        when = when.replace(tzinfo=UTC)
    try:
        when = when.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidObservation(f"{text[:40]!r} is out of range", field=field) from exc
    if not EARLIEST_YEAR <= when.year <= LATEST_YEAR:
        raise InvalidObservation(
            f"the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}, not {when.year}",
            field=field,
        )
    return when


def accuracy(metres: float | None, field: str) -> float | None:
    """An accuracy radius in metres, from 0 to 100 km (None: not known)."""
    if metres is None:
        return None
    if not 0 <= metres <= MAX_ACCURACY_M:
        raise InvalidObservation(
            f"the accuracy must be 0 to {MAX_ACCURACY_M:,.0f} m, not {metres:g}", field=field
        )
    return metres
