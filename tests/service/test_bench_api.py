"""``zones bench api`` runs end to end with small numbers: ``zones serve`` on a scratch
database with the floor endpoint, both endpoints at 1 and 8 connections, the ratios, and
its own checks (every answered check stored its sighting, every floor request its row).
No timing is asserted: the machine is shared and noisy; the benchmark prints the figures."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.cli import main
from service.settings import ApiSettings, Environment, MapSettings, Settings

NUMBER = r"[\d,.]+"


def test_the_api_bench_runs_and_reports_every_phase_ratio_and_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["bench", "api", "--seconds", "1", "--warmup", "0.3", "--subjects", "8", "--workers", "1"]
    )
    printed = capsys.readouterr().out

    assert code == 0, printed
    for name in ("check", "floor"):
        for c in (1, 8):
            assert re.search(
                rf"1 worker\(s\), {name} +{c} connection\(s\): +{NUMBER} req/s, p50 +{NUMBER} ms, "
                rf"p95 +{NUMBER} ms, p99 +{NUMBER} ms; load generator {NUMBER} cores$",
                printed,
                re.M,
            ), printed
    assert "FAILED" not in printed  # every request got a 200
    assert re.search(rf"1 worker\(s\): server memory peak {NUMBER} MB", printed), printed
    for c in (1, 8):
        assert re.search(
            rf"1 worker\(s\), {c} connection\(s\), check / floor: throughput {NUMBER}x "
            rf"\(target >= 0.5\), p50 {NUMBER}x, p99 {NUMBER}x \(target <= 3\); check p99 "
            rf"{NUMBER} ms \(target <= 10 ms\)",
            printed,
        ), printed
    assert re.search(r"8 connection\(s\), check / floor: .*: (within targets|OVER TARGET)", printed)
    stored = re.search(
        r"stored ([\d,]+) sightings for ([\d,]+) checks answered, ([\d,]+) floor rows for "
        r"([\d,]+) answered: checks hold",
        printed,
    )
    assert stored is not None, printed
    assert stored.group(1) == stored.group(2) and stored.group(3) == stored.group(4)
    assert re.search(r"targets at 8 connections on 1 worker\(s\): (met|NOT MET)", printed)


def test_a_normal_server_has_no_floor_endpoint() -> None:
    app = create_app(Settings(map=MapSettings(tiles="none")))
    assert TestClient(app).post("/api/v1/bench/floor", json={}).status_code == 404


def test_the_floor_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="ZONES_API_BENCH_FLOOR"):
        Settings(environment=Environment.PRODUCTION, api=ApiSettings(bench_floor=True))
