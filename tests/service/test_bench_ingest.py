"""A small run of ``zones bench ingest``: real processes and the real route, end to end. No
rate is asserted (the machine is shared and noisy); what it counts and checks is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.bench_ingest import run_ingest_bench

pytestmark = pytest.mark.shared_data


def test_a_small_ingest_run_counts_compares_with_copy_and_raises_each_alert_once(
    shared_data: Path,
) -> None:
    lines: list[str] = []

    r = run_ingest_bench(
        shared_data,
        tags=10,
        stored=500,
        live=1_000,
        burst=500,
        batch=250,
        clients=2,
        workers=1,
        probe_batches=1,
        out=lines.append,
    )

    assert lines[0].startswith("synthetic part: 10 tags replay 411 real buses")
    # Every fix sent live (all but the probe batch, run in-process) and in the burst was
    # answered and stored; sending the burst again stored nothing and changed no alert.
    assert r.live.statuses == {"200": 3} and r.live.stored == r.live.fixes == 750
    assert r.burst.stored == r.burst.fixes == 500
    assert r.resent.duplicates == 500 and r.resent.stored == 0
    assert r.alerts > 0 and r.overlapping_alerts == 0
    assert r.alerts_after_resend == r.alerts
    assert r.copy_rows == 750 and r.copy_rate > 0
    assert r.server_rss_peak_mb > 50 and r.client_rss_peak_mb > 50
    assert {"parse", "attribution", "insert", "context", "judge", "stays", "commit"} <= set(
        r.breakdown
    )
    text = "\n".join(lines)
    assert "fixes/s end to end" in text and "live end to end / COPY" in text
    assert "server RSS peak" in text
    # where the ceiling is: storing alone per fix, judging per subject, both measured
    [ceiling] = [line for line in lines if line.startswith("ceiling")]
    assert re.search(r"storing alone .* [\d,]+ fixes/s \([\d,]+ us a fix\)", ceiling)
    assert re.search(r"judging adds [\d,]+ us per subject of a batch", ceiling)
