"""Validity checks and repairs of untrusted shapes, run in a child process within a budget.

What GEOS spends on a shape depends on its form more than its size: it validates a
200,000-vertex city boundary in milliseconds, but takes 10 s over a valid target of 2,500
nested rings, minutes over a 200,000-vertex spiral, and 24 s and 700 MB to repair a star of
800 vertices whose edges all cross. So this work runs in a child forked from a clean fork
server, with a limit on its CPU time and address space, and is killed if it overruns: the
caller gets `GeometryTooCostly`, and the process serving requests never holds the memory.

Repairs use GEOS's "structure" method: parts are unioned and holes subtracted, so two
overlapping parts become their union (the "linework" method keeps only where an odd number
of them overlap, dropping the overlap from a zone) and the cost grows like a union's,
n log n, where the linework method's grew with the square of the overlapping edges.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

import shapely
from shapely.geometry.base import BaseGeometry

from zones.errors import Busy, GeometryTooCostly, InvalidGeometry

Geometries = npt.NDArray[np.object_]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Budget:
    """What one check may spend: CPU seconds, and memory beyond what the child starts with."""

    seconds: float = 2.0
    memory_mb: int = 256


BUDGET = Budget()


@dataclass(frozen=True)
class Checked:
    """One shape checked: valid, or GEOS's reason it is not and (on request) its repair."""

    valid: bool
    reason: str | None = None
    repaired: BaseGeometry | None = None  # as GEOS made it valid; may hold lines and points


# At most this many children at once per process: each may use its whole memory budget.
_SLOTS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
_WAIT_FOR_SLOT = 30.0
_context: BaseContext | None = None
_context_lock = threading.Lock()


def _mp() -> BaseContext:
    """The fork server context (children forked from a process that only imported us)."""
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if hasattr(ctx, "set_forkserver_preload"):
                # The caller's main module is imported once, by the server, not by each
                # child (a script needs the usual ``if __name__ == "__main__":`` guard).
                ctx.set_forkserver_preload(["__main__", __name__])
            _context = ctx
        return _context


def warm_up() -> None:
    """Start the fork server now, so that the first check does not wait for it (about 1 s)."""
    if _mp().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def check(
    geoms: Sequence[BaseGeometry], *, repair: bool = False, budget: Budget = BUDGET
) -> list[Checked]:
    """Check each shape's validity, and repair the invalid ones if ``repair``, within ``budget``.

    Raises
    ------
    GeometryTooCostly
        The work overran the budget's CPU time or memory (the child was stopped).
    Busy
        Too many checks were running in this process for too long to wait for a turn.
    """
    if not geoms:
        return []
    what = "checking and repairing this shape" if repair else "checking this shape"
    valid, reasons, fixed = run(
        _check, np.asarray(geoms, dtype=object), repair, budget=budget, what=what
    )
    return [
        Checked(valid=ok, reason=reason, repaired=made)
        for ok, reason, made in zip(valid, reasons, fixed, strict=True)
    ]


def run(work: Callable[..., _T], *args: Any, budget: Budget = BUDGET, what: str) -> _T:
    """``work(*args)`` in a child process within ``budget``; ``work`` must be importable (a
    module's top-level function) and its arguments and answer picklable (geometries are).

    ``what`` names the work in the error, e.g. "growing these shapes".

    Raises
    ------
    GeometryTooCostly, Busy
        As for `check`; an error GEOS raises in ``work`` comes back as ``InvalidGeometry``.
    """
    if not _SLOTS.acquire(timeout=_WAIT_FOR_SLOT):
        raise Busy("too many shapes are being worked on at the moment: try again shortly")
    try:
        status, answer = _in_child(work, args, budget)
    finally:
        _SLOTS.release()
    if status == "ok":
        return answer  # type: ignore[no-any-return]
    if status == "failed":
        raise InvalidGeometry(f"{what} failed: {str(answer)[:200]}", field="geometry")
    raise _overran(what, budget, status)


def _in_child(work: Callable[..., Any], args: tuple[Any, ...], budget: Budget) -> tuple[str, Any]:
    ctx = _mp()
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(  # type: ignore[attr-defined]
        target=_child,
        args=(sender, work, args, budget.seconds, budget.memory_mb << 20),
        name="zones-bounded",
        daemon=True,
    )
    try:
        child.start()
    finally:
        sender.close()
    try:
        # The CPU limit normally stops the child; the wall clock is a backstop for a child
        # that gets no CPU on a busy machine, generous so that load alone refuses nothing.
        if not receiver.poll(budget.seconds * 5 + 5):
            return "time", None
        try:
            answer: tuple[str, Any] = receiver.recv()
            return answer
        except EOFError:  # stopped by its CPU limit, its memory limit, or a crash
            child.join(5)
            return _cause(child.exitcode), None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()


def _cause(exitcode: int | None) -> str:
    over_cpu = getattr(signal, "SIGXCPU", None)  # the CPU limit's signal (POSIX)
    return "time" if over_cpu is not None and exitcode == -over_cpu else "memory"


def _overran(what: str, budget: Budget, cause: str) -> GeometryTooCostly:
    spent = (
        f"more than {budget.seconds:g} s of computing"
        if cause == "time"
        else f"more than {budget.memory_mb} MB of memory"
    )
    return GeometryTooCostly(
        f"{what} needs {spent}: it is too intricate (parts or holes nested in many others, "
        "edges crossing many others, a tight spiral, a great many vertices...); simplify it "
        "or send it in smaller pieces",
        field="geometry",
    )


def _limit_self(seconds: float, memory: int) -> None:
    """Limit this (child) process: CPU seconds, address space beyond its current size."""
    import resource  # POSIX only; imported where it is needed, in the child

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an overrun leaves no core file
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu = max(1, math.ceil(seconds))
    if hard == resource.RLIM_INFINITY or hard > cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1 if hard != cpu else cpu))
    try:
        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:  # not Linux: the CPU limit still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (size + memory, size + memory))


def _child(
    sender: Connection,
    work: Callable[..., Any],
    args: tuple[Any, ...],
    seconds: float,
    memory: int,
) -> None:
    """Runs in the child: limits itself, does the work, answers through ``sender``."""
    _limit_self(seconds, memory)
    answer: tuple[str, Any]
    try:
        answer = ("ok", work(*args))
    except MemoryError:
        answer = ("memory", None)
    except shapely.errors.GEOSException as exc:  # GEOS reports a failed allocation so too
        answer = ("memory", None) if "alloc" in str(exc) else ("failed", str(exc))
    sender.send(answer)
    sender.close()
    # Straight out: after an allocation failed, even the interpreter's tidying up may not get
    # the memory it asks for, and there is nothing here worth tidying.
    os._exit(0)


def _check(
    geoms: Geometries, repair: bool
) -> tuple[list[bool], list[str | None], list[BaseGeometry | None]]:
    """Validity, GEOS's reasons, and repairs (in the child)."""
    valid = shapely.is_valid(geoms)
    bad = np.flatnonzero(~valid)
    reasons: list[str | None] = [None] * len(geoms)
    fixed: list[BaseGeometry | None] = [None] * len(geoms)
    if bad.size:
        for i, reason in zip(bad, shapely.is_valid_reason(geoms[bad]), strict=True):
            reasons[i] = str(reason)
        if repair:
            made = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
            for i, geom in zip(bad, made, strict=True):
                fixed[i] = geom
    return valid.tolist(), reasons, fixed
