"""``zones bench flood`` runs end to end with small numbers: a served app on a scratch
database, timed checks alone and under a flood, and a verdict line. No timing is asserted:
the machine is shared and noisy; the benchmark prints the figures."""

from __future__ import annotations

import re

import pytest

from service.cli import main


def test_the_flood_bench_runs_and_reports_both_phases_and_the_ratio(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["bench", "flood", "--checks", "4", "--clients", "4", "--rounds", "2", "--warmup", "0.3"]
    )
    printed = capsys.readouterr().out

    assert code == 0
    assert re.search(r"alone: 4 checks, p50 [\d.]+ ms, p99 [\d.]+ ms", printed), printed
    assert re.search(r"under flood: 4 checks, p50 [\d.]+ ms", printed), printed
    assert "failed" not in printed  # every check got its answer
    flood = re.search(r"the flood: ([\d,]+) sign-in attempts .* answers (.*)", printed)
    assert flood is not None and int(flood.group(1).replace(",", "")) >= 4, printed
    assert re.search(r"(401|429): \d", flood.group(2)), printed
    assert re.search(r"p50 [\d.]+x, p99 [\d.]+x \(target at most 2x\): (within|OVER)", printed)
