"""Who wore a device when: a fix counts for the subject wearing its device at the fix's time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Assignment:
    """A device worn by one subject from ``starts`` (None: from the beginning) until ``ends``
    (None: still worn), ``ends`` excluded."""

    subject_id: int
    starts: datetime | None
    ends: datetime | None

    def covers(self, instant: datetime) -> bool:
        return (self.starts is None or self.starts <= instant) and (
            self.ends is None or instant < self.ends
        )


def wearer_at(assignments: Sequence[Assignment], instant: datetime) -> int | None:
    """The subject wearing the device at ``instant``, or None when nobody was."""
    return next((a.subject_id for a in assignments if a.covers(instant)), None)
