"""Work on untrusted shapes runs in a child within a budget: overrunning it costs the caller
an error, never its own time or memory."""

from __future__ import annotations

import math
import resource
import time

import pytest

import shapely

from zones import bounded
from zones.bounded import Budget
from zones.errors import GeometryTooCostly


def test_a_check_answers_validity_reasons_and_repairs() -> None:
    square = shapely.box(0, 50, 1, 51)
    bow_tie = shapely.Polygon([(0, 50), (1, 51), (1, 50), (0, 51), (0, 50)])
    ok, bad = bounded.check([square, bow_tie], repair=True)
    assert ok == bounded.Checked(valid=True)
    assert not bad.valid and bad.reason == "Self-intersection[0.5 50.5]"
    assert bad.repaired is not None and bad.repaired.area == pytest.approx(0.5)


def test_work_over_its_memory_is_stopped() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(GeometryTooCostly, match="needs more than 64 MB of memory"):
        bounded.run(bytearray, 1 << 30, budget=Budget(memory_mb=64), what="a gigabyte")
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100_000  # the gigabyte was asked for in the child, not here


def test_work_over_its_time_is_stopped() -> None:
    started = time.perf_counter()
    with pytest.raises(GeometryTooCostly, match="needs more than 1 s of computing"):
        bounded.run(math.factorial, 10**8, budget=Budget(seconds=1.0), what="a factorial")
    assert time.perf_counter() - started < 60  # 1 s of CPU time; the machine may be busy


def test_the_next_check_after_an_overrun_works() -> None:
    with pytest.raises(GeometryTooCostly):
        bounded.run(bytearray, 1 << 30, budget=Budget(memory_mb=64), what="a gigabyte")
    [checked] = bounded.check([shapely.box(0, 50, 1, 51)])
    assert checked.valid
