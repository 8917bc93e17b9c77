"""Importing a real zone file into PostGIS: every zone stored, areas right in both hemispheres."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db import tables
from service.importer import import_zones
from zones.errors import ImportFailed

PARKS = "norwich-uk-osm-green-spaces/parks.geojson"


def test_norwich_and_auckland_parks_get_metric_areas_that_postgis_agrees_with(
    shared_data: Path, session: Session
) -> None:
    done = import_zones(session, shared_data / PARKS)
    assert len(done.ids) == 1_114 and done.result.skipped == []
    rows = session.execute(
        select(
            tables.ZoneVersion.area_m2,
            func.ST_Area(func.geography(tables.ZoneVersion.geom)),  # on the spheroid
            func.ST_X(func.ST_Centroid(tables.ZoneVersion.geom)),
        ).where(tables.ZoneVersion.zone_id.in_(done.ids))
    ).all()
    norwich = [(ours, geodesic) for ours, geodesic, lon in rows if lon < 10]
    auckland = [(ours, geodesic) for ours, geodesic, lon in rows if lon > 170]
    assert (len(norwich), len(auckland)) == (912, 202)
    for ours, geodesic in norwich + auckland:
        if geodesic > 100:  # tiny slivers are dominated by rounding
            assert ours == pytest.approx(geodesic, rel=0.005)
    assert done.categories["park"] > 0 and "playground" in done.categories


def test_a_bad_file_stores_nothing(tmp_path: Path, session: Session) -> None:
    bad = tmp_path / "zones.geojson"
    bad.write_text("not geojson")
    with pytest.raises(ImportFailed, match=r"zones\.geojson"):
        import_zones(session, bad)
    assert session.scalar(select(func.count()).select_from(tables.Zone)) == 0
