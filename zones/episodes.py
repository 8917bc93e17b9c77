"""Alert episodes: one alert per stay inside an area, not one per fix.

An episode opens with the first breaching observation, is extended by the following ones
and closes at the first non-breaching observation after its last breach. Observations are
placed by when they happened, not when they arrived, so late and out-of-order data extend
the right episode instead of opening, closing and reopening alerts (flapping).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from zones.model import Episode

# Two breaching observations further apart than this, with nothing between, are two stays.
DEFAULT_GAP = timedelta(minutes=15)


class Action(enum.StrEnum):
    OPEN = "open"
    EXTEND = "extend"
    CLOSE = "close"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Placement:
    """What one observation does to the episodes of one subject and area."""

    action: Action
    index: int | None  # which existing episode, for EXTEND and CLOSE
    episode: Episode | None  # the episode as it stands afterwards


def place(
    episodes: Sequence[Episode],
    time: datetime,
    breach: bool,
    gap: timedelta = DEFAULT_GAP,
) -> Placement:
    """Decide what an observation at ``time`` does to existing ``episodes``.

    A breach inside an episode's span, or within ``gap`` of an open episode or before its
    exit, extends it; otherwise it opens a new one. A non-breach after an open episode's last
    breach closes it; one that falls within an episode's span (late, out of order) changes
    nothing, so a delayed "outside" cannot cut a stay short.
    """
    if breach:
        for i, ep in enumerate(episodes):
            end = ep.closed_at if ep.closed_at is not None else ep.last_at + gap
            if ep.first_at - gap <= time and (time <= end or (ep.is_open and time >= ep.last_at)):
                if ep.closed_at is not None and time >= ep.closed_at:
                    continue
                new = replace(
                    ep,
                    first_at=min(ep.first_at, time),
                    last_at=max(ep.last_at, time),
                    observation_count=ep.observation_count + 1,
                )
                return Placement(Action.EXTEND, i, new)
        return Placement(Action.OPEN, None, Episode(first_at=time, last_at=time))
    for i, ep in enumerate(episodes):
        if ep.is_open and time > ep.last_at:
            return Placement(Action.CLOSE, i, replace(ep, closed_at=time))
    return Placement(Action.NONE, None, None)
