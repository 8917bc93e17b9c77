"""The domain's judging agrees with PostGIS ST_Covers on the real Cambridge data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

import geopandas as gpd
import shapely

from zones.grid import GridIndex
from zones.judge import judge
from zones.model import Target

BUSES = (
    "cambridge-uk-bus-positions-smartcambridge/sirivm_cambridge_city_bbox_2019-10-01_0900-1000.csv"
)
ZONES = "cambridge-uk-zones-smartcambridge/zones.geojson"


def test_every_real_bus_fix_gets_the_same_answer_as_st_covers(
    shared_data: Path, connection: Connection
) -> None:
    fixes = pd.read_csv(shared_data / BUSES, usecols=["longitude", "latitude"])
    zones = gpd.read_file(shared_data / ZONES)
    assert (len(fixes), len(zones)) == (16_445, 86)
    lon, lat = fixes["longitude"].to_numpy(float), fixes["latitude"].to_numpy(float)

    point, zone = GridIndex(zones.geometry.to_numpy()).covering_pairs(lon, lat)
    ours = set(zip(point.tolist(), zone.tolist(), strict=True))

    connection.execute(text("CREATE TEMP TABLE t_zones (i int, geom geometry(Geometry, 4326))"))
    connection.execute(text("CREATE TEMP TABLE t_fixes (i int, geom geometry(Point, 4326))"))
    connection.execute(
        text(
            "INSERT INTO t_zones SELECT i - 1, ST_GeomFromWKB(w, 4326) "
            "FROM unnest(CAST(:wkb AS bytea[])) WITH ORDINALITY AS u(w, i)"
        ),
        {"wkb": list(shapely.to_wkb(zones.geometry.to_numpy()))},
    )
    connection.execute(
        text(
            "INSERT INTO t_fixes SELECT i - 1, ST_SetSRID(ST_MakePoint(x, y), 4326) "
            "FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) WITH ORDINALITY AS u(x, y, i)"
        ),
        {"x": lon.tolist(), "y": lat.tolist()},
    )
    theirs = set(
        connection.execute(
            text("SELECT f.i, z.i FROM t_fixes f JOIN t_zones z ON ST_Covers(z.geom, f.geom)")
        ).all()
    )
    theirs = {(int(p), int(z)) for p, z in theirs}

    assert ours == theirs  # the same zones for every fix, not only the same counts
    # The full judging the API runs (distances, buffers, evidence) agrees as well.
    targets = [Target(1, 1, i, 1, g) for i, g in enumerate(zones.geometry)]
    j = judge(lon, lat, None, targets)
    inside_pairs = j.status == 2
    full = set(
        zip(j.observation[inside_pairs].tolist(), j.target[inside_pairs].tolist(), strict=True)
    )
    assert full == theirs
    inside = np.zeros(len(fixes), bool)
    inside[point] = True
    assert int(inside.sum()) == len({p for p, _ in theirs})
    assert int(inside.sum()) == 6_153  # of the 16,445 city fixes (6,618 of the county set)
