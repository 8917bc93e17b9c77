"""The secret that signs tokens: never a default written in the source.

With no ``ZONES_AUTH_SECRET``, the service makes a random one of 32 bytes on first run and
keeps it in its state folder (``ZONES_STATE_DIR``), so that every server process and the
worker sign and check with the same key. It is written atomically: the first process to
link its file into place wins, and the others read that one. A secret that is given is
checked at start, in every environment: shorter than 32 bytes, one short pattern repeated,
too few distinct characters, or a known default, and the service refuses to start.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

SECRET_FILE = "signing-secret"
MIN_BYTES = 32
MIN_DISTINCT = 10
# Defaults that have been written in this project's source or its documentation, and the
# usual placeholders: a token signed with any of them must never be accepted.
KNOWN_DEFAULTS = frozenset(
    {
        "development-only-secret-change-me-0123456789",
        "change-me",
        "changeme",
        "secret",
        "please-change-this-secret-in-production",
    }
)


class WeakSecret(ValueError):
    """A signing secret that must not be used."""


def check_secret(value: str, *, name: str = "ZONES_AUTH_SECRET") -> None:
    """Refuse a secret an attacker could guess or brute-force."""
    raw = value.encode()
    if value.strip().lower() in KNOWN_DEFAULTS or value in KNOWN_DEFAULTS:
        raise WeakSecret(f"{name} is a published default: set a random secret of your own")
    if len(raw) < MIN_BYTES:
        raise WeakSecret(f"{name} must be at least {MIN_BYTES} bytes, not {len(raw)}")
    for size in range(1, len(value) // 2 + 1):
        if len(value) % size == 0 and value == value[:size] * (len(value) // size):
            raise WeakSecret(f"{name} is one pattern of {size} character(s) repeated")
    if len(set(value)) < MIN_DISTINCT:
        raise WeakSecret(
            f"{name} uses only {len(set(value))} distinct characters: use a random secret, "
            "e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )


def state_secret(state_dir: Path, name: str = SECRET_FILE) -> str:
    """The installation's own secret ``name`` in ``state_dir``, made on first use."""
    path = state_dir / name
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        candidate = secrets.token_urlsafe(MIN_BYTES)  # 32 random bytes
        temp = state_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(candidate + "\n")
                f.flush()
                os.fsync(f.fileno())
            # Atomic, and fails if another process got there first: then theirs is used.
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            temp.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise WeakSecret(
            f"{path} can be read by other users (mode {mode:o}): chmod 600 it, or remove it "
            "to have a new one made (every signed-in user must then sign in again)"
        )
    value = path.read_text().strip()
    check_secret(value, name=str(path))
    return value
