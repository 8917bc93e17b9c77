"""Filters that real feeds need: a fix its device marked invalid, and an impossible jump.

Neither drops a fix. An invalid fix is stored, flagged ``invalid`` and not judged (the
device itself says it had no position); a jump is judged but flagged ``jump``, and the flag
travels with any alert it opens, so a person weighs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import numpy as np

from pyproj import Geod

INVALID = "invalid"
JUMP = "jump"
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Point:
    """A fix as the jump filter sees it."""

    time: datetime
    lon: float
    lat: float
    accuracy_m: float | None = None


def jumps(previous: Point | None, fixes: Sequence[Point], limit_mps: float) -> list[bool]:
    """For fixes of one subject in time order, whether each is an impossible jump from the
    fix before it (``previous`` for the first): the distance between them, less both
    accuracies (a fix is anywhere within its accuracy), over the time between them (at
    least one second), is beyond ``limit_mps``."""
    chain = ([previous] if previous is not None else []) + list(fixes)
    if len(chain) < 2:
        return [False] * len(fixes)
    lons = np.array([p.lon for p in chain])
    lats = np.array([p.lat for p in chain])
    _, _, dist = _GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    pairs = list(pairwise(chain))
    slack = np.array([(a.accuracy_m or 0) + (b.accuracy_m or 0) for a, b in pairs])
    seconds = np.array([(b.time - a.time).total_seconds() for a, b in pairs])
    speed = np.maximum(np.asarray(dist) - slack, 0) / np.maximum(np.abs(seconds), 1.0)
    flagged = [bool(s > limit_mps) for s in speed]
    return flagged if previous is not None else [False, *flagged]
