"""What retention may delete: whole alert episodes past their period, and the positions
no kept alert rests on or stands beside.

An alert (a stay) is deleted with every stay merged into it, once all of them ended and were
last handled before the alert period's cut, unless a legal hold covers one of them. A
position is deleted once it is older than the observation period's cut, unless it lies
within the *reach* of a kept alert: from ``reach`` before the stay began to ``reach`` after
it ended. Re-deriving a stay reads exactly the fixes within that reach around it, so a kept
alert derives the same stay again from what is left, however late the re-derivation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """A stored stay as retention sees it."""

    id: int
    merged_into: int | None
    first_at: datetime
    closed_at: datetime | None  # None: still open
    last_touched: datetime  # the latest of its last fix, its end, and its handling
    fixes: int = 1


@dataclass(frozen=True, slots=True)
class Gap:
    """Instants strictly between ``after`` (None: the beginning) and ``before``."""

    after: datetime | None
    before: datetime


def episodes(alerts: Iterable[StoredAlert]) -> list[list[StoredAlert]]:
    """The alerts grouped by the one each was (perhaps in steps) merged into; that one first."""
    by_id = {a.id: a for a in alerts}
    groups: dict[int, list[StoredAlert]] = defaultdict(list)
    for a in by_id.values():
        root, seen = a, {a.id}
        while root.merged_into is not None and root.merged_into in by_id:
            root = by_id[root.merged_into]
            if root.id in seen:  # a cycle cannot be stored, but never loop on one
                break
            seen.add(root.id)
        groups[root.id].append(a)
    return [sorted(members, key=lambda m: (m.id != root, m.id)) for root, members in groups.items()]


def due_episodes(
    alerts: Sequence[StoredAlert], held: set[int], before: datetime
) -> tuple[list[list[StoredAlert]], int]:
    """The episodes to delete (every member closed and last touched before ``before``, none
    held), and how many episodes were due but kept for a hold."""
    due: list[list[StoredAlert]] = []
    kept_for_hold = 0
    for group in episodes(alerts):
        if group[0].closed_at is None or any(m.last_touched >= before for m in group):
            continue
        if any(m.id in held for m in group):
            kept_for_hold += 1
        else:
            due.append(group)
    return due, kept_for_hold


def kept_windows(
    alerts: Iterable[StoredAlert], reach: timedelta, now: datetime
) -> list[tuple[datetime, datetime]]:
    """Each kept alert's stay widened by ``reach`` on both sides (an open one reaches now)."""
    return [(a.first_at - reach, (a.closed_at or now) + reach) for a in alerts]


def gaps(windows: Iterable[tuple[datetime, datetime]], before: datetime) -> list[Gap]:
    """The spans before ``before`` that no window touches, in time order."""
    out: list[Gap] = []
    edge: datetime | None = None
    for start, end in sorted(windows):
        if start >= before:
            break
        if edge is None or start > edge:
            out.append(Gap(edge, start))
        edge = end if edge is None else max(edge, end)
        if edge >= before:
            return out
    out.append(Gap(edge, before))
    return out
