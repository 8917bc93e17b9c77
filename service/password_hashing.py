"""Password hashing (argon2) in threads of its own, at low CPU priority.

A hash costs tens of milliseconds of CPU by design, and anyone can ask for one by signing
in. The hashing threads run at nice 10 (Linux; elsewhere at normal priority): an idle
server hashes at full speed, a busy one serves signed-in users' requests first. How many
sign-ins hash at once is bounded before they get here (:mod:`service.sign_in_gate`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher

NICENESS = 10
THREADS = 4
T = TypeVar("T")

_hasher = PasswordHasher()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def hash_password(password: str) -> str:
    return _in_pool(_hasher.hash, password)


def verify_password(hashed: str, password: str) -> None:
    """Return if ``password`` matches ``hashed``; raise argon2's ``VerificationError`` (or
    ``InvalidHashError``) if not."""
    _in_pool(_hasher.verify, hashed, password)


def _in_pool(work: Callable[..., T], *args: str) -> T:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:  # made on first use, in the process that uses it (after a fork)
                _pool = ThreadPoolExecutor(THREADS, "argon2", initializer=_lower_priority)
    return _pool.submit(work, *args).result()


def _lower_priority() -> None:
    # On Linux the nice value belongs to each thread: this one's, not the process's.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
