"""Fixtures shared by every test: where the real public data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ZONES_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: skipped on a laptop without it, a failure in CI."""
    if not SHARED_DATA.is_dir():
        message = f"real public data not found at {SHARED_DATA} (set ZONES_SHARED_DATA)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + "; CI must not skip these tests")
        pytest.skip(message)
    return SHARED_DATA
