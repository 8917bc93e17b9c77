"""What a new password must be: at least 12 characters, none of the 20,000 most common
passwords (compared case-insensitively), not the username, not one short pattern repeated.

Length and a blocklist, not rules about digits and symbols: the advice of the NCSC and of
NIST SP 800-63B. The list is Django's (see ``service/data/README.md``).
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from zones.errors import ZonesError

MIN_LENGTH = 12
MAX_LENGTH = 1000  # what the log-in form takes
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


class WeakPassword(ZonesError):
    code = "weak_password"


@cache
def common_passwords() -> frozenset[str]:
    """The common passwords, lower-cased."""
    with gzip.open(COMMON_FILE, "rt", encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def check_password(password: str, username: str) -> None:
    """Refuse a password that is short, common, the username, or a repeated pattern."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"a password needs at least {MIN_LENGTH} characters, not {len(password)}: "
            "several unrelated words make a good one",
            field="password",
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters", field="password")
    folded = password.strip().lower()
    if folded == username.strip().lower():
        raise WeakPassword("the password must not be the username", field="password")
    if folded in common_passwords():
        raise WeakPassword(
            "this password is one of the most common ones, the first an attacker tries: "
            "choose another",
            field="password",
        )
    for size in range(1, len(folded) // 2 + 1):
        if len(folded) % size == 0 and folded == folded[:size] * (len(folded) // size):
            raise WeakPassword(
                f"the password is one pattern of {size} character(s) repeated",
                field="password",
            )
