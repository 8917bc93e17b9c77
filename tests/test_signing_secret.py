"""The signing secret: made per installation, shared by every process, never a default."""

from __future__ import annotations

import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.cli import main
from service.settings import Settings
from service.signing_secret import WeakSecret, check_secret, state_secret

OLD_DEFAULT = "development-only-secret-change-me-0123456789"  # once written in the source


def test_without_a_secret_each_installation_makes_its_own_and_keeps_it(tmp_path: Path) -> None:
    first = state_secret(tmp_path / "state")
    assert len(first) >= 43  # 32 random bytes, URL-safe base64
    assert state_secret(tmp_path / "state") == first
    assert state_secret(tmp_path / "other") != first
    mode = stat.S_IMODE((tmp_path / "state" / "signing-secret").stat().st_mode)
    assert mode == 0o600
    assert Settings(state_dir=tmp_path / "state").auth.secret == first


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=6) as pool:
        made = set(pool.map(state_secret, [tmp_path] * 12))
    assert len(made) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["signing-secret"]  # no temporary left


@pytest.mark.parametrize(
    "weak",
    [OLD_DEFAULT, "a" * 32, "abcd" * 16, "short-but-random-Xq9", "0123456701234567012345670123456"],
)
def test_weak_or_published_secrets_are_refused_in_every_environment(weak: str) -> None:
    with pytest.raises(WeakSecret):
        check_secret(weak)
    for environment in ("development", "production"):
        with pytest.raises(ValidationError):
            Settings(environment=environment, auth={"secret": weak})  # type: ignore[arg-type]


def test_a_random_secret_is_accepted() -> None:
    check_secret("q3V8w1Zk-LrT0pN7yBfHsD2eXcA9uJ4mGt6oRiWlE5")


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    state_secret(tmp_path)
    (tmp_path / "signing-secret").chmod(0o644)
    with pytest.raises(WeakSecret, match="chmod 600"):
        state_secret(tmp_path)


def test_the_demo_refuses_to_run_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZONES_ENVIRONMENT", "production")
    assert main(["demo"]) == 2
    assert "refuses to run" in capsys.readouterr().err


def test_the_command_says_plainly_when_the_secret_is_weak(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZONES_AUTH_SECRET", "a" * 40)
    assert main(["db", "status"]) == 2
    assert "ZONES_AUTH_SECRET is one pattern" in capsys.readouterr().err
