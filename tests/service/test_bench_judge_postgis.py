"""``zones bench judge`` with its PostGIS peer: ST_Covers over GiST finds the same pairs as
the domain's grid on the real Cambridge data and the generated set (small)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from service.bench_postgis import PostgisCovers
from zones.bench import run_judge_bench


def test_postgis_peer_agrees_with_every_other_method(shared_data: Path, engine: Engine) -> None:
    postgis = PostgisCovers(engine.url.render_as_string(hide_password=False))
    lines: list[str] = []
    try:
        results = run_judge_bench(
            shared_data,
            fixes=20_000,
            zones=200,
            repeat=1,
            peers={"postgis": postgis},
            out=lines.append,
        )
    finally:
        postgis.close()

    assert {r.dataset for r in results if r.method == "postgis"} == {"cambridge", "synthetic"}
    for dataset in ("cambridge", "synthetic"):
        pairs = {r.pairs for r in results if r.dataset == dataset}
        assert len(pairs) == 1 and pairs.pop() > 0
    assert sum("postgis: loaded in" in line for line in lines) == 2
    assert "all 7 methods found exactly the same (fix, zone) pairs on every dataset" in lines
    assert not {"bench_points", "bench_zones"} & set(inspect(engine).get_table_names())


def test_the_command_runs_every_peer_on_a_scratch_database(shared_data: Path) -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [
            *(sys.executable, "-m", "service.cli", "bench", "judge"),
            *("--fixes", "5000", "--zones", "100", "--repeat", "1", "--data", str(shared_data)),
            *("--subject-fixes", "2000"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    out = run.stdout.splitlines()
    assert "all 7 methods found exactly the same (fix, zone) pairs on every dataset" in out
    assert any(line.startswith("synthetic  postgis") for line in out)
    # The per-subject part: every size, recorded and answered, and the floor.
    assert any(line.startswith("per-subject judging: 2,000 fixes of one subject") for line in out)
    rows = [line.split() for line in out if line[:5].strip() in {"1", "10", "100", "1,000"}]
    assert {(r[0], r[1]) for r in rows} >= {("1", "recording"), ("100", "recording")}
    checks = [line for line in out if line.strip().endswith("verdicts listed")]
    assert [line.split()[0] for line in checks] == ["1", "10", "100"]
    assert any(line.startswith("floor: PROJ's geodesic inverse") for line in out)
