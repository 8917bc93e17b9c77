"""Where the time of recording goes: named phases timed only while someone is listening.

The ingest benchmark opens a :func:`listening` block around the very code the batch route
runs and reads the seconds each phase took; outside such a block a phase costs one context
variable look-up.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_totals: ContextVar[defaultdict[str, float] | None] = ContextVar("phase_totals", default=None)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the time spent inside to ``name``, when a :func:`listening` block is open."""
    totals = _totals.get()
    if totals is None:
        yield
        return
    began = time.perf_counter()
    try:
        yield
    finally:
        totals[name] += time.perf_counter() - began


@contextmanager
def listening() -> Iterator[defaultdict[str, float]]:
    """Seconds per phase of everything run inside, nested phases counted in each."""
    totals: defaultdict[str, float] = defaultdict(float)
    token = _totals.set(totals)
    try:
        yield totals
    finally:
        _totals.reset(token)
