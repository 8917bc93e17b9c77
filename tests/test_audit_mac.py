"""The audit MACs: one spelling per content, the same before the insert and read back."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.audit_mac import AuditKey, Content, canonical, chain_mac, row_mac
from service.settings import Settings

KEY = AuditKey(b"k" * 16 + b"ey-for-the-audit-tests", Path("/nonexistent/audit-head"))
AT = datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC)


def content(detail: str | None = None, **changes: object) -> Content:
    fields = dict(
        at=AT, username="pc-ames", action="subject.track", object_type="subject",
        object_id="42", reason="incident 4411", client="10.0.0.7", recipient=None,
        detail=detail, records=None,
    )  # fmt: skip
    fields.update(changes)
    return Content(**fields)  # type: ignore[arg-type]


def test_numbers_are_compared_by_exact_value_as_jsonb_keeps_them() -> None:
    written = json.dumps({"b": 1e20, "a": [0.1, 2**70, 1.5e-07], "c": "é"})
    # What PostgreSQL gives back for it: keys reordered, 1e20 spelt out, é unescaped.
    read_back = (
        '{"a": [0.1, 1180591620717411303424, 0.00000015], "b": 100000000000000000000, "c": "é"}'
    )
    assert canonical(content(written)) == canonical(content(read_back))
    assert canonical(content(written)) != canonical(content(written.replace("0.1", "0.2")))
    big = json.dumps({"n": 2**70})
    assert canonical(content(big)) != canonical(content(json.dumps({"n": 2**70 + 1})))


def test_the_same_instant_in_another_offset_is_the_same_content() -> None:
    there = AT.astimezone(timezone(timedelta(hours=1)))
    assert row_mac(KEY, content(at=there)) == row_mac(KEY, content())
    assert row_mac(KEY, content(at=AT + timedelta(microseconds=1))) != row_mac(KEY, content())


@pytest.mark.parametrize(
    "change",
    [
        {"username": "pc-other"},
        {"action": "subject.edit"},
        {"object_id": "43"},
        {"reason": None},
        {"client": "10.0.0.8"},
        {"recipient": "CPS"},
        {"records": '{"observation": [1]}'},
        {"detail": '{"points": 3}'},
    ],
)
def test_every_field_is_covered(change: dict[str, object]) -> None:
    assert row_mac(KEY, content(**change)) != row_mac(KEY, content())


def test_absent_and_empty_are_different_contents() -> None:
    assert row_mac(KEY, content(reason="")) != row_mac(KEY, content(reason=None))
    assert row_mac(KEY, content(detail="{}")) != row_mac(KEY, content(detail=None))


def test_the_chain_binds_position_id_and_the_previous_mac() -> None:
    row = row_mac(KEY, content())
    first = chain_mac(KEY, bytes(32), 1, 7, row)
    assert chain_mac(KEY, bytes(32), 2, 7, row) != first
    assert chain_mac(KEY, bytes(32), 1, 8, row) != first
    assert chain_mac(KEY, b"\x01" * 32, 1, 7, row) != first
    other_key = AuditKey(b"another-key-of-thirty-two-bytes!", KEY.head_file)
    assert chain_mac(other_key, bytes(32), 1, 7, row) != first


def test_a_key_is_never_shown() -> None:
    assert b"ey-for-the-audit".decode() not in repr(KEY)


def test_without_a_key_one_is_made_in_the_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZONES_AUDIT_KEY", raising=False)
    first = Settings(state_dir=tmp_path)
    assert first.audit.key is not None and len(first.audit.key) >= 32
    made = tmp_path / "audit-key"
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert Settings(state_dir=tmp_path).audit.key == first.audit.key  # every process agrees
    assert first.audit.key != first.auth.secret
    assert AuditKey.of(first).head_file == tmp_path / "audit-head"


def test_a_weak_key_or_the_signing_secret_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZONES_AUDIT_KEY", "a" * 40)
    with pytest.raises(ValidationError, match="ZONES_AUDIT_KEY"):
        Settings(state_dir=tmp_path)
    secret = "Zq8-2mKv9xLp4Rt7Wn3Bc6Yh1Jd5Fg0S"
    monkeypatch.setenv("ZONES_AUDIT_KEY", secret)
    monkeypatch.setenv("ZONES_AUTH_SECRET", secret)
    with pytest.raises(ValidationError, match="must differ"):
        Settings(state_dir=tmp_path)
