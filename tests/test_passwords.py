"""What a new password must be: 12 characters or more, not one of the 20,000 most common
(whatever its case), not the username, not one short pattern repeated."""

from __future__ import annotations

import hashlib
import re

import pytest

from service import demo
from service.passwords import (
    COMMON_FILE,
    MIN_LENGTH,
    WeakPassword,
    check_password,
    common_passwords,
)
from tests.conftest import ROOT
from tests.service.conftest import PASSWORD as TEST_PASSWORD


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-one-1", "at least 12 characters"),
        ("password1234", "most common"),
        ("PassWord1234", "most common"),  # case does not help
        ("QWERTYUIOP12", "most common"),
        ("administrator", "most common"),
        (" password1234 ", "most common"),
        ("Alice.Walker.1", "the username"),
        ("abcabcabcabc", "repeated"),
        ("aaaaaaaaaaaaaaaa", "repeated"),
        ("x" * 1001, "at most 1000"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(WeakPassword, match=why) as refused:
        check_password(password, "alice.walker.1")
    assert refused.value.field == "password" and refused.value.code == "weak_password"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice.walker.1", "correct horse battery"),
        ("alice.walker.1", "Ex-Zone 2026 watch"),
        ("test-officer", TEST_PASSWORD),  # the service tests' users
        *[(name, password) for name, _, password in demo.USERS],  # the demo's
    ],
)
def test_long_uncommon_passwords_pass(username: str, password: str) -> None:
    check_password(password, username)


def test_the_list_is_the_cited_one() -> None:
    readme = (COMMON_FILE.parent / "README.md").read_text()
    [cited] = re.findall(r"`([0-9a-f]{64})`", readme)
    assert hashlib.sha256(COMMON_FILE.read_bytes()).hexdigest() == cited
    common = common_passwords()
    assert len(common) > 19_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common
    assert sum(len(p) >= MIN_LENGTH for p in common) > 150  # the ones the length lets through
    assert COMMON_FILE.is_relative_to(ROOT / "service")  # shipped with the package
